"""``farneback``: OpenCV's Farneback optical flow, on the CPU."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowprep.flow.base import FlowEstimator
from flowprep.flow.methods import FLOW_METHODS, reject_weights


@FLOW_METHODS.register("farneback")
def create(*, device: str = "cpu", weights: Path | None = None, **params: Any) -> FlowEstimator:
    """OpenCV Farneback; always on the CPU, whatever ``device`` says."""
    reject_weights("farneback", weights)
    from flowprep.flow.opencv import create_farneback

    return create_farneback(**params)
