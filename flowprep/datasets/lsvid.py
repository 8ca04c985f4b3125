"""LS-VID: tracklets from ``list_sequence/list_seq_{train,test}.txt`` and the frames their prefixes find.

As the GLTR-lineage readers have it: each list line is ``<path prefix> <pid>``, the prefix relative
to the root (under ``tracklet_train/`` or ``tracklet_test/``); a tracklet's frames are the files of
the prefix's folder whose names start with it, in name order; the camera is the third
``_``-separated field of a frame name (1..15). The query rows are the 1-based ``query`` vector of
``test/data/info_test.mat``, a MATLAB v7.3 (HDF5) file; the other test rows are the gallery. pid -1
(junk) is dropped. Some copies keep ``list_sequence/`` and ``data/`` under ``info/``. Each folder is
listed once, into a NumPy column, whatever the number of tracklets in it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from flowprep.datasets import DATASETS
from flowprep.datasets.base import DatasetAdapter, Tracklet, in_role_order
from flowprep.datasets.columns import FrameList
from flowprep.datasets.tracks import JUNK_PID, UniqueNames
from flowprep.errors import DatasetError

LISTS = ("list_sequence", "info/list_sequence")
QUERY_FILES = ("test/data/info_test.mat", "info/data/info_test.mat")
CAMERA_FIELD = 2  # 0-based field of a frame name split at "_"


class _Folders:
    """Each frame folder's file names, listed once and sorted, as a bytes column."""

    def __init__(self) -> None:
        self._listed: dict[Path, np.ndarray] = {}

    def starting_with(self, folder: Path, prefix: str) -> np.ndarray:
        names = self._listed.get(folder)
        if names is None:
            try:
                entries = [entry.encode("utf-8", "surrogateescape") for entry in os.listdir(folder)]
            except OSError:
                entries = []
            names = self._listed[folder] = np.sort(np.array(entries, dtype=bytes))
        key = prefix.encode("utf-8")
        first, last = np.searchsorted(names, [key, key + b"\xff"])
        return names[first:last]


def frame_cameras(names: np.ndarray, tracklet: str) -> np.ndarray:
    """The camera each frame name gives (its third ``_`` field), refusing a name without one."""
    cameras = np.zeros(len(names), np.int64)
    for row, raw in enumerate(names.tolist()):
        fields = raw.decode("utf-8", "replace").split("_")
        if len(fields) <= CAMERA_FIELD or not fields[CAMERA_FIELD].isdigit():
            raise DatasetError(f"tracklet {tracklet}: frame {raw.decode('utf-8', 'replace')!r} has no camera "
                               "(expected names like <track>_<frame>_<camera>_<n>.jpg)")
        cameras[row] = int(fields[CAMERA_FIELD])
    return cameras


@DATASETS.register()
class LsvidAdapter(DatasetAdapter):
    name = "lsvid"
    layout = ("tracklet_train/, tracklet_test/, list_sequence/{list_seq_train.txt, list_seq_test.txt}, "
              "test/data/info_test.mat (or both under info/)")

    def tracklets(self) -> list[Tracklet]:
        lists = self._first_present(LISTS, "list_seq_test.txt")
        query_file = self._first_present(QUERY_FILES, "")
        folders, unique = _Folders(), UniqueNames()
        train = self._rows(lists / "list_seq_train.txt")
        test = self._rows(lists / "list_seq_test.txt")
        query_rows = self._query_rows(query_file, len(test))
        result = []
        for subset, rows in (("train", train), ("test", test)):
            for row, (prefix, pid) in enumerate(rows):
                if pid == JUNK_PID:
                    continue
                role = "train" if subset == "train" else ("query" if row in query_rows else "gallery")
                result.append(self._tracklet(prefix, pid, role, folders, unique))
        return in_role_order(result)

    def _first_present(self, candidates: tuple[str, ...], inside: str) -> Path:
        for candidate in candidates:
            path = self.root / candidate
            if (path / inside if inside else path).exists():
                return path
        return self.existing_file(self.root / candidates[0] / inside) if inside else self.existing_file(
            self.root / candidates[0])

    def _rows(self, path: Path) -> list[tuple[str, int]]:
        """``(prefix, pid)`` per line, refusing prefixes that leave the root."""
        try:
            lines = self.existing_file(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise DatasetError(f"{path}: cannot read the list ({exc.__class__.__name__})") from None
        rows = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            fields = line.split()
            if len(fields) != 2 or not fields[1].lstrip("-").isdigit():
                raise DatasetError(f"{path}:{number}: expected '<path prefix> <pid>', got {line.strip()!r}")
            prefix = fields[0]
            if prefix.startswith(("/", "\\")) or ".." in Path(prefix).parts or "\\" in prefix:
                raise DatasetError(f"{path}:{number}: prefix {prefix!r} leaves the dataset root; refused")
            rows.append((prefix, int(fields[1])))
        return rows

    def _query_rows(self, path: Path, test_rows: int) -> set[int]:
        """0-based test rows named by the 1-based ``query`` vector of the MATLAB v7.3 file."""
        import h5py

        try:
            with h5py.File(path, "r") as f:
                query = np.asarray(f["query"][()], dtype=np.float64)
        except KeyError:
            raise DatasetError(f"{path}: no variable 'query' (expected the LS-VID info_test.mat)") from None
        except (OSError, TypeError, ValueError) as exc:
            raise DatasetError(f"{path}: unreadable MATLAB v7.3 (HDF5) file ({' '.join(str(exc).split())})") from None
        if query.ndim > 2 or (query.ndim == 2 and min(query.shape) != 1) or query.size == 0 or not (
                np.isfinite(query).all() and (query == np.round(query)).all()):
            raise DatasetError(f"{path}: 'query' is not a vector of whole numbers (shape {query.shape})")
        indices = query.reshape(-1).astype(np.int64)
        bad = indices[(indices < 1) | (indices > test_rows)]
        if bad.size:
            raise DatasetError(f"{path}: query holds {int(bad[0])}, outside the {test_rows} test rows (1-based)")
        return set((indices - 1).tolist())

    def _tracklet(self, prefix: str, pid: int, role: str, folders: _Folders, unique: UniqueNames) -> Tracklet:
        folder = self.root / Path(prefix).parent
        stem = Path(prefix).name
        names = folders.starting_with(self.existing_dir(folder), stem)
        name = stem.rstrip("_") or prefix
        if not len(names):
            raise DatasetError(f"{self.root / prefix}*: no frame matches this prefix of the list (tracklet {name})")
        cameras = frame_cameras(names, name)
        if (cameras != cameras[0]).any():
            other = names[np.flatnonzero(cameras != cameras[0])[0]].decode("utf-8", "replace")
            raise DatasetError(f"tracklet {name}: frames disagree on the camera: {folder / other} says camera "
                               f"{int(cameras[cameras != cameras[0]][0])}, the first frame {int(cameras[0])}")
        return Tracklet(unique(name), pid, int(cameras[0]), role, FrameList(folder, names))
