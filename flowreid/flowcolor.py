"""The Middlebury colour coding of optical flow: hue is direction, saturation is speed.

One module for both stages: ``flowprep show`` and ``reid visualize`` draw flow with it, and the
``colorwheel`` flow encoding of the models (``reid.models.flow_encoding``) feeds the network the
same wheel, so the picture a user looks at is the picture the network can be fed.
"""

from __future__ import annotations

import numpy as np

# segment lengths of the wheel: red-yellow, yellow-green, green-cyan, cyan-blue, blue-magenta, magenta-red
_SEGMENTS = (15, 6, 4, 11, 13, 6)


def color_wheel() -> np.ndarray:
    """The wheel's colours as float RGB in [0, 1], shape (55, 3), hue going round once."""
    rows = []
    # each segment ramps one channel up or down while the others hold
    ramps = ((0, 1, +1), (1, 0, -1), (1, 2, +1), (2, 1, -1), (2, 0, +1), (0, 2, -1))
    start = np.array([1.0, 0.0, 0.0])
    for length, (_, moving, sign) in zip(_SEGMENTS, ramps):
        steps = np.arange(length) / length
        block = np.tile(start, (length, 1))
        block[:, moving] = steps if sign > 0 else 1.0 - steps
        rows.append(block)
        start = block[-1].copy()
        start[moving] = 1.0 if sign > 0 else 0.0
    return np.concatenate(rows)


def flow_to_rgb(flow: np.ndarray, max_magnitude: float | None = None) -> np.ndarray:
    """Colour-code flow (2, H, W) in pixels as uint8 RGB (H, W, 3).

    ``max_magnitude`` fixes the speed that gets full saturation, so frames of one clip are
    comparable; by default it is the largest speed in this flow.
    """
    u, v = flow[0].astype(np.float64), flow[1].astype(np.float64)
    radius = np.hypot(u, v)
    scale = max_magnitude if max_magnitude is not None else float(radius.max())
    radius = radius / scale if scale > 0 else np.zeros_like(radius)
    wheel = color_wheel()
    n = len(wheel)
    angle = np.arctan2(-v, -u) / np.pi  # -1..1
    position = (angle + 1) / 2 * (n - 1)
    lower = np.floor(position).astype(int) % n
    upper = (lower + 1) % n
    weight = (position - np.floor(position))[..., None]
    colour = (1 - weight) * wheel[lower] + weight * wheel[upper]
    r = radius[..., None]
    inside = 1 - r * (1 - colour)  # slow flow fades to white
    outside = colour * 0.75  # flow faster than the scale is darkened
    colour = np.where(r <= 1, inside, outside)
    return np.clip(np.rint(colour * 255), 0, 255).astype(np.uint8)


def wheel_legend(size: int, max_magnitude: float) -> np.ndarray:
    """The colour key (size, size, 3): the colour of every flow up to ``max_magnitude`` pixels, a
    flow (u, v) drawn at (u, v) from the centre, so the rim is the speed of full saturation."""
    axis = np.linspace(-max_magnitude, max_magnitude, size, dtype=np.float32)
    u, v = np.meshgrid(axis, axis)
    key = flow_to_rgb(np.stack([u, v]), max_magnitude=max_magnitude)
    key[np.hypot(u, v) > max_magnitude] = 255
    return key
