"""``baseline`` [16]: one image ResNet, per-frame features, temporal aggregation."""

from __future__ import annotations

from torch import Tensor

from reid.models.backbones import LAST_LAYER
from reid.models.base import ReidModel, StreamMaps
from reid.models.networks import MODELS


@MODELS.register("baseline")
class BaselineModel(ReidModel):
    needs_flow = False

    def __init__(self, **config) -> None:
        super().__init__(name="baseline", **config)
        self.image_net = self._backbone()
        self._build_head({"image": self.image_net.out_channels(LAST_LAYER)})

    def extract(self, frames: Tensor, flows: Tensor | None) -> StreamMaps:
        return StreamMaps({"image": self.image_net(frames)}, None)
