"""Which frames of a tracklet form a clip: random training clips, dense cover for testing.

Three ways to draw a training clip, chosen by name (``TRAIN_SAMPLING``):

- ``run``: consecutive frames from a random start (the paper's baseline [16] does this);
- ``random``: a random sorted subset of the whole tracklet (torchreid's ``random``);
- ``evenly``: one frame from each of ``seq_len`` equal segments of the tracklet, at a random
  phase, so a clip always spans the whole tracklet (torchreid's ``evenly``, made random).

Testing always uses ``dense_clips``: every frame, in consecutive clips.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def _check_length(length: int) -> None:
    if length <= 0:
        raise ValueError("a tracklet needs at least one frame")


def random_run(length: int, seq_len: int, rng: np.random.Generator) -> np.ndarray:
    """``seq_len`` consecutive frame positions from a random start.

    A tracklet shorter than the clip is repeated (0 1 2 0 1 2 ...) rather than padded
    with blanks, so every frame the network sees is a real frame with real flow.
    """
    _check_length(length)
    if length >= seq_len:
        start = int(rng.integers(0, length - seq_len + 1))
        return np.arange(start, start + seq_len)
    return np.arange(seq_len) % length


def random_subset(length: int, seq_len: int, rng: np.random.Generator) -> np.ndarray:
    """``seq_len`` distinct positions drawn from the whole tracklet, in temporal order.

    A tracklet shorter than the clip is drawn with replacement (still sorted).
    """
    _check_length(length)
    positions = rng.choice(length, size=seq_len, replace=length < seq_len)
    return np.sort(positions)


def evenly_spaced(length: int, seq_len: int, rng: np.random.Generator) -> np.ndarray:
    """One position in each of ``seq_len`` equal segments, all at the same random phase."""
    _check_length(length)
    stride = length / seq_len
    phase = rng.random()
    return np.minimum((phase + np.arange(seq_len)) * stride, length - 1).astype(np.int64)


TRAIN_SAMPLING: dict[str, Callable[[int, int, np.random.Generator], np.ndarray]] = {
    "run": random_run,
    "random": random_subset,
    "evenly": evenly_spaced,
}


def dense_clips(length: int, seq_len: int) -> list[np.ndarray]:
    """Cut all frames into consecutive clips of ``seq_len``; the last clip is padded by repetition.

    Every frame lands in exactly one clip, apart from the padding, so the test feature (the
    mean over clips) uses the whole tracklet while memory stays one clip batch at a time.
    """
    _check_length(length)
    return [dense_clip(length, start, seq_len) for start in range(0, length, seq_len)]


def dense_clip(length: int, start: int, seq_len: int) -> np.ndarray:
    """The dense clip that begins at frame ``start``: ``seq_len`` frames, the tail padded by repetition."""
    positions = np.arange(start, min(start + seq_len, length))
    return positions if len(positions) == seq_len else np.resize(positions, seq_len)
