"""What a store holds, and whether it is intact: behind ``flowprep inspect`` and ``verify``.

Built on the reader's own checks: its index (``TrackletIndex``, ``FrameIndex``) says whether the
layout tiles, and its CRC check (``StoreReader.check_frames``) is the one every read runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from flowprep.errors import StoreError
from flowprep.store.reader import StoreReader, open_store
from flowprep.store.schema import ROLES


def summarize(reader: StoreReader) -> dict:
    """Schema, dataset, split, size, flow, codec, creation and per-role counts: what ``inspect`` shows,
    in the shape ``inspect --json`` prints."""
    t = reader.tracklets
    roles = {}
    for role in ROLES:
        idx = t.of_role(role)
        roles[role] = {
            "tracklets": int(idx.size),
            "identities": int(np.unique(t.pid[idx]).size),
            "frames": int(t.frame_count[idx].sum()),
        }
    meta = reader.meta
    return {
        "schema_version": meta.schema_version,
        "dataset": meta.dataset,
        "flow": meta.flow_method,
        "flow_params": meta.flow_params,
        "split": meta.split,
        "size": [meta.height, meta.width],
        "flow_codec": meta.flow_codec,
        "flow_step": meta.flow_step,
        "created": meta.created,
        "project_version": meta.project_version,
        "skipped_tracklets": len(meta.skipped_tracklets),
        "shard": meta.shard,
        "dataset_tracklets": meta.dataset_tracklets,
        "split_source": meta.split_source,
        "roles": roles,
    }


def check_structure(reader: StoreReader) -> None:
    """The index checks of ``verify`` without reading a frame: milliseconds, even for MARS.

    Every tracklet holds frames, the tracklets tile /frames in order, names are unique, and the
    frames' byte ranges tile /blob; a damaged index fails here, damaged frame bytes only in ``verify``.
    """
    path, t, frames = reader.path, reader.tracklets, reader.frames
    counts = t.frame_count.astype(np.int64)
    if (counts < 1).any():
        raise StoreError(f"{path}: tracklet {t.name[np.argmax(counts < 1)]} has no frames")
    first = t.first_untiled()
    if first is not None or counts.sum() != len(frames):
        where = f"first at tracklet {t.name[first]}" if first is not None else f"they hold {counts.sum()} of {len(frames)}"
        raise StoreError(f"{path}: tracklet frame ranges do not tile /frames ({where})")
    if len(set(t.name)) != len(t.name):
        raise StoreError(f"{path}: tracklet names are not unique")
    if len(frames) and (not frames.contiguous() or frames.end[-1] != reader.blob_size):
        raise StoreError(f"{path}: frame byte ranges do not tile /blob ({reader.blob_size} bytes)")


def check_before_use(reader: StoreReader) -> None:
    """``check_structure`` with the way to find all damage in its message: run before hours of training."""
    try:
        check_structure(reader)
    except StoreError as exc:
        raise StoreError(f"{exc} (damaged index; `flowprep verify {reader.path}` checks every frame and "
                         "locates all damage)") from exc


def verify(path: Path, chunk_bytes: int = 64 << 20) -> dict:
    """Check a store end to end; raise StoreError with the first problem, else return counts.

    ``check_structure``, then every frame's CRC-32, about ``chunk_bytes`` of /blob per read: a
    truncated or bit-flipped file fails, and a damaged frame is named by its tracklet and its
    position in that tracklet.
    """
    with open_store(path) as reader:
        check_structure(reader)
        offsets, first = reader.frames.image_offset, 0
        while first < len(offsets):
            last = int(np.searchsorted(offsets, int(offsets[first]) + chunk_bytes, side="left"))
            last = max(last, first + 1)
            reader.check_frames(first, last)
            first = last
        return {"tracklets": len(reader.tracklets), "frames": reader.num_frames, "bytes": reader.blob_size}


def describe(path: Path) -> dict:
    with open_store(path) as reader:
        return summarize(reader)
