"""Pieces every layout writer uses: seeded streams, the cast of identities, tracklet numbering."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Iterable

import numpy as np

from flowprep.synth.identity import sample_identities, sample_identity
from flowprep.synth.plan import Shot
from flowprep.synth.specs import LayoutSpec
from flowprep.synth.studio import Studio

PLAN_STREAM, LOOKS_STREAM, NAMES_STREAM = 10, 11, 12


def stream(seed: int, which: int) -> np.random.Generator:
    """An independent random stream of ``seed``, so changing one part of the plan leaves the others alone."""
    return np.random.default_rng([seed, which])


def studio_for(seed: int, spec: LayoutSpec, people: int, strangers: int) -> Studio:
    """A studio whose looks are ``people`` identities (some clothing twins), then ``strangers`` one-offs
    for distractors, junk and single-camera persons."""
    rng = stream(seed, LOOKS_STREAM)
    looks = sample_identities(rng, people) + [sample_identity(rng) for _ in range(strangers)]
    return Studio(seed, looks, spec.frame_size)


def renumbered(shots: Iterable[Shot]) -> list[Shot]:
    """Number each pid's tracklets 1, 2, ... per camera, in list order."""
    seen: Counter[tuple[int, int]] = Counter()
    result = []
    for shot in shots:
        seen[shot.pid, shot.camid] += 1
        result.append(replace(shot, number=seen[shot.pid, shot.camid]))
    return result
