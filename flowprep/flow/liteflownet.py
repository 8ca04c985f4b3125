"""The ``liteflownet`` flow method: the network of ``flowprep.flow.liteflownet_network`` with its weight
file, fed uint8 frame batches on one torch device by the port's protocol (resize to multiples of 32,
flow resized and rescaled back).

Precision: with ``precision="bf16"`` the convolutions run under bf16 autocast and the flow-carrying
maths stays in fp32 (see the network module).
"""

from __future__ import annotations

import hashlib
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from flowprep.errors import FlowprepError
from flowprep.flow.base import FlowEstimator, check_pair_batch, output_for, require, resolve_params
from flowprep.flow.liteflownet_network import LiteFlowNet

SIZE_MULTIPLE = 32
WEIGHTS_HINT = "network-default.pytorch (or network-kitti/-sintel.pytorch) from github.com/sniklaus/pytorch-liteflownet"


def estimate_flow(network: nn.Module, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """Flow (N, 2, H, W) in pixels for BGR batches (N, 3, H, W) in [0, 1], by the port's protocol.

    Both images are resized (bilinear) to the next multiples of 32, the network's
    half-resolution flow is resized back to (H, W), and u, v are scaled by
    W/W32 and H/H32 so they are in pixels of the original frames.
    """
    height, width = first.shape[2:]
    padded_height = math.ceil(height / SIZE_MULTIPLE) * SIZE_MULTIPLE
    padded_width = math.ceil(width / SIZE_MULTIPLE) * SIZE_MULTIPLE
    first, second = (
        F.interpolate(image, size=(padded_height, padded_width), mode="bilinear", align_corners=False)
        for image in (first, second)
    )
    flow = network(first, second).float()
    flow = F.interpolate(flow, size=(height, width), mode="bilinear", align_corners=False)
    scale = flow.new_tensor([width / padded_width, height / padded_height]).view(1, 2, 1, 1)
    return flow * scale


def load_network(path: Path) -> tuple[LiteFlowNet, str]:
    """A LiteFlowNet with the weights in ``path`` (port or own key names) and the file's sha256.

    The port's files name modules ``module...``; the port renames every 'module'
    to 'net' on load, and so does this loader (a no-op for keys already renamed).
    """
    try:
        data = path.read_bytes()
        loaded = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as error:  # torch.load raises many types for files that are not its format
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise FlowprepError(f"{path}: cannot read LiteFlowNet weights: {reason}") from None
    if not isinstance(loaded, dict) or not all(isinstance(value, torch.Tensor) for value in loaded.values()):
        raise FlowprepError(f"{path}: not a LiteFlowNet state dict (expected a dict of tensors); need {WEIGHTS_HINT}")
    state = {str(key).replace("module", "net"): value for key, value in loaded.items()}
    network = LiteFlowNet()
    expected = network.state_dict()
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    if missing or unexpected:
        raise FlowprepError(
            f"{path}: not LiteFlowNet weights of the pytorch-liteflownet layout: "
            f"{len(missing)} missing keys ({_first_few(missing)}), "
            f"{len(unexpected)} unexpected keys ({_first_few(unexpected)})"
        )
    wrong_shape = [key for key in expected if state[key].shape != expected[key].shape]
    if wrong_shape:
        key = wrong_shape[0]
        shapes = f"has shape {tuple(state[key].shape)}, expected {tuple(expected[key].shape)}"
        raise FlowprepError(f"{path}: LiteFlowNet weight {key} {shapes}")
    network.load_state_dict(state, strict=True)
    return network.eval(), hashlib.sha256(data).hexdigest()


def _first_few(keys: list[str], count: int = 3) -> str:
    return ", ".join(keys[:count]) + (", ..." if len(keys) > count else "") if keys else "none"


class LiteFlowNetEstimator(FlowEstimator):
    """Batched LiteFlowNet inference on one torch device."""

    name = "liteflownet"
    needs_process_pool = False

    def __init__(self, network: LiteFlowNet, device: torch.device, params: dict[str, Any]):
        self.network = network.to(device)
        self.device = device
        self.params = params
        self.preferred_batch = 128 if device.type == "cuda" else 4

    def __call__(self, first: np.ndarray, second: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        check_pair_batch(first, second)
        result = output_for(first, out)
        autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.params["precision"] == "bf16")
        with torch.inference_mode(), autocast:
            flow = estimate_flow(self.network, self._unit_range(first), self._unit_range(second))
        torch.from_numpy(result).copy_(flow)  # one device-to-host copy, straight into the caller's array
        return result

    def _unit_range(self, batch: np.ndarray) -> torch.Tensor:
        """uint8 (N, H, W, 3) BGR -> float (N, 3, H, W) in [0, 1] on the device.

        Only uint8 crosses the bus. The permuted view stays channels-last in memory,
        the layout cuDNN's tensor-core convolutions prefer, and convolutions keep it.
        """
        tensor = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device)
        return tensor.permute(0, 3, 1, 2).float() * (1.0 / 255.0)


def resolve_device(device: str) -> torch.device:
    """A torch device that exists here, or a one-line error."""
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise FlowprepError(f"unknown torch device {device!r} (use cpu, cuda or cuda:N)") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise FlowprepError(f"device {device!r} requested but torch.cuda.is_available() is False on this machine")
    return resolved


def create_liteflownet(*, device: str = "cpu", weights: Path | None = None, **params: Any) -> LiteFlowNetEstimator:
    """The liteflownet estimator; ``precision`` is "bf16" (default on cuda) or "fp32" (default on cpu)."""
    if weights is None:
        raise FlowprepError(f"flow method 'liteflownet' needs --weights PATH: the file {WEIGHTS_HINT}")
    torch_device = resolve_device(device)
    defaults = {"precision": "bf16" if torch_device.type == "cuda" else "fp32"}
    resolved = resolve_params("liteflownet", defaults, params)
    require(resolved["precision"] in ("fp32", "bf16"), "liteflownet", "precision must be fp32 or bf16")
    weights = Path(weights)
    network, digest = load_network(weights)
    return LiteFlowNetEstimator(network, torch_device, {"weights": weights.name, "weights_sha256": digest, **resolved})
