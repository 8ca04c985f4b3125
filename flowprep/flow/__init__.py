"""Optical flow estimators behind one interface, chosen by name.

The registry imports each backend only when it is created, so that importing
``flowprep.flow`` (e.g. in a joblib worker running an OpenCV method) does not
pull in torch, and the CLI's ``--help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from flowprep.errors import FlowprepError
from flowprep.flow.base import FlowEstimator
from flowprep.flow.tracklet import flows_for_tracklets, tracklet_flow


def _reject_weights(method: str, weights: Path | None) -> None:
    if weights is not None:
        raise FlowprepError(f"flow method '{method}' takes no --weights (only liteflownet does); got {weights}")


def _farneback(*, device: str = "cpu", weights: Path | None = None, **params: Any) -> FlowEstimator:
    """OpenCV Farneback; always on the CPU, whatever ``device`` says."""
    _reject_weights("farneback", weights)
    from flowprep.flow.opencv import create_farneback

    return create_farneback(**params)


def _dis(*, device: str = "cpu", weights: Path | None = None, **params: Any) -> FlowEstimator:
    """OpenCV DIS; always on the CPU, whatever ``device`` says."""
    _reject_weights("dis", weights)
    from flowprep.flow.opencv import create_dis

    return create_dis(**params)


def _liteflownet(*, device: str = "cpu", weights: Path | None = None, **params: Any) -> FlowEstimator:
    from flowprep.flow.liteflownet import create_liteflownet

    return create_liteflownet(device=device, weights=weights, **params)


FLOW_METHODS: dict[str, Callable[..., FlowEstimator]] = {
    "farneback": _farneback,
    "dis": _dis,
    "liteflownet": _liteflownet,
}


def create_estimator(name: str, *, device: str = "cpu", weights: Path | None = None, **params: Any) -> FlowEstimator:
    """The estimator registered as ``name``, configured by ``params`` (strings from the CLI are converted)."""
    if name not in FLOW_METHODS:
        raise FlowprepError(f"unknown flow method {name!r}; known methods: {', '.join(FLOW_METHODS)}")
    return FLOW_METHODS[name](device=device, weights=weights, **params)


__all__ = ["FLOW_METHODS", "FlowEstimator", "create_estimator", "flows_for_tracklets", "tracklet_flow"]
