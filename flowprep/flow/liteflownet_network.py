"""The LiteFlowNet network (Hui, Tang and Loy, CVPR 2018) in plain PyTorch, weight-compatible with the public port.

Module and parameter names follow the state dict of sniklaus/pytorch-liteflownet, so its files
``network-default.pytorch``, ``network-kitti.pytorch`` and ``network-sintel.pytorch`` load
strictly and give that port's flow. The maths (fixed BGR means, image pyramid, warping, cost
volume, regularisation) follows the port's ``run.py``; the estimator that feeds it frames is
``flowprep.flow.liteflownet``.

Precision: under bf16 autocast the convolutions run in bf16, while everything that carries
flow values or compares them (the flow itself, its upsampling, warping, the cost volume and
the regularisation's weighted average) stays in fp32: bf16 keeps ~3 significant digits, which
would cost about 0.04 px on a 10 px displacement at each of the 15 refinement steps.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from flowprep.flow.correlation import correlation

# Pyramid level L is at 1/2**(L-1) of the input resolution; flow is decoded at levels 6 (coarsest) to 2.
DECODER_LEVELS = (2, 3, 4, 5, 6)
FEATURE_WIDTH = {1: 32, 2: 32, 3: 64, 4: 96, 5: 128, 6: 192}
MATCHING_WIDTH = {2: 64, 3: 64, 4: 96, 5: 128, 6: 192}  # level 2 widens its features with a 1x1 conv
WINDOW = {2: 7, 3: 5, 4: 5, 5: 3, 6: 3}  # kernel of the flow heads and the regularisation neighbourhood
STRIDED_CORRELATION_LEVELS = (2, 3)  # cost volume at every other pixel, then learned upsampling
# The network's flow unit is 1/20 of a full-resolution pixel: this many pixels of level L.
PIXELS_PER_FLOW_UNIT = {2: 10.0, 3: 5.0, 4: 2.5, 5: 1.25, 6: 0.625}
OUTPUT_SCALE = 20.0
MEAN_BGR_FIRST = (0.411618, 0.434631, 0.454253)
MEAN_BGR_SECOND = (0.410782, 0.433645, 0.452793)
MAX_DISPLACEMENT = 3
COST_CHANNELS = (2 * MAX_DISPLACEMENT + 1) ** 2
NEGATIVE_SLOPE = 0.1


def _conv(in_channels: int, out_channels: int, kernel: int | tuple[int, int], stride: int = 1) -> nn.Conv2d:
    kernel = (kernel, kernel) if isinstance(kernel, int) else kernel
    return nn.Conv2d(in_channels, out_channels, kernel, stride, padding=(kernel[0] // 2, kernel[1] // 2))


def _leaky_convs(widths: list[int], kernel: int = 3, stride: int = 1) -> list[nn.Module]:
    """Conv + LeakyReLU for each consecutive pair of ``widths``; only the first conv is strided."""
    layers: list[nn.Module] = []
    for index, (in_channels, out_channels) in enumerate(zip(widths, widths[1:])):
        layers += [_conv(in_channels, out_channels, kernel, stride if index == 0 else 1), nn.LeakyReLU(NEGATIVE_SLOPE)]
    return layers


def _flow_head(in_channels: int, level: int) -> nn.Sequential:
    return nn.Sequential(*_leaky_convs([in_channels, 128, 64, 32]), _conv(32, 2, WINDOW[level]))


def _matching_features(level: int) -> nn.Sequential:
    """Level 2's 32-channel features are widened to 64 before matching; other levels pass through."""
    if level == 2:
        return nn.Sequential(*_leaky_convs([FEATURE_WIDTH[2], MATCHING_WIDTH[2]], kernel=1))
    return nn.Sequential()


def _fp32(tensor: torch.Tensor) -> torch.autocast:
    """A region where autocast is off, for the flow-carrying maths (see the module docstring)."""
    return torch.autocast(tensor.device.type, enabled=False)


