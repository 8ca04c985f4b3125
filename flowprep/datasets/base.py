"""The dataset-independent description of a tracklet, and helpers shared by the adapters."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

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
