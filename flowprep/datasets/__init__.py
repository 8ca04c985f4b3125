"""Dataset adapters: each official directory layout in, a list of tracklets out.

Each adapter module registers its ``DatasetAdapter`` subclass in ``DATASETS`` under the class's
``name``; a new dataset is one new module here (``flowprep extract --dataset`` lists it from the
registry). The adapters are imported the first time the registry is read.
"""

from __future__ import annotations

import os
from pathlib import Path

from flowprep.datasets.base import DatasetAdapter, Tracklet
from flowprep.errors import DatasetError
from flowreid.registry import Registry

DATASETS: Registry[type[DatasetAdapter]] = Registry("dataset", "flowprep.datasets", DatasetError)


def open_dataset(
    name: str, root: str | os.PathLike, *, split: int | None = None, split_file: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None, read_only: bool = False,
) -> DatasetAdapter:
    """The adapter of dataset ``name`` under ``root``.

    ``split`` (0..9, default 0) selects the iLIDS-VID/PRID2011 split, from ``split_file`` or the
    split file found in the root; the other datasets have one fixed partition and ignore it.
    ``cache``: the folder for what the adapter derives from the dataset (MOT crops), outside the root;
    ``read_only``: derive nothing (a dry run).
    """
    return DATASETS.get(name)(Path(root), split=split, split_file=split_file, cache=cache, read_only=read_only)


def load_tracklets(
    name: str, root: str | os.PathLike, *, split: int | None = None, split_file: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
) -> list[Tracklet]:
    """Every tracklet (train, query, gallery) of dataset ``name`` under ``root``, in a deterministic order."""
    return open_dataset(name, root, split=split, split_file=split_file, cache=cache).tracklets()


__all__ = ["DATASETS", "DatasetAdapter", "Tracklet", "load_tracklets", "open_dataset"]
