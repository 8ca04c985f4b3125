"""Every training setting, defined once: name, type, default, choices, range and help.

The ``reid train`` options, their ``--help``, the config-file schema, the ``TrainConfig``
dataclass, the run record and the resume check are all derived from ``TRAIN_SETTINGS``:
adding a setting is one ``Setting(...)`` entry here plus the code that reads it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from reid.errors import ReidError

# what a setting is for; the resume check and the checkpoint's model config follow from it
MODEL = "model"  # defines the network: a checkpoint loads only into a model built with the same values
RESULT = "result"  # changes what training produces
EXTENDABLE = "extendable"  # changes the result, but a resume may raise it (--epochs, to extend a run)
PLACEMENT = "placement"  # where or how the run executes, not what it computes (workers, device, progress)


class SettingError(ReidError):
    """A value that does not fit its setting; the message says why (callers add where it came from)."""


def _registry(module: str, name: str) -> Callable[[], tuple]:
    """Choices read from a registry when first needed, so importing the settings does not import torch."""

    def names() -> tuple:
        import importlib

        return tuple(getattr(importlib.import_module(module), name))

    return names


@dataclass(frozen=True)
class Setting:
    name: str
    kind: type  # bool, int, float, str or tuple (a list of ints)
    default: Any
    help: str
    role: str = RESULT
    choices: tuple | Callable[[], Iterable] | None = None
    low: float | None = None  # inclusive bounds of a number
    high: float | None = None
    optional: bool = False  # None is allowed (and is the default when resolved later: "auto" values)
    path: bool = False  # a file or folder: recorded as an absolute path

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def allowed(self) -> tuple | None:
        return tuple(self.choices()) if callable(self.choices) else self.choices

    def from_text(self, text: str) -> Any:
        """A command-line value: text converted to the setting's type, then checked."""
        if self.kind is tuple:
            parts = [p.strip() for p in text.split(",") if p.strip()]
            if not all(p.lstrip("-").isdigit() for p in parts):
                raise SettingError(f"expected comma-separated integers (e.g. 40,80,120), got {text!r}")
            return self.check([int(p) for p in parts])
        if self.kind in (int, float):
            try:
                return self.check(self.kind(text))
            except ValueError:
                raise SettingError(f"expected {'an integer' if self.kind is int else 'a number'}, got {text!r}") from None
        return self.check(text)

    def check(self, value: Any) -> Any:
        """A value as a config file or Python code gives it: type, range and choices checked."""
        if value is None and self.optional:
            return None
        value = self._typed(value)
        if self.low is not None and value < self.low or self.high is not None and value > self.high:
            bounds = f"at least {self.low}" if self.high is None else f"between {self.low} and {self.high}"
            raise SettingError(f"must be {bounds}, got {value}")
        allowed = self.allowed()
        if allowed is not None and value not in allowed:
            raise SettingError(f"{value!r} is not one of {', '.join(map(str, allowed))}")
        return value

    def _typed(self, value: Any) -> Any:
        wrong = SettingError(f"expected {_KIND_NAMES[self.kind]}, got {value!r}")
        if self.kind is bool:
            if not isinstance(value, bool):
                raise wrong
            return value
        if self.kind is tuple:
            if isinstance(value, int) and not isinstance(value, bool):
                value = [value]
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
                raise wrong
            return tuple(value)
        if self.kind is int:
            if not isinstance(value, int) or isinstance(value, bool):
                raise wrong
            return value
        if self.kind is float:
            if isinstance(value, str):  # YAML 1.1 reads 3e-4 (no dot) as text
                try:
                    return float(value)
                except ValueError:
                    raise wrong from None
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise wrong
            return float(value)
        if not isinstance(value, str):
            raise wrong
        return value


_KIND_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "text", tuple: "a list of integers"}

