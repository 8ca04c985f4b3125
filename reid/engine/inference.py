"""Rebuilding a trained model from its checkpoint, for evaluation, export and search."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from reid.engine.checkpoint import load_checkpoint
from reid.engine.config import MODEL_KEYS
from reid.errors import CheckpointError
from reid.models import build_model


def load_trained_model(path: Path, device: torch.device) -> tuple[nn.Module, dict]:
    """The model a checkpoint was trained as, in eval mode, plus the checkpoint's run config."""
    state = load_checkpoint(path, map_location=device)
    config = state.get("model_config")
    if not isinstance(config, dict) or any(k not in config for k in (*MODEL_KEYS, "num_classes")):
        raise CheckpointError(f"{path}: has no model config (not written by reid train?)")
    model = build_model(config["model"], num_classes=config["num_classes"], backbone=config["backbone"],
                        aggregate=config["aggregate"], attention_layer=config["attention_layer"],
                        last_stride=config["last_stride"], flow_encoding=config["flow_encoding"],
                        pretrained=None, feature_dim=config["feature_dim"])
    try:
        result = model.load_state_dict(state["model"], strict=False)
    except RuntimeError as exc:  # tensors of other shapes raise even when strict=False
        detail = next((line.strip() for line in str(exc).splitlines() if "size mismatch" in line), "size mismatch")
        raise CheckpointError(f"{path}: weights do not fit a {config['model']}/{config['backbone']} model ({detail})") from exc
    if result.missing_keys or result.unexpected_keys:
        raise CheckpointError(
            f"{path}: weights do not fit a {config['model']}/{config['backbone']} model "
            f"(missing {result.missing_keys[:3]}, unexpected {result.unexpected_keys[:3]})"
        )
    model.to(device).eval()
    return model, state.get("config", {})
