"""Helpers for tests that compare stores: content tracklet by tracklet and frame by frame."""

from __future__ import annotations

from pathlib import Path

from flowprep.store import open_store


def store_content(path: Path) -> dict[str, tuple]:
    """Every tracklet's labels, frame names and encoded bytes, keyed by name (creation time excluded)."""
    content = {}
    with open_store(path) as reader:
        for i, name in enumerate(reader.tracklets.name):
            t = reader.encoded_tracklet(i)
            content[name] = (t.order, t.pid, t.camid, t.role, tuple(t.frame_names), tuple(t.images), tuple(t.flows),
                             tuple(map(tuple, t.skipped)))
        content["__skipped__"] = tuple(sorted(reader.meta.skipped_tracklets))
    return content


def store_order(path: Path) -> list[str]:
    with open_store(path) as reader:
        return list(reader.tracklets.name)
