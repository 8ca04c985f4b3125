"""The MEVID layout: bbox_{train,test}/<pid>/<name>.jpg and the text metadata in the root.

Names are ``<pid:04>O<outfit:03>C<camera:03>T<track:03>F<frame:05>.jpg``, frame numbers are video
frames; track info rows ``start end pid outfit camera`` are 0-based into the name list and, like
the release's, written in scientific notation; ``query_IDX.txt`` holds 0-based test rows. A person
wears one to three outfits (same body and gait, other clothes); every test person is queried in
one outfit and camera, and the gallery holds the same outfit in another camera and, for people with
several outfits, the changed outfits too, so both clothes conditions of the evaluation have matches.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from flowprep.synth.identity import sample_identity
from flowprep.synth.layouts.common import LOOKS_STREAM, NAMES_STREAM, PLAN_STREAM, renumbered, stream
from flowprep.synth.plan import Keys, Shot, tracklet_length, with_extreme_lengths
from flowprep.synth.specs import LayoutSpec
from flowprep.synth.studio import Studio

FIRST_CAMERA = 300  # MEVID's cameras are numbered like 330 or 507


def _prefix(shot: Shot) -> str:
    return f"{max(shot.pid, 0):04d}O{max(shot.outfit, 0):03d}C{shot.camid:03d}T{shot.number:03d}"


def write(out: Path, spec: LayoutSpec, *, identities: int, cameras: int, seed: int) -> list[Shot]:
    rng, keys = stream(seed, PLAN_STREAM), Keys()
    test = set((rng.permutation(identities) + 1)[: identities // 2].tolist())
    shots, looks = [], []
    looks_rng = stream(seed, LOOKS_STREAM)
    camera_ids = FIRST_CAMERA + 1 + rng.choice(99, size=cameras, replace=False)
    for pid in range(1, identities + 1):
        person = sample_identity(looks_rng)
        for outfit in range(1, int(rng.integers(1, 4)) + 1):
            looks.append(person if outfit == 1 else replace(person, clothing=sample_identity(looks_rng).clothing))
            seen_by = sorted(rng.choice(camera_ids, size=int(rng.integers(2, min(cameras, 3) + 1)), replace=False))
            for index, camid in enumerate(seen_by):
                role = "train" if pid not in test else ("query" if outfit == 1 and index == 0 else "gallery")
                shots.append(Shot(pid, int(camid), 0, tracklet_length(rng), len(looks) - 1, keys(), role, outfit))
    shots = renumbered(with_extreme_lengths(rng, shots))
    studio = Studio(seed, looks, spec.frame_size)
    first_frame = stream(seed, NAMES_STREAM).integers(0, 90_000, len(shots))
    start_of = dict(zip((shot.key for shot in shots), first_frame.tolist()))
    write_tables(out, "train", [s for s in shots if s.role == "train"], studio, start_of)
    test_rows = write_tables(out, "test", [s for s in shots if s.role != "train"], studio, start_of)
    query_idx = [row for row, shot in enumerate(test_rows) if shot.role == "query"]
    np.savetxt(out / "query_IDX.txt", np.array(query_idx, dtype=np.float64))
    return shots


def write_tables(out: Path, subset: str, shots: list[Shot], renderer, start_of: dict[int, int], *,
                 in_name_order: bool = True) -> list[Shot]:
    """Frames, the name list and track info rows (tracklets in name order, or as given); returns the
    shots in row order. A junk row (pid -1) is written under person 0000, whose name the adapter
    never checks; a row of no frame spans no name."""
    shots = sorted(shots, key=_prefix) if in_name_order else shots
    names: list[str] = []
    rows = []
    for shot in shots:
        first = start_of[shot.key]
        frame_names = [f"{_prefix(shot)}F{first + i:05d}.jpg" for i in range(max(0, shot.length))]
        renderer.write(shot, [out / f"bbox_{subset}" / f"{max(shot.pid, 0):04d}" / name for name in frame_names])
        rows.append([len(names), len(names) + len(frame_names) - 1, shot.pid, shot.outfit, shot.camid])
        names.extend(frame_names)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{subset}_name.txt").write_text("".join(f"{name}\n" for name in names))
    np.savetxt(out / f"track_{subset}_info.txt", np.array(rows, dtype=np.float64).reshape(-1, 5))
    return shots
