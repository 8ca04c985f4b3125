"""SE-ResNet-50 in the two public weight layouts.

* ``se_resnet50`` follows Cadene's ``pretrainedmodels`` (identical to timm's
  ``legacy_seresnet50``): stem in ``layer0`` (conv1, bn1, ceil-mode pool), the block's
  stride on its first 1x1 conv (Caffe style), SE as ``se_module.fc1/fc2`` 1x1 convs.
* ``se_resnet50_timm`` follows timm's ``seresnet50``: torchvision's layout (stride on the
  3x3 conv, stem conv1/bn1) plus SE as ``se.fc1/fc2``.

The two differ in where the stride sits, not only in names, so each is its own backbone
and a weight file loads into the one it was trained as.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import Tensor, nn

from reid.models.backbones import BACKBONES
from reid.models.backbones.resnet import EXPANSION, Bottleneck, ResNet

SE_REDUCTION = 16


class SqueezeExcitation(nn.Module):
    """Channel gating from globally pooled features (Hu et al.), 1x1 convs with bias."""

    def __init__(self, channels: int, reduction: int = SE_REDUCTION) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(channels, channels // reduction, kernel_size=1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(channels // reduction, channels, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        gate = self.fc2(self.relu(self.fc1(x.mean(dim=(2, 3), keepdim=True))))
        return x * gate.sigmoid()


class CadeneSEBottleneck(Bottleneck):
    stride_in_1x1 = True

    def __init__(self, in_channels: int, planes: int, stride: int = 1) -> None:
        super().__init__(in_channels, planes, stride)
        self.se_module = SqueezeExcitation(planes * EXPANSION)

    def recalibrate(self, x: Tensor) -> Tensor:
        return self.se_module(x)


class TimmSEBottleneck(Bottleneck):
    def __init__(self, in_channels: int, planes: int, stride: int = 1) -> None:
        super().__init__(in_channels, planes, stride)
        self.se = SqueezeExcitation(planes * EXPANSION)

    def recalibrate(self, x: Tensor) -> Tensor:
        return self.se(x)


class CadeneSENet(ResNet):
    """ResNet whose stem is the ``layer0`` sequence of the Cadene weight file."""

    def _build_stem(self, width: int) -> None:
        self.layer0 = nn.Sequential(
            OrderedDict(
                conv1=nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False),
                bn1=nn.BatchNorm2d(width),
                relu1=nn.ReLU(inplace=True),
                pool=nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            )
        )

    def stem(self, x: Tensor) -> Tensor:
        return self.layer0(x)


@BACKBONES.register("se_resnet50")
def se_resnet50(last_stride: int = 1) -> ResNet:
    return CadeneSENet(CadeneSEBottleneck, [3, 4, 6, 3], last_stride=last_stride, name="se_resnet50")


@BACKBONES.register("se_resnet50_timm")
def se_resnet50_timm(last_stride: int = 1) -> ResNet:
    return ResNet(TimmSEBottleneck, [3, 4, 6, 3], last_stride=last_stride, name="se_resnet50_timm")
