"""Temporal aggregation: per-frame feature maps of a clip -> one clip vector.

Every aggregator takes the frame-folded last feature maps [B*T, C, h, w] and the clip
length T, and returns the clip vector [B, out_dim] plus the per-frame weights [B, T]
when it computes any (``attention`` and ``weighted``), for inspection and tests.
"""

from __future__ import annotations

from typing import NamedTuple

import torch.nn.functional as F
from torch import Tensor, nn

from reid.errors import ReidError


class Aggregated(NamedTuple):
    vector: Tensor
    weights: Tensor | None


def frame_features(maps: Tensor, clip_length: int) -> Tensor:
    """Global average pooling per frame, unfolded to [B, T, C]."""
    return maps.mean(dim=(2, 3)).unflatten(0, (-1, clip_length))


def weighted_sum(features: Tensor, weights: Tensor) -> Tensor:
    return (features * weights.unsqueeze(-1)).sum(dim=1)


class AveragePooling(nn.Module):
    """Temporal pooling, the baseline's best aggregator in [16]."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.out_dim = channels

    def forward(self, maps: Tensor, clip_length: int) -> Aggregated:
        return Aggregated(frame_features(maps, clip_length).mean(dim=1), None)


class TemporalAttention(nn.Module):
    """Temporal attention of [16]: a conv on each frame's map scores the frame, softmax over T.

    [16] uses a conv whose kernel spans the whole 7x4 map; a 3x3 conv followed by global
    pooling gives one score per frame for any input size.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        hidden = max(channels // 8, 16)
        self.spatial = nn.Conv2d(channels, hidden, kernel_size=3, padding=1)
        self.temporal = nn.Conv1d(hidden, 1, kernel_size=3, padding=1)
        self.out_dim = channels

    def forward(self, maps: Tensor, clip_length: int) -> Aggregated:
        scores = frame_features(F.relu(self.spatial(maps)), clip_length)  # [B, T, hidden]
        scores = self.temporal(scores.transpose(1, 2)).squeeze(1)  # [B, T]
        weights = scores.softmax(dim=1)
        return Aggregated(weighted_sum(frame_features(maps, clip_length), weights), weights)


class RecurrentAggregator(nn.Module):
    """LSTM over frame features, outputs averaged over time ([16] uses 512 hidden units)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(channels, channels // 4, batch_first=True)
        self.out_dim = channels // 4

    def forward(self, maps: Tensor, clip_length: int) -> Aggregated:
        outputs, _ = self.lstm(frame_features(maps, clip_length))
        return Aggregated(outputs.mean(dim=1), None)


class WeightedAddition(nn.Module):
    """Eqs. 6-8: weight each frame by exp(cosine(eps(frame), eps(reference))), normalised.

    The reference is the temporal max of the (mutually attended) features; eps is a
    two-layer MLP as wide as the features (2048 for ResNet-50). exp(cos) normalised to
    sum to 1 over the clip is a softmax of the cosines.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.embedding = nn.Sequential(
            nn.Linear(channels, channels), nn.ReLU(inplace=True), nn.Linear(channels, channels)
        )
        self.out_dim = channels

    def forward(self, maps: Tensor, clip_length: int) -> Aggregated:
        features = frame_features(maps, clip_length)
        reference = features.amax(dim=1, keepdim=True)
        similarity = F.cosine_similarity(self.embedding(features), self.embedding(reference), dim=-1)
        weights = similarity.softmax(dim=1)
        return Aggregated(weighted_sum(features, weights), weights)


AGGREGATORS = {
    "avg": AveragePooling,
    "attention": TemporalAttention,
    "rnn": RecurrentAggregator,
    "weighted": WeightedAddition,
}


def build_aggregator(name: str, channels: int) -> nn.Module:
    if name not in AGGREGATORS:
        raise ReidError(f"unknown aggregation {name!r}; known: {', '.join(AGGREGATORS)}")
    return AGGREGATORS[name](channels)
