"""Temporal aggregation: per-frame feature maps of a clip -> one clip vector.

Every aggregator takes the frame-folded last feature maps [B*T, C, h, w] and the clip
length T, and returns the clip vector [B, out_dim] plus the per-frame weights [B, T]
when it computes any (``attention`` and ``weighted``), for inspection and tests.

Each module of this package registers one aggregator in ``AGGREGATORS``; a new one is one new
module (``--aggregate`` and its errors list it from the registry).
"""

from __future__ import annotations

from typing import NamedTuple

from torch import Tensor, nn

from flowreid.registry import Registry
from reid.errors import ReidError

AGGREGATORS: Registry[type[nn.Module]] = Registry("aggregation", "reid.models.aggregators", ReidError)


class Aggregated(NamedTuple):
    vector: Tensor
    weights: Tensor | None


def frame_features(maps: Tensor, clip_length: int) -> Tensor:
    """Global average pooling per frame, unfolded to [B, T, C]."""
    return maps.mean(dim=(2, 3)).unflatten(0, (-1, clip_length))


def weighted_sum(features: Tensor, weights: Tensor) -> Tensor:
    return (features * weights.unsqueeze(-1)).sum(dim=1)


def build_aggregator(name: str, channels: int) -> nn.Module:
    return AGGREGATORS.get(name)(channels)
