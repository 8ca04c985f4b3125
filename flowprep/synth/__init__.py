"""Synthetic video ReID datasets in the official layouts, so that the real adapters read them unchanged.

People are articulated walking figures whose identity lies in clothing, body
shape and gait; cameras differ in background clutter, distractors, lighting,
scale and viewpoint; detector boxes jitter and people get occluded. Output is
byte-identical for the same arguments.
"""

from __future__ import annotations

import os
from pathlib import Path

from flowprep.errors import FlowprepError
from flowprep.synth.specs import LAYOUTS, LayoutSpec, layout_spec
from flowprep.synth.summary import SynthSummary


def write_dataset(layout: str, out: str | os.PathLike, *, identities: int, cameras: int, seed: int) -> SynthSummary:
    """Write a complete ``layout`` dataset (images and metadata) into the new or empty directory ``out``."""
    from flowprep.synth.layouts import WRITERS  # deferred: pulls in OpenCV

    spec = layout_spec(layout, identities, cameras)
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FlowprepError(f"{out}: exists and is not an empty directory; synth writes a fresh dataset")
    out.mkdir(parents=True, exist_ok=True)
    shots = WRITERS[layout](out, spec, identities=identities, cameras=cameras, seed=seed)
    return SynthSummary.of(layout, out, seed, cameras, shots)


__all__ = ["LAYOUTS", "LayoutSpec", "SynthSummary", "write_dataset"]
