"""What makes a synthetic person recognisable: clothing, body shape and gait.

A fraction of identities are "clothing twins": they copy another identity's
clothes and body but walk differently (stride frequency, arm swing, speed), so
appearance alone cannot tell them apart and motion has to.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass, replace

import numpy as np

Colour = tuple[int, int, int]  # BGR, as OpenCV draws
TEXTURES = ("plain", "horizontal stripes", "vertical stripes", "checks")
SKIN_TONES: tuple[Colour, ...] = ((185, 205, 240), (150, 180, 225), (110, 145, 195), (80, 110, 160), (55, 75, 110))


@dataclass(frozen=True)
class Clothing:
    shirt: Colour
    trousers: Colour
    shoes: Colour
    texture: str
    texture_colour: Colour
    texture_period: float  # fraction of the torso height between stripes
    long_sleeves: bool
    bag: Colour | None


@dataclass(frozen=True)
class Body:
    height: float  # relative to the camera's typical person
    build: float  # width factor
    head: float
    legs: float  # leg length factor
    skin: Colour
    hair: Colour


@dataclass(frozen=True)
class Gait:
    frequency: float  # gait cycles per frame
    leg_swing: float  # hip amplitude, radians
    arm_swing: float  # shoulder amplitude, radians
    knee: float  # peak knee flexion, radians
    speed: float  # stride-length factor
    bob: float  # vertical bounce, body heights
    lean: float  # forward lean of the torso


@dataclass(frozen=True)
class Identity:
    clothing: Clothing
    body: Body
    gait: Gait


def _colour(rng: np.random.Generator, saturation: tuple[float, float] = (0.15, 1.0), value=(0.2, 1.0)) -> Colour:
    r, g, b = colorsys.hsv_to_rgb(rng.uniform(0, 1), rng.uniform(*saturation), rng.uniform(*value))
    return (round(b * 255), round(g * 255), round(r * 255))


def _clothing(rng: np.random.Generator) -> Clothing:
    return Clothing(
        shirt=_colour(rng),
        trousers=_colour(rng, value=(0.1, 0.85)),
        shoes=_colour(rng, saturation=(0.0, 0.5), value=(0.05, 0.7)),
        texture=TEXTURES[int(rng.integers(len(TEXTURES)))],
        texture_colour=_colour(rng),
        texture_period=float(rng.uniform(0.14, 0.34)),
        long_sleeves=bool(rng.random() < 0.6),
        bag=_colour(rng, value=(0.1, 0.8)) if rng.random() < 0.3 else None,
    )


def _body(rng: np.random.Generator) -> Body:
    return Body(
        height=float(rng.uniform(0.88, 1.12)),
        build=float(rng.uniform(0.8, 1.25)),
        head=float(rng.uniform(0.85, 1.15)),
        legs=float(rng.uniform(0.92, 1.08)),
        skin=SKIN_TONES[int(rng.integers(len(SKIN_TONES)))],
        hair=_colour(rng, saturation=(0.1, 0.7), value=(0.03, 0.6)),
    )


def _gait(rng: np.random.Generator) -> Gait:
    return Gait(
        frequency=float(rng.uniform(0.03, 0.085)),
        leg_swing=float(rng.uniform(0.25, 0.5)),
        arm_swing=float(rng.uniform(0.05, 0.75)),
        knee=float(rng.uniform(0.35, 0.95)),
        speed=float(rng.uniform(0.8, 1.25)),
        bob=float(rng.uniform(0.005, 0.03)),
        lean=float(rng.uniform(-0.05, 0.2)),
    )


def _distinct_gait(rng: np.random.Generator, other: Gait) -> Gait:
    """A gait clearly unlike ``other``: stride frequency and arm swing both differ noticeably."""
    while True:
        gait = _gait(rng)
        if abs(math.log(gait.frequency / other.frequency)) > 0.3 and abs(gait.arm_swing - other.arm_swing) > 0.2:
            return gait


def sample_identity(rng: np.random.Generator) -> Identity:
    return Identity(_clothing(rng), _body(rng), _gait(rng))


def sample_identities(rng: np.random.Generator, count: int, twin_fraction: float = 0.2) -> list[Identity]:
    """``count`` identities; about ``twin_fraction`` of them copy the clothes and body of an earlier,
    not yet twinned identity (twins come in pairs, so a clearly different gait always exists)."""
    identities: list[Identity] = []
    single: list[Identity] = []
    for _ in range(count):
        if single and rng.random() < twin_fraction:
            donor = single.pop(int(rng.integers(len(single))))
            identities.append(replace(donor, gait=_distinct_gait(rng, donor.gait)))
        else:
            identities.append(sample_identity(rng))
            single.append(identities[-1])
    return identities
