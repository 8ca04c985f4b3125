"""Track-info rows over a name list (MARS, MEVID): each row's span of names becomes one tracklet's frames."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from flowprep.datasets.columns import FrameList, NameColumn, in_frame_order
from flowprep.errors import DatasetError

JUNK_PID = -1


@dataclass(frozen=True)
class Track:
    """One row of a track-info table: its tracklet's name (the first frame's prefix), labels and frames."""

    name: str
    pid: int
    camid: int
    frames: FrameList
    outfit: int = -1


@dataclass(frozen=True)
class TrackRows:
    """A track-info table's columns: inclusive name spans (0-based) and the labels each row gives."""

    first: np.ndarray
    last: np.ndarray
    labels: dict[str, np.ndarray]  # "pid", "cam" and, where the dataset has it, "outfit"


def tracks_from_rows(
    rows: TrackRows, names: NameColumn, *, folder_of: Callable[[int], Path], prefix_of: Callable[[str], str],
    info_file: Path, names_file: Path, base: int, checked: tuple[str, ...] = ("pid", "cam"),
) -> list[Track | None]:
    """One entry per row: its track, or None for junk (pid -1; kept so row numbers stay aligned).

    Every frame's name must agree with its row on the ``checked`` labels: a frame filed under the
    wrong person would silently poison training. A junk row spanning no name is dropped unchecked. ``base`` is the index the
    file counts names from (MARS 1, MEVID 0), for the messages.
    """
    empty_junk = (rows.labels["pid"] == JUNK_PID) & (rows.first > rows.last)
    bad = np.flatnonzero(~empty_junk & ((rows.first < 0) | (rows.first > rows.last) | (rows.last >= len(names))))
    if bad.size:
        row = int(bad[0])
        raise DatasetError(f"{info_file}: row {row + 1} spans names {rows.first[row] + base}..{rows.last[row] + base}, "
                           f"outside "
                           f"{names_file.name} ({len(names)} names)")
    kept = np.flatnonzero(rows.labels["pid"] != JUNK_PID)
    owner, positions = _spans(rows.first[kept], rows.last[kept])
    _check_labels(rows, names, kept, owner, positions, checked, info_file, folder_of, prefix_of)
    numbers = names.fields["frame"][positions]
    rising = np.ones(len(kept), bool)
    rising[np.unique(owner[1:][(np.diff(numbers) <= 0) & (owner[1:] == owner[:-1])])] = False

    folders: dict[int, Path] = {}
    tracks: list[Track | None] = [None] * len(rows.first)
    pids, cams = rows.labels["pid"].tolist(), rows.labels["cam"].tolist()
    outfits = rows.labels["outfit"].tolist() if "outfit" in rows.labels else [-1] * len(pids)
    for k, row in enumerate(kept.tolist()):
        span = slice(int(rows.first[row]), int(rows.last[row]) + 1)
        frame_names = names.names[span]
        if not rising[k]:
            frame_names = in_frame_order(frame_names, names.fields["frame"][span])
        pid = pids[row]
        folder = folders.get(pid) or folders.setdefault(pid, folder_of(pid))
        name = prefix_of(names.names[span.start].decode("utf-8"))
        tracks[row] = Track(name, pid, cams[row], FrameList(folder, frame_names), outfits[row])
    return tracks


def _spans(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every name the spans cover: which span (0..len-1) owns it, and its position in the name list."""
    lengths = last - first + 1
    owner = np.repeat(np.arange(len(first)), lengths)
    starts = np.cumsum(lengths) - lengths
    return owner, first[owner] + (np.arange(len(owner)) - starts[owner])


def _check_labels(rows: TrackRows, names: NameColumn, kept: np.ndarray, owner: np.ndarray, positions: np.ndarray,
                  checked: tuple[str, ...], info_file: Path, folder_of: Callable[[int], Path],
                  prefix_of: Callable[[str], str]) -> None:
    """Refuse the first frame whose name disagrees with its row on a ``checked`` label."""
    wrong = np.zeros(len(owner), bool)
    for key in checked:
        wrong |= names.fields[key][positions] != rows.labels[key][kept][owner]
    if not wrong.any():
        return
    at = int(np.flatnonzero(wrong)[0])
    row, position = int(kept[owner[at]]), int(positions[at])
    frame = names.names[position].decode("utf-8")
    said = ", ".join(f"{key} {int(names.fields[key][position])}" for key in checked)
    says = ", ".join(f"{key} {int(rows.labels[key][row])}" for key in checked)
    name = prefix_of(names.names[rows.first[row]].decode("utf-8"))
    raise DatasetError(f"tracklet {name}: frames disagree with {info_file.name} row {row + 1}: "
                       f"{folder_of(int(rows.labels['pid'][row])) / frame} says {said}, the row says {says}")


class UniqueNames:
    """Hands out tracklet names, suffixing repeats so names stay unique and follow row order."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def __call__(self, name: str) -> str:
        count = self._seen.get(name, 0) + 1
        self._seen[name] = count
        return name if count == 1 else f"{name}.{count}"
