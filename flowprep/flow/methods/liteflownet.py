"""``liteflownet``: the paper's LiteFlowNet, in torch, from a weight file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowprep.flow.base import FlowEstimator
from flowprep.flow.methods import FLOW_METHODS


@FLOW_METHODS.register("liteflownet")
def create(*, device: str = "cpu", weights: Path | None = None, **params: Any) -> FlowEstimator:
    from flowprep.flow.liteflownet import create_liteflownet

    return create_liteflownet(device=device, weights=weights, **params)
