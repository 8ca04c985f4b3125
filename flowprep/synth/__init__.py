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
    silhouettes: str | os.PathLike | None = None,
) -> SynthSummary:
    """Write a complete ``layout`` dataset (images and metadata) into the new or empty directory ``out``.

    ``frame_names`` picks one of the layout's naming forms (``LayoutSpec.frame_name_forms``, Duke's
    ``current`` or ``older``); None is the layout's default. ``silhouettes``: a folder outside ``out``
    for each frame's person mask (``flowprep.synth.silhouettes``); the dataset's bytes do not change.
    """
    from flowprep.synth.layouts import WRITERS  # deferred: pulls in OpenCV
    from flowprep.synth.silhouettes import recording_silhouettes

    spec = layout_spec(layout, identities, cameras, frame_names)
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FlowprepError(f"{out}: exists and is not an empty directory; synth writes a fresh dataset")
    if silhouettes is not None and Path(silhouettes).resolve().is_relative_to(out.resolve()):
        raise FlowprepError(f"{silhouettes}: the silhouette folder must be outside the dataset folder {out}")
    out.mkdir(parents=True, exist_ok=True)
    naming = {"frame_names": frame_names} if frame_names is not None else {}
    with recording_silhouettes(out, None if silhouettes is None else Path(silhouettes)):
        shots = WRITERS[layout](out, spec, identities=identities, cameras=cameras, seed=seed, **naming)
    return SynthSummary.of(layout, out, seed, cameras, shots)


__all__ = ["LAYOUTS", "LayoutSpec", "SynthSummary", "write_dataset"]