def backwarp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """``image`` sampled at p + flow(p) (flow in pixels), bilinear, zero outside, in fp32.

    As in the port: an align_corners=True grid, the flow normalised by 2/(size-1).
    A 1-pixel-wide map uses 2/1 instead of the port's division by zero (NaN), so
    inputs of 32 px or less in a dimension still work.
    """
    with _fp32(image):
        height, width = flow.shape[2:]
        flow = flow.float()
        horizontal = torch.linspace(-1.0, 1.0, width, device=flow.device).view(1, 1, width)
        vertical = torch.linspace(-1.0, 1.0, height, device=flow.device).view(1, height, 1)
        grid_x = horizontal + flow[:, 0] * (2.0 / max(image.shape[3] - 1.0, 1.0))
        grid_y = vertical + flow[:, 1] * (2.0 / max(image.shape[2] - 1.0, 1.0))
        grid = torch.stack([grid_x, grid_y], dim=3)
        return F.grid_sample(image.float(), grid, mode="bilinear", padding_mode="zeros", align_corners=True)


class FeaturePyramid(nn.Module):
    """The shared encoder: features at levels 1 (full resolution) to 6 (1/32)."""

    def __init__(self):
        super().__init__()
        self.netOne = nn.Sequential(*_leaky_convs([3, FEATURE_WIDTH[1]], kernel=7))
        self.netTwo = nn.Sequential(*_leaky_convs([FEATURE_WIDTH[1]] + [FEATURE_WIDTH[2]] * 3, stride=2))
        self.netThr = nn.Sequential(*_leaky_convs([FEATURE_WIDTH[2]] + [FEATURE_WIDTH[3]] * 2, stride=2))
        self.netFou = nn.Sequential(*_leaky_convs([FEATURE_WIDTH[3]] + [FEATURE_WIDTH[4]] * 2, stride=2))
        self.netFiv = nn.Sequential(*_leaky_convs([FEATURE_WIDTH[4], FEATURE_WIDTH[5]], stride=2))
        self.netSix = nn.Sequential(*_leaky_convs([FEATURE_WIDTH[5], FEATURE_WIDTH[6]], stride=2))

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        levels = []
        for stage in (self.netOne, self.netTwo, self.netThr, self.netFou, self.netFiv, self.netSix):
            image = stage(image)
            levels.append(image)
        return levels


class Matching(nn.Module):
    """Descriptor matching: the cost volume around the (upsampled) coarser flow gives a flow residual."""

    def __init__(self, level: int):
        super().__init__()
        self.level = level
        self.netFeat = _matching_features(level)
        self.netUpflow = None if level == 6 else nn.ConvTranspose2d(2, 2, 4, 2, 1, bias=False, groups=2)
        self.netUpcorr = (
            nn.ConvTranspose2d(COST_CHANNELS, COST_CHANNELS, 4, 2, 1, bias=False, groups=COST_CHANNELS)
            if level in STRIDED_CORRELATION_LEVELS
            else None
        )
        self.netMain = _flow_head(COST_CHANNELS, level)

    def forward(
        self, features_first: torch.Tensor, features_second: torch.Tensor, flow: torch.Tensor | None
    ) -> torch.Tensor:
        features_first = self.netFeat(features_first)
        features_second = self.netFeat(features_second)
        with _fp32(features_first):
            if flow is not None:
                flow = self.netUpflow(flow)
                features_second = backwarp(features_second, flow * PIXELS_PER_FLOW_UNIT[self.level])
            stride = 2 if self.netUpcorr is not None else 1
            cost = correlation(features_first.float(), features_second.float(), stride, MAX_DISPLACEMENT)
            cost = F.leaky_relu(cost, NEGATIVE_SLOPE)
        if self.netUpcorr is not None:
            cost = self.netUpcorr(cost)
        residual = self.netMain(cost).float()
        return residual if flow is None else flow + residual


