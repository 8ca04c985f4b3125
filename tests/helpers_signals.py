"""Ctrl-C as a terminal sends it: SIGINT to a command's whole process group, workers included."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import Callable


def interrupt_when(args: list[str], ready: Callable[[], bool], wait_s: float = 240) -> subprocess.CompletedProcess:
    """Run ``args`` in its own process group and send SIGINT to the whole group once ``ready()`` holds."""
    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                             env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + wait_s
    while child.poll() is None and not ready() and time.monotonic() < deadline:
        time.sleep(0.02)
    if child.poll() is None:
        os.killpg(child.pid, signal.SIGINT)
    out, err = child.communicate(timeout=120)
    return subprocess.CompletedProcess(args, child.returncode, out, err)
