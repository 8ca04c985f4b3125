"""Where the flow-guided attention looks, like the paper's Fig. 5.

For one clip, one row per frame: the frame, its colour-coded flow, the image stream's
activation at the attention layer without and with attention, and the attention map M.

The activation is the mean over channels of the image stream's feature map. The map
entering the attention is caught by a forward hook on the image backbone's stage at the
attention layer, so no model code changes; the attended map is that map times M
(``ModelOutput.attention``), which is exactly what both attention models compute
(eq. 5 for mutual attention, eq. 11 for the gate). Activations are scaled to their own
range in each panel (they show where the stream is active, not how strongly); M is drawn
on the fixed scale 0..1, the range of a sigmoid, so its panels compare across frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch import nn

from flowreid.flowcolor import flow_to_rgb
from reid.data.device import prepare_batch
from reid.errors import ReidError
from reid.visualize.canvas import MIN_CELL_WIDTH, column, display_scale, enlarge, labelled, row

COLUMNS = ("frame", "flow", "no attention", "attention", "M")
HEAT_WEIGHT = 0.5


@dataclass(frozen=True)
class AttentionMaps:
    """One clip's inputs and maps; every map is (T, h, w) at the attention layer's resolution."""

    frames: np.ndarray  # (T, H, W, 3) RGB uint8
    flows: np.ndarray  # (T, 2, H, W) pixels
    before: np.ndarray  # channel mean of the image features entering the attention
    after: np.ndarray  # channel mean of the same features times M
    attention: np.ndarray  # M


def _attention_stage(model: nn.Module) -> nn.Module:
    """The image backbone's stage whose output the attention multiplies."""
    config = getattr(model, "config", {})
    name, layer = config.get("name", type(model).__name__), config.get("attention_layer")
    image_net = getattr(model, "image_net", None)
    stage = image_net.stages()[layer - 1] if image_net is not None and layer is not None else None
    if not isinstance(stage, nn.Module):
        raise ReidError(f"model {name}: cannot reach the image stream's layer {layer} to show its activations")
    return stage


@torch.no_grad()
def attention_maps(model: nn.Module, frames: np.ndarray, flows: np.ndarray, device: torch.device) -> AttentionMaps:
    """Run one clip (RGB uint8 frames (T, H, W, 3), flow (T, 2, H, W)) and collect its maps."""
    stage = _attention_stage(model)
    caught: list[torch.Tensor] = []
    handle = stage.register_forward_hook(lambda module, inputs, output: caught.append(output.detach()))
    try:
        images = torch.from_numpy(np.ascontiguousarray(frames.transpose(0, 3, 1, 2)))[None]
        images, flow_batch = prepare_batch(images, torch.from_numpy(flows)[None], device)
        output = model.eval()(images, flow_batch)
    finally:
        handle.remove()
    if output.attention is None:
        raise ReidError(f"model {model.config['model']} has no attention to show "
                        "(only mutual-attention and gated-attention models have one)")
    features = caught[0]  # [T, C, h, w]: the stage runs once per forward
    attention = output.attention[0].float()  # [T, 1, h, w]
    return AttentionMaps(
        frames=frames,
        flows=flows,
        before=features.mean(dim=1).cpu().numpy(),
        after=(features * attention).mean(dim=1).cpu().numpy(),
        attention=attention[:, 0].cpu().numpy(),
    )


def heat_overlay(frame: np.ndarray, heat: np.ndarray, low: float, high: float) -> np.ndarray:
    """``heat`` (h, w) scaled from [low, high] to the jet colour map, resized and blended over ``frame``."""
    scaled = np.clip((heat - low) / (high - low) if high > low else np.zeros_like(heat), 0, 1)
    resized = cv2.resize(scaled.astype(np.float32), (frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_LINEAR)
    colours = cv2.cvtColor(cv2.applyColorMap(np.rint(resized * 255).astype(np.uint8), cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    return cv2.addWeighted(frame, 1 - HEAT_WEIGHT, colours, HEAT_WEIGHT, 0)


def attention_picture(maps: AttentionMaps) -> np.ndarray:
    """A title row, then per frame: frame | flow | activation without | with attention | M."""
    scale = display_scale(maps.frames.shape[1])
    speed = float(np.hypot(maps.flows[:, 0], maps.flows[:, 1]).max())
    width = max(MIN_CELL_WIDTH, maps.frames.shape[2] * scale)
    rows = [row([labelled(np.zeros((0, width, 3), np.uint8), [title], width) for title in COLUMNS])]
    for t, frame in enumerate(maps.frames):
        panels = [
            frame,
            flow_to_rgb(maps.flows[t], max_magnitude=speed),
            heat_overlay(frame, maps.before[t], float(maps.before[t].min()), float(maps.before[t].max())),
            heat_overlay(frame, maps.after[t], float(maps.after[t].min()), float(maps.after[t].max())),
            heat_overlay(frame, maps.attention[t], 0.0, 1.0),
        ]
        rows.append(row([labelled(enlarge(panel, scale), [], width) for panel in panels]))
    return column(rows)
