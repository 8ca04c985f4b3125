"""Two ``flowprep extract`` runs on the same --out: the second refuses in one line, the store comes out intact."""

from __future__ import annotations

import signal
import subprocess
import time

from flowprep.store.verify import verify
from storetools import store_content

from .conftest import CHILD_ENV, extract_command

BUSY = "another flowprep process is writing this store"


def wait_for(condition, process: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, "the first run ended before it could be caught mid-run"
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_second_run_is_refused_while_the_first_writes(mars_root, mars_reference, tmp_path):
    out = tmp_path / "mars.h5"
    parts = out.with_name(out.name + ".parts")
    first = subprocess.Popen(extract_command(mars_root, out), env=CHILD_ENV, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    wait_for(lambda: any(parts.glob("part-*.h5")), first)
    first.send_signal(signal.SIGSTOP)  # hold it mid-run, lock taken and journal half written
    try:
        journal = sorted(parts.iterdir())
        others = [subprocess.Popen(extract_command(mars_root, out, *flags), env=CHILD_ENV, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
                  for flags in ((), ("--resume",), ("--overwrite",))]  # --overwrite would wipe its journal
        for other in others:
            _, message = other.communicate(timeout=300)
            assert other.returncode == 2, message
            assert message.count("\n") == 1 and BUSY in message and str(out) in message, message
        assert sorted(parts.iterdir()) == journal, "a refused run touched the first run's journal"
    finally:
        first.send_signal(signal.SIGCONT)
    _, errors = first.communicate(timeout=300)
    assert first.returncode == 0, errors
    verify(out)
    assert store_content(out) == store_content(mars_reference)


def test_two_runs_started_together_give_one_store(mars_root, mars_reference, tmp_path):
    out = tmp_path / "mars.h5"
    runs = [subprocess.Popen(extract_command(mars_root, out), env=CHILD_ENV, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = sorted((run.wait(timeout=300), run.communicate()[1]) for run in runs)
    (ok, _), (refused, message) = results
    assert (ok, refused) == (0, 2), results
    # the loser either met the lock or, started late, found the finished store
    assert message.count("\n") == 1 and (BUSY in message or "store exists; pass --overwrite" in message), message
    verify(out)
    assert store_content(out) == store_content(mars_reference)