TRAIN_SETTINGS: tuple[Setting, ...] = (
    # data
    Setting("store", str, None, "Store written by flowprep extract.", optional=True, path=True),
    Setting("seq_len", int, 4, "Frames per training clip (and the default test clip length).", low=1),
    Setting("sampling", str, "random", "Training clips: a sorted random subset of the tracklet, consecutive frames "
            "(the paper's), or one frame per equal segment (test clips are dense either way).",
            choices=("random", "run", "evenly")),
    Setting("augment", str, "frame", "Draw flip/crop/erase once per frame or once per clip (image and flow of a "
            "frame always share a draw; a flip negates u).", choices=("frame", "clip")),
    Setting("erase_p", float, 0.0, "Random-erasing probability (0: none, the measured best; 0.5 is torchreid's).",
            low=0.0, high=1.0),
    Setting("crop_pad", float, 10 / 128, "Random-crop padding as a fraction of the frame width (0: no crop).",
            low=0.0, high=0.5),
    # network
    Setting("model", str, "mutual-attention", "Network family.", MODEL, _registry("reid.models", "MODELS")),
    Setting("backbone", str, "resnet50", "CNN of each stream (se_resnet50: Cadene/timm legacy weights; "
            "se_resnet50_timm: timm seresnet50 weights; mobilenet_v2: ImageNet weights from "
            "tools/get_mobilenetv2_weights.py; resnet_tiny: tests and the CPU demo).",
            MODEL, _registry("reid.models.backbones", "BACKBONES")),
    Setting("aggregate", str, "weighted", "Temporal aggregation of the frame features (weighted: the paper's "
            "weighted addition).", MODEL, _registry("reid.models.aggregators", "AGGREGATORS")),
    Setting("attention_layer", int, 4, "Attention after conv{N}_x (4 = after conv4_x).", MODEL,
            _registry("reid.models.base", "ATTENTION_LAYERS")),
    Setting("last_stride", int, 1, "Stride of the last backbone stage.", MODEL, (1, 2)),
    Setting("flow_encoding", str, "uvm", "How the flow stream sees the flow.", MODEL,
            _registry("reid.models.flow_encoding", "FLOW_ENCODINGS")),
    Setting("feature_dim", int, 2048, "Embedding size.", MODEL, low=8),
    # initialisation
    Setting("pretrained", str, "auto", "ImageNet weights: a file, 'none', or 'auto' ($REID_WEIGHTS or ./weights/).",
            path=True),
    Setting("init_from", str, None, "Start from the weights of a reid checkpoint (fine-tuning; the classifier is "
            "kept only when the identities match).", optional=True, path=True),
    # sampler
    Setting("identities_per_batch", int, 8, "P: identities per batch.", low=2),
    Setting("instances", int, 4, "K: clips per identity in a batch.", low=1),
    # optimiser and schedule
    Setting("epochs", int, 150, "Epochs to train (a resume may raise it to extend the run).", EXTENDABLE, low=1),
    Setting("lr", float, 3e-4, "Adam learning rate.", low=0.0),
    Setting("weight_decay", float, 5e-4, "Adam weight decay.", low=0.0),
    Setting("attention_lr_factor", float, 1.0, "Learning-rate factor for the layers that make the attention map "
            "(mutual attention's embeddings, gated attention's flow CNN): they start from scratch while "
            "ImageNet streams are only fine-tuned (1: one rate for all, the paper's).", low=0.0),
    Setting("warmup_epochs", int, 10, "Linear warm-up length in epochs.", low=0),
    Setting("warmup_factor", float, 0.1, "Learning-rate factor at the first warm-up epoch.", low=0.0, high=1.0),
    Setting("milestones", tuple, (40, 80, 120), "Epochs where the learning rate drops by --gamma."),
    Setting("gamma", float, 0.1, "Learning-rate factor at each milestone.", low=0.0),
    # loss
    Setting("ce_weight", float, 1.0, "Weight of the identity cross-entropy.", low=0.0),
    Setting("triplet_weight", float, 1.0, "Weight of the batch-hard triplet loss.", low=0.0),
    Setting("margin", float, 0.3, "Triplet margin.", low=0.0),
    Setting("label_smoothing", float, 0.1, "Label smoothing epsilon of the cross-entropy.", low=0.0, high=1.0),
    # run
    Setting("seed", int, 0, "Seed of every random draw."),
    Setting("deterministic", bool, False, "Deterministic algorithms (bit-exact repeats and resumes on the CPU)."),
    Setting("amp", str, "bf16", "Mixed precision on GPU.", choices=("bf16", "off")),
    Setting("compile", bool, False, "torch.compile the model."),
    Setting("max_batches", int, 0, "Cap batches per epoch (0: whole epochs; smoke runs).", low=0),
    Setting("eval_metric", str, "euclidean", "Distance for evaluation during training (cosine: L2-normalised "
            "features).", choices=("euclidean", "cosine")),
    Setting("eval_every", int, 10, "Evaluate every K epochs (and after the last); 0: only after the last.",
            PLACEMENT, low=0),
    Setting("out", str, None, "Run folder [default: runs/<store>-<model>].", PLACEMENT, optional=True, path=True),
    Setting("device", str, "auto", "auto, cpu, cuda or cuda:N.", PLACEMENT),
    Setting("workers", int, None, "Loader processes (0: in the main process) [default: the cores, at most 4].",
            PLACEMENT, low=0, optional=True),
    Setting("quiet", bool, False, "No progress bars (the per-epoch lines stay).", PLACEMENT),
    Setting("log_every", int, 1, "Print the per-epoch line every K epochs (train.log gets every epoch).",
            PLACEMENT, low=1),
)

SETTINGS_BY_NAME: dict[str, Setting] = {s.name: s for s in TRAIN_SETTINGS}
MODEL_KEYS: tuple[str, ...] = tuple(s.name for s in TRAIN_SETTINGS if s.role == MODEL)


def _closest(key: str) -> str:
    """``; did you mean 'epochs'?`` for a near miss (a typo, a dash for an underscore), else every known name."""
    close = difflib.get_close_matches(key.replace("-", "_").lower(), SETTINGS_BY_NAME, n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(SETTINGS_BY_NAME)})"


def check_values(values: dict[str, Any], where: str) -> dict[str, Any]:
    """Checked copies of ``values``; an unknown key or a bad value is one line naming ``where`` and the key."""
    checked = {}
    for key, value in values.items():
        setting = SETTINGS_BY_NAME.get(key)
        if setting is None:
            raise SettingError(f"{where}: unknown setting {key!r}{_closest(str(key))}")
        try:
            checked[key] = setting.check(value)
        except SettingError as exc:
            raise SettingError(f"{where}: {key}: {exc}") from None
    return checked


def resume_differences(saved: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """``key saved -> wanted`` for each asked-for value that would change a resumed run's result.

    Placement settings and a larger ``epochs`` may change; nothing else may.
    """
    changes = []
    for key, value in wanted.items():
        setting = SETTINGS_BY_NAME[key]
        old = saved.get(key, setting.default)
        if setting.role == PLACEMENT or value == old:
            continue
        if setting.role == EXTENDABLE and value >= old:
            continue
        changes.append(f"{setting.flag} {_shown(old)} -> {_shown(value)}")
    return changes


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or "''"
    return str(value)
