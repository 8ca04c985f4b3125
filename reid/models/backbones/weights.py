"""Strict loading of public ImageNet weight files into a backbone (``--pretrained PATH``).

``.safetensors`` files (timm's hub gives ``model.safetensors``) hold tensors only; torch
pickles are read with ``weights_only``, and one that carries code is refused, never run.

A backbone first renames a foreign layout's keys to its own (``adopt_layout``: MobileNetV2 has
three public layouts). Only the ImageNet classifier (``fc.*`` / ``last_linear.*`` /
``classifier.*``) is skipped; every other key must match by name and shape, so a file of the wrong architecture fails loudly instead of
silently leaving layers at random initialisation. Files made before BatchNorm counted its
batches lack ``num_batches_tracked``; torch fills those in, so they are not compared.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Iterable

import torch
from torch import Tensor

from reid.errors import ReidError
from reid.models.backbones.staged import StagedBackbone

CLASSIFIER_PREFIXES = ("fc.", "last_linear.", "classifier.")
SHOWN_KEYS = 3
_PICKLED_CODE = re.compile(r"\bGLOBAL (\S+)")  # how torch's refusal names the callable


def _shown(keys: list[str]) -> str:
    head = ", ".join(keys[:SHOWN_KEYS])
    return head + (f" (+{len(keys) - SHOWN_KEYS} more)" if len(keys) > SHOWN_KEYS else "")


def _guess_layout(keys: set[str]) -> str | None:
    """The registered backbone whose naming scheme the file uses, if recognisable."""
    if "conv_stem.weight" in keys or "features.0.0.weight" in keys:
        return "mobilenet_v2"
    if "layer0.conv1.weight" in keys:
        return "se_resnet50"
    if any(".se.fc1." in key for key in keys):
        return "se_resnet50_timm"
    if "conv1.weight" in keys and "layer1.0.conv1.weight" in keys:
        return "resnet50"
    return None


def _compared(keys: Iterable[str]) -> set[str]:
    return {key for key in keys if not key.endswith("num_batches_tracked")}


def _one_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _read_safetensors(path: Path) -> dict[str, Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(path, device="cpu")
    except (SafetensorError, OSError, ValueError) as error:
        raise ReidError(f"--pretrained {path}: not a readable safetensors file ({_one_line(error)})") from None


def _read_pickle(path: Path) -> dict[str, Tensor]:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        culprit = _PICKLED_CODE.search(str(error))
        if culprit is None:
            raise ReidError(f"--pretrained {path}: not a readable weight file ({_one_line(error)})") from None
        raise ReidError(
            f"--pretrained {path}: the file holds code ({culprit.group(1)}), not only tensors, and was not loaded; "
            "use a plain state-dict or .safetensors file"
        ) from None
    except Exception as error:  # torch raises many types for damaged files
        raise ReidError(f"--pretrained {path}: not a readable weight file ({_one_line(error)})") from None


def read_weight_file(path: Path) -> dict[str, Tensor]:
    """The tensors of a state-dict file (``.safetensors``, or a torch pickle read without running its code)."""
    if not path.is_file():
        raise ReidError(f"--pretrained {path}: file not found")
    state = _read_safetensors(path) if path.suffix == ".safetensors" else _read_pickle(path)
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise ReidError(f"--pretrained {path}: expected a state dict of tensors")
    return state


def load_pretrained(backbone: StagedBackbone, path: Path) -> None:
    """Load ``path`` into ``backbone`` strictly, ignoring only the ImageNet classifier."""
    state = backbone.adopt_layout(read_weight_file(path))
    state = {k: v for k, v in state.items() if not k.startswith(CLASSIFIER_PREFIXES)}
    expected = backbone.state_dict()
    missing = sorted(_compared(expected) - _compared(state))
    unexpected = sorted(_compared(state) - _compared(expected))
    if missing or unexpected:
        guess = _guess_layout(set(state))
        hint = f"; it looks like a {guess} file" if guess and guess != backbone.name else ""
        raise ReidError(
            f"--pretrained {path}: keys do not match backbone {backbone.name}: "
            f"missing {_shown(missing) or 'none'}; unexpected {_shown(unexpected) or 'none'}{hint}"
        )
    wrong_shape = sorted(k for k in state if state[k].shape != expected[k].shape)
    if wrong_shape:
        first = wrong_shape[0]
        raise ReidError(
            f"--pretrained {path}: shapes do not match backbone {backbone.name} for "
            f"{_shown(wrong_shape)} (e.g. {first}: file {tuple(state[first].shape)}, "
            f"model {tuple(expected[first].shape)})"
        )
    backbone.load_state_dict(state, strict=True)
