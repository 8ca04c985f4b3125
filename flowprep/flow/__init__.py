"""Optical flow estimators behind one interface, chosen by name (``flowprep.flow.methods``).

The registry imports each backend only when it is created, so that importing
``flowprep.flow`` (e.g. in a joblib worker running an OpenCV method) does not
pull in torch, and the CLI's ``--help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowprep.flow.base import FlowEstimator
from flowprep.flow.methods import FLOW_METHODS
from flowprep.flow.tracklet import flows_for_tracklets, tracklet_flow


def create_estimator(name: str, *, device: str = "cpu", weights: Path | None = None, **params: Any) -> FlowEstimator:
    """The estimator registered as ``name``, configured by ``params`` (strings from the CLI are converted)."""
    return FLOW_METHODS.get(name)(device=device, weights=weights, **params)


__all__ = ["FLOW_METHODS", "FlowEstimator", "create_estimator", "flows_for_tracklets", "tracklet_flow"]
