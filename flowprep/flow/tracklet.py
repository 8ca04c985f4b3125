"""Flow for every frame of a tracklet, so that image and flow clips stay aligned frame by frame."""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from flowprep.errors import FlowprepError
from flowprep.flow.base import FlowEstimator


def _check_frames(frames: np.ndarray) -> None:
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[3] != 3 or frames.dtype != np.uint8:
        description = f"{frames.dtype} {frames.shape}" if isinstance(frames, np.ndarray) else type(frames).__name__
        raise FlowprepError(f"tracklet frames must be a uint8 BGR array (T, H, W, 3), got {description}")


def flows_for_tracklets(estimator: FlowEstimator, tracklets: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Flow for several tracklets at once: frames (T, H, W, 3) uint8 BGR -> flow (T, 2, H, W) float32 each.

    Frame t (t >= 1) gets the flow from frame t-1 to frame t. Frame 0 has no
    predecessor; it gets a copy of frame 1's flow rather than zeros, because every
    clip that starts at a tracklet's first frame would otherwise show the network
    an all-zero map that real motion never produces. A 1-frame (or empty) tracklet
    has no motion to measure and gets zero flow.

    The pairs of all tracklets are pooled and handed to the estimator in batches of its
    ``preferred_batch``, so a GPU sees full batches even when tracklets are short.
    """
    for frames in tracklets:
        _check_frames(frames)
    flows = [np.zeros((len(frames), 2, *frames.shape[1:3]), dtype=np.float32) for frames in tracklets]
    for batch in _pair_batches([len(frames) for frames in tracklets], max(1, int(estimator.preferred_batch))):
        if len(batch) == 1:  # pairs of one tracklet: views in, flow written in place, nothing copied
            k, start, stop = batch[0]
            estimator(tracklets[k][start - 1 : stop - 1], tracklets[k][start:stop], out=flows[k][start:stop])
            continue
        first = np.concatenate([tracklets[k][start - 1 : stop - 1] for k, start, stop in batch])
        second = np.concatenate([tracklets[k][start:stop] for k, start, stop in batch])
        result, used = estimator(first, second), 0
        for k, start, stop in batch:
            flows[k][start:stop] = result[used : used + stop - start]
            used += stop - start
    for flow in flows:
        if len(flow) >= 2:
            flow[0] = flow[1]
    return flows


def _pair_batches(lengths: Sequence[int], size: int) -> Iterator[list[tuple[int, int, int]]]:
    """Batches of at most ``size`` pairs, as (tracklet, first, stop) runs of its frames 1..T-1."""
    batch: list[tuple[int, int, int]] = []
    room = size
    for k, length in enumerate(lengths):
        start = 1
        while start < length:
            stop = min(length, start + room)
            batch.append((k, start, stop))
            room -= stop - start
            start = stop
            if room == 0:
                yield batch
                batch, room = [], size
    if batch:
        yield batch


def tracklet_flow(estimator: FlowEstimator, frames: np.ndarray) -> np.ndarray:
    """Flow for every frame of one tracklet (see ``flows_for_tracklets`` for the rules)."""
    return flows_for_tracklets(estimator, [frames])[0]
