"""The configuration of a training run: a frozen dataclass whose fields are ``reid.settings.TRAIN_SETTINGS``."""

from __future__ import annotations

from dataclasses import asdict, field, make_dataclass
from typing import Any

from reid.settings import MODEL_KEYS, TRAIN_SETTINGS, check_values


def build_from_model_config(config: dict):
    """The (untrained) network a model config describes: what ``TrainConfig.model_config`` returns
    and checkpoints store, so training and every tool that loads a checkpoint build it one way."""
    from reid.models import build_model

    return build_model(**{key: config[key] for key in (*MODEL_KEYS, "num_classes")})


def seeded_model(config: dict, seed: int):
    """The network of ``config`` with the random initial weights of ``seed``, drawn from a private copy of
    torch's CPU generator: building changes no global state, and a finished run's start can be rebuilt."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.random.default_generator.manual_seed(seed)
        return build_from_model_config(config)


def _post_init(self) -> None:
    """Every value checked against its setting, so a bad one fails here and not deep in training."""
    for key, value in check_values(asdict(self), "TrainConfig").items():
        object.__setattr__(self, key, value)


def _model_config(self, num_classes: int) -> dict:
    """The settings that define the network, plus its number of classes: what a checkpoint needs to rebuild it."""
    return {**{key: getattr(self, key) for key in MODEL_KEYS}, "num_classes": num_classes}


TrainConfig = make_dataclass(
    "TrainConfig",
    [(s.name, Any, field(default=s.default)) for s in TRAIN_SETTINGS],
    frozen=True,
    namespace={"__post_init__": _post_init, "model_config": _model_config,
               "__doc__": "One value per training setting (see reid.settings for each one's meaning)."},
)
TrainConfig.__module__ = __name__

__all__ = ["MODEL_KEYS", "TrainConfig", "build_from_model_config", "seeded_model"]
