"""Where weight files are looked for when no flag names one (ImageNet backbones, LiteFlowNet); nothing is
ever downloaded."""

from __future__ import annotations

import os
from pathlib import Path


def weight_dirs() -> list[Path]:
    """``$REID_WEIGHTS`` (if set), then ``./weights``: the places users are told to put weight files."""
    dirs = [Path(os.environ["REID_WEIGHTS"])] if os.environ.get("REID_WEIGHTS") else []
    return dirs + [Path("weights")]


def find_weights(patterns: tuple[str, ...]) -> Path | None:
    """The first file matching one of ``patterns`` in the weight folders, or None."""
    for folder in weight_dirs():
        for pattern in patterns:
            hits = sorted(folder.glob(pattern)) if folder.is_dir() else []
            if hits:
                return hits[0]
    return None
