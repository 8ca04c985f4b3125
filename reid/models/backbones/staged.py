"""The stage interface every backbone offers, so attention can sit after any stage.

Paper layer k (k = 1..5) is the output of conv{k}_x: layer 1 is the stem (conv1 + pool),
layers 2..5 are torchvision's ``layer1``..``layer4`` (ResNets; ``mobilenet.py`` says which
MobileNetV2 blocks form each layer; both put layers 2..5 at stride 4, 8, 16, 32). Attention
"at layer l" runs layers 1..l, modifies the features, then runs layers l+1..5.
"""

from __future__ import annotations

from typing import Callable

from torch import Tensor, nn

FIRST_LAYER = 1
LAST_LAYER = 5


class StagedBackbone(nn.Module):
    """A CNN made of five sequential stages whose parameter names follow a weight file."""

    name: str = ""

    def stages(self) -> list[Callable[[Tensor], Tensor]]:
        """The five stages in order (stem, conv2_x, conv3_x, conv4_x, conv5_x)."""
        raise NotImplementedError

    def out_channels(self, layer: int) -> int:
        """Channels of the output of paper layer ``layer`` (1..5)."""
        raise NotImplementedError

    def adopt_layout(self, state: dict[str, Tensor]) -> dict[str, Tensor]:
        """A weight file's keys renamed to this backbone's names; backbones whose public files
        all share their names (the ResNets) keep them as they are."""
        return state

    def forward_layers(self, x: Tensor, first: int, last: int) -> Tensor:
        """Run paper layers ``first``..``last`` (inclusive, 1-based) on ``x``."""
        for stage in self.stages()[first - 1 : last]:
            x = stage(x)
        return x

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_layers(x, FIRST_LAYER, LAST_LAYER)
