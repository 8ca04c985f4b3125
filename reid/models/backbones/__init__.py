"""Backbone registry: name -> constructor taking ``last_stride``."""

from __future__ import annotations

from typing import Callable

from reid.errors import ReidError
from reid.models.backbones.resnet import resnet50, resnet_tiny
from reid.models.backbones.senet import se_resnet50, se_resnet50_timm
from reid.models.backbones.staged import FIRST_LAYER, LAST_LAYER, StagedBackbone
from reid.models.backbones.weights import load_pretrained

BACKBONES: dict[str, Callable[..., StagedBackbone]] = {
    "resnet50": resnet50,
    "se_resnet50": se_resnet50,
    "se_resnet50_timm": se_resnet50_timm,
    "resnet_tiny": resnet_tiny,
}


def build_backbone(name: str, *, last_stride: int = 1) -> StagedBackbone:
    if name not in BACKBONES:
        raise ReidError(f"unknown backbone {name!r}; known: {', '.join(BACKBONES)}")
    if last_stride not in (1, 2):
        raise ReidError(f"last stride must be 1 or 2, got {last_stride}")
    return BACKBONES[name](last_stride=last_stride)


__all__ = [
    "BACKBONES",
    "FIRST_LAYER",
    "LAST_LAYER",
    "StagedBackbone",
    "build_backbone",
    "load_pretrained",
]
