"""``dis``: OpenCV's DIS optical flow, on the CPU."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowprep.flow.base import FlowEstimator
from flowprep.flow.methods import FLOW_METHODS, reject_weights


@FLOW_METHODS.register("dis")
def create(*, device: str = "cpu", weights: Path | None = None, **params: Any) -> FlowEstimator:
    """OpenCV DIS; always on the CPU, whatever ``device`` says."""
    reject_weights("dis", weights)
    from flowprep.flow.opencv import create_dis

    return create_dis(**params)
