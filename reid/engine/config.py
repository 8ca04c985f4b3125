"""The configuration of a training run: one dataclass, saved as ``config.json`` beside the run."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

# settings that define the network: a checkpoint is only loadable into a model built with the same ones
MODEL_KEYS = ("model", "backbone", "aggregate", "attention_layer", "last_stride", "flow_encoding", "feature_dim")


def build_from_model_config(config: dict):
    """The (untrained) network a model config describes: what ``TrainConfig.model_config`` returns
    and checkpoints store, so training and every tool that loads a checkpoint build it one way."""
    from reid.models import build_model

    settings = {key: config[key] for key in MODEL_KEYS[1:]}
    return build_model(config["model"], num_classes=config["num_classes"], **settings)


@dataclass(frozen=True)
class TrainConfig:
    store: str
    out: str = ""
    model: str = "mutual-attention"
    backbone: str = "resnet50"
    aggregate: str = "weighted"
    attention_layer: int = 4
    last_stride: int = 1
    flow_encoding: str = "uvm"
    feature_dim: int = 2048
    pretrained: str = "auto"
    seq_len: int = 4
    sampling: str = "random"  # how training clips pick frames: run, random or evenly (reid.data.sampling)
    augment: str = "frame"  # one augmentation draw per frame or per clip
    erase_p: float = 0.5
    crop_pad: float = 10 / 128  # random-crop padding, a fraction of the frame width (0: no crop)
    identities_per_batch: int = 8
    instances: int = 4
    epochs: int = 150
    warmup_epochs: int = 10
    milestones: tuple[int, ...] = (40, 80, 120)
    gamma: float = 0.1
    lr: float = 3e-4
    weight_decay: float = 5e-4
    ce_weight: float = 1.0
    triplet_weight: float = 1.0
    margin: float = 0.3
    label_smoothing: float = 0.1
    eval_every: int = 10
    eval_metric: str = "euclidean"  # cosine: L2-normalised test features
    amp: str = "bf16"
    compile: bool = False
    device: str = "auto"
    workers: int = 4
    seed: int = 0
    deterministic: bool = False
    max_batches: int = 0  # 0: whole epochs; >0 caps batches per epoch (smoke tests, demos)

    def model_config(self, num_classes: int) -> dict:
        return {**{k: getattr(self, k) for k in MODEL_KEYS}, "num_classes": num_classes}

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in values.items() if k in known}
        if "milestones" in values:
            values["milestones"] = tuple(values["milestones"])
        return cls(**values)
