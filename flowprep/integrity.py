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
        "splits": splits,
    }


def verify(path: Path, chunk_bytes: int = 64 << 20) -> dict:
    """Check a store end to end; raise StoreError with the first problem, else return counts.

    Checks the schema, that the index columns agree, that every frame's bytes lie inside
    the blob in order, and every frame's CRC-32: a truncated or bit-flipped file fails.
    """
    with open_store(path) as reader:
        f = reader._handle()
        t = reader.tracklets
        try:
            frames = {key: f[f"frames/{key}"][:] for key in ("image_offset", "image_size", "flow_offset", "flow_size", "crc32")}
            names = len(f["frames/name"])
        except DAMAGE_ERRORS as exc:
            raise damaged(path, exc) from exc
        n_frames = len(frames["crc32"])
        if any(len(v) != n_frames for v in frames.values()) or names != n_frames:
            raise StoreError(f"{path}: /frames columns have different lengths")
        starts, counts = t.frame_start.astype(np.int64), t.frame_count.astype(np.int64)
        if (counts < 1).any():
            raise StoreError(f"{path}: tracklet {t.name[np.argmax(counts < 1)]} has no frames")
        expected_starts = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(counts) else counts
        if not np.array_equal(starts, expected_starts) or counts.sum() != n_frames:
            raise StoreError(f"{path}: tracklet frame ranges do not tile /frames")
        if len(set(t.name)) != len(t.name):
            raise StoreError(f"{path}: tracklet names are not unique")
        ends = frames["flow_offset"] + frames["flow_size"]
        blob_size = f["blob"].shape[0]
        if n_frames and (frames["image_offset"][0] != 0 or ends[-1] != blob_size
                         or not np.array_equal(frames["image_offset"] + frames["image_size"], frames["flow_offset"])
                         or not np.array_equal(ends[:-1], frames["image_offset"][1:])):
            raise StoreError(f"{path}: frame byte ranges do not tile /blob ({blob_size} bytes)")
        _check_crcs(path, f["blob"], frames, t, chunk_bytes)
        return {"tracklets": len(t), "frames": n_frames, "bytes": int(blob_size)}


def _check_crcs(path: Path, blob, frames: dict, t, chunk_bytes: int) -> None:
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
                raise StoreError(f"{path}: frame {i} of tracklet {t.name[owner]} fails its CRC check (damaged data)")
        first = last


def describe(path: Path) -> dict:
    with open_store(path) as reader:
        return summarize(reader)
