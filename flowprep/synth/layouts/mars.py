"""The MARS layout: bbox_{train,test}/<pid>/<name>.jpg, name lists and MATLAB track info."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from flowprep.synth.layouts.common import PLAN_STREAM, renumbered, stream, studio_for
from flowprep.synth.matlab import save_mat
from flowprep.synth.plan import Keys, Shot, multi_camera_people, tracklet_length, with_extreme_lengths
from flowprep.synth.specs import LayoutSpec
from flowprep.synth.studio import Studio


def track_info_matrix(rows: list[list[int]]) -> np.ndarray:
    """Track-info rows as the release stores them: int32, (N, 4)."""
    return np.array(rows, dtype=np.int32).reshape(-1, 4)


def query_idx_row(indices) -> np.ndarray:
    """1-based query rows as the release stores them: one uint16 row (uint32 past uint16's range)."""
    indices = np.asarray(indices, dtype=np.int64).reshape(1, -1)
    return indices.astype(np.uint16 if indices.size == 0 or indices.max() <= np.iinfo(np.uint16).max else np.uint32)


def _pid_text(pid: int) -> str:
    return "00-1" if pid == -1 else f"{pid:04d}"


def _prefix(shot: Shot) -> str:
    return f"{_pid_text(shot.pid)}C{shot.camid}T{shot.number:04d}"


def write(out: Path, spec: LayoutSpec, *, identities: int, cameras: int, seed: int) -> list[Shot]:
    rng, keys = stream(seed, PLAN_STREAM), Keys()
    distractors, junk_count = max(1, identities // 8), max(2, identities // 8)  # junk in both subsets
    people = multi_camera_people(rng, identities, cameras, keys, queries_per_person="all-but-anchor")
    strays = [
        Shot(pid, int(rng.integers(1, cameras + 1)), 0, tracklet_length(rng), identities + i, keys(), role)
        for i, (pid, role) in enumerate([(0, "gallery")] * distractors + [(-1, None)] * junk_count)
    ]
    shots = renumbered(with_extreme_lengths(rng, people + strays))
    junk = [shot for shot in shots if shot.pid == -1]
    in_train = {shot.key for shot in shots if shot.role == "train"}
    in_train |= {shot.key for shot in junk[: max(1, len(junk) // 3)]}

    studio = studio_for(seed, spec, identities, distractors + junk_count)
    _write_subset(out, "train", [s for s in shots if s.key in in_train], studio)
    test_rows = _write_subset(out, "test", [s for s in shots if s.key not in in_train], studio)
    query_idx = [row for row, shot in enumerate(test_rows, start=1) if shot.role == "query"]
    save_mat(out / "info" / "query_IDX.mat", {"query_IDX": query_idx_row(query_idx)})
    return shots


def _write_subset(out: Path, subset: str, shots: list[Shot], studio: Studio) -> list[Shot]:
    """Frames, the name list (sorted, as in the release) and track info rows; returns shots in row order."""
    shots = sorted(shots, key=_prefix)
    names: list[str] = []
    rows = []
    for shot in shots:
        frame_names = [f"{_prefix(shot)}F{i:03d}.jpg" for i in range(1, shot.length + 1)]
        studio.write(shot, [out / f"bbox_{subset}" / _pid_text(shot.pid) / name for name in frame_names])
        rows.append([len(names) + 1, len(names) + len(frame_names), shot.pid, shot.camid])
        names.extend(frame_names)
    info = out / "info"
    info.mkdir(parents=True, exist_ok=True)
    (info / f"{subset}_name.txt").write_text("".join(f"{name}\n" for name in names))
    save_mat(info / f"tracks_{subset}_info.mat", {f"track_{subset}_info": track_info_matrix(rows)})
    return shots
