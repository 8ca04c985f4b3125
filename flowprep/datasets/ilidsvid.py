"""iLIDS-VID: ``i-LIDS-VID/sequences/cam{1,2}/personNNN/*.png`` with the official ten splits.

``train-test people splits/train_test_splits_ilidsvid.mat`` holds ``ls_set``,
10 x N (N persons, 300 in the real set): row k is a permutation of 1-based
indices into the person folders sorted by name; its first N/2 entries are the
test persons of split k, the rest train. ``splits_file`` may point at another
.mat file of the same form. cam1 is the query camera, cam2 the gallery.
pid is the person number from the folder name (person001 -> 1).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from flowprep.datasets.base import NUM_SPLITS, DatasetAdapter, FrameName, Tracklet
from flowprep.datasets.matfile import load_integer_matrix
from flowprep.datasets.twocam import (
    CameraSequence,
    Split,
    checked_split,
    numbered_folders,
    read_sequence,
    split_tracklets,
)
from flowprep.errors import DatasetError

PERSON_FOLDER = re.compile(r"person(\d+)")
FRAME_NAME = re.compile(r"^cam(?P<cam>\d+)_person(?P<pid>\d+)_(?P<frame>\d+)\.png$")
SPLITS_PATH = Path("train-test people splits") / "train_test_splits_ilidsvid.mat"
CAMERAS = ("cam1", "cam2")


def _frame(path: Path) -> FrameName:
    match = FRAME_NAME.match(path.name)
    if match is None:
        raise DatasetError(f"{path}: not an iLIDS-VID frame name (like cam1_person001_00317.png)")
    return FrameName(path, int(match["frame"]), int(match["pid"]), int(match["cam"]))


class ILidsVidAdapter(DatasetAdapter):
    name = "ilidsvid"
    layout = (
        "i-LIDS-VID/sequences/cam{1,2}/personNNN/camC_personNNN_FFFFF.png and "
        "'train-test people splits/train_test_splits_ilidsvid.mat' (ls_set)"
    )
    has_splits = True

    def tracklets(self) -> list[Tracklet]:
        sequences = self.existing_dir(self.root / "i-LIDS-VID" / "sequences")
        folders = [numbered_folders(self.existing_dir(sequences / camera), PERSON_FOLDER) for camera in CAMERAS]
        if folders[0].keys() != folders[1].keys():
            odd = min(folders[0].keys() ^ folders[1].keys())
            raise DatasetError(f"{sequences}: person{odd:03d} is in only one of cam1/cam2; every person needs both")
        people = {
            pid: tuple(self._sequence(camera_folders[pid], camid) for camid, camera_folders in enumerate(folders, 1))
            for pid in folders[0]
        }
        ordered_persons = [pid for pid, _ in sorted(folders[0].items(), key=lambda item: item[1].name)]
        return split_tracklets(people, self._split(ordered_persons))

    def _sequence(self, folder: Path, camid: int) -> CameraSequence:
        return read_sequence(folder, f"cam{camid}_{folder.name}", camid, _frame, PERSON_FOLDER)

    def _split(self, ordered_persons: list[int]) -> Split:
        path = self.existing_file(self.splits_file or self.root / SPLITS_PATH)
        count = len(ordered_persons)
        ls_set = load_integer_matrix(path, "ls_set", rows=NUM_SPLITS, columns=count)
        row = ls_set[self.split]
        if not np.array_equal(np.sort(row), np.arange(1, count + 1)):
            raise DatasetError(f"{path}: ls_set row {self.split + 1} is not a permutation of 1..{count}")
        persons = [ordered_persons[index - 1] for index in row.tolist()]
        return checked_split(path, self.split, persons[count // 2 :], persons[: count // 2], set(ordered_persons))
