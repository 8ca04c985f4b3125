"""The four model families of the paper; each only says how it extracts feature maps.

* ``baseline`` [16]: one image ResNet, per-frame features, temporal aggregation.
* ``two-stream``: image and flow ResNets (same architecture, separate weights), no attention.
* ``gated-attention`` (eqs. 9-12): a shallow flow CNN gates the image features at layer l.
* ``mutual-attention`` (eqs. 1-5): image and flow streams attend each other at layer l.

``pretrained`` ImageNet weights go into every ResNet stream, the flow stream included
(cross-modality initialisation: the 3-channel flow encoding fits the RGB stem); the
gated model's flow CNN starts from scratch.
"""

from __future__ import annotations


from torch import Tensor

from reid.models.attention import MutualAttention, flow_gate
from reid.models.backbones import FIRST_LAYER, LAST_LAYER
from reid.models.base import ReidModel, StreamMaps
from reid.models.flow_cnn import FlowCNN


class BaselineModel(ReidModel):
    needs_flow = False

    def __init__(self, **config) -> None:
        super().__init__(name="baseline", **config)
        self.image_net = self._backbone()
        self._build_head({"image": self.image_net.out_channels(LAST_LAYER)})

    def extract(self, frames: Tensor, flows: Tensor | None) -> StreamMaps:
        return StreamMaps({"image": self.image_net(frames)}, None)


class TwoStreamModel(ReidModel):
    def __init__(self, **config) -> None:
        super().__init__(name="two-stream", **config)
        self.image_net = self._backbone()
        self.flow_net = self._backbone()
        channels = self.image_net.out_channels(LAST_LAYER)
        self._build_head({"image": channels, "flow": channels})

    def extract(self, frames: Tensor, flows: Tensor | None) -> StreamMaps:
        return StreamMaps({"image": self.image_net(frames), "flow": self.flow_net(flows)}, None)


class GatedAttentionModel(ReidModel):
    def __init__(self, **config) -> None:
        super().__init__(name="gated-attention", **config)
        self.image_net = self._backbone()
        self.flow_cnn = FlowCNN()
        self._build_head({"image": self.image_net.out_channels(LAST_LAYER)})

    def extract(self, frames: Tensor, flows: Tensor | None) -> StreamMaps:
        layer = self.config["attention_layer"]
        image = self.image_net.forward_layers(frames, FIRST_LAYER, layer)
        image, gate = flow_gate(image, self.flow_cnn(flows))
        return StreamMaps({"image": self.image_net.forward_layers(image, layer + 1, LAST_LAYER)}, gate)


class MutualAttentionModel(ReidModel):
    def __init__(self, **config) -> None:
        super().__init__(name="mutual-attention", **config)
        self.image_net = self._backbone()
        self.flow_net = self._backbone()
        layer = self.config["attention_layer"]
        self.mutual_attention = MutualAttention(self.image_net.out_channels(layer), self.flow_net.out_channels(layer))
        channels = self.image_net.out_channels(LAST_LAYER)
        self._build_head({"image": channels, "flow": channels})

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
