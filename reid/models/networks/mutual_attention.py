"""``mutual-attention`` (eqs. 1-5): image and flow streams attend each other at layer l."""

from __future__ import annotations

from torch import Tensor, nn

from reid.models.attention import MutualAttention
from reid.models.backbones import FIRST_LAYER, LAST_LAYER
from reid.models.base import ReidModel, StreamMaps
from reid.models.networks import MODELS


@MODELS.register("mutual-attention")
class MutualAttentionModel(ReidModel):
    def __init__(self, **config) -> None:
        super().__init__(name="mutual-attention", **config)
        self.image_net = self._backbone()
        self.flow_net = self._backbone()
        layer = self.config["attention_layer"]
        self.mutual_attention = MutualAttention(self.image_net.out_channels(layer), self.flow_net.out_channels(layer))
        channels = self.image_net.out_channels(LAST_LAYER)
        self._build_head({"image": channels, "flow": channels})

    def attention_layers(self) -> list[nn.Module]:
        return [self.mutual_attention]

    def extract(self, frames: Tensor, flows: Tensor | None) -> StreamMaps:
        layer = self.config["attention_layer"]
        image = self.image_net.forward_layers(frames, FIRST_LAYER, layer)
        flow = self.flow_net.forward_layers(flows, FIRST_LAYER, layer)
        image, flow, attention = self.mutual_attention(image, flow)
        return StreamMaps(
            {
                "image": self.image_net.forward_layers(image, layer + 1, LAST_LAYER),
                "flow": self.flow_net.forward_layers(flow, layer + 1, LAST_LAYER),
            },
            attention,
        )
