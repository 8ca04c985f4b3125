"""Ctrl-C during ``flowprep extract``: a real SIGINT to the command's whole process group (as a terminal sends it),
while worker processes compute flow; one line comes back, saying how to resume, and the run resumes."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from flowprep.store import open_store
from flowprep.synth import write_dataset
from helpers_signals import interrupt_when

FLAGS = ["--size", "64x32", "--flow", "dis", "--workers", "2", "--flush-every", "0", "--quiet"]


@pytest.fixture(scope="module")
def larger_mars(tmp_path_factory) -> Path:
    """A synthetic MARS large enough that the pool is still busy when the first part is written."""
    root = tmp_path_factory.mktemp("mars-interrupt") / "mars"
    write_dataset("mars", root, identities=10, cameras=3, seed=2)
    return root


def test_ctrl_c_prints_one_line_with_the_resume_command_and_the_run_resumes(larger_mars, tmp_path):
    store = tmp_path / "mars.h5"
    args = ["extract", "--dataset", "mars", "--root", str(larger_mars), "--out", str(store), *FLAGS]
    parts = Path(f"{store}.parts")
    stopped = interrupt_when([sys.executable, "-m", "flowprep.cli", *args], lambda: bool(list(parts.glob("part-*.h5"))))
    assert stopped.returncode == 130, stopped.stderr  # not finished before the signal: an interrupted run
    lines = [line for line in stopped.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stopped.stderr  # no worker traceback, no joblib warning
    assert lines[0].startswith(f"flowprep: interrupted; the finished tracklets are kept in {store}.parts: "
                               "continue with flowprep extract ")
    assert lines[0].endswith(" --resume") and not store.exists()

    again = shlex.split(lines[0].split(" continue with ")[1])
    assert again[:2] == ["flowprep", "extract"]
    resumed = subprocess.run([sys.executable, "-m", "flowprep.cli", *again[1:]], capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "tracklets were already done" in resumed.stdout
    with open_store(store) as reader:
        assert len(reader.tracklets) == reader.meta.dataset_tracklets
