"""``reid train`` under DDP: 2 CPU processes (gloo) under torchrun, checked against one process.

What "checked" means. Two ranks cannot reproduce a 1-process run on the whole batch bit
for bit, and should not be expected to: each rank's BatchNorm normalises with its own
half-batch statistics (SyncBatchNorm is CUDA-only) and its batch-hard triplet looks for
the hardest pairs among its own half. What DDP promises is narrower and exact: every
rank draws the same global P x K batch, keeps its own slice of identities, and the
gradient that every rank applies is the mean of the per-rank gradients; rank 0's BN
running statistics (which DDP broadcasts before each forward) come from rank 0's slices.

So the reference is one process that does exactly that by hand: for each global batch
of the sampler, it runs rank 0's slice and rank 1's slice one after the other on the same
model, backpropagates each half's loss divided by 2 (gradients accumulate to the mean),
keeps the BN buffers from rank 0's slice only, then takes one optimiser step. It runs on
one thread, as each torchrun rank does, so its sums run in the same order. After 2 epochs
(4 steps, warm-up and augmentation on, --deterministic) the weights and BN buffers rank 0
saved must equal the reference's to 1e-6 (on this machine they are bit-identical).

This fails if the ranks draw different global batches, get the wrong, swapped or
overlapping slices, or skip the gradient all-reduce (no DDP wrapper): the
controls at the end train such broken runs by hand and show that they end up thousands
of times the tolerance away (1e-2 to 1e0 on this machine).
(Adam is nearly invariant to the scale of the gradient, so a sum in place of the mean
would go unnoticed; the averaging is PyTorch's, not ours.)
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Callable, Iterator

import pytest
import torch
from torch.utils.data import default_collate

from helpers_store import write_tiny_store
from reid.data.device import prepare_batch
from reid.engine.checkpoint import load_checkpoint
from reid.engine.config import TrainConfig
from reid.engine.trainer import Trainer

WORLD_SIZE = 2
TOLERANCE = 1e-6
# 8 identities x 2 train tracklets, batches of 4 identities x 2: 2 global batches an epoch,
# each rank gets 2 identities x 2 clips, so its triplet loss has positives and negatives
TRAIN = dict(
    model="mutual-attention", backbone="resnet_tiny", pretrained="none", feature_dim=64, identities_per_batch=4,
    instances=2, epochs=2, warmup_epochs=1, lr=1e-3, eval_every=0, device="cpu", workers=0, amp="off",
    deterministic=True, seed=0, quiet=True,
)

RankSlices = Callable[[list[int]], list[list[int]]]


def cli_flags(settings: dict) -> list[str]:
    """The ``reid train`` flags for TrainConfig settings (booleans are flags)."""
    flags = []
    for key, value in settings.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            flags.append(flag)
        elif value is not False:
            flags += [flag, str(value)]
    return flags


@contextmanager
def buffers_kept(model: torch.nn.Module) -> Iterator[None]:
    """Undo the BN running-statistics updates made inside: DDP keeps rank 0's buffers."""
    saved = {name: buffer.clone() for name, buffer in model.named_buffers()}
    yield
    with torch.no_grad():
        for name, buffer in model.named_buffers():
            buffer.copy_(saved[name])


def hand_sharded_run(store: Path, out: Path, rank_slices: RankSlices,
                     losses: list[float] | None = None) -> dict[str, torch.Tensor]:
    """Train in one process as DDP ranks that got ``rank_slices(global batch)`` would; return the weights.

    ``losses`` receives each epoch's mean loss over every slice of every batch.
    """
    trainer = Trainer(TrainConfig(store=str(store), out=str(out), **TRAIN))
    trainer.setup()  # seeds and sets the determinism switches as a run does
    try:
        return train_by_hand(trainer, rank_slices, losses)
    finally:
        trainer.teardown()


