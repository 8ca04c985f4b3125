"""A camera's world: cluttered background, moving distractors, foreground occluders, lighting, viewpoint.

The background is a strip that wraps around horizontally, so a person can walk
for any number of frames. Everything is drawn once per camera except the
movers and props, which are drawn per frame into the crop being rendered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
import cv2
import numpy as np

from flowprep.synth.identity import Colour


@dataclass(frozen=True)
class Prop:
    """A static object in front of the walking line (pole, barrier): it occludes people walking past."""

    x: float
    width: float
    top: float
    bottom: float
    colour: Colour


@dataclass(frozen=True)
class Mover:
    """A background distractor (distant pedestrian or cart) crossing the scene at constant speed."""

    x: float
    feet_y: float
    height: float
    velocity: float
    colour: Colour
    is_cart: bool


@dataclass(frozen=True)
class Camera:
    camid: int
    person_height: float  # typical standing height, scene pixels: sets the crop resolution
    ground_y: float  # image row of the walkers' feet
    background: np.ndarray  # H x W x 3 uint8, wraps horizontally
    props: tuple[Prop, ...]
    movers: tuple[Mover, ...]
    view: float  # usual walking direction against the camera axis (0 = towards, pi/2 = across)
    direction: int  # usual horizontal walking direction, +1 right / -1 left
    lighting: np.ndarray  # 3 x 4 affine colour transform (gain, tint, wash-out, offset)

    @property
    def width(self) -> int:
        return self.background.shape[1]

    def crop(self, top: int, left: int, height: int, width: int) -> np.ndarray:
        """A copy of the background under a box; columns wrap, rows clamp at the edges."""
        rows = np.clip(np.arange(top, top + height), 0, self.background.shape[0] - 1)
        cols = np.arange(left, left + width) % self.width
        return self.background[rows[:, None], cols[None, :]]

    def draw_movers(self, canvas: np.ndarray, top: int, left: int, clock: float) -> None:
        for mover in self.movers:
            x = mover.x + mover.velocity * clock
            for rel_x in _visible_copies(x - left, self.width, canvas.shape[1], mover.height):
                _draw_mover(canvas, mover, rel_x, mover.feet_y - top)

    def draw_props(self, canvas: np.ndarray, top: int, left: int) -> None:
        for prop in self.props:
            for rel_x in _visible_copies(prop.x - left, self.width, canvas.shape[1], prop.width):
                corner_a = (round(rel_x - prop.width / 2), round(prop.top - top))
                corner_b = (round(rel_x + prop.width / 2), round(prop.bottom - top))
                cv2.rectangle(canvas, corner_a, corner_b, prop.colour, -1)
                cv2.rectangle(canvas, corner_a, corner_b, _darker(prop.colour), max(1, round(prop.width * 0.08)))


def _visible_copies(rel_x: float, period: int, canvas_width: int, size: float) -> list[float]:
    """The horizontal positions, relative to the crop, at which a wrapped object may show."""
    base = rel_x % period
    return [x for x in (base, base - period) if -size <= x <= canvas_width + size]


def _darker(colour: Colour, factor: float = 0.6) -> Colour:
    return tuple(int(c * factor) for c in colour)


def _draw_mover(canvas: np.ndarray, mover: Mover, x: float, feet_y: float) -> None:
    h = mover.height
    if mover.is_cart:
        cv2.rectangle(canvas, (round(x - h), round(feet_y - h * 0.8)), (round(x + h), round(feet_y - h * 0.15)),
                      mover.colour, -1)
        for wheel in (-0.7, 0.7):
            centre = (round(x + wheel * h), round(feet_y - h * 0.12))
            cv2.circle(canvas, centre, max(1, round(h * 0.12)), (20, 20, 20), -1)
        return
    cv2.ellipse(canvas, (round(x), round(feet_y - h * 0.45)), (max(1, round(h * 0.13)), max(1, round(h * 0.42))), 0, 0,
                360, mover.colour, -1, cv2.LINE_AA)
    cv2.circle(canvas, (round(x), round(feet_y - h * 0.93)), max(1, round(h * 0.07)), (120, 150, 190), -1, cv2.LINE_AA)


def _random_colour(rng: np.random.Generator, low: int = 20, high: int = 235) -> Colour:
    return tuple(int(c) for c in rng.integers(low, high, 3))


def _draw_clutter(image: np.ndarray, kind: int, x: float, y: float, w: float, h: float,
                  colour: Colour, edge: Colour, thickness: int) -> None:
    """One piece of static background clutter with its top-left corner at (x, y)."""
    a, b = (round(x), round(y)), (round(x + w), round(y + h))
    if kind == 0:  # panel / poster
        cv2.rectangle(image, a, b, colour, -1)
        cv2.rectangle(image, a, b, edge, thickness)
    elif kind == 1:  # window with a cross
        cv2.rectangle(image, a, b, colour, -1)
        cv2.line(image, (round(x + w / 2), a[1]), (round(x + w / 2), b[1]), edge, thickness)
        cv2.line(image, (a[0], round(y + h / 2)), (b[0], round(y + h / 2)), edge, thickness)
    elif kind == 2:  # lamp / sign
        cv2.circle(image, a, max(2, round(h / 3)), colour, -1, cv2.LINE_AA)
    elif kind == 3:  # pipe
        cv2.line(image, a, (round(x + 2 * w), a[1]), colour, thickness * 2)
    else:  # shelf with items
        cv2.rectangle(image, a, (b[0], a[1] + thickness * 2), edge, -1)
        for i in range(3):
            item_top_left = (round(x + i * w / 3), round(y - h / 3))
            cv2.rectangle(image, item_top_left, (round(x + (i + 0.6) * w / 3), a[1]), colour, -1)


def _background(rng: np.random.Generator, height: int, width: int, horizon: float, person: float) -> np.ndarray:
    """Wall gradient, floor, low-frequency blotches, then clutter and floor tiles (drawn once per camera)."""
    rows = np.arange(height, dtype=np.float32)[:, None, None]
    wall_top, wall_bottom, floor = (np.array(_random_colour(rng), np.float32) for _ in range(3))
    wall = wall_top + (wall_bottom - wall_top) * np.clip(rows / max(horizon, 1.0), 0, 1)
    floor_shade = floor * (0.75 + 0.5 * np.clip((rows - horizon) / max(height - horizon, 1.0), 0, 1))
    image = np.where(rows < horizon, wall, floor_shade) * np.ones((1, width, 1), np.float32)
    blotches = rng.normal(0, 1, (height // 8 + 2, width // 8 + 2, 3)).astype(np.float32)
    image += cv2.resize(blotches, (width, height), interpolation=cv2.INTER_LINEAR) * rng.uniform(6, 18)
    image = np.clip(image, 0, 255).astype(np.uint8)

    for _ in range(int(width / person * 6)):
        kind = int(rng.integers(5))
        x, y = rng.uniform(0, width), rng.uniform(-0.1 * person, horizon + 0.1 * person)
        w, h = rng.uniform(0.1, 0.9) * person, rng.uniform(0.1, 0.8) * person
        colour, edge = _random_colour(rng), _random_colour(rng)
        for shift in (-width, 0, width):  # the strip wraps: clutter crossing the seam continues on the other side
            _draw_clutter(image, kind, x + shift, y, w, h, colour, edge, max(1, round(person * 0.02)))

    tile_edge = _darker(tuple(int(c) for c in floor), 0.8)
    for x in np.arange(0, width, person * 0.6):  # floor tile lines converging towards the middle
        far_end = (round(x + (width / 2 - x) * 0.3), round(horizon))
        cv2.line(image, (round(x), height), far_end, tile_edge, 1, cv2.LINE_AA)
    return image


def build_camera(rng: np.random.Generator, camid: int) -> Camera:
    """A camera with its own scene, scale, viewpoint and illumination, all drawn from ``rng``."""
    person = float(rng.uniform(80, 190))
    ground = round(1.3 * person)
    height, width = round(ground + 0.35 * person), round(7 * person)
    horizon = ground - rng.uniform(0.25, 0.6) * person
    background = _background(rng, height, width, horizon, person)

    props = [
        Prop(rng.uniform(0, width), rng.uniform(0.06, 0.16) * person, ground - 2.5 * person, ground + person,
             _random_colour(rng, 40, 200))
        for _ in range(rng.integers(0, 3))
    ]
    if rng.random() < 0.5:  # a low barrier hiding the legs
        barrier_top = ground - rng.uniform(0.25, 0.45) * person
        props.append(Prop(rng.uniform(0, width), rng.uniform(0.6, 1.5) * person, barrier_top, ground + person,
                          _random_colour(rng, 40, 200)))
    movers = tuple(
        Mover(
            x=rng.uniform(0, width),
            feet_y=rng.uniform(horizon, ground - 0.1 * person),
            height=rng.uniform(0.25, 0.7) * person,
            velocity=rng.choice([-1, 1]) * rng.uniform(0.5, 4.0),
            colour=_random_colour(rng),
            is_cart=bool(rng.random() < 0.3),
        )
        for _ in range(rng.integers(2, 5))
    )
    gain = rng.uniform(0.65, 1.3) * rng.uniform(0.85, 1.15, 3)
    washout = rng.uniform(0.0, 0.4)
    mixing = (1 - washout) * np.eye(3) + washout / 3
    offset = rng.uniform(-25, 25) + rng.uniform(-8, 8, 3)
    lighting = np.hstack([gain[:, None] * mixing, offset[:, None]])
    return Camera(
        camid=camid,
        person_height=person,
        ground_y=float(ground),
        background=background,
        props=tuple(props),
        movers=movers,
        view=float(rng.uniform(0.3, math.pi / 2)),
        direction=int(rng.choice([-1, 1])),
        lighting=lighting,
    )
