"""``rnn``: an LSTM over the frame features."""

from __future__ import annotations

from torch import Tensor, nn

from reid.models.aggregators import AGGREGATORS, Aggregated, frame_features


@AGGREGATORS.register("rnn")
class RecurrentAggregator(nn.Module):
    """LSTM over frame features, outputs averaged over time ([16] uses 512 hidden units)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(channels, channels // 4, batch_first=True)
        self.out_dim = channels // 4

    def forward(self, maps: Tensor, clip_length: int) -> Aggregated:
        outputs, _ = self.lstm(frame_features(maps, clip_length))
        return Aggregated(outputs.mean(dim=1), None)
