"""A writer killed mid-write leaves its temporary file; the next writer of that file removes it, but
never the file of a live writer or of another machine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from flowprep.store import open_store
from flowreid.atomic import HOST, remove_stale_temporaries
from flowreid.killpoints import ENV_VAR

MERGE = [sys.executable, "-c", "from flowprep.cli import main; main()", "merge"]


def gone_pid() -> int:
    """The pid of a process that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_rerun_merge_removes_what_the_killed_merge_left(shards, tmp_path: Path) -> None:
    out = tmp_path / "mars.h5"
    killed = subprocess.run([*MERGE, str(out), *map(str, shards)], env={**os.environ, ENV_VAR: "store.tracklet-written:2"},
                            capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left = sorted(p.name for p in tmp_path.glob(".mars.h5.tmp-*"))
    assert len(left) == 1 and not out.exists()
    rerun = subprocess.run([*MERGE, str(out), *map(str, shards)], capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert not list(tmp_path.glob(".mars.h5.tmp-*"))
    with open_store(out) as reader, open_store(shards[0]) as first, open_store(shards[1]) as second:
        assert reader.num_frames == first.num_frames + second.num_frames


def test_only_files_of_gone_processes_of_this_machine_are_removed(tmp_path: Path) -> None:
    target = tmp_path / "store.h5"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        names = {
            "dead here": f".store.h5.tmp-{HOST}-{gone_pid()}",
            "dead, older name": f".store.h5.tmp-{gone_pid()}",
            "alive here": f".store.h5.tmp-{HOST}-{live.pid}",
            "another machine": f".store.h5.tmp-some-other-node-{gone_pid()}",
            "another file": f".other.h5.tmp-{HOST}-{gone_pid()}",
        }
        for name in names.values():
            (tmp_path / name).write_bytes(b"partial")
        removed = remove_stale_temporaries(target)
    finally:
        live.kill()
        live.wait()
    assert sorted(p.name for p in removed) == sorted([names["dead here"], names["dead, older name"]])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [names["alive here"], names["another machine"], names["another file"]])
