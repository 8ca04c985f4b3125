"""Flow for every frame of a tracklet, so that image and flow clips stay aligned frame by frame."""

from __future__ import annotations

from typing import Sequence

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
    # each batch is stacked from its pairs and its flow written straight into the tracklets'
    # arrays: concatenating whole tracklets in and out cost more than DIS itself on fresh memory
    flows = [np.zeros((len(frames), 2, *frames.shape[1:3]), dtype=np.float32) for frames in tracklets]
    pairs = [(k, t) for k, frames in enumerate(tracklets) for t in range(1, len(frames))]
    batch = max(1, int(estimator.preferred_batch))
    for start in range(0, len(pairs), batch):
        chosen = pairs[start : start + batch]
        first = np.stack([tracklets[k][t - 1] for k, t in chosen])
        second = np.stack([tracklets[k][t] for k, t in chosen])
        for (k, t), flow in zip(chosen, estimator(first, second)):
            flows[k][t] = flow
    for flow in flows:
        if len(flow) >= 2:
            flow[0] = flow[1]
    return flows


def tracklet_flow(estimator: FlowEstimator, frames: np.ndarray) -> np.ndarray:
    """Flow for every frame of one tracklet (see ``flows_for_tracklets`` for the rules)."""
    return flows_for_tracklets(estimator, [frames])[0]
