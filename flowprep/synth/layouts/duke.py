"""The DukeMTMC-VideoReID layout: {train,query,gallery}/<pid>/<tracklet>/<frame>.jpg.

Frame names follow the release as distributed today (``0001_C6_F0001_X30823.jpg``) or, with
``frame_names="older"``, older copies (``0001C6F0001X30823.jpg``); the adapter reads both.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from flowprep.synth.layouts.common import NAMES_STREAM, PLAN_STREAM, stream, studio_for
from flowprep.synth.plan import Keys, Shot, multi_camera_people, tracklet_length, with_extreme_lengths
from flowprep.synth.specs import LayoutSpec


FRAME_NAME_FORMS = {
    "current": "{pid:04d}_C{camid}_F{frame:04d}_X{video_frame:05d}.jpg",
    "older": "{pid:04d}C{camid}F{frame:04d}X{video_frame:05d}.jpg",
}


def write(
    out: Path, spec: LayoutSpec, *, identities: int, cameras: int, seed: int, frame_names: str = "current"
) -> list[Shot]:
    """Half the people train, half test (one query each), plus gallery-only people as in the release."""
    rng, keys = stream(seed, PLAN_STREAM), Keys()
    gallery_only = max(1, identities // 8)
    shots = multi_camera_people(rng, identities, cameras, keys, queries_per_person="one")
    for i in range(gallery_only):
        pid = identities + 1 + i
        shots += [
            Shot(pid, camid, 1, tracklet_length(rng), identities + i, keys(), "gallery")
            for camid in sorted(rng.choice(cameras, size=int(rng.integers(1, 3)), replace=False) + 1)
        ]
    shots = with_extreme_lengths(rng, shots)

    studio = studio_for(seed, spec, identities, gallery_only)
    video_frame = stream(seed, NAMES_STREAM).integers(0, 90_000, len(shots))
    folders: Counter[int] = Counter()
    for shot, first in zip(shots, video_frame.tolist()):
        folders[shot.pid] += 1
        folder = out / shot.role / f"{shot.pid:04d}" / f"{folders[shot.pid]:04d}"
        form = FRAME_NAME_FORMS[frame_names]
        names = [
            form.format(pid=shot.pid, camid=shot.camid, frame=i, video_frame=first + i)
            for i in range(1, shot.length + 1)
        ]
        studio.write(shot, [folder / name for name in names])
    return shots
