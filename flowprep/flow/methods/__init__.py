"""The flow methods, one module each: a module registers a factory in ``FLOW_METHODS``, and a new
method is one new module here (``flowprep extract --flow`` lists it from the registry).

A factory takes ``device``, ``weights`` and the method's parameters and returns a
``FlowEstimator``. It imports its backend only when called, so reading the registry (the
CLI's ``--help``, a joblib worker running an OpenCV method) pulls in neither OpenCV nor torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from flowprep.errors import FlowprepError
from flowprep.flow.base import FlowEstimator
from flowreid.registry import Registry

FLOW_METHODS: Registry[Callable[..., FlowEstimator]] = Registry("flow method", "flowprep.flow.methods", FlowprepError)


def reject_weights(method: str, weights: Path | None) -> None:
    """Methods without a weight file refuse ``--weights`` rather than ignore it."""
    if weights is not None:
        raise FlowprepError(f"flow method '{method}' takes no --weights (only liteflownet does); got {weights}")
