"""The LS-VID layout: tracklet_{train,test}/<pid>/<track>_<frame>_<camera>_<n>.jpg, the sequence lists
and the MATLAB v7.3 query file.

Each list line is ``tracklet_<subset>/<pid>/<track>_ <pid>``: the prefix that finds the tracklet's
frames, whose names carry the camera in their third ``_`` field; ``test/data/info_test.mat`` holds
the 1-based test rows of the queries as ``query`` (HDF5, read with h5py). A few junk rows (pid -1)
are listed in the test list, as the readers expect.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from flowprep.synth.layouts.common import PLAN_STREAM, renumbered, stream, studio_for
from flowprep.synth.matlab import save_mat73
from flowprep.synth.plan import Keys, Shot, multi_camera_people, tracklet_length, with_extreme_lengths
from flowprep.synth.specs import LayoutSpec


def _track_id(shot: Shot) -> str:
    return f"{max(shot.pid, 0):04d}{shot.camid:02d}{shot.number:02d}{'J' if shot.pid == -1 else ''}"


def write(out: Path, spec: LayoutSpec, *, identities: int, cameras: int, seed: int) -> list[Shot]:
    rng, keys = stream(seed, PLAN_STREAM), Keys()
    people = multi_camera_people(rng, identities, cameras, keys, queries_per_person="one")
    junk = [Shot(-1, int(rng.integers(1, cameras + 1)), 0, tracklet_length(rng), identities + i, keys(), None)
            for i in range(max(1, identities // 10))]
    shots = renumbered(with_extreme_lengths(rng, people + junk))
    studio = studio_for(seed, spec, identities, len(junk))
    lists = out / "list_sequence"
    lists.mkdir(parents=True, exist_ok=True)
    test_rows = []
    for subset in ("train", "test"):
        mine = [s for s in shots if (s.role == "train") == (subset == "train") and (s.pid != -1 or subset == "test")]
        lines = []
        for shot in mine:
            folder = f"tracklet_{subset}/{max(shot.pid, 0):04d}"
            prefix = f"{folder}/{_track_id(shot)}_"
            paths = [out / f"{prefix}{frame:04d}_{shot.camid:02d}_{frame % 7:03d}.jpg" for frame in range(1, shot.length + 1)]
            studio.write(shot, paths)
            lines.append(f"{prefix} {shot.pid}\n")
        (lists / f"list_seq_{subset}.txt").write_text("".join(lines))
        if subset == "test":
            test_rows = mine
    query = [row for row, shot in enumerate(test_rows, start=1) if shot.role == "query"]
    save_mat73(out / "test" / "data" / "info_test.mat", {"query": np.array([query], dtype=np.float64).T})
    return shots