class Subpixel(nn.Module):
    """Sub-pixel refinement from both descriptors and the current flow."""

    def __init__(self, level: int):
        super().__init__()
        self.level = level
        self.netFeat = _matching_features(level)
        self.netMain = _flow_head(2 * MATCHING_WIDTH[level] + 2, level)

    def forward(self, features_first: torch.Tensor, features_second: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        features_first = self.netFeat(features_first)
        warped = backwarp(self.netFeat(features_second), flow * PIXELS_PER_FLOW_UNIT[self.level])
        return flow + self.netMain(torch.cat([features_first, warped, flow], 1)).float()


class Regularization(nn.Module):
    """Feature-driven local convolution: each flow vector becomes a learned weighted mean of its neighbours."""

    def __init__(self, level: int):
        super().__init__()
        self.level = level
        window = WINDOW[level]
        taps = window * window
        if level < 5:
            self.netFeat = nn.Sequential(*_leaky_convs([FEATURE_WIDTH[level], 128], kernel=1))
            guide_width = 128
        else:
            self.netFeat = nn.Sequential()
            guide_width = FEATURE_WIDTH[level]
        self.netMain = nn.Sequential(*_leaky_convs([3 + guide_width, 128, 128, 64, 64, 32, 32]))
        if level < 5:  # large windows use a separable kernel
            self.netDist = nn.Sequential(_conv(32, taps, (window, 1)), _conv(taps, taps, (1, window)))
        else:
            self.netDist = nn.Sequential(_conv(32, taps, window))
        self.netScaleX = _conv(taps, 1, 1)
        self.netScaleY = _conv(taps, 1, 1)

    def forward(
        self, image_first: torch.Tensor, image_second: torch.Tensor, features_first: torch.Tensor, flow: torch.Tensor
    ) -> torch.Tensor:
        with _fp32(flow):
            warped = backwarp(image_second, flow * PIXELS_PER_FLOW_UNIT[self.level])
            brightness_error = (image_first - warped).square().sum(1, keepdim=True).sqrt()
            centred_flow = flow - flow.mean((2, 3), keepdim=True)
        guide = torch.cat([brightness_error, centred_flow, self.netFeat(features_first)], 1)
        distance = self.netDist(self.netMain(guide))
        with _fp32(flow):
            weights = distance.float().square().neg()
            weights = (weights - weights.max(1, keepdim=True)[0]).exp()
            normaliser = weights.sum(1, keepdim=True).reciprocal()
            window = WINDOW[self.level]
            components = []
            for channel, scale in enumerate((self.netScaleX, self.netScaleY)):
                neighbours = F.unfold(flow[:, channel : channel + 1], window, padding=window // 2).view_as(weights)
                components.append(scale(weights * neighbours) * normaliser)
            return torch.cat(components, 1)


class LiteFlowNet(nn.Module):
    """The network on BGR images in [0, 1] whose sides are multiples of 32.

    Returns flow at half the input resolution, in pixels of the full-resolution input.
    """

    def __init__(self):
        super().__init__()
        self.netFeatures = FeaturePyramid()
        self.netMatching = nn.ModuleList(Matching(level) for level in DECODER_LEVELS)
        self.netSubpixel = nn.ModuleList(Subpixel(level) for level in DECODER_LEVELS)
        self.netRegularization = nn.ModuleList(Regularization(level) for level in DECODER_LEVELS)

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        first = first - first.new_tensor(MEAN_BGR_FIRST).view(1, 3, 1, 1)
        second = second - second.new_tensor(MEAN_BGR_SECOND).view(1, 3, 1, 1)
        features_first, features_second = self.netFeatures(first), self.netFeatures(second)
        images_first = _image_pyramid(first, features_first)
        images_second = _image_pyramid(second, features_second)
        flow = None
        for index in reversed(range(len(DECODER_LEVELS))):
            at = DECODER_LEVELS[index] - 1  # position of this level in the pyramids
            flow = self.netMatching[index](features_first[at], features_second[at], flow)
            flow = self.netSubpixel[index](features_first[at], features_second[at], flow)
            flow = self.netRegularization[index](images_first[at], images_second[at], features_first[at], flow)
        return flow * OUTPUT_SCALE


def _image_pyramid(image: torch.Tensor, features: list[torch.Tensor]) -> list[torch.Tensor]:
    """The image at each feature level's size, each level resized from the previous one (as the port)."""
    levels = [image]
    for level_features in features[1:]:
        levels.append(F.interpolate(levels[-1], size=level_features.shape[2:], mode="bilinear", align_corners=False))
    return levels
