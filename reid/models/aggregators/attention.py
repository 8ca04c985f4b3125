"""``attention``: temporal attention of [16]."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from reid.models.aggregators import AGGREGATORS, Aggregated, frame_features, weighted_sum


@AGGREGATORS.register("attention")
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
