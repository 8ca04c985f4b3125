"""A real two-node SLURM cluster on this machine (pipelines/cluster/local-cluster.sh), for the tests that
submit the project's templates to it. It is started once per session, in its own folder and on its own
ports, and stopped at the end; every test module here is marked ``cluster`` (run with --cluster, as root).
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLUSTER = REPO / "pipelines" / "cluster"
JOB_TIMEOUT_S = 300


def _free_ports(count: int) -> int:
    """The first of ``count`` consecutive TCP ports that nothing listens on now."""
    for _ in range(100):
        first = random.randrange(20000, 30000)
        try:
            for port in range(first, first + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
    raise RuntimeError("no free TCP ports")


@dataclass
class Slurm:
    """Submits to the session's cluster and waits for jobs (no accounting here: squeue and scontrol)."""

    env: dict[str, str]

    def run(self, *command: str, cwd: Path, check: bool = True, **env: str) -> subprocess.CompletedProcess:
        done = subprocess.run(command, cwd=cwd, env={**self.env, **env}, capture_output=True, text=True)
        if check:
            assert done.returncode == 0, f"{' '.join(command)}: {done.stderr}{done.stdout}"
        return done

    def states(self, job: str) -> dict[str, str]:
        """Each task of ``job`` (an array has one per index) and its state, e.g. {"12_0": "COMPLETED"}."""
        text = self.run("scontrol", "-o", "show", "job", job, cwd=REPO, check=False).stdout
        states = {}
        for line in text.splitlines():
            fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
            array_task = "ArrayTaskId" in fields
            task = f"{fields['ArrayJobId']}_{fields['ArrayTaskId']}" if array_task else fields["JobId"]
            states[task] = fields["JobState"]
        return states

    def queued(self, job: str) -> list[str]:
        return self.run("squeue", "-h", "-r", "-j", job, "-o", "%i %T %r", cwd=REPO, check=False).stdout.splitlines()

    def wait(self, *jobs: str, until=None, timeout: float = JOB_TIMEOUT_S) -> None:
        """Until every job left the queue (or ``until()`` is true), failing after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while any(self.queued(job) for job in jobs) and not (until and until()):
            assert time.monotonic() < deadline, f"jobs {jobs} still queued after {timeout} s: {self.queued(jobs[0])}"
            time.sleep(0.2)

    def port(self) -> str:
        return str(_free_ports(1))


@pytest.fixture(scope="session")
def slurm(tmp_path_factory) -> Slurm:
    folder = tmp_path_factory.mktemp("slurm")
    env = {**os.environ, "FLOWREID_CLUSTER_DIR": str(folder), "FLOWREID_CLUSTER_PORT": str(_free_ports(3))}
    script = str(CLUSTER / "local-cluster.sh")
    started = time.monotonic()
    up = subprocess.run(["bash", script, "up"], env=env, capture_output=True, text=True)
    assert up.returncode == 0, up.stderr + up.stdout
    print(f"local SLURM cluster up in {time.monotonic() - started:.1f} s")
    try:
        yield Slurm({**env, "SLURM_CONF": str(folder / "slurm.conf")})
    finally:
        subprocess.run(["bash", script, "down"], env=env, capture_output=True)


def log_text(folder: Path, pattern: str) -> str:
    """The job logs in ``folder`` matching ``pattern``, joined (what a failed assertion shows)."""
    return "\n".join(f"--- {p.name}\n{p.read_text()}" for p in sorted(folder.glob(pattern)))
