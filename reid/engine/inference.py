"""Rebuilding a trained model from its checkpoint, for evaluation, export and search."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn

from flowprep import StoreReader
from reid.data.store_record import require_compatible
from reid.engine.checkpoint import load_checkpoint
from reid.engine.config import MODEL_KEYS, build_from_model_config
from reid.errors import CheckpointError


class TrainedModel(NamedTuple):
    model: nn.Module  # in eval mode
    config: dict  # the run's settings
    store: dict | None  # the training store as ``describe_store`` recorded it (None: an older checkpoint)


def load_trained_model(path: Path, device: torch.device, store: StoreReader | None = None,
                       allow_mismatch: bool = False) -> TrainedModel:
    """The model a checkpoint was trained as, its run config and its training store.

    Given the ``store`` it will run on, a store unlike the training one (size, flow, split) is refused
    first, or with ``allow_mismatch`` named in a warning on stderr; a store of another dataset gets a notice.
    """
    state = load_checkpoint(path, map_location=device)
    if store is not None:
        for difference in require_compatible(str(path), state.get("store"), store, allow_mismatch):
            print(f"warning: {path} was trained on another kind of store: {difference}", file=sys.stderr)
    return TrainedModel(trained_model(state, path, device), state.get("config", {}), state.get("store"))


def trained_model(state: dict, path: Path, device: torch.device) -> nn.Module:
    """The model of a loaded checkpoint ``state`` (read from ``path``), in eval mode on ``device``."""
    config = state.get("model_config")
    if not isinstance(config, dict) or any(k not in config for k in (*MODEL_KEYS, "num_classes")):
        raise CheckpointError(f"{path}: has no model config (not written by reid train?)")
    model = build_from_model_config(config)
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
    return model.to(device).eval()
