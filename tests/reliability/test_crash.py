"""Crash consistency: ``flowprep extract`` and ``reid train`` killed with SIGKILL at random points, then resumed.

Kills come from a seeded plan, each waiting for a moment worth hitting (a part file appearing, a part
or checkpoint being written, the final assembly, a random fraction of a measured run) so that they
land mid-run; a kill that only arrives after the run finished is counted apart and never counted as
survived.
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Callable

import torch

from flowprep.cli import main as flowprep_main
from flowprep.store.verify import verify
from flowprep.store import open_store, write_store
from reid.engine.checkpoint import load_checkpoint
from storetools import store_content

from .conftest import CHILD_ENV, extract_command, run_cli, train_command

KILL_SEED = 20260525
MIN_EXTRACT_KILLS = 5
MIN_TRAIN_KILLS = 3
TRAIN_EPOCHS = 8


def kill_when(process: subprocess.Popen, ready: Callable[[], bool], delay: float = 0.0) -> bool:
    """SIGKILL ``process`` once ``ready()`` holds, ``delay`` seconds later; True if it was still running."""
    deadline = time.monotonic() + 300
    while not ready():
        if process.poll() is not None:
            return False
        assert time.monotonic() < deadline, "the moment to kill never came"
        time.sleep(0.001)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    code = process.wait()
    assert code in (0, -signal.SIGKILL), process.communicate()[1]
    return code == -signal.SIGKILL


class ExtractRun:
    """One child ``flowprep extract`` and what can be seen of its progress on disk."""

    def __init__(self, root: Path, out: Path, *flags: str):
        self.out = out
        self.parts = out.with_name(out.name + ".parts")
        self.before = self.part_names()
        self.process = subprocess.Popen(extract_command(root, out, *flags), env=CHILD_ENV,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def part_names(self) -> set[str]:
        return {p.name for p in self.parts.glob("part-*.h5")}

    def new_parts(self) -> int:
        return len(self.part_names() - self.before)

    def writing_part(self) -> bool:
        return any(self.parts.glob(f".part-*.h5.tmp-{self.process.pid}"))

    def assembling(self) -> bool:
        return self.out.with_name(f".{self.out.name}.tmp-{self.process.pid}").exists() or self.out.exists()

    def where_it_landed(self) -> str:
        if self.assembling():
            return "final assembly"
        if self.writing_part():
            return "writing a part"
        return "between parts" if self.new_parts() else "start-up"


def extract_trigger(kind: str, run: ExtractRun, rng: random.Random,
                    run_seconds: float) -> tuple[Callable[[], bool], float]:
    """When to kill: (condition, delay after it) for one kind of planned kill."""
    if kind == "after-parts":
        wanted = rng.randint(1, 3)
        return (lambda: run.new_parts() >= wanted), rng.uniform(0.0, 0.03)
    if kind == "part-write":
        return run.writing_part, 0.0
    if kind == "assembly":
        return run.assembling, 0.0
    return (lambda: True), rng.uniform(0.2, 0.6) * run_seconds  # "timed"


def assert_no_half_files(run: ExtractRun) -> None:
    """After any kill: every part is a complete store, and the store is absent or complete."""
    for part in run.parts.glob("part-*.h5"):
        open_store(part).close()
    if run.out.exists():
        verify(run.out)


def test_extract_killed_at_random_points_resumes_to_the_uninterrupted_store(mars_root, mars_reference, tmp_path):
    rng = random.Random(KILL_SEED)
    plan = ["after-parts", "after-parts", "after-parts", "part-write", "part-write", "timed"]
    rng.shuffle(plan)
    plan.append("assembly")
    out = tmp_path / "killed.h5"
    landed: Counter[str] = Counter()
    finished_first = 0
    flags: tuple[str, ...] = ()
    for kind in plan:
        run = ExtractRun(mars_root, out, *flags)
        ready, delay = extract_trigger(kind, run, rng, mars_reference.seconds)
        if kill_when(run.process, ready, delay):
            landed[run.where_it_landed()] += 1
            assert_no_half_files(run)
            flags = ("--resume",)
        else:  # finished before the kill: a complete store, so the next run starts over
            finished_first += 1
            assert store_content(out) == store_content(mars_reference.store)
            flags = ("--overwrite",)
    final = subprocess.run(extract_command(mars_root, out, *flags), env=CHILD_ENV, capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    print(f"extract kills: {sum(landed.values())} mid-run {dict(landed)}, {finished_first} after completion")
    assert sum(landed.values()) >= MIN_EXTRACT_KILLS
    assert store_content(out) == store_content(mars_reference.store)
    assert not run.parts.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["killed.h5"], "a killed run left files behind"


def test_resume_after_a_kill_during_the_journals_removal(mars_root, mars_reference, tmp_path):
    """A kill while the finished run deletes its parts leaves a journal with gaps next to the store."""
    out = tmp_path / "mars.h5"
    shutil.copy(mars_reference.store, out)
    parts = out.with_name(out.name + ".parts")
    parts.mkdir()
    with open_store(mars_reference.store) as reader:
        meta = reader.meta
        for index, tracklets in ((1, range(2, 5)), (3, range(8, 12))):  # parts 0 and 2 already deleted
            write_store(parts / f"part-{index:06d}.h5", meta, [reader.encoded_tracklet(i) for i in tracklets])
    result = run_cli(flowprep_main, extract_command(mars_root, out, "--resume")[3:])
    assert result.code == 0, result.err
    assert "7 tracklets were already done" in result.out
    assert store_content(out) == store_content(mars_reference.store)


class TrainRun:
    """One child ``reid train`` and the checkpoints it has written, seen as replacements of last.pt."""

    def __init__(self, store: Path, out: Path, *flags: str):
        self.last = out / "last.pt"
        self.checkpoints, self._inode = 0, self._current_inode()
        self.process = subprocess.Popen(train_command(store, out, TRAIN_EPOCHS, *flags), env=CHILD_ENV,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def _current_inode(self) -> int | None:
        try:
            return self.last.stat().st_ino
        except FileNotFoundError:
            return None

    def new_checkpoints(self) -> int:
        inode = self._current_inode()
        if inode != self._inode:  # os.replace gives every checkpoint a new inode
            self.checkpoints, self._inode = self.checkpoints + 1, inode
        return self.checkpoints

    def writing_checkpoint(self) -> bool:
        return self.last.with_name(f".last.pt.tmp-{self.process.pid}").exists()


def logged_epochs(run_dir: Path) -> list[int]:
    """The epochs in metrics.csv, in file order, each as often as it was logged (not per scalar)."""
    path = run_dir / "metrics.csv"
    lines = path.read_text().splitlines()[1:] if path.exists() else []
    steps = [int(line.split(",")[0]) for line in lines]
    return [step for i, step in enumerate(steps) if i == 0 or steps[i - 1] != step]


def test_train_killed_at_random_points_resumes_to_the_uninterrupted_weights(tiny_store, tmp_path):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    started = time.time()
    uninterrupted = subprocess.Popen(train_command(tiny_store, straight, TRAIN_EPOCHS), env=CHILD_ENV,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    rng = random.Random(KILL_SEED)
    run = TrainRun(tiny_store, killed)
    assert kill_when(run.process, lambda: run.new_checkpoints() >= 1, rng.uniform(0.0, 0.3)), "finished too soon"
    survived = 1
    for kind in ("after-epochs", "checkpoint-write", "timed"):
        epoch = load_checkpoint(killed / "last.pt")["epoch"]
        run = TrainRun(tiny_store, killed, "--resume")
        if kind == "after-epochs":
            wanted = rng.randint(1, 2)
            ready, delay = (lambda: run.new_checkpoints() >= wanted), rng.uniform(0.0, 0.3)
        elif kind == "checkpoint-write":
            ready, delay = run.writing_checkpoint, 0.0
        else:  # a random moment within the uninterrupted run's duration (it ran alongside)
            assert uninterrupted.wait() == 0, uninterrupted.communicate()[1]
            run_seconds = (straight / "last.pt").stat().st_mtime - started
            ready, delay = (lambda: True), rng.uniform(0.3, 0.7) * run_seconds
        survived += kill_when(run.process, ready, delay)
        logged = logged_epochs(killed)
        assert logged == list(range(1, len(logged) + 1)), f"epochs logged twice or skipped: {logged}"
        assert len(logged) >= epoch, "the resumed run did not continue from last.pt"
        assert load_checkpoint(killed / "last.pt")["epoch"] >= epoch
    final = subprocess.run(train_command(tiny_store, killed, TRAIN_EPOCHS, "--resume"), env=CHILD_ENV,
                           capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    print(f"train kills: {survived} mid-run")
    assert survived >= MIN_TRAIN_KILLS

    assert uninterrupted.wait() == 0
    expected, got = load_checkpoint(straight / "last.pt"), load_checkpoint(killed / "last.pt")
    assert got["epoch"] == expected["epoch"] == TRAIN_EPOCHS
    assert logged_epochs(killed) == logged_epochs(straight) == list(range(1, TRAIN_EPOCHS + 1))
    assert expected["model"].keys() == got["model"].keys()
    differing = [key for key, tensor in expected["model"].items() if not torch.equal(tensor, got["model"][key])]
    assert not differing, f"weights differ from the uninterrupted run: {differing[:5]}"
