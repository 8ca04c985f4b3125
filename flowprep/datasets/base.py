"""The dataset-independent description of a tracklet, and helpers shared by the adapters."""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Iterable, Sequence

from flowprep.datasets.splits import NUM_SPLITS, file_source
from flowprep.errors import DatasetError
from flowprep.store.schema import NO_OUTFIT, ROLES
from flowreid.memory import release_free_memory


@dataclass(frozen=True)
class Tracklet:
    """One person's track in one camera: what the rest of the pipeline needs to know.

    ``name`` is unique within a dataset split and stable across runs (resume and
    sharding key on it). ``frames`` are absolute paths in temporal order (a ``FrameList`` for the large datasets,
    which makes each ``Path`` only when asked).
    """

    name: str
    pid: int
    camid: int
    role: str
    frames: Sequence[Path] = field(repr=False)
    outfit: int = NO_OUTFIT  # the person's outfit where the dataset says (MEVID)

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"tracklet {self.name}: role must be one of {ROLES}, got {self.role!r}")


def resolve_root(dataset: str, root: str | os.PathLike | None) -> Path:
    """The data root: ``--root`` if given, else ``$REID_DATA/<dataset>``, else ``./data/<dataset>``."""
    if root is not None:
        return Path(root)
    base = os.environ.get("REID_DATA")
    return Path(base) / dataset if base else Path("data") / dataset


def default_cache(store: str | os.PathLike) -> Path:
    """The adapter cache of an extraction when none is given: ``<store without suffix>.cache`` beside the
    store (never inside the dataset root, which may be read-only)."""
    store = Path(store)
    return store.with_name(f"{store.stem}.cache")


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
    """Train, then query, then gallery; the adapter's own order within each role (the sort is stable).

    The adapters' last step, so it also gives the pages of their per-frame temporaries back."""
    ordered = sorted(tracklets, key=lambda tracklet: ROLES.index(tracklet.role))
    release_free_memory()
    return ordered


class DatasetAdapter(ABC):
    """Turns one dataset's official directory layout into tracklets.

    Every adapter takes the same options so that callers need not know which
    dataset uses which; a split file for a dataset without splits is refused, not
    ignored (``split`` itself is ignored by fixed-split datasets, whose stores record -1).
    ``cache`` is the folder for files an adapter derives from the dataset (the MOT adapter's
    crops), kept out of the root because datasets are often mounted read-only; adapters that
    derive nothing ignore it. ``read_only`` (a dry run) writes nothing: such an adapter lists the
    frames it would derive and sets ``planned_frames``.
    """

    name: ClassVar[str]
    layout: ClassVar[str]
    """The expected layout, quoted by every "not found" error."""
    has_splits: ClassVar[bool] = False
    split_files: ClassVar[tuple[str, ...]] = ()
    """Split files looked for in the root when none is passed, first found wins (where torchreid looks)."""
    default_split: ClassVar[str] = ""
    """How the splits are made when no split file is found; empty when a file is required."""
    default_split_advice: ClassVar[str] = ""
    """What to do instead of the default split, said whenever it is used."""

    def __init__(
        self,
        root: str | os.PathLike,
        *,
        split: int | None = None,
        split_file: str | os.PathLike | None = None,
        cache: str | os.PathLike | None = None,
        read_only: bool = False,
    ) -> None:
        self.root = Path(root)
        self.cache = None if cache is None else Path(cache)
        self.read_only = read_only
        self.planned_frames = False  # set by an adapter whose frames, read_only, are still to be derived
        if not self.has_splits and split_file is not None:
            raise DatasetError(
                f"{split_file}: {self.name} has one fixed train/test partition; a splits file does not apply"
            )
        self.split = 0 if split is None else split
        if self.has_splits and not 0 <= self.split < NUM_SPLITS:
            raise DatasetError(f"{self.name}: split must be 0..{NUM_SPLITS - 1}, got {self.split}")
        self.given_split_file = None if split_file is None else Path(split_file)

    @property
    def store_split(self) -> int:
        """The split number a store records: the split used, or -1 for a dataset without splits."""
        return self.split if self.has_splits else -1

    def find_split_file(self) -> Path | None:
        """The split file passed in, else the first of ``split_files`` present in the root, else None."""
        if self.given_split_file is not None or not self.has_splits:
            return self.given_split_file
        return next((self.root / name for name in self.split_files if (self.root / name).is_file()), None)

    def split_source(self) -> str:
        """Where the split comes from, as stores record it: ``<file> sha256:<hex>``, ``default: <how>``,
        or empty for a dataset without splits."""
        path = self.find_split_file()
        if path is not None:
            return file_source(path)
        return f"default: {self.default_split}" if self.has_splits and self.default_split else ""

    def split_note(self) -> str:
        """One line for the user: which split, from where, and for a default split what to use instead;
        empty for a dataset without splits."""
        if not self.has_splits:
            return ""
        source = self.split_source()
        advice = f"; {self.default_split_advice}" if source.startswith("default:") and self.default_split_advice else ""
        return f"split {self.split}: {source}{advice}"

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
