"""``avg``: temporal average pooling."""

from __future__ import annotations

from torch import Tensor, nn

from reid.models.aggregators import AGGREGATORS, Aggregated, frame_features


@AGGREGATORS.register("avg")
class AveragePooling(nn.Module):
    """Temporal pooling, the baseline's best aggregator in [16]."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.out_dim = channels

    def forward(self, maps: Tensor, clip_length: int) -> Aggregated:
        return Aggregated(frame_features(maps, clip_length).mean(dim=1), None)
