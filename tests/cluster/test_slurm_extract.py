"""Sharded extraction on a real SLURM cluster: slurm-extract-all.sh submits slurm-extract.sbatch as a job
array and slurm-merge.sbatch after it, unchanged, as docs/cluster.md tells a user to (CPU flow: the extra
flags go to `flowprep extract`). The merged store must equal one `flowprep extract` of the same dataset,
every frame and flow; a task cancelled mid-way must hold the merge back, and resubmitting the same
command must resume it.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from cluster.conftest import CLUSTER, Slurm, log_text
from flowprep.synth import write_dataset
from storetools import store_content

pytestmark = pytest.mark.cluster

FLOW = ["--size", "64x32", "--flow", "dis", "--flow-param", "preset=ultrafast"]


def one_process_store(root: Path, out: Path) -> Path:
    done = subprocess.run(["flowprep", "extract", "--dataset", "mars", "--root", str(root), "--out", str(out),
                           "--quiet", *FLOW], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return out


def submit(slurm: Slurm, root: Path, work: Path, shards: int, *flags: str, **env: str) -> tuple[str, str]:
    """Run slurm-extract-all.sh in ``work`` as the docs show; return the array job and the merge job."""
    done = slurm.run("bash", str(CLUSTER / "slurm-extract-all.sh"), str(shards), *FLOW, *flags, cwd=work,
                     DATASET="mars", ROOT=str(root), STORE_DIR="stores", **env)
    array_job, merge_job = re.search(r"job array (\d+) .*merge: job (\d+)", done.stdout).groups()
    return array_job, merge_job


def verify(store: Path) -> None:
    done = subprocess.run(["flowprep", "verify", str(store)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_array_and_dependent_merge_equal_one_process(slurm, mars_root, tmp_path):
    reference = one_process_store(mars_root, tmp_path / "one.h5")
    array_job, merge_job = submit(slurm, mars_root, tmp_path, 2)
    slurm.wait(array_job, merge_job)
    states = {**slurm.states(array_job), **slurm.states(merge_job)}
    assert set(states.values()) == {"COMPLETED"} and len(states) == 3, (states, log_text(tmp_path, "*.log"))
    merged = tmp_path / "stores" / "mars.h5"
    assert store_content(merged) == store_content(reference)
    verify(merged)


def test_cancelled_task_holds_the_merge_back_and_resumes(slurm, tmp_path):
    root = tmp_path / "mars"
    write_dataset("mars", root, identities=24, cameras=3, seed=2)  # shards that take seconds, not a blink
    reference = one_process_store(root, tmp_path / "one.h5")
    array_job, merge_job = submit(slurm, root, tmp_path, 3, "--flush-every", "0.2")
    journal = tmp_path / "stores" / "mars.shard1of3.h5.parts"
    slurm.wait(array_job, until=lambda: any(journal.glob("part-*.h5")))
    slurm.run("scancel", f"{array_job}_1", cwd=tmp_path)
    slurm.wait(array_job)
    states = slurm.states(array_job)
    assert states[f"{array_job}_1"] == "CANCELLED" and not (tmp_path / "stores" / "mars.shard1of3.h5").exists(), \
        (states, "the task finished before it was cancelled")
    done_before = len(list(journal.glob("part-*.h5")))
    # Slurm keeps the merge waiting (afterok can no longer be met), and flowprep merge refuses the set
    held = lambda: any("DependencyNeverSatisfied" in line for line in slurm.queued(merge_job))  # noqa: E731
    slurm.wait(merge_job, until=held, timeout=30)  # once the scheduler has looked at it again
    assert held(), slurm.queued(merge_job)
    shards = [str(tmp_path / "stores" / f"mars.shard{i}of3.h5") for i in range(3)]
    refused = subprocess.run(["flowprep", "merge", str(tmp_path / "early.h5"), *shards], capture_output=True, text=True)
    assert refused.returncode != 0 and "shard1of3" in refused.stderr, refused.stderr
    assert not (tmp_path / "early.h5").exists()
    slurm.run("scancel", merge_job, cwd=tmp_path)

    array_job, merge_job = submit(slurm, root, tmp_path, 3, "--flush-every", "0.2")  # the same command again
    slurm.wait(array_job, merge_job)
    states = {**slurm.states(array_job), **slurm.states(merge_job)}
    assert set(states.values()) == {"COMPLETED"}, (states, log_text(tmp_path, "*.log"))
    resumed = (tmp_path / f"flowprep-extract-{array_job}_1.log").read_text()
    assert re.search(r"; (\d+) tracklets were already done", resumed), resumed
    assert int(re.search(r"; (\d+) tracklets were already done", resumed).group(1)) >= done_before
    for finished in (0, 2):
        assert "already complete" in (tmp_path / f"flowprep-extract-{array_job}_{finished}.log").read_text()
    merged = tmp_path / "stores" / "mars.h5"
    assert store_content(merged) == store_content(reference)
    verify(merged)
