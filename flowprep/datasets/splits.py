"""Train/test person splits of the two-camera datasets (iLIDS-VID, PRID2011), read from the files
people have them in, and the one-line description of where a split came from that stores record.

Accepted files, told apart by their content, not their name:

- torchreid's JSON (``splits_prid2011.json``, iLIDS-VID's ``splits.json``): a list of
  ``{"train": [...], "test": [...]}`` whose entries are person folder names (``person_0001``,
  ``person001``); split K is the list's entry K, as torchreid's ``split_id`` indexes it.
- this project's JSON: the same, with person numbers instead of folder names.
- the official iLIDS-VID ``train_test_splits_ilidsvid.mat``: ``ls_set``, 10 x N, row K a
  permutation of 1-based indices into the person folders sorted by name; its first N/2 entries
  are split K's test persons, the rest train (as torchreid and the dataset's authors read it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from flowprep.datasets.matfile import load_integer_matrix
from flowprep.errors import DatasetError

NUM_SPLITS = 10
"""iLIDS-VID and PRID2011 are evaluated over ten random train/test splits."""


@dataclass(frozen=True)
class Split:
    train: tuple[int, ...]
    test: tuple[int, ...]


def file_source(path: Path) -> str:
    """``<file name> sha256:<hex>``: what a store records so an evaluation can say which split file it used."""
    if not path.is_file():
        raise DatasetError(f"{path}: splits file not found")
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read splits file ({exc.strerror or type(exc).__name__})") from None
    return f"{path.name} sha256:{digest}"


def checked_split(source: Path, index: int, train: Sequence[int], test: Sequence[int], persons: set[int]) -> Split:
    """A split whose persons all exist and are not both train and test; ``source`` names the culprit."""
    unknown = sorted((set(train) | set(test)) - persons)
    if unknown:
        raise DatasetError(f"{source}: split {index} names person {unknown[0]}, who is not in both cameras")
    both = sorted(set(train) & set(test))
    if both:
        raise DatasetError(f"{source}: split {index} puts person {both[0]} in both train and test")
    return Split(tuple(sorted(set(train))), tuple(sorted(set(test))))


def read_split_file(path: Path, index: int, folders: Mapping[str, int], ordered_persons: Sequence[int]) -> Split:
    """Split ``index`` of the file at ``path``.

    ``folders`` maps person folder names to person numbers; ``ordered_persons`` are the person
    numbers in the order of their folders sorted by name (what ``ls_set`` indexes).
    """
    if not path.is_file():
        raise DatasetError(f"{path}: splits file not found")
    if path.suffix.lower() == ".mat":
        train, test = _ls_set_split(path, index, ordered_persons)
    else:
        train, test = _json_split(path, index, folders)
    return checked_split(path, index, train, test, set(ordered_persons))


def _ls_set_split(path: Path, index: int, ordered_persons: Sequence[int]) -> tuple[list[int], list[int]]:
    count = len(ordered_persons)
    row = load_integer_matrix(path, "ls_set", rows=NUM_SPLITS, columns=count)[index]
    if not np.array_equal(np.sort(row), np.arange(1, count + 1)):
        raise DatasetError(f"{path}: ls_set row {index + 1} is not a permutation of 1..{count}")
    persons = [ordered_persons[i - 1] for i in row.tolist()]
    return persons[count // 2 :], persons[: count // 2]


def _json_split(path: Path, index: int, folders: Mapping[str, int]) -> tuple[list[int], list[int]]:
    try:
        splits = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: unreadable splits file ({' '.join(str(exc).split())})") from None
    if not (isinstance(splits, list) and len(splits) == NUM_SPLITS and all(map(_is_split, splits))):
        raise DatasetError(
            f'{path}: expected a JSON list of {NUM_SPLITS} {{"train": [...], "test": [...]}} lists of person '
            "folder names (torchreid) or person numbers"
        )
    entry = splits[index]
    return [_person(path, index, item, folders) for item in entry["train"]], [
        _person(path, index, item, folders) for item in entry["test"]
    ]


def _is_split(entry: object) -> bool:
    if not (isinstance(entry, dict) and all(isinstance(entry.get(key), list) for key in ("train", "test"))):
        return False
    items = entry["train"] + entry["test"]
    return all(type(item) is int for item in items) or all(isinstance(item, str) for item in items)


def _person(path: Path, index: int, item: int | str, folders: Mapping[str, int]) -> int:
    if isinstance(item, int):
        return item
    if item not in folders:
        raise DatasetError(f"{path}: split {index} names folder {item!r}, which is not a person in both cameras")
    return folders[item]
