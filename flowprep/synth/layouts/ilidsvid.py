"""The iLIDS-VID layout: i-LIDS-VID/sequences/cam{1,2}/personNNN/*.png and the ls_set split matrix."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from flowprep.datasets.base import NUM_SPLITS
from flowprep.synth.layouts.common import NAMES_STREAM, PLAN_STREAM, stream, studio_for
from flowprep.synth.matlab import save_mat
from flowprep.synth.plan import Keys, Shot, two_camera_person, with_extreme_lengths
from flowprep.synth.specs import LayoutSpec


def write(out: Path, spec: LayoutSpec, *, identities: int, cameras: int, seed: int) -> list[Shot]:
    """Every person in both cameras; person numbers have gaps, as in the release, so that ls_set
    indexes the sorted folder list rather than person numbers."""
    rng, keys = stream(seed, PLAN_STREAM), Keys()
    numbers = np.arange(1, identities + identities // 10 + 2)
    persons = sorted(rng.choice(numbers, size=identities, replace=False).tolist())
    ls_set = np.stack([rng.permutation(identities) + 1 for _ in range(NUM_SPLITS)])
    test = {persons[index - 1] for index in ls_set[0, : identities // 2].tolist()}

    shots: list[Shot] = []
    for look, pid in enumerate(persons):
        shots += two_camera_person(rng, pid, look, keys, is_test=pid in test)
    shots = with_extreme_lengths(rng, shots)

    studio = studio_for(seed, spec, identities, 0)
    first_frame = stream(seed, NAMES_STREAM).integers(0, 2_000, len(shots))
    sequences = out / "i-LIDS-VID" / "sequences"
    for shot, first in zip(shots, first_frame.tolist()):
        stem = f"cam{shot.camid}_person{shot.pid:03d}"
        folder = sequences / f"cam{shot.camid}" / f"person{shot.pid:03d}"
        studio.write(shot, [folder / f"{stem}_{first + i:05d}.png" for i in range(shot.length)])
    save_mat(out / "train-test people splits" / "train_test_splits_ilidsvid.mat", {"ls_set": ls_set.astype(np.float64)})
    return shots
