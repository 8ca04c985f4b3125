"""MARS: tracklets from the official ``bbox_*`` folders and the MATLAB metadata in ``info/``.

Track-info rows are ``[start, end, pid, camid]``, 1-based and inclusive into the
split's name list. pid -1 (junk) is dropped; pid 0 (distractors) is kept, in
the gallery only, even when ``query_IDX`` names it, and a ``query_IDX`` entry
naming junk is dropped with the junk. The roles are the standard protocol's;
the official MATLAB evaluation (every query also in the gallery) is an
evaluation choice, ``reid evaluate --protocol matlab``, not a store.

Tracklet names are the frame-name prefix before ``F`` (``0001C1T0001``); were
two rows to share a prefix, the later ones get ``.2``, ``.3``... in row order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from flowprep.datasets import DATASETS
from flowprep.datasets.base import DatasetAdapter, FrameName, Tracklet, in_role_order, ordered_frames
from flowprep.datasets.matfile import load_integer_matrix, load_integer_vector
from flowprep.errors import DatasetError

FRAME_NAME = re.compile(r"^(?P<pid>\d{4}|00-1)C(?P<cam>\d)T(?P<track>\d+)F(?P<frame>\d+)\.jpg$")
JUNK_PID = -1
DISTRACTOR_PID = 0


@dataclass(frozen=True)
class _Track:
    name: str
    pid: int
    camid: int
    frames: tuple[Path, ...]


def read_frame_names(path: Path) -> list[str]:
    """The name list, refusing names that could point outside the dataset root or are not MARS names."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read name list ({exc.__class__.__name__})") from None
    while lines and not lines[-1].strip():
        lines.pop()
    names = []
    for line_number, line in enumerate(lines, start=1):
        name = line.strip()
        if "/" in name or "\\" in name or ".." in name:
            raise DatasetError(f"{path}:{line_number}: name {name!r} contains a path separator or '..'; refused")
        if not FRAME_NAME.match(name):
            raise DatasetError(f"{path}:{line_number}: {name!r} is not a MARS frame name (like 0001C1T0001F001.jpg)")
        names.append(name)
    return names


class _FrameFolders:
    """Frame paths under ``bbox_<subset>/<pid>/``, one Path per person folder: a million frames cost
    a million joins, not two million (pathlib's joins are most of the time a MARS listing takes)."""

    def __init__(self, image_dir: Path) -> None:
        self._image_dir = image_dir
        self._folders: dict[str, Path] = {}

    def frame(self, name: str) -> FrameName:
        match = FRAME_NAME.match(name)
        pid_text = match["pid"]
        folder = self._folders.get(pid_text)
        if folder is None:
            folder = self._folders[pid_text] = self._image_dir / pid_text
        pid = JUNK_PID if pid_text == "00-1" else int(pid_text)
        return FrameName(folder / name, int(match["frame"]), pid, int(match["cam"]))


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

        unique = _UniqueNames()
        result = [Tracklet(unique(t.name), t.pid, t.camid, "train", t.frames) for t in train if t is not None]
        for row, track in enumerate(test):
            if track is None:
                continue
            is_query = row in query_rows and track.pid != DISTRACTOR_PID
            name = unique(track.name)
            result.append(Tracklet(name, track.pid, track.camid, "query" if is_query else "gallery", track.frames))
        return in_role_order(result)

    def _tracks(self, subset: str, names_file: Path, info_file: Path, variable: str) -> list[_Track | None]:
        """One entry per track-info row: the track, or None for junk (kept so row numbers stay aligned)."""
        folders = _FrameFolders(self.existing_dir(self.root / f"bbox_{subset}"))
        names = read_frame_names(self.existing_file(names_file))
        rows = load_integer_matrix(self.existing_file(info_file), variable, columns=4)
        tracks: list[_Track | None] = []
        for row_number, (start, end, pid, camid) in enumerate(rows.tolist(), start=1):
            if not 1 <= start <= end <= len(names):
                raise DatasetError(
                    f"{info_file}: row {row_number} spans names {start}..{end}, outside {names_file.name} "
                    f"({len(names)} names)"
                )
            if pid == JUNK_PID:
                tracks.append(None)
                continue
            frame_names = names[start - 1 : end]
            name = frame_names[0].split("F", 1)[0]
            frames = ordered_frames(name, map(folders.frame, frame_names), pid=pid, camid=camid)
            tracks.append(_Track(name, pid, camid, frames))
        return tracks

    def _query_rows(self, path: Path, test_rows: int) -> set[int]:
        """0-based test rows named by the 1-based ``query_IDX``."""
        indices = load_integer_vector(self.existing_file(path), "query_IDX")
        bad = indices[(indices < 1) | (indices > test_rows)]
        if bad.size:
            raise DatasetError(f"{path}: query_IDX holds {int(bad[0])}, outside the {test_rows} test tracks")
        return set((indices - 1).tolist())


class _UniqueNames:
    """Hands out tracklet names, suffixing repeats so names stay unique and follow row order."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def __call__(self, name: str) -> str:
        count = self._seen.get(name, 0) + 1
        self._seen[name] = count
        return name if count == 1 else f"{name}.{count}"
