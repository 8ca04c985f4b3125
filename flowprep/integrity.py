"""What a store holds, and whether it is intact: behind ``flowprep inspect`` and ``verify``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from flowprep.datasets.base import ROLES
from flowprep.errors import StoreError
from flowprep.store import DAMAGE_ERRORS, StoreReader, damaged, frame_checksum, open_store


def summarize(reader: StoreReader) -> dict:
    """Schema, dataset, flow and per-role counts, in the shape ``inspect --json`` prints."""
    t = reader.tracklets
    splits = {}
    for role in ROLES:
        idx = t.of_role(role)
        splits[role] = {
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
        "flow_codec": f"{meta.flow_codec} (step {meta.flow_step:g} px)",
        "created": meta.created,
        "project_version": meta.project_version,
        "skipped_tracklets": len(meta.skipped_tracklets),
        "shard": meta.shard,
        "dataset_tracklets": meta.dataset_tracklets,
        "splits": splits,
    }


def check_structure(reader: StoreReader) -> None:
    """The index checks of ``verify`` without reading a frame: milliseconds, even for MARS.

    Every tracklet holds frames, the tracklets tile /frames in order, names are unique, and the
    frames' byte ranges tile /blob; a damaged index fails here, damaged frame bytes only in ``verify``.
    """
    path, t = reader.path, reader.tracklets
    try:
        f = reader._handle()
        names, blob_size = len(f["frames/name"]), f["blob"].shape[0]
    except DAMAGE_ERRORS as exc:
        raise damaged(path, exc) from exc
    n_frames = reader.num_frames
    if names != n_frames:
        raise StoreError(f"{path}: /frames columns have different lengths")
    starts, counts = t.frame_start.astype(np.int64), t.frame_count.astype(np.int64)
    if (counts < 1).any():
        raise StoreError(f"{path}: tracklet {t.name[np.argmax(counts < 1)]} has no frames")
    expected_starts = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(counts) else counts
    if not np.array_equal(starts, expected_starts) or counts.sum() != n_frames:
        bad = int(np.argmax(starts != expected_starts)) if len(starts) == len(expected_starts) else 0
        raise StoreError(f"{path}: tracklet frame ranges do not tile /frames (first at tracklet {t.name[bad]})")
    if len(set(t.name)) != len(t.name):
        raise StoreError(f"{path}: tracklet names are not unique")
    image_offset, image_end = reader._image_offset, reader._image_offset + reader._image_size
    ends = reader._flow_offset + reader._flow_size
    if n_frames and (image_offset[0] != 0 or ends[-1] != blob_size or not np.array_equal(image_end, reader._flow_offset)
                     or not np.array_equal(ends[:-1], image_offset[1:])):
        raise StoreError(f"{path}: frame byte ranges do not tile /blob ({blob_size} bytes)")


def check_before_use(reader: StoreReader) -> None:
    """``check_structure`` with the way to find all damage in its message: run before hours of training."""
    try:
        check_structure(reader)
    except StoreError as exc:
        raise StoreError(f"{exc} (damaged index; `flowprep verify {reader.path}` checks every frame and "
                         "locates all damage)") from exc


def verify(path: Path, chunk_bytes: int = 64 << 20) -> dict:
    """Check a store end to end; raise StoreError with the first problem, else return counts.

    ``check_structure``, then every frame's CRC-32: a truncated or bit-flipped file fails, and a
    damaged frame is named by its tracklet and its position in that tracklet.
    """
    with open_store(path) as reader:
        check_structure(reader)
        frames = {"image_offset": reader._image_offset, "image_size": reader._image_size,
                  "flow_offset": reader._flow_offset, "flow_size": reader._flow_size, "crc32": reader._crc32}
        try:
            blob = reader._handle()["blob"]
        except DAMAGE_ERRORS as exc:
            raise damaged(path, exc) from exc
        _check_crcs(path, blob, frames, reader, chunk_bytes)
        return {"tracklets": len(reader.tracklets), "frames": reader.num_frames, "bytes": int(blob.shape[0])}


def _check_crcs(path: Path, blob, frames: dict, reader: StoreReader, chunk_bytes: int) -> None:
    t = reader.tracklets
    n = len(frames["crc32"])
    first = 0
    while first < n:
        lo = int(frames["image_offset"][first])
        last = int(np.searchsorted(frames["image_offset"], lo + chunk_bytes, side="left"))
        last = max(last, first + 1)
        hi = int(frames["flow_offset"][last - 1] + frames["flow_size"][last - 1])
        try:
            data = blob[lo:hi].tobytes()
        except DAMAGE_ERRORS as exc:
            raise StoreError(f"{path}: /blob is unreadable near byte {lo} ({exc})") from exc
        for i in range(first, last):
            io, fo = int(frames["image_offset"][i]) - lo, int(frames["flow_offset"][i]) - lo
            image = data[io : io + int(frames["image_size"][i])]
            flow = data[fo : fo + int(frames["flow_size"][i])]
            if frame_checksum(image, flow) != int(frames["crc32"][i]):
                owner = int(np.searchsorted(t.frame_start, i, side="right") - 1)
                position = i - int(t.frame_start[owner])
                name = reader.frame_names(owner)[position]
                raise StoreError(f"{path}: frame {position} ({name}) of tracklet {t.name[owner]} fails its CRC check "
                                 "(damaged data)")
        first = last


def describe(path: Path) -> dict:
    with open_store(path) as reader:
        return summarize(reader)
