"""The dataset-independent description of a tracklet, and helpers shared by the adapters."""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Iterable

from flowprep.errors import DatasetError

ROLES = ("train", "query", "gallery")


@dataclass(frozen=True)
class Tracklet:
    """One person's track in one camera: what the rest of the pipeline needs to know.

    ``name`` is unique within a dataset split and stable across runs (resume and
    sharding key on it). ``frames`` are absolute paths in temporal order.
    """

    name: str
    pid: int
    camid: int
    role: str
    frames: tuple[Path, ...] = field(repr=False)

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"tracklet {self.name}: role must be one of {ROLES}, got {self.role!r}")


def resolve_root(dataset: str, root: str | os.PathLike | None) -> Path:
    """The data root: ``--root`` if given, else ``$REID_DATA/<dataset>``, else ``./data/<dataset>``."""
    if root is not None:
        return Path(root)
    base = os.environ.get("REID_DATA")
    return Path(base) / dataset if base else Path("data") / dataset


def frame_number(path: Path | str, pattern: re.Pattern[str]) -> int:
    """The frame number that ``pattern``'s first group finds in a file name; frames sort by it."""
    name = Path(path).name
    match = pattern.search(name)
    if match is None:
        raise DatasetError(f"{path}: file name has no frame number (expected {pattern.pattern})")
    return int(match.group(1))


def sorted_by_frame_number(paths: Iterable[Path], pattern: re.Pattern[str]) -> list[Path]:
    """Order frames by the number in their names, never by directory-listing order."""
    return sorted(paths, key=lambda p: (frame_number(p, pattern), p.name))


NUM_SPLITS = 10
"""iLIDS-VID and PRID2011 are evaluated over ten random train/test splits."""


@dataclass(frozen=True)
class FrameName:
    """What one frame's file name says: its number in the tracklet, and (when it tells) person and camera."""

    path: Path
    number: int
    pid: int | None = None
    camid: int | None = None


def ordered_frames(tracklet: str, frames: Iterable[FrameName], *, pid: int, camid: int) -> tuple[Path, ...]:
    """The tracklet's frames in temporal order, refusing a tracklet whose names disagree on person or camera.

    A frame filed under the wrong person would silently poison training, so it is an error, not a warning.
    """
    frames = list(frames)
    for frame in frames:
        if (frame.pid is not None and frame.pid != pid) or (frame.camid is not None and frame.camid != camid):
            raise DatasetError(
                f"tracklet {tracklet}: frames disagree on pid or camera: {frame.path} says "
                f"pid {frame.pid} camera {frame.camid}, the tracklet is pid {pid} camera {camid}"
            )
    return tuple(frame.path for frame in sorted(frames, key=lambda frame: (frame.number, frame.path.name)))


def in_role_order(tracklets: Iterable[Tracklet]) -> list[Tracklet]:
    """Train, then query, then gallery; the adapter's own order within each role (the sort is stable)."""
    return sorted(tracklets, key=lambda tracklet: ROLES.index(tracklet.role))


class DatasetAdapter(ABC):
    """Turns one dataset's official directory layout into tracklets.

    Every adapter takes the same options so that callers need not know which
    dataset uses which; an option that cannot apply is refused, not ignored
    (except ``split``, which fixed-split datasets ignore by design).
    """

    name: ClassVar[str]
    layout: ClassVar[str]
    """The expected layout, quoted by every "not found" error."""
    protocols: ClassVar[tuple[str, ...]] = ("standard",)
    has_splits: ClassVar[bool] = False

    def __init__(
        self,
        root: str | os.PathLike,
        *,
        split: int | None = None,
        protocol: str = "standard",
        splits_file: str | os.PathLike | None = None,
    ) -> None:
        self.root = Path(root)
        if protocol not in self.protocols:
            raise DatasetError(f"{self.name}: unknown protocol {protocol!r} (known: {', '.join(self.protocols)})")
        self.protocol = protocol
        if not self.has_splits and splits_file is not None:
            raise DatasetError(
                f"{splits_file}: {self.name} has one fixed train/test partition; a splits file does not apply"
            )
        self.split = 0 if split is None else split
        if self.has_splits and not 0 <= self.split < NUM_SPLITS:
            raise DatasetError(f"{self.name}: split must be 0..{NUM_SPLITS - 1}, got {self.split}")
        self.splits_file = None if splits_file is None else Path(splits_file)

    @abstractmethod
    def tracklets(self) -> list[Tracklet]:
        """Every tracklet of the split, train + query + gallery, in a deterministic order."""

    def existing_dir(self, path: Path) -> Path:
        """``path`` if it is a directory, else a one-line error naming it and the expected layout."""
        if not self.root.is_dir():
            raise DatasetError(f"{self.root}: dataset root not found (expected {self.name} layout: {self.layout})")
        if not path.is_dir():
            raise DatasetError(f"{path}: directory not found (expected {self.name} layout: {self.layout})")
        return path

    def existing_file(self, path: Path) -> Path:
        """``path`` if it is a file, else a one-line error naming it and the expected layout."""
        self.existing_dir(path.parent)
        if not path.is_file():
            raise DatasetError(f"{path}: metadata file not found (expected {self.name} layout: {self.layout})")
        return path
