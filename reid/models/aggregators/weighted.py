"""``weighted``: the paper's weighted addition (eqs. 6-8)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from reid.models.aggregators import AGGREGATORS, Aggregated, frame_features, weighted_sum


@AGGREGATORS.register("weighted")
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
