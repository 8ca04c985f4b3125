"""PRID2011 multi-shot: ``prid_2011/multi_shot/cam_{a,b}/person_NNNN/NNNN.png``.

Only persons numbered 1..200 appear in both cameras (cam_a's 201..385 and
cam_b's 201..749 are different people who share numbers), so the adapter uses
the persons numbered 1..200 found in both camera folders and ignores the rest.
cam_a is the query camera, cam_b the gallery; pid is the person number.

Splits: with ``splits_file``, a JSON list of 10 ``{"train": [...], "test": [...]}``
person-number lists (persons left out of both are unused, as in protocols that
keep only the 178 persons with enough frames). Without it, the ten splits are
generated from the fixed seed string ``"prid2011"``: split k's test half is the
``len(persons) // 2`` persons with the smallest SHA-256 hex digest of
``"prid2011:<k>:<person number>"`` (ties impossible), the others train. Plain
hashing gives the same splits on every platform and NumPy version, and any
language can reproduce them.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Sequence

from flowprep.datasets.base import NUM_SPLITS, DatasetAdapter, FrameName, Tracklet
from flowprep.datasets.twocam import (
    CameraSequence,
    Split,
    checked_split,
    numbered_folders,
    read_sequence,
    split_tracklets,
)
from flowprep.errors import DatasetError

SHARED_PERSONS = 200
SPLIT_SEED = "prid2011"
PERSON_FOLDER = re.compile(r"person_(\d+)")
FRAME_NAME = re.compile(r"^(?P<frame>\d+)\.png$")
CAMERAS = ("cam_a", "cam_b")


def generated_splits(persons: Sequence[int]) -> list[Split]:
    """The ten default splits of ``persons`` (see the module docstring for the algorithm)."""
    splits = []
    for index in range(NUM_SPLITS):
        ranked = sorted(persons, key=lambda pid: hashlib.sha256(f"{SPLIT_SEED}:{index}:{pid}".encode()).hexdigest())
        half = len(ranked) // 2
        splits.append(Split(train=tuple(sorted(ranked[half:])), test=tuple(sorted(ranked[:half]))))
    return splits


def _frame(path: Path) -> FrameName:
    match = FRAME_NAME.match(path.name)
    if match is None:
        raise DatasetError(f"{path}: not a PRID2011 frame name (like 0001.png)")
    return FrameName(path, int(match["frame"]))


class Prid2011Adapter(DatasetAdapter):
    name = "prid"
    layout = "prid_2011/multi_shot/cam_{a,b}/person_NNNN/NNNN.png"
    has_splits = True

    def tracklets(self) -> list[Tracklet]:
        multi_shot = self.existing_dir(self.root / "prid_2011" / "multi_shot")
        folders = [numbered_folders(self.existing_dir(multi_shot / camera), PERSON_FOLDER) for camera in CAMERAS]
        persons = sorted(pid for pid in folders[0].keys() & folders[1].keys() if pid <= SHARED_PERSONS)
        if not persons:
            raise DatasetError(f"{multi_shot}: no person_NNNN (1..{SHARED_PERSONS}) folder is in both cam_a and cam_b")
        split = self._split(persons)
        people = {
            pid: tuple(
                self._sequence(camera_folders[pid], camera, camid)
                for camid, (camera, camera_folders) in enumerate(zip(CAMERAS, folders), 1)
            )
            for pid in split.train + split.test
        }
        return split_tracklets(people, split)

    def _sequence(self, folder: Path, camera: str, camid: int) -> CameraSequence:
        return read_sequence(folder, f"{camera}_{folder.name}", camid, _frame, PERSON_FOLDER)

    def _split(self, persons: list[int]) -> Split:
        if self.splits_file is None:
            return generated_splits(persons)[self.split]
        path = self.splits_file
        if not path.is_file():
            raise DatasetError(f"{path}: splits file not found (expected a JSON list of {NUM_SPLITS} train/test lists)")
        try:
            splits = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DatasetError(f"{path}: unreadable splits file ({' '.join(str(exc).split())})") from None
        if not (isinstance(splits, list) and len(splits) == NUM_SPLITS and all(_is_split(entry) for entry in splits)):
            raise DatasetError(
                f'{path}: expected a JSON list of {NUM_SPLITS} {{"train": [...], "test": [...]}} person-number lists'
            )
        entry = splits[self.split]
        return checked_split(path, self.split, entry["train"], entry["test"], set(persons))


def _is_split(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and all(isinstance(entry.get(key), list) for key in ("train", "test"))
        and all(type(pid) is int for key in ("train", "test") for pid in entry[key])
    )
