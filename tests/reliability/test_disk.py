"""A full disk and failing writes: one line, exit code 2, the earlier store or checkpoint intact, resume completes.

Most failures are injected (errno ENOSPC from the h5py write, fsync or rename); one test fills a real,
small tmpfs, which needs permission to mount and is skipped, with the reason, where there is none.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import h5py
import pytest

from flowprep.cli import main as flowprep_main
from flowprep.store.verify import verify
from flowprep.store import open_store
from reid.cli import main as reid_main
from reid.engine.checkpoint import load_checkpoint
from helpers_store import write_tiny_store
from storetools import store_content

from .conftest import CHILD_ENV, TRAIN_FLAGS, assert_one_line_error, extract_command, run_cli

FULL = "No space left on device"


def failing_on_call(real, number: int, applies=lambda *args: True):
    """``real``, except that its ``number``-th applicable call fails as a full disk does."""
    calls = []

    def wrapper(*args, **kwargs):
        if applies(*args):
            calls.append(args)
            if len(calls) == number:
                raise OSError(errno.ENOSPC, FULL)
        return real(*args, **kwargs)

    return wrapper


def open_file_name(fd: int) -> str:
    """The path a file descriptor of this process was opened with (Linux)."""
    return os.readlink(f"/proc/self/fd/{fd}")


def extract_args(root: Path, out: Path, *extra: str) -> list[str]:
    return extract_command(root, out, *extra)[3:]  # without "python -m flowprep.cli"


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*tmp-*"))


INJECTED = {
    "h5py write": lambda monkeypatch: monkeypatch.setattr(
        h5py.Dataset, "__setitem__", failing_on_call(h5py.Dataset.__setitem__, 4)),
    # two fsyncs a part (the file, then its folder after the rename): the 7th is part 3's file
    "fsync": lambda monkeypatch: monkeypatch.setattr(os, "fsync", failing_on_call(os.fsync, 7)),
    "rename": lambda monkeypatch: monkeypatch.setattr(
        os, "replace", failing_on_call(os.replace, 4, lambda src, dst: str(dst).endswith(".h5"))),
}


@pytest.mark.parametrize("failing", sorted(INJECTED))
def test_full_disk_while_writing_a_part_stops_cleanly_and_resume_completes(
        failing, mars_root, mars_reference, tmp_path, monkeypatch):
    out = tmp_path / "mars.h5"
    parts = out.with_name(out.name + ".parts")
    with monkeypatch.context() as patch:
        INJECTED[failing](patch)
        result = run_cli(flowprep_main, extract_args(mars_root, out))
    assert_one_line_error(result, "part-000003.h5", "could not write the store", FULL)
    assert not out.exists() and leftovers(tmp_path) == []
    assert sorted(p.name for p in parts.iterdir()) == [f"part-00000{i}.h5" for i in range(3)]
    for part in parts.iterdir():
        verify(part)
    resumed = run_cli(flowprep_main, extract_args(mars_root, out, "--resume"))
    assert resumed.code == 0, resumed.err
    assert "3 tracklets were already done" in resumed.out
    assert store_content(out) == store_content(mars_reference)


def test_full_disk_while_replacing_a_store_keeps_the_old_one(mars_root, mars_reference, tmp_path, monkeypatch):
    out = write_tiny_store(tmp_path / "mars.h5")  # the store a user had there, any valid one
    before = out.read_bytes()
    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", failing_on_call(os.replace, 1, lambda src, dst: Path(dst) == out))
        result = run_cli(flowprep_main, extract_args(mars_root, out, "--overwrite"))
    assert_one_line_error(result, str(out), "could not write the store", FULL)
    assert out.read_bytes() == before
    verify(out)
    assert leftovers(tmp_path) == []
    resumed = run_cli(flowprep_main, extract_args(mars_root, out, "--resume"))
    assert resumed.code == 0, resumed.err
    assert store_content(out) == store_content(mars_reference)


def test_full_disk_while_saving_a_checkpoint_keeps_the_last_one(tiny_store, tmp_path, monkeypatch):
    run = tmp_path / "run"
    args = ["train", "--store", tiny_store, "--out", run, "--epochs", "2", *TRAIN_FLAGS]
    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", failing_on_call(os.fsync, 2, lambda fd: "last.pt.tmp-" in open_file_name(fd)))
        result = run_cli(reid_main, args)
    assert_one_line_error(result, str(run / "last.pt"), "could not write the checkpoint", FULL)
    assert load_checkpoint(run / "last.pt")["epoch"] == 1
    assert leftovers(run) == []
    resumed = run_cli(reid_main, [*args, "--resume"])
    assert resumed.code == 0, resumed.err
    assert load_checkpoint(run / "last.pt")["epoch"] == 2


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 6 MiB tmpfs: a real disk that fills up. Skipped where mounting is not permitted."""
    mount_point = tmp_path / f"tmpfs-{uuid.uuid4().hex[:8]}"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_real_full_disk_stops_cleanly_keeps_the_old_store_and_resume_completes(
        small_tmpfs, mars_root, mars_reference):
    out = small_tmpfs / "mars.h5"
    shutil.copy(mars_reference, out)
    before = out.read_bytes()
    full = subprocess.run(extract_command(mars_root, out, "--overwrite"), env=CHILD_ENV, capture_output=True,
                          text=True)
    assert full.returncode == 2, full.stderr
    assert full.stderr.count("\n") == 1 and "Traceback" not in full.stderr
    assert f"could not write the store: {FULL}" in full.stderr
    assert out.read_bytes() == before
    verify(out)
    parts = sorted(out.with_name(out.name + ".parts").glob("part-*.h5"))
    assert parts, "the disk should have filled after some parts"
    for part in parts:
        verify(part)
    assert leftovers(small_tmpfs) == []
    subprocess.run(["mount", "-o", "remount,size=64m", "tmpfs", str(small_tmpfs)], check=True)  # space is freed
    resumed = subprocess.run(extract_command(mars_root, out, "--resume"), env=CHILD_ENV, capture_output=True,
                             text=True)
    assert resumed.returncode == 0, resumed.stderr
    with open_store(out) as reader:
        assert reader.meta.height == 64
    assert store_content(out) == store_content(mars_reference)
