"""Strict loading of public ImageNet weight files into a backbone (``--pretrained PATH``).

Only the ImageNet classifier (``fc.*`` / ``last_linear.*``) is skipped; every other key
must match by name and shape, so a file of the wrong architecture fails loudly instead of
silently leaving layers at random initialisation. Files made before BatchNorm counted its
batches lack ``num_batches_tracked``; torch fills those in, so they are not compared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import torch
from torch import Tensor

from reid.errors import ReidError
from reid.models.backbones.staged import StagedBackbone

CLASSIFIER_PREFIXES = ("fc.", "last_linear.")
SHOWN_KEYS = 3


def _shown(keys: list[str]) -> str:
    head = ", ".join(keys[:SHOWN_KEYS])
    return head + (f" (+{len(keys) - SHOWN_KEYS} more)" if len(keys) > SHOWN_KEYS else "")


def _guess_layout(keys: set[str]) -> str | None:
    """The registered backbone whose naming scheme the file uses, if recognisable."""
    if "layer0.conv1.weight" in keys:
        return "se_resnet50"
    if any(".se.fc1." in key for key in keys):
        return "se_resnet50_timm"
    if "conv1.weight" in keys and "layer1.0.conv1.weight" in keys:
        return "resnet50"
    return None


def _compared(keys: Iterable[str]) -> set[str]:
    return {key for key in keys if not key.endswith("num_batches_tracked")}


def read_weight_file(path: Path) -> dict[str, Tensor]:
    """The tensors of a state-dict file, loaded without executing pickled code."""
    if not path.is_file():
        raise ReidError(f"--pretrained {path}: file not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for damaged or unsafe files
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ReidError(f"--pretrained {path}: not a readable weight file ({reason})") from None
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise ReidError(f"--pretrained {path}: expected a state dict of tensors")
    return state


def load_pretrained(backbone: StagedBackbone, path: Path) -> None:
    """Load ``path`` into ``backbone`` strictly, ignoring only the ImageNet classifier."""
    state = {k: v for k, v in read_weight_file(path).items() if not k.startswith(CLASSIFIER_PREFIXES)}
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
