"""Turn raw 2-channel optical flow (pixels) into the 3-channel input of a flow CNN.

Two encodings, both with a fixed pixel scale so that clips stay comparable (no
per-image normalisation that would erase how fast a person moves):

* ``uvm``: (u, v, |flow|) / scale, clamped to [-1, 1]; cheap and lossless below the scale.
* ``colorwheel``: the Middlebury colour-wheel image (hue = direction, saturation =
  magnitude / scale, clamped at 1), then ImageNet mean/std normalised, so that
  ImageNet-pretrained weights see the statistics they were trained on.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from flowreid.flowcolor import color_wheel
from reid.errors import ReidError
from reid.imagenet import IMAGENET_MEAN, IMAGENET_STD

DEFAULT_SCALE_PX = 10.0


def colour_wheel() -> Tensor:
    """The 55 x 3 Middlebury colour wheel in [0, 1] (``flowreid.flowcolor``), the one the pictures draw with."""
    return torch.from_numpy(color_wheel()).float()


class UVMEncoding(nn.Module):
    def __init__(self, scale: float = DEFAULT_SCALE_PX) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, flow: Tensor) -> Tensor:
        magnitude = flow.norm(dim=1, keepdim=True)
        return (torch.cat([flow, magnitude], dim=1) / self.scale).clamp(-1.0, 1.0)


class ColourWheelEncoding(nn.Module):
    def __init__(self, scale: float = DEFAULT_SCALE_PX) -> None:
        super().__init__()
        self.scale = scale
        self.register_buffer("wheel", colour_wheel(), persistent=False)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, flow: Tensor) -> Tensor:
        flow = flow.float()
        u, v = flow[:, 0], flow[:, 1]
        radius = (torch.sqrt(u * u + v * v) / self.scale).clamp(max=1.0)
        hues = self.wheel.shape[0]
        position = (torch.atan2(-v, -u) / math.pi + 1) / 2 * (hues - 1)
        lower = position.floor().long()
        upper = (lower + 1) % hues
        fraction = (position - lower).unsqueeze(-1)
        hue = (1 - fraction) * self.wheel[lower] + fraction * self.wheel[upper]
        colour = 1 - radius.unsqueeze(-1) * (1 - hue)  # white at rest, full hue at the scale
        return (colour.permute(0, 3, 1, 2) - self.mean) / self.std


FLOW_ENCODINGS = {"uvm": UVMEncoding, "colorwheel": ColourWheelEncoding}


def build_flow_encoding(name: str, scale: float = DEFAULT_SCALE_PX) -> nn.Module:
    if name not in FLOW_ENCODINGS:
        raise ReidError(f"unknown flow encoding {name!r}; known: {', '.join(FLOW_ENCODINGS)}")
    return FLOW_ENCODINGS[name](scale)
