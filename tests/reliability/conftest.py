"""What the reliability tests share: a small synthetic MARS and its reference store, a tiny store and
checkpoint, and a way to run either command line in this process and see exactly what a user would.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from helpers_store import train_tiny_checkpoint, write_tiny_store

# the extraction every crash, disk and concurrency test runs: small frames, fast flow, a journal part per tracklet
EXTRACT_FLAGS = ["--workers", "1", "--flush-every", "0", "--size", "64x32", "--flow", "dis",
                 "--flow-param", "preset=ultrafast", "--quiet"]
TRAIN_FLAGS = ["--backbone", "resnet_tiny", "--pretrained", "none", "--feature-dim", "64",
               "--identities-per-batch", "3", "--instances", "2", "--workers", "0", "--device", "cpu",
               "--eval-every", "0", "--warmup-epochs", "0", "--quiet"]
# one thread per child process: two cores are shared, and both runs of a comparison must compute alike
CHILD_ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def extract_command(root: Path, out: Path, *extra: str) -> list[str]:
    """``flowprep extract`` of the synthetic MARS as a child process (so it can be killed for real)."""
    return [sys.executable, "-m", "flowprep.cli", "extract", "--dataset", "mars", "--root", str(root),
            "--out", str(out), *EXTRACT_FLAGS, *extra]


def train_command(store: Path, out: Path, epochs: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "reid.cli", "train", "--store", str(store), "--out", str(out),
            "--epochs", str(epochs), "--deterministic", *TRAIN_FLAGS, *extra]


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def run_cli(main: Callable[[], None], args: list, err: io.StringIO | None = None) -> CliResult:
    """Run ``flowprep.cli.main`` or ``reid.cli.main`` here, as the installed script would run.

    Any exception the command line does not turn into its one-line error escapes and fails the test
    with its traceback, which is exactly what a user must never see. ``err`` replaces stderr (e.g. one
    that says it is a terminal).
    """
    out, err = io.StringIO(), err or io.StringIO()
    argv, sys.argv = sys.argv, [main.__module__, *map(str, args)]
    code = 0
    try:
        with redirect_stdout(out), redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = argv
    return CliResult(code, out.getvalue(), err.getvalue())


def assert_one_line_error(result: CliResult, *fragments: str) -> str:
    """Exit code 2, exactly one line on stderr, no traceback, and the line names what is wrong."""
    text = result.out + result.err
    assert result.code == 2, f"exit code {result.code}: {text}"
    assert "Traceback" not in text, text
    assert len(result.err_lines) == 1, result.err
    line = result.err_lines[0]
    for fragment in fragments:
        assert str(fragment) in line, f"{fragment!r} not in {line!r}"
    return line


@pytest.fixture(scope="package", autouse=True)
def one_torch_thread():
    """Tiny models in this process train ten times faster on one thread of a shared two-core machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def mars_reference(mars_root, tmp_path_factory) -> Path:
    """An uninterrupted extraction: the store every interrupted one must equal."""
    out = tmp_path_factory.mktemp("reference") / "mars.h5"
    subprocess.run(extract_command(mars_root, out), check=True, env=CHILD_ENV, capture_output=True)
    return out


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory) -> Path:
    return write_tiny_store(tmp_path_factory.mktemp("tiny") / "tiny.h5")


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_store, tmp_path_factory) -> Path:
    """best.pt of a 2-epoch tiny mutual-attention run (resnet_tiny, feature dim 64)."""
    return train_tiny_checkpoint(tiny_store, tmp_path_factory.mktemp("tiny-run"))
