"""PRID2011 multi-shot: ``prid_2011/multi_shot/cam_{a,b}/person_NNNN/NNNN.png``.

Only persons numbered 1..200 appear in both cameras (cam_a's 201..385 and
cam_b's 201..749 are different people who share numbers), so the adapter uses
the persons numbered 1..200 found in both camera folders and ignores the rest.
cam_a is the query camera, cam_b the gallery; pid is the person number.

Splits: published results use the 178-person protocol (persons with enough
frames, 89 train / 89 test, 10 splits) of ``splits_prid2011.json``, torchreid's
file of person folder names, read from the root as torchreid does, or from any
path with ``split_file`` (see ``flowprep.datasets.splits`` for the forms read).
Without a file, the ten splits are generated from the fixed seed string
``"prid2011"``: split k's test half is the ``len(persons) // 2`` persons with the
smallest SHA-256 hex digest of ``"prid2011:<k>:<person number>"`` (ties
impossible), the others train. Plain hashing gives the same splits on every
platform and NumPy version, and any language can reproduce them; but they are
not the published protocol, which is why extraction says so.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Sequence

from flowprep.datasets import DATASETS
from flowprep.datasets.base import NUM_SPLITS, DatasetAdapter, FrameName, Tracklet
from flowprep.datasets.splits import Split, read_split_file
from flowprep.datasets.twocam import CameraSequence, numbered_folders, read_sequence, split_tracklets
from flowprep.errors import DatasetError

SHARED_PERSONS = 200
SPLIT_SEED = "prid2011"
PERSON_FOLDER = re.compile(r"person_(\d+)")
FRAME_NAME = re.compile(r"^(?P<frame>\d+)\.png$")
CAMERAS = ("cam_a", "cam_b")
STANDARD_SPLIT_FILE = "splits_prid2011.json"


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


@DATASETS.register()
class Prid2011Adapter(DatasetAdapter):
    name = "prid"
    layout = "prid_2011/multi_shot/cam_{a,b}/person_NNNN/NNNN.png"
    has_splits = True
    split_files = (STANDARD_SPLIT_FILE,)
    default_split = f"hashed halves of persons 1-{SHARED_PERSONS} (seed {SPLIT_SEED!r}), not the published protocol"
    default_split_advice = (
        f"published PRID2011 numbers use the 178-person {STANDARD_SPLIT_FILE} (torchreid's file): "
        "put it in the dataset root or pass --split-file FILE"
    )

    def tracklets(self) -> list[Tracklet]:
        multi_shot = self.existing_dir(self.root / "prid_2011" / "multi_shot")
        folders = [numbered_folders(self.existing_dir(multi_shot / camera), PERSON_FOLDER) for camera in CAMERAS]
        persons = sorted(pid for pid in folders[0].keys() & folders[1].keys() if pid <= SHARED_PERSONS)
        if not persons:
            raise DatasetError(f"{multi_shot}: no person_NNNN (1..{SHARED_PERSONS}) folder is in both cam_a and cam_b")
        split = self._split(persons, {folders[0][pid].name: pid for pid in persons})
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

    def _split(self, persons: list[int], folder_names: dict[str, int]) -> Split:
        path = self.find_split_file()
        if path is None:
            return generated_splits(persons)[self.split]
        return read_split_file(path, self.split, folder_names, persons)
