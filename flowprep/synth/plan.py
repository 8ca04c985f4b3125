"""What a synthetic dataset contains, decided before anything is drawn: one Shot per tracklet."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import numpy as np

SHORTEST, LONG = 1, 101  # every set has a 1-frame and a >100-frame tracklet: consumers must handle both
LONGEST = 128


@dataclass(frozen=True)
class Shot:
    """One tracklet to render, and what the dataset's adapter should make of it.

    ``role`` is the role the adapter returns (for split 0 where splits exist);
    None means the adapter drops it (junk, persons seen by one camera only).
    """

    pid: int  # > 0 a person, 0 a MARS distractor, -1 MARS junk
    camid: int
    number: int  # 1-based tracklet number of this pid in this camera
    length: int
    look: int  # index of the Identity drawn
    key: int  # unique per shot; seeds its rendering
    role: str | None
    outfit: int = -1  # MEVID: which of the person's outfits (a look of its own); -1 elsewhere

    @property
    def misaligned(self) -> bool:
        """Junk is a detector failure: the box misses most of the person."""
        return self.pid == -1


def tracklet_length(rng: np.random.Generator) -> int:
    """Log-normal, median 12 frames, clipped to 1..LONGEST: mostly short, a long tail, like MARS."""
    return int(np.clip(round(math.exp(rng.normal(math.log(12), 0.85))), SHORTEST, LONGEST))


def with_extreme_lengths(rng: np.random.Generator, shots: list[Shot]) -> list[Shot]:
    """Make one kept tracklet a single frame and another longer than 100 frames."""
    kept = [i for i, shot in enumerate(shots) if shot.role is not None]
    if len(kept) < 2:
        return shots
    short, long = rng.choice(kept, size=2, replace=False).tolist()
    shots = list(shots)
    shots[short] = replace(shots[short], length=SHORTEST)
    shots[long] = replace(shots[long], length=int(rng.integers(LONG, LONGEST + 1)))
    return shots


class Keys:
    """Hands out the unique rendering keys, so a shot's pixels do not depend on the order of rendering."""

    def __init__(self) -> None:
        self._counter = itertools.count()

    def __call__(self) -> int:
        return next(self._counter)


def multi_camera_people(
    rng: np.random.Generator, identities: int, cameras: int, keys: Keys, *, queries_per_person: str
) -> list[Shot]:
    """MARS/Duke-style people: pids 1..identities, half train / half test, each seen by 2..4 cameras.

    A test person keeps all tracklets of one "anchor" camera in the gallery, so every
    query has a cross-camera match; ``queries_per_person`` is "one" (Duke: a single query)
    or "all-but-anchor" (MARS: the first tracklet of every other camera is a query).
    """
    order = rng.permutation(np.arange(1, identities + 1))
    test = set(order[: identities // 2].tolist())
    shots = []
    for pid in range(1, identities + 1):
        camera_count = int(rng.integers(2, min(cameras, 4) + 1))
        seen_by = sorted((rng.choice(cameras, size=camera_count, replace=False) + 1).tolist())
        anchor = seen_by[int(rng.integers(len(seen_by)))]
        query_cameras = [c for c in seen_by if c != anchor]
        if queries_per_person == "one":
            query_cameras = query_cameras[:1]
        for camid in seen_by:
            for number in range(1, 2 + int(rng.random() < 0.3)):
                if pid not in test:
                    role = "train"
                else:
                    role = "query" if camid in query_cameras and number == 1 else "gallery"
                shots.append(Shot(pid, camid, number, tracklet_length(rng), pid - 1, keys(), role))
    return shots


def two_camera_person(rng: np.random.Generator, pid: int, look: int, keys: Keys, *, is_test: bool) -> list[Shot]:
    """iLIDS/PRID-style: one sequence in each of two cameras; a test person is queried from camera 1."""
    roles = ("query", "gallery") if is_test else ("train", "train")
    return [Shot(pid, camid, 1, tracklet_length(rng), look, keys(), role) for camid, role in enumerate(roles, 1)]
