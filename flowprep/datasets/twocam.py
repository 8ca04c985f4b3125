"""What iLIDS-VID and PRID2011 share: one sequence per person per camera, and ten person splits.

For a split's test persons the first camera's sequence is the query and the
second camera's the gallery; train persons give train tracklets from both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from flowprep.datasets.base import FrameName, Tracklet, ordered_frames
from flowprep.datasets.splits import Split
from flowprep.errors import DatasetError


@dataclass(frozen=True)
class CameraSequence:
    """One person's frames in one camera, ready to become a tracklet once its role is known."""

    name: str
    camid: int
    frames: tuple[Path, ...]


def read_sequence(
    folder: Path, name: str, camid: int, parse: Callable[[Path], FrameName], person: re.Pattern[str]
) -> CameraSequence:
    """One person's PNG frames in one camera folder, parsed by ``parse`` and ordered by frame number."""
    frames = [parse(path) for path in folder.iterdir() if path.suffix.lower() == ".png"]
    if not frames:
        raise DatasetError(f"{folder}: tracklet {name} has no frames")
    pid = int(person.fullmatch(folder.name).group(1))
    return CameraSequence(name, camid, ordered_frames(name, frames, pid=pid, camid=camid))


def numbered_folders(camera_dir: Path, pattern: re.Pattern[str]) -> dict[int, Path]:
    """Person number -> folder, for every sub-folder of ``camera_dir`` named by ``pattern``."""
    folders = {}
    for child in sorted(camera_dir.iterdir()):
        if not child.is_dir():
            continue
        match = pattern.fullmatch(child.name)
        if match is None:
            raise DatasetError(f"{child}: unexpected folder (person folders look like {pattern.pattern})")
        folders[int(match.group(1))] = child
    return folders


def split_tracklets(people: Mapping[int, tuple[CameraSequence, CameraSequence]], split: Split) -> list[Tracklet]:
    """Train tracklets (both cameras), then queries (first camera), then gallery (second camera)."""
    result = [
        Tracklet(sequence.name, pid, sequence.camid, "train", sequence.frames)
        for pid in split.train
        for sequence in people[pid]
    ]
    for role, camera in (("query", 0), ("gallery", 1)):
        result.extend(
            Tracklet(people[pid][camera].name, pid, people[pid][camera].camid, role, people[pid][camera].frames)
            for pid in split.test
        )
    return result
