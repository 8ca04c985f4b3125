"""Ctrl-C during ``reid train`` with loader workers: a real SIGINT to the whole process group gives one line
saying how to resume, and no worker's traceback."""

from __future__ import annotations

import sys

from helpers_signals import interrupt_when

FLAGS = ["--backbone", "resnet_tiny", "--pretrained", "none", "--feature-dim", "32", "--identities-per-batch", "3",
         "--instances", "2", "--workers", "2", "--warmup-epochs", "0", "--eval-every", "0", "--quiet"]


def test_ctrl_c_with_loader_workers_prints_one_line_with_the_resume_command(store, tmp_path):
    run = tmp_path / "run"
    args = [sys.executable, "-m", "reid.cli", "train", "--store", str(store), "--out", str(run), "--epochs", "100000", *FLAGS]
    stopped = interrupt_when(args, (run / "last.pt").exists)
    assert stopped.returncode == 130, stopped.stderr
    assert stopped.stderr.splitlines() == [f"reid: interrupted; {run / 'last.pt'} holds the last finished epoch: "
                                           f"continue with reid train --out {run} --resume"]
