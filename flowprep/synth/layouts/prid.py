"""The PRID2011 multi-shot layout: prid_2011/multi_shot/cam_{a,b}/person_NNNN/NNNN.png."""

from __future__ import annotations

from pathlib import Path

from flowprep.datasets.prid import SHARED_PERSONS, generated_splits
from flowprep.synth.layouts.common import PLAN_STREAM, stream, studio_for
from flowprep.synth.plan import Keys, Shot, two_camera_person, tracklet_length, with_extreme_lengths
from flowprep.synth.specs import LayoutSpec

CAMERA_FOLDERS = {1: "cam_a", 2: "cam_b"}


def write(out: Path, spec: LayoutSpec, *, identities: int, cameras: int, seed: int) -> list[Shot]:
    """Persons 1..identities in both cameras; like the release, each camera also has people of its own,
    numbered from 201, whom the adapter must ignore (cam_b has more of them)."""
    rng, keys = stream(seed, PLAN_STREAM), Keys()
    test = set(generated_splits(range(1, identities + 1))[0].test)
    shots: list[Shot] = []
    for pid in range(1, identities + 1):
        shots += two_camera_person(rng, pid, pid - 1, keys, is_test=pid in test)
    loners = [(1, i) for i in range(max(1, identities // 4))] + [(2, i) for i in range(max(2, identities // 2))]
    shots += [
        Shot(SHARED_PERSONS + 1 + i, camid, 1, tracklet_length(rng), identities + look, keys(), None)
        for look, (camid, i) in enumerate(loners)
    ]
    shots = with_extreme_lengths(rng, shots)

    studio = studio_for(seed, spec, identities, len(loners))
    multi_shot = out / "prid_2011" / "multi_shot"
    for shot in shots:
        folder = multi_shot / CAMERA_FOLDERS[shot.camid] / f"person_{shot.pid:04d}"
        studio.write(shot, [folder / f"{i:04d}.png" for i in range(1, shot.length + 1)])
    return shots
