"""Multi-node training on a real SLURM cluster: slurm-train-multinode.sbatch, unchanged, submitted with
sbatch as docs/cluster.md shows (resources set on the command line: one "GPU", so one process, per node).
Two nodes with one process each must train exactly the run that one node with two processes trains
(torchrun-train.sh, the single-node launcher the docs show; the same global batch, sliced the same way;
gloo on the CPU, --deterministic), and a job cancelled after an
epoch and submitted again must continue from its checkpoint to the same weights. (One process on one
node is a different computation, for the reasons tests/test_distributed.py gives; docs/cluster.md shows
its numbers beside these.)
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from cluster.conftest import CLUSTER, REPO, Slurm, log_text
from helpers_store import write_tiny_store
from reid.engine.checkpoint import load_checkpoint
from test_distributed import TRAIN, cli_flags

pytestmark = pytest.mark.cluster

EPOCHS = 3
FLAGS = cli_flags({**{k: v for k, v in TRAIN.items() if k != "workers"}, "epochs": EPOCHS})


def submit(slurm: Slurm, work: Path, store: Path, out: str, nodes: int, per_node: int) -> str:
    """Submit from the repository root, as the template asks; the log goes to ``work``, not the checkout.
    One thread a process: torchrun sets that itself when it starts several processes on a node, but leaves
    a lone process all the cores, and a different thread count sums in a different order."""
    done = slurm.run("sbatch", "--parsable", f"--nodes={nodes}", f"--gpus-per-node={per_node}",
                     f"--cpus-per-task={per_node}", f"--output={work}/reid-train-%j.log",
                     f"--export=ALL,OMP_NUM_THREADS=1,STORE={store},OUT={work / out},GPUS_PER_NODE={per_node},"
                     f"RDZV_PORT={slurm.port()}",
                     str(CLUSTER / "slurm-train-multinode.sbatch"), *FLAGS, cwd=REPO)
    return done.stdout.strip()


def submit_one_node(slurm: Slurm, work: Path, store: Path, out: str, processes: int) -> str:
    """torchrun-train.sh as docs/cluster.md runs it on one node (--standalone), inside a one-node job."""
    launcher = f"bash pipelines/cluster/torchrun-train.sh {work / out} --store {store} --workers 1 {' '.join(FLAGS)}"
    done = slurm.run("sbatch", "--parsable", "--nodes=1", f"--gpus-per-node={processes}", f"--output={work}/%j.log",
                     f"--export=ALL,OMP_NUM_THREADS=1,NPROC_PER_NODE={processes}", f"--wrap={launcher}", cwd=REPO)
    return done.stdout.strip()


def finished(slurm: Slurm, work: Path, job: str, run: str) -> Path:
    assert slurm.states(job) == {job: "COMPLETED"}, log_text(work, f"*{job}.log")
    return work / run


def weights(run: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(run / "last.pt")["model"]


def metrics(run: Path) -> list[dict[str, str]]:
    """metrics.csv without the throughput column, which depends on the machine's load."""
    with open(run / "metrics.csv", newline="") as f:
        return [{k: v for k, v in row.items() if k != "train/clips_per_s"} for row in csv.DictReader(f)]


@pytest.fixture(scope="module")
def runs(slurm, tmp_path_factory) -> dict[str, Path]:
    """Three runs submitted together: 2 nodes x 1 process (slurm-train-multinode.sbatch), 1 node x 2
    processes (torchrun-train.sh), and 2 nodes x 1 process cancelled once its first epoch's checkpoint is
    written, then submitted again."""
    work = tmp_path_factory.mktemp("train")
    store = write_tiny_store(work / "tiny.h5", identities=8)
    jobs = {"2x1": submit(slurm, work, store, "2x1", 2, 1), "1x2": submit_one_node(slurm, work, store, "1x2", 2)}
    cancelled = submit(slurm, work, store, "resumed", 2, 1)
    slurm.wait(cancelled, until=lambda: (work / "resumed" / "last.pt").exists())
    slurm.run("scancel", cancelled, cwd=work)
    slurm.wait(cancelled)
    interrupted_at = load_checkpoint(work / "resumed" / "last.pt")["epoch"]
    assert slurm.states(cancelled) == {cancelled: "CANCELLED"} and interrupted_at < EPOCHS, interrupted_at
    jobs["resumed"] = submit(slurm, work, store, "resumed", 2, 1)  # the same submission again
    slurm.wait(*jobs.values())
    return {run: finished(slurm, work, job, run) for run, job in jobs.items()}


def test_two_nodes_train_what_one_node_trains_with_the_same_global_batch(runs):
    assert "2 ranks" in (runs["2x1"] / "train.log").read_text()
    two_nodes, one_node = weights(runs["2x1"]), weights(runs["1x2"])
    assert two_nodes.keys() == one_node.keys()
    assert all(torch.equal(two_nodes[k], one_node[k]) for k in two_nodes)
    assert metrics(runs["2x1"]) == metrics(runs["1x2"])
    assert len(metrics(runs["2x1"])) == EPOCHS and metrics(runs["2x1"])[-1]["eval/mAP"]


def test_cancelled_job_submitted_again_resumes_from_its_checkpoint(runs):
    assert "resumed from epoch" in (runs["resumed"] / "train.log").read_text()
    resumed, uninterrupted = weights(runs["resumed"]), weights(runs["2x1"])
    assert all(torch.equal(resumed[k], uninterrupted[k]) for k in uninterrupted)
    assert metrics(runs["resumed"]) == metrics(runs["2x1"])
