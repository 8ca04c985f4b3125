"""Every ``bash`` and ``python`` block of the README runs as written.

The blocks are found in README.md, not listed here, so a block added later is run too. They run in a
scratch folder laid out like the repository after ``bash pipelines/demo.sh``: the repository's
``configs/`` and ``pipelines/`` linked in, and ``demo-run/`` holding a store at the demo's frame size
(the tests' tiny store: 8 identities, 6-frame tracklets, instead of the synthetic MARS) and a run
trained on it with the demo's config for 1 epoch, so the whole file takes seconds, not the demo's minutes. Python blocks run in a fresh interpreter,
bash blocks in ``bash -euo pipefail`` with this interpreter's scripts first on the PATH.

A block that cannot run here (it installs packages, needs a real dataset, weights or GPUs) says so on
its first line, ``# not run by tests/test_readme.py: <why>``, visibly in the README; each one is
reported as skipped with that reason (``-ra`` prints them), never passed over in silence.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers_store import write_tiny_store
from reid.cli import main as reid_main
from reliability.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(?P<language>[^\n`]*)\n(?P<code>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
NOT_RUN = "# not run by tests/test_readme.py:"
RUNNABLE = ("bash", "python")
LINKED = ("configs", "pipelines")  # what the blocks may use from the repository root
IDENTITIES = 8  # the fewest the demo's batches of 8 identities take
BLOCK_SECONDS = 120  # a block stuck for this long fails instead of hanging the suite


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence in README.md
    language: str
    code: str

    @property
    def reason_not_run(self) -> str | None:
        first = self.code.lstrip().splitlines()[0] if self.code.strip() else ""
        return first[len(NOT_RUN):].strip() if first.startswith(NOT_RUN) else None

    def __str__(self) -> str:
        return f"README.md:{self.line}-{self.language or 'text'}"


def readme_blocks() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    return [Block(text.count("\n", 0, m.start()) + 1, m["language"].strip(), m["code"]) for m in FENCE.finditer(text)]


def test_every_fenced_block_is_code_the_test_runs_or_plain_output():
    """A block tagged sh, console or shell would escape this test: the README uses bash, python, or no tag
    (program output, the store's layout)."""
    blocks = readme_blocks()
    assert sum(b.language in RUNNABLE for b in blocks) >= 4
    assert [str(b) for b in blocks if b.language not in (*RUNNABLE, "")] == []


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """The scratch folder: the repository's configs and pipelines, and demo-run/ as the demo leaves it."""
    folder = tmp_path_factory.mktemp("readme")
    for name in LINKED:
        (folder / name).symlink_to(ROOT / name)
    store, run = write_tiny_store(folder / "demo-run" / "mars.h5", identities=IDENTITIES, height=64, width=32), \
        folder / "demo-run" / "run"
    trained = run_cli(reid_main, ["train", "--config", ROOT / "configs" / "demo-cpu.yaml", "--store", store,
                                  "--out", run, "--epochs", "1", "--workers", "0"])
    assert trained.code == 0, trained.err
    return folder


@pytest.mark.parametrize("block", [b for b in readme_blocks() if b.language in RUNNABLE], ids=str)
def test_readme_block_runs_as_written(block, request):
    if block.reason_not_run is not None:
        assert block.reason_not_run, f"{block}: say why the block is not run"
        pytest.skip(f"{block} not run here: {block.reason_not_run}")
    workdir = request.getfixturevalue("workdir")  # made only when a block runs
    command = [sys.executable, "-c", block.code] if block.language == "python" else \
        ["bash", "-euo", "pipefail", "-c", block.code]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=BLOCK_SECONDS)
    assert done.returncode == 0, f"{block} failed (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
