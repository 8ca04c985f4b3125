"""Backbone registry: name -> constructor taking ``last_stride``, registered by the module that
defines it (``resnet.py``, ``senet.py``); a new backbone is one new module here."""

from __future__ import annotations

from typing import Callable

from flowreid.registry import Registry
from reid.errors import ReidError
from reid.models.backbones.staged import FIRST_LAYER, LAST_LAYER, StagedBackbone
from reid.models.backbones.weights import load_pretrained

BACKBONES: Registry[Callable[..., StagedBackbone]] = Registry("backbone", "reid.models.backbones", ReidError)


def build_backbone(name: str, *, last_stride: int = 1) -> StagedBackbone:
    constructor = BACKBONES.get(name)
    if last_stride not in (1, 2):
        raise ReidError(f"last stride must be 1 or 2, got {last_stride}")
    return constructor(last_stride=last_stride)


__all__ = [
    "BACKBONES",
    "FIRST_LAYER",
    "LAST_LAYER",
    "StagedBackbone",
    "build_backbone",
    "load_pretrained",
]
