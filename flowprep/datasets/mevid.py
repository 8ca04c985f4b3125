"""MEVID: tracklets from ``bbox_{train,test}/<pid>/`` and the text metadata beside them.

As the authors' reader (Kitware/MEVID) has it: ``{train,test}_name.txt`` list frame names
(``0201O003C330T004F00192.jpg``: person, outfit, camera, tracklet, frame);
``track_{train,test}_info.txt`` rows are ``start end pid outfit camera``, 0-based and inclusive
into the name list (MARS's are 1-based), written as floats in some copies; ``query_IDX.txt``
holds 0-based test rows. pid -1 (junk) is dropped, and so is a row spanning no name, as that
reader does. Query rows are queries, the other test rows the gallery. Each tracklet keeps its
row's outfit, which the store records, so ``reid evaluate`` can score clothes changes.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from flowprep.datasets import DATASETS
from flowprep.datasets.base import DatasetAdapter, Tracklet, in_role_order
from flowprep.datasets.columns import read_name_column
from flowprep.datasets.tracks import JUNK_PID, Track, TrackRows, UniqueNames, tracks_from_rows
from flowprep.errors import DatasetError

FRAME_NAME = re.compile(r"^(?P<pid>\d{4})O(?P<outfit>\d{3})C(?P<cam>\d{3})T(?P<track>\d+)F(?P<frame>\d+)\.jpg$")
METADATA_FOLDERS = (".", "mevid-v1-annotation-data")  # the root, or the folder the annotation archive unpacks to
INFO_COLUMNS = 5


def load_text_rows(path: Path, columns: int | None) -> np.ndarray:
    """A whitespace-separated table of whole numbers (floats such as ``2.01e+02`` allowed) as int64."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numpy warns on an empty file; an empty table is refused below
            table = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path}: unreadable table ({' '.join(str(exc).split())})") from None
    if table.size == 0:
        raise DatasetError(f"{path}: empty table")
    if columns is not None and table.shape[1] != columns:
        raise DatasetError(f"{path}: {table.shape[1]} columns, expected {columns} (start end pid outfit camera)")
    if not (np.isfinite(table).all() and (table == np.round(table)).all()):
        raise DatasetError(f"{path}: holds non-integer values")
    return table.astype(np.int64)


@DATASETS.register()
class MevidAdapter(DatasetAdapter):
    name = "mevid"
    layout = (
        "bbox_train/<pid>/, bbox_test/<pid>/, and train_name.txt, test_name.txt, track_train_info.txt, "
        "track_test_info.txt, query_IDX.txt in the root or in mevid-v1-annotation-data/"
    )

    def tracklets(self) -> list[Tracklet]:
        meta = self._metadata_folder()
        train = self._tracks("train", meta)
        test = self._tracks("test", meta)
        query_rows = self._query_rows(meta / "query_IDX.txt", len(test))
        unique = UniqueNames()
        result = [Tracklet(unique(t.name), t.pid, t.camid, "train", t.frames, t.outfit) for t in train if t]
        for row, track in enumerate(test):
            if track is not None:
                role = "query" if row in query_rows else "gallery"
                result.append(Tracklet(unique(track.name), track.pid, track.camid, role, track.frames, track.outfit))
        return in_role_order(result)

    def _metadata_folder(self) -> Path:
        for folder in METADATA_FOLDERS:
            if (self.root / folder / "track_test_info.txt").is_file():
                return (self.root / folder).resolve() if folder != "." else self.root
        self.existing_dir(self.root)
        raise DatasetError(f"{self.root / 'track_test_info.txt'}: metadata file not found (expected mevid layout: "
                           f"{self.layout})")

    def _tracks(self, subset: str, meta: Path) -> list[Track | None]:
        image_dir = self.existing_dir(self.root / f"bbox_{subset}")
        names_file = self.existing_file(meta / f"{subset}_name.txt")
        names = read_name_column(names_file, FRAME_NAME, "0201O003C330T004F00192.jpg", "MEVID")
        info_file = self.existing_file(meta / f"track_{subset}_info.txt")
        table = load_text_rows(info_file, INFO_COLUMNS)
        pid = np.where(table[:, 1] < table[:, 0], JUNK_PID, table[:, 2])  # a row spanning no name is dropped
        rows = TrackRows(table[:, 0], table[:, 1], {"pid": pid, "outfit": table[:, 3], "cam": table[:, 4]})
        return tracks_from_rows(rows, names, folder_of=lambda p: image_dir / f"{p:04d}",
                                prefix_of=lambda name: name.split("F", 1)[0], info_file=info_file,
                                names_file=names_file, base=0, checked=("pid", "cam"))

    def _query_rows(self, path: Path, test_rows: int) -> set[int]:
        indices = load_text_rows(self.existing_file(path), None).reshape(-1)
        bad = indices[(indices < 0) | (indices >= test_rows)]
        if bad.size:
            raise DatasetError(f"{path}: holds {int(bad[0])}, outside the {test_rows} test rows (0-based)")
        return set(indices.tolist())
