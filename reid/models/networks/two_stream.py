"""``two-stream``: image and flow ResNets (same architecture, separate weights), no attention."""

from __future__ import annotations

from torch import Tensor

from reid.models.backbones import LAST_LAYER
from reid.models.base import ReidModel, StreamMaps
from reid.models.networks import MODELS


@MODELS.register("two-stream")
class TwoStreamModel(ReidModel):
    def __init__(self, **config) -> None:
        super().__init__(name="two-stream", **config)
        self.image_net = self._backbone()
        self.flow_net = self._backbone()
        channels = self.image_net.out_channels(LAST_LAYER)
        self._build_head({"image": channels, "flow": channels})

    def extract(self, frames: Tensor, flows: Tensor | None) -> StreamMaps:
        return StreamMaps({"image": self.image_net(frames), "flow": self.flow_net(flows)}, None)
