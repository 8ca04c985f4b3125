"""Reading a tracklet's frame files: decode, check, resize to the store's size.

A frame that cannot be used is skipped with a reason, never raised: one bad
JPEG in a million must not stop an extraction, and the reason ends up in the
store and in the run's summary. A frame that is a JPEG file of the stored size
already (every MARS frame at 256x128) keeps its file's bytes, so the store holds
the original pixels and nothing is re-encoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence, Union

import cv2
import numpy as np

from flowprep.errors import DatasetError


@dataclass
class LoadedFrames:
    """The usable frames of a tracklet (BGR uint8, stored size) and what was dropped."""

    names: list[str]
    frames: np.ndarray  # (T, H, W, 3) uint8 BGR
    skipped: list[tuple[str, str]] = field(default_factory=list)
    jpeg_files: list[bytes | None] = field(default_factory=list)  # per frame: its file, if a JPEG kept as is


JPEG_SIGNATURE = b"\xff\xd8\xff"


def read_frame(path: Path) -> tuple[np.ndarray | None, str, np.ndarray | None]:
    """Decode one frame file: (BGR image, "", the file's bytes), or (None, reason, None).

    A damaged frame is skipped, but a frame this user may not read stops the run: the same refusal
    would empty the dataset frame by frame, and the fix (permissions, the mount) is the user's.
    """
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except PermissionError as exc:
        raise DatasetError(f"{path}: {exc.strerror}: every frame of the dataset must be readable") from None
    except OSError as exc:
        return None, f"unreadable ({exc.strerror or exc})", None
    if data.size == 0:
        return None, "empty file", None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        return None, "not a decodable image (truncated or wrong format)", None
    if image.shape[0] < 2 or image.shape[1] < 2:
        return None, f"too small ({image.shape[1]}x{image.shape[0]})", None
    return image, "", data


def fit_frame(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """``image`` resized to the store's size: area averaging to shrink, bilinear to enlarge."""
    if image.shape[:2] == (height, width):
        return image
    interpolation = cv2.INTER_AREA if image.shape[0] > height else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interpolation)


def load_frames(paths: Sequence[Path], height: int, width: int) -> LoadedFrames:
    """Read and resize every frame of a tracklet, skipping the ones that cannot be decoded."""
    names, frames, skipped, jpeg_files = [], [], [], []
    for path in paths:
        image, reason, data = read_frame(path)
        if image is None:
            skipped.append((path.name, reason))
            continue
        kept = None
        if image.shape[:2] != (height, width):
            image = fit_frame(image, height, width)
        elif data[:3].tobytes() == JPEG_SIGNATURE:
            kept = data.tobytes()
        names.append(path.name)
        frames.append(image)
        jpeg_files.append(kept)
    array = np.stack(frames) if frames else np.empty((0, height, width, 3), np.uint8)
    return LoadedFrames(names, array, skipped, jpeg_files)


TrackletFrames = Union[Sequence[Path], Sequence[np.ndarray], np.ndarray]


def load_tracklet(frames: TrackletFrames, height: int, width: int) -> LoadedFrames:
    """A tracklet given as frame files or as RGB uint8 arrays (T, H, W, 3), fitted to ``height x width``."""
    if len(frames) and isinstance(frames[0], np.ndarray):
        bgr = [fit_frame(cv2.cvtColor(np.asarray(f, np.uint8), cv2.COLOR_RGB2BGR), height, width) for f in frames]
        return LoadedFrames([f"frame{i}" for i in range(len(bgr))], np.stack(bgr), [], [None] * len(bgr))
    return load_frames([Path(f) for f in frames], height, width)
