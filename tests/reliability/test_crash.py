"""Crash consistency: ``flowprep extract``, ``flowprep merge`` and ``reid train`` killed with SIGKILL at
named points in their code, then resumed to the uninterrupted result.

Each run is a real child process started with ``FLOWREID_KILL_AT=<point>`` (``flowreid.killpoints``):
it kills itself there, the same moment on every machine, so every test checks the moment it names.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from flowprep.cli import main as flowprep_main
from flowprep.store import open_store, write_store
from flowprep.store.verify import verify
from flowreid.killpoints import ENV_VAR
from reid.engine.checkpoint import load_checkpoint
from storetools import store_content

from .conftest import CHILD_ENV, extract_command, run_cli, train_command

TRAIN_EPOCHS = 3


def run_killed_at(point: str, command: list[str]) -> None:
    """Run ``command`` as a child that kills itself at ``point``, and check that it did."""
    child = subprocess.run(command, env={**CHILD_ENV, ENV_VAR: point}, capture_output=True, text=True)
    assert child.returncode == -signal.SIGKILL, f"not killed at {point} (exit {child.returncode}): {child.stderr}"


def assert_only_whole_stores(out: Path) -> None:
    """After a kill: every part of the journal is a complete store, and the store is absent or complete."""
    for part in out.with_name(out.name + ".parts").glob("*.h5"):
        verify(part)
    if out.exists():
        verify(out)


# flowprep extract writes one journal part per tracklet (--flush-every 0), then assembles the store in the journal
EXTRACT_POINTS = [
    "store.tracklet-written",  # mid-part: the first part's temporary file holds a tracklet, unfinished
    "parts.part-written:3",  # three parts written
    "store.block-copied:2",  # assembling: two parts copied into the final file
    "parts.before-rename",  # the final store complete inside the journal, not yet renamed into place
    "parts.after-rename",  # the store in place, the journal not yet removed
    "parts.part-removed",  # the journal half removed: parts with gaps next to the finished store
]


@pytest.mark.parametrize("point", EXTRACT_POINTS)
def test_extract_killed_at_a_point_resumes_to_the_uninterrupted_store(point, mars_root, mars_reference, tmp_path):
    out = tmp_path / "mars.h5"
    run_killed_at(point, extract_command(mars_root, out))
    assert_only_whole_stores(out)
    resumed = run_cli(flowprep_main, extract_command(mars_root, out, "--resume")[3:])
    assert resumed.code == 0, resumed.err
    assert store_content(out) == store_content(mars_reference)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mars.h5"], "a killed run left files behind"


@pytest.fixture(scope="module")
def shards(mars_reference, tmp_path_factory) -> list[Path]:
    """The reference store cut into the 2 shards ``extract --shard i/2`` writes (by the hash of each name)."""
    folder = tmp_path_factory.mktemp("shards")
    paths = []
    with open_store(mars_reference) as reader:
        for index in range(2):
            mine = [i for i, name in enumerate(reader.tracklets.name) if zlib.crc32(name.encode()) % 2 == index]
            skipped = tuple(s for s in reader.meta.skipped_tracklets if zlib.crc32(s[0].encode()) % 2 == index)
            meta = replace(reader.meta, shard=f"{index}/2", skipped_tracklets=skipped)
            paths.append(folder / f"shard{index}.h5")
            write_store(paths[-1], meta, [reader.encoded_tracklet(i) for i in mine])
    return paths


MERGE_POINTS = [
    "store.tracklet-written:3",  # mid-merge: three tracklets in the temporary file
    "atomic.before-rename",  # the merged store complete, not yet renamed into place
]


@pytest.mark.parametrize("point", MERGE_POINTS)
def test_merge_killed_at_a_point_leaves_no_store_and_reruns_to_the_whole_store(point, shards, mars_reference,
                                                                              tmp_path):
    out = tmp_path / "merged.h5"
    args = ["merge", str(out), *map(str, shards)]
    run_killed_at(point, [sys.executable, "-m", "flowprep.cli", *args])
    assert not out.exists()
    rerun = run_cli(flowprep_main, args)
    assert rerun.code == 0, rerun.err
    assert store_content(out) == store_content(mars_reference)


def logged_epochs(run_dir: Path) -> list[int]:
    """The epochs in metrics.csv, in file order, each as often as it was logged (not per scalar)."""
    path = run_dir / "metrics.csv"
    lines = path.read_text().splitlines()[1:] if path.exists() else []
    steps = [int(line.split(",")[0]) for line in lines]
    return [step for i, step in enumerate(steps) if i == 0 or steps[i - 1] != step]


@pytest.fixture(scope="module")
def uninterrupted_run(tiny_store, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("uninterrupted")
    straight = subprocess.run(train_command(tiny_store, out, TRAIN_EPOCHS), env=CHILD_ENV, capture_output=True,
                              text=True)
    assert straight.returncode == 0, straight.stderr
    return out


# checkpoint saves of epoch 2 (of 3): killed before its rename the run resumes after epoch 1, after it after epoch 2
TRAIN_POINTS = {"checkpoint.before-rename:2": 1, "checkpoint.after-rename:2": 2}


@pytest.mark.parametrize("point", TRAIN_POINTS)
def test_train_killed_at_a_point_resumes_to_the_uninterrupted_weights(point, tiny_store, uninterrupted_run, tmp_path):
    run_killed_at(point, train_command(tiny_store, tmp_path, TRAIN_EPOCHS))
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == TRAIN_POINTS[point]
    resumed = subprocess.run(train_command(tiny_store, tmp_path, TRAIN_EPOCHS, "--resume"), env=CHILD_ENV,
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    expected, got = load_checkpoint(uninterrupted_run / "last.pt"), load_checkpoint(tmp_path / "last.pt")
    assert got["epoch"] == expected["epoch"] == TRAIN_EPOCHS
    assert logged_epochs(tmp_path) == logged_epochs(uninterrupted_run) == list(range(1, TRAIN_EPOCHS + 1))
    assert expected["model"].keys() == got["model"].keys()
    differing = [key for key, tensor in expected["model"].items() if not torch.equal(tensor, got["model"][key])]
    assert not differing, f"weights differ from the uninterrupted run: {differing[:5]}"
