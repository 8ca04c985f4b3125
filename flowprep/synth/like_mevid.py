"""A synthetic MEVID with the tracklet structure of an official annotation folder.

The annotation's track-info tables fix every tracklet's person, outfit, camera and length, and
``query_IDX.txt`` the queries; this keeps all of that (or a random fraction of the persons, all
their tracklets) and draws the frames with ``FastRenderer``, to measure the pipeline at MEVID's
size (about 10 M frames) without the footage.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from flowprep.datasets.mevid import INFO_COLUMNS, load_text_rows
from flowprep.errors import DatasetError, FlowprepError
from flowprep.synth.fast import FastRenderer
from flowprep.synth.layouts.common import renumbered
from flowprep.synth.layouts.mevid import write_tables
from flowprep.synth.plan import Shot
from flowprep.synth.summary import SynthSummary

SUBSETS = ("train", "test")
SAMPLE_STREAM = 14  # the seed's sub-stream that picks the fraction


def read_structure(folder: Path) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each subset's rows ``[start, end, pid, outfit, camera]`` and the 0-based query rows."""
    tables = {}
    for subset in SUBSETS:
        path = folder / f"track_{subset}_info.txt"
        if not path.is_file():
            raise DatasetError(f"{path}: missing (an official MEVID annotation folder holds it)")
        tables[subset] = load_text_rows(path, INFO_COLUMNS)
    path = folder / "query_IDX.txt"
    if not path.is_file():
        raise DatasetError(f"{path}: missing (an official MEVID annotation folder holds it)")
    query = load_text_rows(path, None).reshape(-1)
    if ((query < 0) | (query >= len(tables["test"]))).any():
        raise DatasetError(f"{path}: holds rows outside the {len(tables['test'])} test rows (0-based)")
    return tables, query


def sample(tables: dict[str, np.ndarray], query: np.ndarray, fraction: float, seed: int):
    """A random ``fraction`` of each subset's persons with all their rows; the kept queries renumbered."""
    if not 0 < fraction <= 1:
        raise FlowprepError(f"--fraction must be in (0, 1], got {fraction}")
    if fraction == 1:
        return tables, query
    rng = np.random.default_rng([seed, SAMPLE_STREAM])
    kept = {}
    for subset in SUBSETS:
        pids = tables[subset][:, 2]
        people = np.unique(pids)
        chosen = rng.choice(people, size=max(1, round(fraction * len(people))), replace=False)
        kept[subset] = np.flatnonzero(np.isin(pids, chosen))
    new_row = np.full(len(tables["test"]), -1)
    new_row[kept["test"]] = np.arange(len(kept["test"]))
    queries = new_row[query]
    return {s: tables[s][kept[s]] for s in SUBSETS}, queries[queries >= 0]


def write_like(folder: Path, out: Path, *, fraction: float, frame_size: tuple[int, int], seed: int) -> SynthSummary:
    """Write a MEVID dataset into the new or empty ``out`` with the structure of the annotation ``folder``."""
    tables, query = sample(*read_structure(folder), fraction, seed)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FlowprepError(f"{out}: exists and is not an empty directory; synth writes a fresh dataset")
    renderer, queries, shots = FastRenderer(seed, frame_size), set(query.tolist()), []
    for subset in SUBSETS:
        subset_shots = renumbered(
            Shot(pid, camid, 0, max(0, end - start + 1), look=0, key=len(shots) + row, outfit=outfit,
                 role=None if pid == -1 or end < start else
                 "train" if subset == "train" else "query" if row in queries else "gallery")
            for row, (start, end, pid, outfit, camid) in enumerate(tables[subset].tolist())
        )
        write_tables(out, subset, subset_shots, renderer, start_of={shot.key: 1 for shot in subset_shots},
                     in_name_order=False)
        shots.extend(subset_shots)
    np.savetxt(out / "query_IDX.txt", query.astype(np.float64))
    return SynthSummary.of("mevid", out, seed, len({s.camid for s in shots}), shots)
