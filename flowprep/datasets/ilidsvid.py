"""iLIDS-VID: ``i-LIDS-VID/sequences/cam{1,2}/personNNN/*.png`` with the official ten splits.

The splits come from the first of these found in the root, as torchreid looks for them:
``splits.json`` (the file torchreid writes from the .mat), ``splits_ilidsvid.json``, then the
official ``train-test people splits/train_test_splits_ilidsvid.mat``; or from ``split_file``.
All give the same persons for split k (see ``flowprep.datasets.splits``). cam1 is the query
camera, cam2 the gallery. pid is the person number from the folder name (person001 -> 1).
"""

from __future__ import annotations

import re
from pathlib import Path

from flowprep.datasets import DATASETS
from flowprep.datasets.base import DatasetAdapter, FrameName, Tracklet
from flowprep.datasets.splits import read_split_file
from flowprep.datasets.twocam import CameraSequence, numbered_folders, read_sequence, split_tracklets
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


@DATASETS.register()
class ILidsVidAdapter(DatasetAdapter):
    name = "ilidsvid"
    layout = (
        "i-LIDS-VID/sequences/cam{1,2}/personNNN/camC_personNNN_FFFFF.png and "
        "'train-test people splits/train_test_splits_ilidsvid.mat' (ls_set)"
    )
    has_splits = True
    split_files = ("splits.json", "splits_ilidsvid.json", str(SPLITS_PATH))

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
        ordered = [pid for pid, _ in sorted(folders[0].items(), key=lambda item: item[1].name)]  # ls_set's order
        path = self.find_split_file() or self.existing_file(self.root / SPLITS_PATH)
        split = read_split_file(path, self.split, {folders[0][pid].name: pid for pid in ordered}, ordered)
        return split_tracklets(people, split)

    def _sequence(self, folder: Path, camid: int) -> CameraSequence:
        return read_sequence(folder, f"cam{camid}_{folder.name}", camid, _frame, PERSON_FOLDER)
