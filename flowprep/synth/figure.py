"""An articulated walking figure, drawn with OpenCV primitives from joint angles driven by a gait cycle.

Body coordinates: feet centre at the origin, y up, 1 = standing height. The
view angle is the walking direction relative to the camera axis (0 = walking
towards the camera, pi/2 = across it): sideways swing is scaled by sin(view),
the left/right spread of shoulders and hips by cos(view). Far-side limbs are
drawn first and darker, so limbs cross over the torso as a person's do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from flowprep.synth.identity import Colour, Identity

SHIFT = 4  # OpenCV fixed-point bits: sub-pixel positions keep slow motion smooth
ONE = 1 << SHIFT


@dataclass(frozen=True)
class Placement:
    """Where and how a figure appears in one frame (canvas pixels)."""

    feet_x: float
    feet_y: float
    height: float  # standing height in pixels
    phase: float  # gait phase, radians
    view: float
    direction: int  # +1 walking right, -1 left


def _shade(colour: Colour, factor: float) -> Colour:
    return tuple(min(255, int(c * factor)) for c in colour)


class _Pen:
    """Maps body coordinates to fixed-point canvas points and draws with anti-aliasing."""

    def __init__(self, canvas: np.ndarray, placement: Placement) -> None:
        self.canvas = canvas
        self.x0, self.y0, self.scale = placement.feet_x, placement.feet_y, placement.height

    def point(self, x: float, y: float) -> tuple[int, int]:
        return (round((self.x0 + x * self.scale) * ONE), round((self.y0 - y * self.scale) * ONE))

    def width(self, body_units: float) -> int:
        return max(1, round(body_units * self.scale))

    def segment(self, a, b, thickness: float, colour: Colour) -> None:
        cv2.line(self.canvas, self.point(*a), self.point(*b), colour, self.width(thickness), cv2.LINE_AA, SHIFT)

    def polygon(self, points, colour: Colour) -> None:
        pts = np.array([self.point(*p) for p in points], dtype=np.int32)
        cv2.fillConvexPoly(self.canvas, pts, colour, cv2.LINE_AA, SHIFT)

    def disc(self, centre, radius: float, colour: Colour) -> None:
        cv2.circle(self.canvas, self.point(*centre), round(radius * self.scale * ONE), colour, -1, cv2.LINE_AA, SHIFT)

    def half_disc(self, centre, radius: float, squash: float, colour: Colour) -> None:
        axes = (round(radius * self.scale * ONE), round(radius * squash * self.scale * ONE))
        cv2.ellipse(self.canvas, self.point(*centre), axes, 0, 180, 360, colour, -1, cv2.LINE_AA, SHIFT)


def _lerp(a, b, t: float) -> tuple[float, float]:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def _texture(pen: _Pen, corners, texture: str, period: float, colour: Colour) -> None:
    """Stripes drawn between opposite torso edges, so they stay inside the (convex) torso."""
    top_left, top_right, bottom_right, bottom_left = corners
    steps = np.arange(period / 2, 1.0, period)
    thickness = period * 0.3 * 0.29
    if texture in ("horizontal stripes", "checks"):
        for t in steps:
            pen.segment(_lerp(top_left, bottom_left, t), _lerp(top_right, bottom_right, t), thickness, colour)
    if texture in ("vertical stripes", "checks"):
        for t in steps:
            pen.segment(_lerp(top_left, top_right, t), _lerp(bottom_left, bottom_right, t), thickness * 0.6, colour)


def draw_walker(canvas: np.ndarray, who: Identity, placement: Placement) -> None:
    """Draw ``who`` mid-stride onto ``canvas`` (uint8 BGR, modified in place)."""
    body, gait, clothes = who.body, who.gait, who.clothing
    pen = _Pen(canvas, placement)
    side = math.sin(placement.view)
    front = abs(math.cos(placement.view))
    forward = placement.direction * side  # image-x displacement per unit of forward swing
    phase = placement.phase

    leg = 0.48 * body.legs
    hip_y = leg * 0.97 + gait.bob * math.cos(2 * phase)
    shoulder_y = hip_y + 0.29
    lean = gait.lean * 0.29 * forward
    head_r = 0.062 * body.head
    half_shoulder = body.build * (0.11 * front + 0.05 * side)
    half_hip = body.build * (0.085 * front + 0.05 * side)

    def leg_points(sign: int):
        swing = phase + (0.0 if sign < 0 else math.pi)
        thigh_angle = gait.leg_swing * math.sin(swing)
        shin_angle = thigh_angle - (0.05 + gait.knee * max(0.0, math.cos(swing)))
        hip = (sign * 0.055 * body.build * front, hip_y)
        knee = (hip[0] + math.sin(thigh_angle) * leg / 2 * forward, hip[1] - math.cos(thigh_angle) * leg / 2)
        ankle = (knee[0] + math.sin(shin_angle) * leg / 2 * forward, knee[1] - math.cos(shin_angle) * leg / 2)
        toe = (ankle[0] + 0.07 * forward, ankle[1] - 0.01)
        return hip, knee, ankle, toe

    def arm_points(sign: int):
        swing = phase + (math.pi if sign < 0 else 0.0)  # opposite to the same-side leg
        upper_angle = gait.arm_swing * math.sin(swing)
        fore_angle = upper_angle + 0.2 + 0.5 * gait.arm_swing * max(0.0, math.sin(swing))
        shoulder = (sign * (half_shoulder - 0.02 * body.build) + lean, shoulder_y - 0.02)
        elbow = (shoulder[0] + math.sin(upper_angle) * 0.15 * forward, shoulder[1] - math.cos(upper_angle) * 0.15)
        wrist = (elbow[0] + math.sin(fore_angle) * 0.14 * forward, elbow[1] - math.cos(fore_angle) * 0.14)
        return shoulder, elbow, wrist

    def draw_leg(sign: int, shade: float) -> None:
        hip, knee, ankle, toe = leg_points(sign)
        trousers = _shade(clothes.trousers, shade)
        pen.segment(hip, knee, 0.075 * body.build, trousers)
        pen.segment(knee, ankle, 0.06 * body.build, trousers)
        pen.segment(ankle, toe, 0.045 * body.build, _shade(clothes.shoes, shade))

    def draw_arm(sign: int, shade: float) -> None:
        shoulder, elbow, wrist = arm_points(sign)
        sleeve = _shade(clothes.shirt, shade)
        pen.segment(shoulder, elbow, 0.05 * body.build, sleeve)
        pen.segment(elbow, wrist, 0.042 * body.build, sleeve if clothes.long_sleeves else _shade(body.skin, shade))

    far, near = (-1, 1)
    draw_leg(far, 0.72)
    draw_arm(far, 0.72)
    if clothes.bag is not None:
        back = -placement.direction * side * 0.09
        pen.polygon(
            [(back - 0.06 + lean, shoulder_y - 0.02), (back + 0.06 + lean, shoulder_y - 0.02),
             (back + 0.06, hip_y + 0.08), (back - 0.06, hip_y + 0.08)],
            clothes.bag,
        )
    pen.polygon(
        [(-half_hip, hip_y + 0.04), (half_hip, hip_y + 0.04), (half_hip, hip_y - 0.06), (-half_hip, hip_y - 0.06)],
        clothes.trousers,
    )
    draw_leg(near, 1.0)
    torso = (
        (lean - half_shoulder, shoulder_y), (lean + half_shoulder, shoulder_y), (half_hip, hip_y), (-half_hip, hip_y)
    )
    pen.polygon(torso, clothes.shirt)
    if clothes.texture != "plain":
        _texture(pen, torso, clothes.texture, clothes.texture_period, clothes.texture_colour)
    draw_arm(near, 1.0)
    head = (lean * 1.1 + 0.015 * forward, shoulder_y + 0.035 + head_r)
    pen.segment((lean, shoulder_y), head, 0.045 * body.build, body.skin)
    pen.disc(head, head_r, body.skin)
    pen.half_disc((head[0] - 0.012 * forward, head[1] + 0.012), head_r * 1.05, 0.85, body.hair)
