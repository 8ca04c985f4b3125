"""One tracklet's frames and flow made into what a store holds.

``flowprep extract`` encodes every dataset tracklet with ``encode_tracklet``. A tracklet from
outside any dataset (the query folder of ``reid search``, the frames given to ``FeatureExtractor``)
takes the same road: ``load_tracklet`` fits its frames to the store's size, ``store_estimator``
gives the flow method and parameters the store recorded, ``tracklet_flow`` computes the flow, and
``as_stored`` encodes and decodes both with the store's codec, so a model sees what a reader of
that store would return. These are the flow-estimator half of flowprep's public interface.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from flowprep.codec import FrameCodec
from flowprep.errors import FlowprepError
from flowprep.flow.base import FlowEstimator
from flowprep.frames import LoadedFrames
from flowprep.store import EncodedTracklet, StoreMeta
from flowprep.weights import default_liteflownet_weights
from flowreid.weights import find_weights

WEIGHT_FILE_KEYS = ("weights", "weights_sha256")  # what extraction records of a weight file: not parameters


def encode_tracklet(codec: FrameCodec, frames: LoadedFrames, flow, *, name: str, order: int, pid: int, camid: int,
                    role: str, outfit: int = -1) -> EncodedTracklet:
    """A tracklet's frames and flow as the store holds them (source JPEGs of the stored size kept as they are)."""
    return EncodedTracklet(
        name=name, order=order, pid=pid, camid=camid, role=role, frame_names=frames.names,
        images=[kept or codec.encode_image(image) for image, kept in zip(frames.frames, frames.jpeg_files)],
        flows=[codec.encode_flow(f) for f in flow],
        skipped=frames.skipped, outfit=outfit,
    )


def as_stored(meta: StoreMeta, frames: LoadedFrames, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frames and flow (T, 2, H, W) as a reader of a store like ``meta`` returns them: RGB uint8
    (T, H, W, 3) and flow in pixels, after a round trip through the store's codec."""
    codec = meta.codec
    encoded = encode_tracklet(codec, frames, flow, name="tracklet", order=0, pid=-1, camid=-1, role="query")
    return (np.stack([codec.decode_image(data) for data in encoded.images]),
            np.stack([codec.decode_flow(data) for data in encoded.flows]))


def store_estimator(meta: StoreMeta, *, device: str = "cpu", weights: Path | None = None) -> FlowEstimator:
    """The flow method of a store like ``meta`` with its recorded parameters.

    LiteFlowNet weights are ``weights``, else the file the store names in the weight folders,
    else the default file; their SHA-256 must be the one the store recorded.
    """
    from flowprep.flow import create_estimator

    params = {key: value for key, value in meta.flow_params.items() if key not in WEIGHT_FILE_KEYS}
    weights = _liteflownet_weights(meta, weights) if meta.flow_method == "liteflownet" else None
    estimator = create_estimator(meta.flow_method, device=device, weights=weights, **params)
    recorded = meta.flow_params.get("weights_sha256")
    if recorded and estimator.params.get("weights_sha256") != recorded:
        raise FlowprepError(f"{weights}: not the LiteFlowNet weights the store's flow was computed with "
                            f"(sha256 {estimator.params.get('weights_sha256', '?')[:12]}..., the store recorded "
                            f"{meta.flow_params.get('weights')} {recorded[:12]}...)")
    return estimator


def _liteflownet_weights(meta: StoreMeta, given: Path | None) -> Path | None:
    if given is not None:
        return given
    name = meta.flow_params.get("weights")
    return (find_weights((name,)) if name else None) or default_liteflownet_weights()
