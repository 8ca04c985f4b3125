"""Flow-guided spatial attention applied to intermediate feature maps (one map per frame).

Both functions take and return frame-folded tensors [N, C, I, J] (N = clips x frames) and
return the attention map [N, 1, I, J] alongside the attended features.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


class MutualAttention(nn.Module):
    """Eqs. 3-5: M = sigmoid(relu(zeta_app(phi)) * relu(zeta_flow(f))), both streams x M.

    Because both embeddings pass a ReLU, their product is >= 0 and M lies in [0.5, 1):
    the map boosts positions active in both streams rather than zeroing others, as in
    the paper.
    """

    def __init__(self, image_channels: int, flow_channels: int) -> None:
        super().__init__()
        self.image_embedding = nn.Conv2d(image_channels, 1, kernel_size=1)
        self.flow_embedding = nn.Conv2d(flow_channels, 1, kernel_size=1)

    def forward(self, image: Tensor, flow: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        correlation = F.relu(self.image_embedding(image)) * F.relu(self.flow_embedding(flow))
        attention = correlation.sigmoid()
        return image * attention, flow * attention, attention


def flow_gate(image: Tensor, flow_features: Tensor) -> tuple[Tensor, Tensor]:
    """Eqs. 10-11: channel-mean of the flow CNN's features, resized, sigmoid, times image.

    The flow CNN sees the full-resolution flow, so its map is resized (bilinear) to the
    image features' spatial size at the attention layer.
    """
    pooled = flow_features.mean(dim=1, keepdim=True)
    pooled = F.interpolate(pooled, size=image.shape[-2:], mode="bilinear", align_corners=False)
    gate = pooled.sigmoid()
    return image * gate, gate
