"""The model registry (``reid.models.networks``) and the one entry point the trainer and evaluator use: ``build_model``."""

from __future__ import annotations

from pathlib import Path

from reid.models.backbones import BACKBONES
from reid.models.base import ModelOutput, ReidModel
from reid.models.networks import MODELS


def model_class(name: str) -> type[ReidModel]:
    """The registered model class, or a one-line error listing the known names."""
    return MODELS.get(name)


def build_model(
    model: str,
    *,
    num_classes: int,
    backbone: str = "resnet50",
    aggregate: str = "weighted",
    attention_layer: int = 4,
    last_stride: int = 1,
    flow_encoding: str = "uvm",
    pretrained: Path | None = None,
    feature_dim: int = 2048,
) -> ReidModel:
    """Build a registered model; ``network.config`` holds every argument but ``pretrained`` (the keys
    of a checkpoint's model config), so ``build_model(**network.config)`` rebuilds the same architecture."""
    network = model_class(model)(
        num_classes=num_classes,
        backbone=backbone,
        aggregate=aggregate,
        attention_layer=attention_layer,
        last_stride=last_stride,
        flow_encoding=flow_encoding,
        feature_dim=feature_dim,
    )
    if pretrained is not None:
        network.load_imagenet(pretrained)
    return network


__all__ = ["BACKBONES", "MODELS", "ModelOutput", "ReidModel", "build_model", "model_class"]
