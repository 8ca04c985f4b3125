"""pipelines/demo.sh, shortened (1 epoch, 16 identities): it runs end to end and prints its table once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1] / "pipelines" / "demo.sh"


@pytest.mark.slow
def test_the_demo_ends_with_its_table_printed_once(tmp_path):
    env = {**os.environ, "DEMO_EPOCHS": "1", "DEMO_IDENTITIES": "16", "OMP_NUM_THREADS": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}  # this checkout's commands
    result = subprocess.run(["bash", str(DEMO), str(tmp_path / "demo")], env=env, capture_output=True, timeout=600)
    assert result.returncode == 0, result.stderr.decode()
    assert b"\r" not in result.stderr  # bytes: text mode would read a carriage return as a newline
    lines = result.stdout.decode().splitlines()
    assert sum(line.startswith("metric ") for line in lines) == 1, result.stdout.decode()
    assert [line.split()[0] for line in lines[-6:]] == ["rank-1", "rank-5", "rank-10", "rank-20", "mAP", "mINP"]
    assert lines[-7].startswith("metric ") and "standard protocol" in lines[-7]
    assert (tmp_path / "demo" / "run" / "best.pt").is_file()
