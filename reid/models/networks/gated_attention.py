"""``gated-attention`` (eqs. 9-12): a shallow flow CNN gates the image features at layer l;
the flow CNN starts from scratch."""

from __future__ import annotations

from torch import Tensor, nn

from reid.models.attention import flow_gate
from reid.models.backbones import FIRST_LAYER, LAST_LAYER
from reid.models.base import ReidModel, StreamMaps
from reid.models.flow_cnn import FlowCNN
from reid.models.networks import MODELS


@MODELS.register("gated-attention")
class GatedAttentionModel(ReidModel):
    def __init__(self, **config) -> None:
        super().__init__(name="gated-attention", **config)
        self.image_net = self._backbone()
        self.flow_cnn = FlowCNN()
        self._build_head({"image": self.image_net.out_channels(LAST_LAYER)})

    def attention_layers(self) -> list[nn.Module]:
        return [self.flow_cnn]

    def extract(self, frames: Tensor, flows: Tensor | None) -> StreamMaps:
        layer = self.config["attention_layer"]
        image = self.image_net.forward_layers(frames, FIRST_LAYER, layer)
        image, gate = flow_gate(image, self.flow_cnn(flows))
        return StreamMaps({"image": self.image_net.forward_layers(image, layer + 1, LAST_LAYER)}, gate)
