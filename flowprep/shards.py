"""Sharded extraction: which tracklets shard i of N writes, and the check that a merge has all N.

Each shard store records ``shard`` ("i/N") and ``dataset_tracklets`` (the tracklet count of the
whole dataset), so ``flowprep merge`` can refuse a missing, repeated or foreign shard instead of
writing a store that holds part of a dataset and still verifies.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

from flowprep.datasets.base import Tracklet
from flowprep.errors import FlowprepError, StoreError
from flowprep.store import StoreMeta, concatenate_stores, open_store


@dataclass(frozen=True)
class Shard:
    """``--shard i/N``: this run writes the tracklets whose name hashes to i modulo N."""

    index: int = 0
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> "Shard":
        try:
            index, count = (int(part) for part in text.split("/"))
        except ValueError:
            raise FlowprepError(f"--shard {text!r}: expected i/N, e.g. 0/4") from None
        if count < 1 or not 0 <= index < count:
            raise FlowprepError(f"--shard {text}: i must be in 0..N-1 and N >= 1")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def selects(self, tracklet: Tracklet) -> bool:
        # a hash of the name, not the position, so a shard's content does not depend on list order
        return zlib.crc32(tracklet.name.encode()) % self.count == self.index


def _store_shard(path: Path, meta: StoreMeta) -> Shard:
    try:
        return Shard.parse(meta.shard)
    except FlowprepError:
        raise StoreError(f"{path}: malformed shard attribute {meta.shard!r}") from None


def check_shards(stores: Sequence[tuple[Path, StoreMeta, int]]) -> None:
    """Refuse, naming the file, unless ``stores`` (path, metadata, tracklets stored or skipped) are
    exactly the shards 0..N-1 of one extraction of one dataset."""
    first_path, first, _ = stores[0]
    count = _store_shard(first_path, first).count
    seen: dict[int, Path] = {}
    for path, meta, _ in stores:
        shard = _store_shard(path, meta)
        if shard.count == 1:
            raise StoreError(f"{path}: not a shard (records shard 0/1: a whole store, or one written before "
                             "shards were recorded; re-extract it with --shard i/N)")
        if shard.count != count:
            raise StoreError(f"{path}: shard {shard} of another split into shards ({first_path} is 1 of {count})")
        if meta.dataset_tracklets != first.dataset_tracklets:
            raise StoreError(f"{path}: from a dataset of {meta.dataset_tracklets} tracklets, but {first_path} "
                             f"is from one of {first.dataset_tracklets} (a shard of another dataset or split)")
        if shard.index in seen:
            raise StoreError(f"{path}: shard {shard} is given twice (also {seen[shard.index]})")
        seen[shard.index] = path
    missing = [f"{i}/{count}" for i in range(count) if i not in seen]
    if missing:
        raise StoreError(f"shard {', '.join(missing)} missing: merge needs all {count} shards "
                         f"(given {', '.join(f'{i}/{count}' for i in sorted(seen))})")
    held = sum(tracklets for _, _, tracklets in stores)
    if first.dataset_tracklets >= 0 and held != first.dataset_tracklets:
        raise StoreError(f"{first_path}: the {count} shards hold {held} of the dataset's "
                         f"{first.dataset_tracklets} tracklets (a shard is incomplete or foreign)")


def merge_shards(inputs: Sequence[Path], out: Path) -> StoreMeta:
    """Check that ``inputs`` are all the shards of one extraction, then join them into ``out``."""
    stores = []
    for path in inputs:
        with open_store(path) as reader:
            stores.append((path, reader.meta, len(reader.tracklets) + len(reader.meta.skipped_tracklets)))
    check_shards(stores)
    whole = replace(stores[0][1], shard=str(Shard()))
    return concatenate_stores(list(inputs), out, meta=whole)

