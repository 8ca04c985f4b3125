"""Frame names as NumPy columns: a million-frame name list costs bytes per frame, not Python objects.

A dataset's name file is read into one fixed-width bytes array; the numbers its names carry
(person, camera, frame, ...) are parsed column-wise when the names share one width and layout
(every official list does), and name by name only where they do not. A tracklet's frames are a
``FrameList``: a folder and a slice of that array, which makes a ``Path`` only when one is asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from flowprep.errors import DatasetError

NEWLINE, CARRIAGE_RETURN = 10, 13


class FrameList(Sequence[Path]):
    """A tracklet's frames: ``folder / name`` for each name of a bytes column, in temporal order."""

    __slots__ = ("folder", "names")

    def __init__(self, folder: Path, names: np.ndarray) -> None:
        self.folder = folder
        self.names = names

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return FrameList(self.folder, self.names[index])
        return self.folder / self.names[index].decode("utf-8")

    def __iter__(self) -> Iterator[Path]:
        folder = self.folder
        return (folder / name.decode("utf-8") for name in self.names)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"FrameList({self.folder}, {len(self)} frames)"


def folder_groups(frames: Sequence[Path]) -> Iterator[tuple[Path, np.ndarray]]:
    """The frames as (folder, bytes names) groups: one group for a ``FrameList``, one per parent otherwise."""
    if isinstance(frames, FrameList):
        yield frames.folder, frames.names
        return
    by_folder: dict[Path, list[bytes]] = {}
    for frame in frames:
        by_folder.setdefault(frame.parent, []).append(frame.name.encode("utf-8"))
    for folder, names in by_folder.items():
        yield folder, np.array(names, dtype=bytes)


@dataclass(frozen=True)
class NameColumn:
    """A name file's lines (``names``, fixed-width bytes) and the integers its pattern's groups hold."""

    names: np.ndarray
    fields: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.names)


def _lines(path: Path) -> np.ndarray:
    """The file's non-empty trailing-stripped lines as a fixed-width bytes array, built without a
    Python object per line when every line has the same length."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read name list ({exc.strerror or exc})") from None
    if (data >= 0x80).any():  # not ASCII: must still be UTF-8 text
        try:
            data.tobytes().decode("utf-8")
        except UnicodeDecodeError:
            raise DatasetError(f"{path}: cannot read name list (UnicodeDecodeError)") from None
    if data.size and data[-1] != NEWLINE:
        data = np.append(data, np.uint8(NEWLINE))
    ends = np.flatnonzero(data == NEWLINE)
    starts = np.concatenate([[0], ends[:-1] + 1])
    lengths = ends - starts
    if lengths.size and (lengths == lengths[0]).all() and lengths[0] > 0:
        table = data.reshape(len(ends), lengths[0] + 1)[:, : lengths[0]]
        if (table[:, -1] == CARRIAGE_RETURN).all():
            table = table[:, :-1]
        return np.ascontiguousarray(table).view(f"S{table.shape[1]}").reshape(-1)
    lines = [line.strip() for line in data.tobytes().split(b"\n")]
    while lines and not lines[-1]:
        lines.pop()
    return np.array(lines, dtype=bytes)


def read_name_column(
    path: Path, pattern: re.Pattern[str], example: str, dataset: str, *, special: dict[str, int] | None = None
) -> NameColumn:
    """The name file at ``path``, each line checked against ``pattern`` (whose named groups are
    integers, or texts that ``special`` maps to one, like MARS's junk person ``00-1``), refusing
    names that could point outside the dataset root."""
    special = special or {}
    names = _lines(path)
    fields = {key: np.zeros(len(names), np.int64) for key in pattern.groupindex}
    slow = np.ones(len(names), bool)
    if len(names):
        slow = ~_parse_like_first(names, pattern, fields)
    for row in np.flatnonzero(slow).tolist():
        name = names[row].decode("utf-8", "replace").strip()
        names[row] = name.encode("utf-8")
        if "/" in name or "\\" in name or ".." in name:
            raise DatasetError(f"{path}:{row + 1}: name {name!r} contains a path separator or '..'; refused")
        match = pattern.match(name)
        if match is None:
            raise DatasetError(f"{path}:{row + 1}: {name!r} is not a {dataset} frame name (like {example})")
        for key in fields:
            text = match[key]
            fields[key][row] = special[text] if text in special else int(text)
    return NameColumn(names, fields)


def _parse_like_first(names: np.ndarray, pattern: re.Pattern[str], fields: dict[str, np.ndarray]) -> np.ndarray:
    """Parse, all at once, the names laid out as the first one is (same literals, digits in the same
    places); returns which rows were parsed, the rest being left to the regular expression."""
    width = names.dtype.itemsize
    first = pattern.match(names[0].decode("utf-8", "replace"))
    if first is None or len(first[0]) != width or not names[0].isascii():
        return np.zeros(len(names), bool)
    table = names.view(np.uint8).reshape(len(names), width)
    template = table[0]
    in_group = np.zeros(width, bool)
    for key in fields:
        start, stop = first.span(key)
        in_group[start:stop] = True
    digits = table[:, in_group]
    ok = ((table[:, ~in_group] == template[~in_group]).all(axis=1)
          & ((digits >= ord("0")) & (digits <= ord("9"))).all(axis=1))
    for key in fields:
        start, stop = first.span(key)
        powers = 10 ** np.arange(stop - start - 1, -1, -1, dtype=np.int64)
        fields[key][ok] = (table[ok, start:stop].astype(np.int64) - ord("0")) @ powers
    return ok


def in_frame_order(names: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    """``names`` ordered by their frame ``numbers`` (then by name): a view when already in order."""
    if len(numbers) < 2 or (np.diff(numbers) > 0).all():
        return names
    return names[np.lexsort((names, numbers))]
