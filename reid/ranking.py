"""A query's nearest gallery tracklets in a store: the ranked list ``reid search`` prints and
``reid visualize ranks`` draws (``reid.visualize.ranks``).

The gallery is filtered the way ``reid evaluate`` filters it (tracklets of the query's
identity seen by the query's camera are removed), so a ranked list is the ranking the
scores were computed from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from flowprep import StoreReader

QUERY_FRAMES = 4  # query frames shown beside a ranked list


@dataclass(frozen=True)
class Match:
    """One gallery tracklet in a ranked list."""

    name: str
    pid: int
    camid: int
    distance: float
    frame: np.ndarray  # its representative frame, RGB (H, W, 3)
    correct: bool | None = None  # None when the query's identity is unknown


def spread_positions(count: int, wanted: int) -> np.ndarray:
    """Up to ``wanted`` frame positions spread evenly over a tracklet of ``count`` frames."""
    return np.unique(np.linspace(0, count - 1, min(wanted, count)).round().astype(int))


def ranked_gallery(distances: torch.Tensor, gallery_pids: np.ndarray, gallery_camids: np.ndarray, top: int,
                   query_pid: int | None = None, query_camid: int | None = None) -> np.ndarray:
    """Positions in the gallery of the ``top`` nearest tracklets, nearest first (ties: gallery order).

    With the query's identity known, same-identity same-camera tracklets are left out first.
    """
    order = torch.sort(distances.detach().cpu(), stable=True).indices.numpy()
    if query_pid is not None:
        trivial = (gallery_pids[order] == query_pid) & (gallery_camids[order] == query_camid)
        order = order[~trivial]
    return order[:top]


def store_matches(reader: StoreReader, gallery: np.ndarray, distances: torch.Tensor, top: int,
                  query_pid: int | None = None, query_camid: int | None = None) -> list[Match]:
    """The ``top`` matches of one query among the store tracklets ``gallery``, with their middle frames."""
    t = reader.tracklets
    pids, camids = t.pid[gallery], t.camid[gallery]
    matches = []
    for position in ranked_gallery(distances, pids, camids, top, query_pid, query_camid):
        tracklet = int(gallery[position])
        images, _ = reader.read_clip(tracklet, [int(t.frame_count[tracklet]) // 2])
        pid = int(pids[position])
        matches.append(Match(str(t.name[tracklet]), pid, int(camids[position]), float(distances[position]),
                             images[0], None if query_pid is None else pid == query_pid))
    return matches
