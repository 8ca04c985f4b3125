"""Joining stores into one, in the dataset's order: shards into a whole store, a run's parts into its store."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Sequence

from flowprep.errors import StoreError
from flowprep.store.reader import StoreReader, open_store
from flowprep.store.records import StoreMeta
from flowprep.store.writer import StoreWriter, write_store


def _appendable_whole(readers: Sequence[StoreReader]) -> list[StoreReader] | None:
    """The non-empty readers in dataset order, if each is in store order and their tracklets do
    not interleave (the parts of one run), else None."""
    stores = sorted((r for r in readers if len(r.tracklets)), key=lambda r: int(r.tracklets.order[0]))
    if not all(r.in_store_order() for r in stores):
        return None
    if any(a.tracklets.order[-1] >= b.tracklets.order[0] for a, b in zip(stores, stores[1:])):
        return None
    return stores


def _index_of(path: Path) -> StoreReader:
    """A reader whose index is loaded and whose file is closed: an open HDF5 file holds about a
    megabyte of caches, so a run's hundreds of parts are reopened one at a time, when read."""
    reader = open_store(path)
    reader.close()
    return reader


def concatenate_stores(inputs: Sequence[Path], out: Path, meta: StoreMeta | None = None) -> StoreMeta:
    """Join stores of the same dataset and encoding into one, ordered by the adapter's order.

    Used both to merge shards and to assemble the parts of an extraction run, so that a
    resumed, a sharded and an uninterrupted run all give the same file content.
    """
    readers = [_index_of(p) for p in inputs]
    try:
        base = meta or (readers[0].meta if readers else None)
        if base is None:
            raise StoreError(f"{out}: nothing to merge")
        for reader in readers:
            if reader.meta.content_key(across_shards=True) != base.content_key(across_shards=True):
                raise StoreError(f"{reader.path}: made with other settings than {readers[0].path} (dataset, split, flow or size differ)")
        entries = []
        seen: dict[str, Path] = {}
        for reader in readers:
            for i, name in enumerate(reader.tracklets.name):
                if name in seen:
                    raise StoreError(f"{reader.path}: tracklet {name} is also in {seen[name]}")
                seen[name] = reader.path
                entries.append((int(reader.tracklets.order[i]), reader, i))
        entries.sort(key=lambda e: e[0])
        skipped = sorted({tuple(s) for r in readers for s in r.meta.skipped_tracklets} | set(base.skipped_tracklets))
        merged = replace(base, skipped_tracklets=tuple(skipped), created="")
        whole = _appendable_whole(readers)
        if whole is None:
            write_store(out, merged, (reader.encoded_tracklet(i) for _, reader, i in entries))
        else:  # the parts of one run: already in order, so append each one as it is
            with StoreWriter(out, merged) as writer:
                for reader in whole:
                    writer.add_store(reader)
                    reader.close()
        return merged
    finally:
        for reader in readers:
            reader.close()
