"""The header ``reid train`` prints and logs before the first epoch: device, model, run folder, dataset."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from flowprep import ROLES, StoreReader
from flowreid.wording import counted
from reid.models.flops import clip_flops

SLOW_ON_CPU = ("resnet50", "se_resnet50", "se_resnet50_timm")


def dataset_table(store: StoreReader) -> list[str]:
    """Identities, tracklets, cameras and frames per role, laid out as torchreid prints a video dataset."""
    t = store.tracklets
    rule = "  " + "-" * 58
    lines = [f"=> {store.meta.dataset} ({store.path})", rule,
             f"  {'subset':<8} | {'# ids':>6} | {'# tracklets':>11} | {'# cameras':>9} | {'# frames':>9}", rule]
    for role in ROLES:
        chosen = t.of_role(role)
        lines.append(f"  {role:<8} | {len(np.unique(t.pid[chosen])):>6} | {len(chosen):>11} | "
                     f"{len(np.unique(t.camid[chosen])):>9} | {int(t.frame_count[chosen].sum()):>9}")
    return [*lines, rule]


def parameter_count(model: nn.Module) -> str:
    total = sum(p.numel() for p in model.parameters())
    return f"{total / 1e6:.2f} M parameters" if total >= 1e5 else f"{total:,} parameters"


def cost(model: nn.Module, seq_len: int, height: int, width: int) -> str:
    """Parameters and forward FLOPs per clip: what a user compares when choosing a backbone."""
    flops = clip_flops(model, seq_len, height, width)
    return (f"{parameter_count(model)}, {flops / 1e9:.2f} GFLOPs per clip "
            f"({seq_len} frames of {height}x{width}, forward)")


def run_header(cfg, store: StoreReader, model: nn.Module, device: torch.device, world_size: int) -> list[str]:
    where = f"{device}" + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda"
                           else f" ({torch.get_num_threads()} threads)")
    ranks = f", {world_size} ranks" if world_size > 1 else ""
    return [
        f"reid train: device {where}{ranks}; run folder {cfg.out}",
        f"model {cfg.model} ({cfg.backbone}, {cfg.aggregate} aggregation, attention layer {cfg.attention_layer}): "
        f"{cost(model, cfg.seq_len, store.meta.height, store.meta.width)}; weights: {cfg.init_from or cfg.pretrained}",
        f"batches of {cfg.identities_per_batch} identities x {cfg.instances} clips of {cfg.seq_len} frames, "
        f"{counted(cfg.epochs, 'epoch')}, lr {cfg.lr:g}"
        f"{f' (attention layers x{cfg.attention_lr_factor:g})' if cfg.attention_lr_factor != 1 else ''}",
        *dataset_table(store),
    ]


def cpu_warning(cfg, device: torch.device) -> str | None:
    """A ResNet-50-sized backbone on a CPU takes hours per epoch on a real dataset: say so, and what to pass instead."""
    if device.type != "cpu" or cfg.backbone not in SLOW_ON_CPU:
        return None
    return (f"warning: training {cfg.backbone} on the CPU is slow (hours per epoch on MARS); pass --device cuda "
            "on a GPU machine, or --backbone resnet_tiny --pretrained none --feature-dim 256 for a quick CPU try")
