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


def write_dataset(
    layout: str,
    out: str | os.PathLike,
    *,
    identities: int,
    cameras: int,
    seed: int,
    frame_names: str | None = None,
) -> SynthSummary:
    """Write a complete ``layout`` dataset (images and metadata) into the new or empty directory ``out``.

    ``frame_names`` picks one of the layout's naming forms (``LayoutSpec.frame_name_forms``, Duke's
    ``current`` or ``older``); None is the layout's default.
    """
    from flowprep.synth.layouts import WRITERS  # deferred: pulls in OpenCV

    spec = layout_spec(layout, identities, cameras, frame_names)
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FlowprepError(f"{out}: exists and is not an empty directory; synth writes a fresh dataset")
    out.mkdir(parents=True, exist_ok=True)
    naming = {"frame_names": frame_names} if frame_names is not None else {}
    shots = WRITERS[layout](out, spec, identities=identities, cameras=cameras, seed=seed, **naming)
    return SynthSummary.of(layout, out, seed, cameras, shots)


__all__ = ["LAYOUTS", "LayoutSpec", "SynthSummary", "write_dataset"]
