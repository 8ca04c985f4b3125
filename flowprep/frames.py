"""Reading a tracklet's frame files: decode, check, resize to the store's size.

A frame that cannot be used is skipped with a reason, never raised: one bad
JPEG in a million must not stop an extraction, and the reason ends up in the
store and in the run's summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np


@dataclass
class LoadedFrames:
    """The usable frames of a tracklet (BGR uint8, stored size) and what was dropped."""

    names: list[str]
    frames: np.ndarray  # (T, H, W, 3) uint8 BGR
    skipped: list[tuple[str, str]] = field(default_factory=list)


def read_frame(path: Path) -> tuple[np.ndarray | None, str]:
    """Decode one frame file; on failure return ``(None, reason)``."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        return None, f"unreadable ({exc.strerror or exc})"
    if data.size == 0:
        return None, "empty file"
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        return None, "not a decodable image (truncated or wrong format)"
    if image.shape[0] < 2 or image.shape[1] < 2:
        return None, f"too small ({image.shape[1]}x{image.shape[0]})"
    return image, ""


def load_frames(paths: Sequence[Path], height: int, width: int) -> LoadedFrames:
    """Read and resize every frame of a tracklet, skipping the ones that cannot be decoded."""
    names, frames, skipped = [], [], []
    for path in paths:
        image, reason = read_frame(path)
        if image is None:
            skipped.append((path.name, reason))
            continue
        if image.shape[:2] != (height, width):
            shrinking = image.shape[0] > height
            interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
            image = cv2.resize(image, (width, height), interpolation=interpolation)
        names.append(path.name)
        frames.append(image)
    array = np.stack(frames) if frames else np.empty((0, height, width, 3), np.uint8)
    return LoadedFrames(names, array, skipped)