def train_by_hand(trainer: Trainer, rank_slices: RankSlices, losses: list[float] | None) -> dict[str, torch.Tensor]:
    model, optimizer = trainer.model, trainer.optimizer
    model.train()
    for epoch in range(trainer.cfg.epochs):
        trainer.sampler.set_epoch(epoch)  # a 1-process sampler: its batches are the global batches
        slice_losses = []
        for batch in trainer.sampler.global_batches():
            optimizer.zero_grad(set_to_none=True)
            slices = rank_slices(batch)
            for rank, indices in enumerate(slices):
                with buffers_kept(model) if rank else nullcontext():
                    images, flows, labels = default_collate([trainer.dataset[(i, epoch)] for i in indices])
                    images, flows = prepare_batch(images, flows, trainer.device)
                    loss, _ = trainer.loss(model(images, flows), labels)
                    (loss / len(slices)).backward()
                    slice_losses.append(loss.item())
            optimizer.step()
        trainer.scheduler.step()
        if losses is not None:
            losses.append(sum(slice_losses) / len(slice_losses))
    return model.state_dict()


def ddp_slices(batch: list[int]) -> list[list[int]]:
    share = len(batch) // WORLD_SIZE
    return [batch[r * share : (r + 1) * share] for r in range(WORLD_SIZE)]


def largest_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max((a[k].double() - b[k].double()).abs().max().item() for k in a)


@pytest.fixture
def one_thread() -> Iterator[None]:
    """torchrun gives each rank one thread; the reference uses one too."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return write_tiny_store(tmp_path_factory.mktemp("ddp") / "tiny.h5", identities=8)


@pytest.fixture(scope="module")
def ddp_run(store, tmp_path_factory) -> Path:
    """The run folder of ``torchrun --nproc-per-node 2 -m reid.cli train`` on the CPU."""
    out = tmp_path_factory.mktemp("ddp") / "run"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(WORLD_SIZE),
               "-m", "reid.cli", "train", "--store", str(store), "--out", str(out), *cli_flags(TRAIN)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo"}  # ranks talk over loopback only
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{out}: trained 2 epochs" in done.stdout
    assert done.stdout.count("trained 2 epochs") == 1  # only rank 0 reports
    return out


@pytest.fixture(scope="module")
def ddp_weights(ddp_run) -> dict[str, torch.Tensor]:
    """Rank 0's last.pt: the weights every rank ended with."""
    return load_checkpoint(ddp_run / "last.pt")["model"]


def test_two_ranks_equal_one_process_running_both_slices(store, ddp_run, ddp_weights, tmp_path, one_thread):
    losses: list[float] = []
    reference = hand_sharded_run(store, tmp_path / "reference", ddp_slices, losses)
    untrained = Trainer(TrainConfig(store=str(store), out=str(tmp_path / "untrained"), **TRAIN))
    assert largest_difference(ddp_weights, untrained.model.state_dict()) > 1000 * TOLERANCE  # it did train
    assert largest_difference(ddp_weights, reference) < TOLERANCE
    # the logged loss is the mean over both ranks' slices, not rank 0's half alone
    with open(ddp_run / "metrics.csv", newline="") as handle:
        logged = [float(row["train/total"]) for row in csv.DictReader(handle)]
    assert logged == pytest.approx(losses, rel=1e-5)


@pytest.mark.parametrize("broken", [
    pytest.param(lambda batch: ddp_slices(batch)[:1], id="each-rank-alone-no-gradient-averaging"),
    pytest.param(lambda batch: [batch], id="every-rank-takes-the-whole-batch"),
    pytest.param(lambda batch: ddp_slices(batch)[::-1], id="ranks-swap-slices"),
    pytest.param(lambda batch: ddp_slices(batch)[:1] * WORLD_SIZE, id="ranks-share-one-slice"),
])
def test_the_check_tells_broken_sharding_apart(store, ddp_weights, tmp_path, one_thread, broken: RankSlices):
    broken_weights = hand_sharded_run(store, tmp_path / "broken", broken)
    assert largest_difference(ddp_weights, broken_weights) > 1000 * TOLERANCE
