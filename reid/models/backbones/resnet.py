"""ResNet-50 (and a width-reduced ResNet) with torchvision's parameter names.

Keeping torchvision's names (conv1, bn1, layer1..layer4, Bottleneck conv1/bn1/conv2/bn2/
conv3/bn3, downsample.0/.1) lets the public ImageNet file load strictly, key for key.
The classifier (``fc``) is left out: re-identification replaces it with its own head.
"""

from __future__ import annotations

from typing import Callable

from torch import Tensor, nn

from reid.models.backbones import BACKBONES
from reid.models.backbones.staged import StagedBackbone

EXPANSION = 4


def _conv_bn_downsample(in_channels: int, out_channels: int, stride: int) -> nn.Sequential:
    """The 1x1 projection shortcut, named downsample.0 (conv) and downsample.1 (bn)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),
        nn.BatchNorm2d(out_channels),
    )


class Bottleneck(nn.Module):
    """1x1 -> 3x3 -> 1x1 residual block; torchvision puts the stride on the 3x3 conv."""

    stride_in_1x1 = False

    def __init__(self, in_channels: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        out_channels = planes * EXPANSION
        stride_1x1, stride_3x3 = (stride, 1) if self.stride_in_1x1 else (1, stride)
        self.conv1 = nn.Conv2d(in_channels, planes, 1, stride=stride_1x1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride_3x3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        needs_projection = stride != 1 or in_channels != out_channels
        self.downsample = (
            _conv_bn_downsample(in_channels, out_channels, stride) if needs_projection else None
        )

    def recalibrate(self, x: Tensor) -> Tensor:
        """Hook for channel attention (SE) before the residual sum; plain ResNet has none."""
        return x

    def forward(self, x: Tensor) -> Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.recalibrate(self.bn3(self.conv3(out)))
        return self.relu(out + shortcut)


class ResNet(StagedBackbone):
    """Bottleneck ResNet; ``width`` is the stem width (64 for ResNet-50)."""

    def __init__(
        self,
        block: type[Bottleneck],
        blocks_per_stage: list[int],
        *,
        width: int = 64,
        last_stride: int = 1,
        name: str = "",
    ) -> None:
        super().__init__()
        self.name = name
        self._build_stem(width)
        planes = [width, width * 2, width * 4, width * 8]
        strides = [1, 2, 2, last_stride]
        self._channels = [width] + [p * EXPANSION for p in planes]
        in_channels = width
        for index, (count, plane, stride) in enumerate(zip(blocks_per_stage, planes, strides)):
            layers = [block(in_channels, plane, stride)]
            layers += [block(plane * EXPANSION, plane) for _ in range(count - 1)]
            self.add_module(f"layer{index + 1}", nn.Sequential(*layers))
            in_channels = plane * EXPANSION
        self._initialise()

    def _build_stem(self, width: int) -> None:
        self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def stem(self, x: Tensor) -> Tensor:
        return self.maxpool(self.relu(self.bn1(self.conv1(x))))

    def stages(self) -> list[Callable[[Tensor], Tensor]]:
        return [self.stem, self.layer1, self.layer2, self.layer3, self.layer4]

    def out_channels(self, layer: int) -> int:
        return self._channels[layer - 1]

    def _initialise(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)


@BACKBONES.register("resnet50")
def resnet50(last_stride: int = 1) -> ResNet:
    return ResNet(Bottleneck, [3, 4, 6, 3], last_stride=last_stride, name="resnet50")


@BACKBONES.register("resnet_tiny")
def resnet_tiny(last_stride: int = 1) -> ResNet:
    """ResNet-50's structure at 1/8 width with one block per stage: for tests and CPU demos."""
    return ResNet(Bottleneck, [1, 1, 1, 1], width=8, last_stride=last_stride, name="resnet_tiny")
