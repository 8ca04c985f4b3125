"""MARS: tracklets from the official ``bbox_*`` folders and the MATLAB metadata in ``info/``.

Track-info rows are ``[start, end, pid, camid]``, 1-based and inclusive into the
split's name list. pid -1 (junk) is dropped; pid 0 (distractors) is kept, in
the gallery only, even when ``query_IDX`` names it, and a ``query_IDX`` entry
naming junk is dropped with the junk. The roles are the standard protocol's;
the official MATLAB evaluation (every query also in the gallery) is an
evaluation choice, ``reid evaluate --protocol matlab``, not a store.

Tracklet names are the frame-name prefix before ``F`` (``0001C1T0001``); were
two rows to share a prefix, the later ones get ``.2``, ``.3``... in row order.
Names are read into NumPy columns (``flowprep.datasets.columns``): no Python object per frame.
"""

from __future__ import annotations

import re
from pathlib import Path

from flowprep.datasets import DATASETS
from flowprep.datasets.base import DatasetAdapter, Tracklet, in_role_order
from flowprep.datasets.columns import NameColumn, read_name_column
from flowprep.datasets.matfile import load_integer_matrix, load_integer_vector
from flowprep.datasets.tracks import JUNK_PID, Track, TrackRows, UniqueNames, tracks_from_rows
from flowprep.errors import DatasetError

FRAME_NAME = re.compile(r"^(?P<pid>\d{4}|00-1)C(?P<cam>\d)T(?P<track>\d+)F(?P<frame>\d+)\.jpg$")
DISTRACTOR_PID = 0


def read_frame_names(path: Path) -> NameColumn:
    """The name list with each name's person, camera and frame number, refusing names that could point
    outside the dataset root or are not MARS names."""
    return read_name_column(path, FRAME_NAME, "0001C1T0001F001.jpg", "MARS", special={"00-1": JUNK_PID})


def pid_folder(pid: int) -> str:
    """The person's folder under ``bbox_<subset>/``, as its frame names spell the person."""
    return "00-1" if pid == JUNK_PID else f"{pid:04d}"


@DATASETS.register()
class MarsAdapter(DatasetAdapter):
    name = "mars"
    layout = (
        "bbox_train/, bbox_test/, info/{train_name.txt, test_name.txt, tracks_train_info.mat, "
        "tracks_test_info.mat, query_IDX.mat}"
    )

    def tracklets(self) -> list[Tracklet]:
        info = self.existing_dir(self.root / "info")
        train = self._tracks("train", info / "train_name.txt", info / "tracks_train_info.mat", "track_train_info")
        test = self._tracks("test", info / "test_name.txt", info / "tracks_test_info.mat", "track_test_info")
        query_rows = self._query_rows(info / "query_IDX.mat", len(test))

        unique = UniqueNames()
        result = [Tracklet(unique(t.name), t.pid, t.camid, "train", t.frames) for t in train if t is not None]
        for row, track in enumerate(test):
            if track is None:
                continue
            is_query = row in query_rows and track.pid != DISTRACTOR_PID
            name = unique(track.name)
            result.append(Tracklet(name, track.pid, track.camid, "query" if is_query else "gallery", track.frames))
        return in_role_order(result)

    def _tracks(self, subset: str, names_file: Path, info_file: Path, variable: str) -> list[Track | None]:
        """One entry per track-info row: the track, or None for junk (kept so row numbers stay aligned)."""
        image_dir = self.existing_dir(self.root / f"bbox_{subset}")
        names = read_frame_names(self.existing_file(names_file))
        matrix = load_integer_matrix(self.existing_file(info_file), variable, columns=4)
        rows = TrackRows(matrix[:, 0] - 1, matrix[:, 1] - 1, {"pid": matrix[:, 2], "cam": matrix[:, 3]})
        return tracks_from_rows(rows, names, folder_of=lambda pid: image_dir / pid_folder(pid),
                                prefix_of=lambda name: name.split("F", 1)[0], info_file=info_file,
                                names_file=names_file, base=1)

    def _query_rows(self, path: Path, test_rows: int) -> set[int]:
        """0-based test rows named by the 1-based ``query_IDX``."""
        indices = load_integer_vector(self.existing_file(path), "query_IDX")
        bad = indices[(indices < 1) | (indices > test_rows)]
        if bad.size:
            raise DatasetError(f"{path}: query_IDX holds {int(bad[0])}, outside the {test_rows} test tracks")
        return set((indices - 1).tolist())
