"""What every re-identification model shares: input checks, frame folding, flow encoding,
per-stream temporal aggregation and the embedding head.

A model only says how it turns frames (and encoded flow) into last-layer feature maps
per stream (``extract``). Frames are folded into the batch (B*T) so the CNNs run once
per clip batch, with no Python loop over time.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import torch
from torch import Tensor, nn

from reid.errors import ReidError
from reid.models.aggregators import build_aggregator
from reid.models.backbones import StagedBackbone, build_backbone, load_pretrained
from reid.models.flow_encoding import build_flow_encoding
from reid.models.heads import EmbeddingHead

ATTENTION_LAYERS = (2, 3, 4, 5)


class ModelOutput(NamedTuple):
    logits: Tensor  # [B, num_classes]
    features: Tensor  # [B, feature_dim], head FC output (before BN): triplet loss
    embedding: Tensor  # [B, feature_dim], head BN output: test-time descriptor
    attention: Tensor | None = None  # [B, T, 1, h, w] spatial attention in (0, 1)
    frame_weights: dict[str, Tensor] | None = None  # stream -> [B, T], sums to 1 over T


class StreamMaps(NamedTuple):
    maps: dict[str, Tensor]  # stream name -> last feature maps [B*T, C, h, w]
    attention: Tensor | None  # [B*T, 1, h, w]


def check_clips(images: Tensor, flows: Tensor | None, needs_flow: bool) -> None:
    if images.dim() != 5 or images.shape[2] != 3:
        raise ReidError(f"images must be [B, T, 3, H, W], got {list(images.shape)}")
    if not needs_flow:
        return
    if flows is None:
        raise ReidError("this model needs optical flow, but no flows were given")
    expected = [*images.shape[:2], 2, *images.shape[3:]]
    if list(flows.shape) != expected:
        raise ReidError(f"flows must be {expected} to match the images, got {list(flows.shape)}")


class ReidModel(nn.Module):
    """Base of all models; subclasses build their CNNs, then call ``_build_head``."""

    needs_flow = True

    def __init__(
        self,
        *,
        name: str,
        num_classes: int,
        backbone: str = "resnet50",
        aggregate: str = "weighted",
        attention_layer: int = 4,
        last_stride: int = 1,
        flow_encoding: str = "uvm",
        feature_dim: int = 2048,
    ) -> None:
        super().__init__()
        if attention_layer not in ATTENTION_LAYERS:
            raise ReidError(f"attention layer must be one of {ATTENTION_LAYERS}, got {attention_layer}")
        self.config = dict(  # the keys of a checkpoint's model config: build_model(**config) rebuilds it
            model=name,
            num_classes=num_classes,
            backbone=backbone,
            aggregate=aggregate,
            attention_layer=attention_layer,
            last_stride=last_stride,
            flow_encoding=flow_encoding,
            feature_dim=feature_dim,
        )
        self.flow_encoding = build_flow_encoding(flow_encoding)

    def _backbone(self) -> StagedBackbone:
        return build_backbone(self.config["backbone"], last_stride=self.config["last_stride"])

    def load_imagenet(self, path: Path) -> None:
        """Load ImageNet weights into every backbone stream (the flow stream too: its 3-channel
        encoding fits the RGB stem); shallow flow CNNs and heads keep their initialisation."""
        for module in self.children():
            if isinstance(module, StagedBackbone):
                load_pretrained(module, Path(path))

    def attention_layers(self) -> list[nn.Module]:
        """The layers that make the spatial attention map (none in a model without one): they start from
        scratch, so ``--attention-lr-factor`` may let them learn faster than fine-tuned ImageNet streams."""
        return []

    def _build_head(self, stream_channels: dict[str, int]) -> None:
        """One aggregator per stream (own weights), then the shared head on their concatenation."""
        self.aggregators = nn.ModuleDict(
            {stream: build_aggregator(self.config["aggregate"], c) for stream, c in stream_channels.items()}
        )
        in_dim = sum(aggregator.out_dim for aggregator in self.aggregators.values())
        self.head = EmbeddingHead(in_dim, self.config["feature_dim"], self.config["num_classes"])

    def extract(self, frames: Tensor, flows: Tensor | None) -> StreamMaps:
        """Last-layer feature maps per stream from folded frames [N, 3, H, W] and encoded flow."""
        raise NotImplementedError

    def forward(self, images: Tensor, flows: Tensor | None = None) -> ModelOutput:
        """``images`` [B, T, 3, H, W] (normalised), ``flows`` [B, T, 2, H, W] raw pixels."""
        check_clips(images, flows, self.needs_flow)
        batch, length = images.shape[:2]
        encoded = self.flow_encoding(flows.flatten(0, 1)) if self.needs_flow else None
        streams = self.extract(images.flatten(0, 1), encoded)
        vectors, frame_weights = [], {}
        for stream, aggregator in self.aggregators.items():
            aggregated = aggregator(streams.maps[stream], length)
            vectors.append(aggregated.vector)
            if aggregated.weights is not None:
                frame_weights[stream] = aggregated.weights
        features, embedding, logits = self.head(torch.cat(vectors, dim=1))
        attention = None if streams.attention is None else streams.attention.unflatten(0, (batch, length))
        return ModelOutput(logits, features, embedding, attention, frame_weights or None)

