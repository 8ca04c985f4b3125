"""A synthetic MARS with the real tracklet structure, read from an official ``info/`` folder.

The official metadata fixes every tracklet's identity, camera and length, which rows are junk
(pid -1) and distractors (pid 0), and which test rows are queries; this module keeps all of
that (or a random fraction of the identities) and draws the frames with ``FastRenderer``, so a
full-size MARS (1.19 M frames) can be written in minutes to measure how the pipeline scales.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flowprep.datasets.matfile import load_integer_matrix, load_integer_vector
from flowprep.errors import DatasetError, FlowprepError
from flowprep.synth.fast import FastRenderer
from flowprep.synth.layouts.common import renumbered
from flowprep.synth.layouts.mars import _pid_text, _prefix, query_idx_row, track_info_matrix
from flowprep.synth.matlab import save_mat
from flowprep.synth.plan import Shot
from flowprep.synth.summary import SynthSummary

SUBSETS = ("train", "test")
SAMPLE_STREAM = 13  # the seed's sub-stream that picks the fraction


@dataclass(frozen=True)
class MarsStructure:
    """The official track info of both subsets (rows ``[start, end, pid, camid]``) and the 1-based query rows."""

    tracks: dict[str, np.ndarray]
    query_rows: np.ndarray

    @classmethod
    def read(cls, info: Path) -> MarsStructure:
        if not info.is_dir():
            raise DatasetError(f"{info}: no such info folder (expected tracks_train_info.mat, tracks_test_info.mat, "
                               "query_IDX.mat)")
        tracks = {}
        for subset in SUBSETS:
            path = info / f"tracks_{subset}_info.mat"
            if not path.is_file():
                raise DatasetError(f"{path}: missing (an official MARS info folder holds it)")
            rows = load_integer_matrix(path, f"track_{subset}_info", columns=4)
            lengths = rows[:, 1] - rows[:, 0] + 1
            bad = np.flatnonzero((lengths < 1) | (rows[:, 3] < 1) | (rows[:, 3] > 9) | (rows[:, 2] < -1))
            if bad.size:
                raise DatasetError(f"{path}: row {bad[0] + 1} ({rows[bad[0]].tolist()}) is not [start, end, pid, camid] "
                                   "with start <= end, pid >= -1 and camera 1..9")
            tracks[subset] = rows
        path = info / "query_IDX.mat"
        if not path.is_file():
            raise DatasetError(f"{path}: missing (an official MARS info folder holds it)")
        query_rows = load_integer_vector(path, "query_IDX")
        outside = query_rows[(query_rows < 1) | (query_rows > len(tracks["test"]))]
        if outside.size:
            raise DatasetError(f"{path}: query_IDX holds {int(outside[0])}, outside the {len(tracks['test'])} test tracks")
        return cls(tracks, query_rows)

    def sample(self, fraction: float, seed: int) -> MarsStructure:
        """A random ``fraction`` of each subset's identities (all their tracklets) and of its junk and
        distractor tracklets, so every kept query keeps its gallery matches."""
        if not 0 < fraction <= 1:
            raise FlowprepError(f"--fraction must be in (0, 1], got {fraction}")
        if fraction == 1:
            return self
        rng = np.random.default_rng([seed, SAMPLE_STREAM])
        kept_rows = {}
        for subset in SUBSETS:
            pids = self.tracks[subset][:, 2]
            people = np.unique(pids[pids > 0])
            chosen = rng.choice(people, size=max(1, round(fraction * len(people))), replace=False)
            keep = np.isin(pids, chosen)
            strays = np.flatnonzero(pids <= 0)
            keep[rng.choice(strays, size=round(fraction * len(strays)), replace=False)] = True
            kept_rows[subset] = np.flatnonzero(keep)
        test_rows = kept_rows["test"]
        new_row = np.full(len(self.tracks["test"]), -1)
        new_row[test_rows] = np.arange(1, len(test_rows) + 1)
        queries = new_row[self.query_rows - 1]
        return MarsStructure({s: self.tracks[s][kept_rows[s]] for s in SUBSETS}, queries[queries > 0])


def write_like(info: Path, out: Path, *, fraction: float, frame_size: tuple[int, int], seed: int) -> SynthSummary:
    """Write a MARS dataset into the new or empty ``out`` with the structure of the official ``info`` folder."""
    structure = MarsStructure.read(info).sample(fraction, seed)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FlowprepError(f"{out}: exists and is not an empty directory; synth writes a fresh dataset")
    renderer = FastRenderer(seed, frame_size)
    queries = set((structure.query_rows - 1).tolist())
    shots: list[Shot] = []
    for subset in SUBSETS:
        subset_shots = renumbered(
            Shot(pid, camid, 0, end - start + 1, look=0, key=len(shots) + row, role=_role(subset, pid, row in queries))
            for row, (start, end, pid, camid) in enumerate(structure.tracks[subset].tolist())
        )
        _write_subset(out, subset, subset_shots, renderer)
        shots.extend(subset_shots)
    save_mat(out / "info" / "query_IDX.mat", {"query_IDX": query_idx_row(structure.query_rows)})
    cameras = int(max(rows[:, 3].max() for rows in structure.tracks.values()))
    return SynthSummary.of("mars", out, seed, cameras, shots)


def implied_names(rows: np.ndarray) -> list[str]:
    """The name list a MARS track-info table implies, as the release's lists hold it: row k's frames
    are names start..end, ``<pid>C<cam>T<track>F<frame>.jpg``, tracks numbered per (person, camera)."""
    shots = renumbered(Shot(pid, camid, 0, end - start + 1, look=0, key=row, role=None)
                       for row, (start, end, pid, camid) in enumerate(rows.tolist()))
    return [f"{_prefix(shot)}F{i:03d}.jpg" for shot in shots for i in range(1, shot.length + 1)]


def _role(subset: str, pid: int, is_query: bool) -> str | None:
    """The role the MARS adapter (standard protocol) gives a row; None for junk, which it drops."""
    if pid == -1:
        return None
    if subset == "train":
        return "train"
    return "query" if is_query and pid != 0 else "gallery"


def _write_subset(out: Path, subset: str, shots: list[Shot], renderer: FastRenderer) -> None:
    """Frames, the name list and track info, in the official row order."""
    info = out / "info"
    info.mkdir(parents=True, exist_ok=True)
    rows, first = [], 1
    with open(info / f"{subset}_name.txt", "w", encoding="utf-8") as names:
        for shot in shots:
            frame_names = [f"{_prefix(shot)}F{i:03d}.jpg" for i in range(1, shot.length + 1)]
            folder = out / f"bbox_{subset}" / _pid_text(shot.pid)
            renderer.write(shot, [folder / name for name in frame_names])
            names.write("".join(f"{name}\n" for name in frame_names))
            rows.append([first, first + shot.length - 1, shot.pid, shot.camid])
            first += shot.length
    save_mat(info / f"tracks_{subset}_info.mat", {f"track_{subset}_info": track_info_matrix(rows)})
