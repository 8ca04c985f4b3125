"""Which frames of a tracklet form a clip: random runs for training, dense cover for testing."""

from __future__ import annotations

import numpy as np


def random_run(length: int, seq_len: int, rng: np.random.Generator) -> np.ndarray:
    """``seq_len`` consecutive frame positions from a random start.

    A tracklet shorter than the clip is repeated (0 1 2 0 1 2 ...) rather than padded
    with blanks, so every frame the network sees is a real frame with real flow.
    """
    if length <= 0:
        raise ValueError("a tracklet needs at least one frame")
    if length >= seq_len:
        start = int(rng.integers(0, length - seq_len + 1))
        return np.arange(start, start + seq_len)
    return np.arange(seq_len) % length


def dense_clips(length: int, seq_len: int) -> list[np.ndarray]:
    """Cut all frames into consecutive clips of ``seq_len``; the last clip is padded by repetition.

    Every frame lands in exactly one clip, apart from the padding, so the test feature (the
    mean over clips) uses the whole tracklet while memory stays one clip batch at a time.
    """
    if length <= 0:
        raise ValueError("a tracklet needs at least one frame")
    return [dense_clip(length, start, seq_len) for start in range(0, length, seq_len)]


def dense_clip(length: int, start: int, seq_len: int) -> np.ndarray:
    """The dense clip that begins at frame ``start``: ``seq_len`` frames, the tail padded by repetition."""
    positions = np.arange(start, min(start + seq_len, length))
    return positions if len(positions) == seq_len else np.resize(positions, seq_len)
