"""A new user's bad inputs through both command lines: one line on stderr, exit code 2, no traceback.

Read-only outputs are tested on a real read-only bind mount (users mount volumes ``:ro`` in
containers and run as root, where ``chmod`` stops nothing); where this process may not mount, the
folder is made to look read-only to ``os.access``, the check every command makes before working.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Iterator

import h5py
import numpy as np
import pytest

from flowprep.cli import main as flowprep_main
from flowprep.errors import FlowprepError, StoreError
from flowprep.store import open_store
from helpers_mount import read_only_bind
from helpers_store import FAST_DIS, altered_copy, shared_tiny_run, trained_on_split, write_tiny_store
from reid.cli import main as reid_main
from reid.errors import CheckpointError
from reliability.conftest import TRAIN_FLAGS, assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, Path]:
    """(tiny store, the tiny model trained on it)."""
    return shared_tiny_run(tmp_path_factory)


@pytest.fixture
def read_only(tmp_path, monkeypatch) -> Iterator[Path]:
    """An empty folder on a read-only bind mount, or one that reports itself read-only where mounting is refused."""
    source, folder = tmp_path / "source", tmp_path / "ro"
    source.mkdir()
    with read_only_bind(source, folder) as mounted:
        if not mounted:
            real_access, real_mkdir = os.access, Path.mkdir

            def inside(path) -> bool:
                return Path(path).resolve().is_relative_to(folder.resolve())

            def access(path, mode, *args, **kwargs):
                return False if inside(path) and mode & os.W_OK else real_access(path, mode, *args, **kwargs)

            def mkdir(path, *args, **kwargs):
                if inside(path) and not path.exists():
                    raise OSError(30, "Read-only file system", str(path))
                return real_mkdir(path, *args, **kwargs)

            monkeypatch.setattr(os, "access", access)
            monkeypatch.setattr(Path, "mkdir", mkdir)
        else:
            with pytest.raises(OSError):  # the mount really refuses writes, even to root
                (folder / "probe").write_bytes(b"")
        yield folder


def damaged_index(store: Path, target: Path) -> Path:
    """A store whose second tracklet starts one frame late: every range is inside /frames, so only the
    structural check sees it (training would read another tracklet's frame as this one's)."""
    shutil.copyfile(store, target)
    with h5py.File(target, "r+") as f:
        f["tracklets/frame_start"][1] += 1
    return target


def flipped_frame_byte(store: Path, target: Path, tracklet: int, position: int) -> Path:
    shutil.copyfile(store, target)
    with open_store(target) as reader:
        frame = int(reader.tracklets.frame_start[tracklet]) + position
        offset = int(reader.frames.image_offset[frame]) + 30
    with h5py.File(target, "r+") as f:
        f["blob"][offset] ^= 0x20
    return target


# case -> function of (tmp_path, read-only folder, tiny store, checkpoint, mars root, shards) giving
# (which CLI, its arguments, fragments the one error line must hold)
BAD_INPUTS = {
    "extract into a read-only folder": lambda t, ro, s, c, m, sh: (
        flowprep_main, ["extract", "--dataset", "mars", "--root", m, "--out", ro / "x.h5", *FAST_DIS], [ro, "cannot write"]),
    "merge into a read-only folder": lambda t, ro, s, c, m, sh: (
        flowprep_main, ["merge", ro / "m.h5", *sh], [ro, "cannot write"]),
    "export into a read-only folder": lambda t, ro, s, c, m, sh: (
        reid_main, ["export", "--checkpoint", c, "--format", "torchscript", "--out", ro / "m.pt"], [ro, "cannot write"]),
    "ranks into a read-only folder": lambda t, ro, s, c, m, sh: (
        reid_main, ["visualize", "ranks", "--store", s, "--checkpoint", c, "--out", ro / "ranks", "--device", "cpu"],
        [ro / "ranks", "cannot"]),
    "train into a read-only folder": lambda t, ro, s, c, m, sh: (
        reid_main, ["train", "--store", s, "--out", ro / "run", "--epochs", "1", *TRAIN_FLAGS], [ro / "run", "cannot"]),
    "DIS on 10x10 frames": lambda t, ro, s, c, m, sh: (
        flowprep_main, ["extract", "--dataset", "mars", "--root", m, "--out", t / "x.h5", "--flow", "dis", "--size", "10x10"],
        ["--size 10x10", "dis", "fails on frames this small"]),
    "DIS on 12x40 frames (OpenCV crashes the process)": lambda t, ro, s, c, m, sh: (
        flowprep_main, ["extract", "--dataset", "mars", "--root", m, "--out", t / "x.h5", "--flow", "dis", "--size", "12x40"],
        ["--size 12x40", "fails on frames this small"]),
    "size below 8 px": lambda t, ro, s, c, m, sh: (
        flowprep_main, ["extract", "--dataset", "mars", "--root", m, "--size", "4x4"], ["--size", "at least 8"]),
    "unknown flow method lists the methods": lambda t, ro, s, c, m, sh: (
        flowprep_main, ["extract", "--dataset", "mars", "--root", m, "--flow", "raft"],
        ["--flow", "'raft'", "'dis', 'farneback', 'liteflownet'"]),
    "unknown dataset lists the datasets": lambda t, ro, s, c, m, sh: (
        flowprep_main, ["extract", "--dataset", "market"], ["--dataset", "'duke', 'ilidsvid', 'lsvid', 'mars', 'mevid', 'mot', 'prid'"]),
    "missing root names --root and $REID_DATA": lambda t, ro, s, c, m, sh: (
        flowprep_main, ["extract", "--dataset", "mars", "--root", t / "nowhere"], [t / "nowhere", "--root", "$REID_DATA"]),
    "export size spelled HxW": lambda t, ro, s, c, m, sh: (
        reid_main, ["export", "--checkpoint", c, "--format", "torchscript", "--out", t / "m.pt", "--size", "256"],
        ["--size", "expected HxW"]),
    "show --out without an image extension": lambda t, ro, s, c, m, sh: (
        flowprep_main, ["show", s, "--out", t / "picture"], [t / "picture", "not an image file name"]),
    "attention --out without an image extension, before loading anything": lambda t, ro, s, c, m, sh: (
        reid_main, ["visualize", "attention", "--store", s, "--checkpoint", t / "absent.pt", "--out", t / "maps"],
        [t / "maps", "not an image file name"]),
    "merge with a shard missing": lambda t, ro, s, c, m, sh: (
        flowprep_main, ["merge", t / "m.h5", sh[0]], ["shard 1/2 missing"]),
    "merge with a shard given twice": lambda t, ro, s, c, m, sh: (
        flowprep_main, ["merge", t / "m.h5", sh[0], sh[1], shutil.copyfile(sh[1], t / "again.h5")],
        [t / "again.h5", "shard 1/2 is given twice"]),
    "merge with a shard of another dataset": lambda t, ro, s, c, m, sh: (
        flowprep_main, ["merge", t / "m.h5", sh[0], altered_copy(sh[1], t / "other.h5", dataset_tracklets=999)],
        [t / "other.h5", "999 tracklets"]),
    "merge with a shard of another split into shards": lambda t, ro, s, c, m, sh: (
        flowprep_main, ["merge", t / "m.h5", sh[0], altered_copy(sh[1], t / "third.h5", shard="1/3")],
        [t / "third.h5", "shard 1/3"]),
    "merge with a whole store": lambda t, ro, s, c, m, sh: (
        flowprep_main, ["merge", t / "m.h5", sh[0], sh[1], s], [s, "not a shard"]),
    "evaluate on a store of another size": lambda t, ro, s, c, m, sh: (
        reid_main, ["evaluate", "--store", write_tiny_store(t / "big.h5", height=64, width=32), "--checkpoint", c,
                    "--device", "cpu", "--workers", "0"],
        [c, "height 32 in training, 64 here", "width 16 in training, 32 here", "--allow-store-mismatch"]),
    "evaluate on another split's store": lambda t, ro, s, c, m, sh: (
        reid_main, ["evaluate", "--store", altered_copy(s, t / "split3.h5", split=3), "--checkpoint",
                    trained_on_split(c, t / "split0.pt", 0), "--device", "cpu", "--workers", "0"],
        ["split 0 in training, 3 here", "--allow-store-mismatch"]),
    "visualize ranks on a store of other flow": lambda t, ro, s, c, m, sh: (
        reid_main, ["visualize", "ranks", "--store", altered_copy(s, t / "lfn.h5", flow_method="liteflownet"),
                    "--checkpoint", c, "--out", t / "ranks", "--device", "cpu"],
        ["flow_method dis in training, liteflownet here"]),
    "train on a store with a damaged index": lambda t, ro, s, c, m, sh: (
        reid_main, ["train", "--store", damaged_index(s, t / "bad.h5"), "--out", t / "run", "--epochs", "1", *TRAIN_FLAGS],
        [t / "bad.h5", "do not tile", "flowprep verify", "locates all damage"]),
    "verify names a damaged frame inside its tracklet": lambda t, ro, s, c, m, sh: (
        flowprep_main, ["verify", flipped_frame_byte(s, t / "flip.h5", tracklet=2, position=3)],
        [t / "flip.h5", "frame 3 (", "_003.jpg) of tracklet", "fails its CRC check"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_exit_2_no_traceback(case, tmp_path, read_only, run, mars_root, shards):
    store, checkpoint = run
    main, args, fragments = BAD_INPUTS[case](tmp_path, read_only, store, checkpoint, mars_root, shards)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert_one_line_error(run_cli(main, args), *fragments)
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "a refused command must leave nothing behind"


# ------------------------------------------------------------------ cleanup after a failed write never fails again

def erofs(*args, **kwargs):
    raise OSError(30, "Read-only file system")


def test_failed_store_write_on_a_read_only_folder_is_one_store_error(tmp_path, monkeypatch):
    """The writer's cleanup unlinks its temporary file; on a read-only mount that unlink fails too."""
    from flowprep.store import StoreMeta, StoreWriter

    monkeypatch.setattr("h5py.File", erofs)
    monkeypatch.setattr(Path, "unlink", erofs)
    with pytest.raises(StoreError, match="could not write the store: Read-only file system"):
        StoreWriter(tmp_path / "s.h5", StoreMeta(dataset="mars", flow_method="dis"))


def test_lock_file_that_cannot_be_created_is_one_error(tmp_path, monkeypatch):
    from flowprep.parts import RunLock

    monkeypatch.setattr(os, "open", erofs)
    with pytest.raises(FlowprepError, match="cannot create the store's lock file"):
        with RunLock(tmp_path / "s.h5"):
            pass


def test_failed_checkpoint_write_is_one_checkpoint_error(tmp_path, monkeypatch):
    from reid.engine.checkpoint import save_checkpoint

    monkeypatch.setattr(os, "replace", erofs)
    monkeypatch.setattr(Path, "unlink", erofs)
    with pytest.raises(CheckpointError, match="could not write the checkpoint: Read-only file system"):
        save_checkpoint(tmp_path / "last.pt", {"epoch": 1})


@pytest.fixture()
def refused_test_frames(mars_root, monkeypatch) -> Path:
    """bbox_test refuses this user: as root no permission bit stops a read, so the refusal is simulated
    (``unshare -U -r`` on a folder of another owner shows the same on a real file system)."""
    folder = mars_root / "bbox_test"

    def refusing(real):
        def call(path=".", *args, **kwargs):
            if not isinstance(path, int) and os.fsdecode(path).startswith(str(folder)):
                raise PermissionError(13, "Permission denied", os.fsdecode(path))
            return real(path, *args, **kwargs)
        return call

    monkeypatch.setattr(os, "listdir", refusing(os.listdir))
    monkeypatch.setattr(np, "fromfile", refusing(np.fromfile))
    return folder


@pytest.mark.parametrize("dry_run", [["--dry-run"], []])
def test_an_unreadable_dataset_folder_stops_with_one_line_naming_it(tmp_path, mars_root, refused_test_frames, dry_run):
    result = run_cli(flowprep_main, ["extract", "--dataset", "mars", "--root", mars_root, "--out", tmp_path / "x.h5",
                                     "--workers", "1", *FAST_DIS, *dry_run])
    assert_one_line_error(result, refused_test_frames, "Permission denied", "must be readable")
    assert not (tmp_path / "x.h5").exists()


def test_an_os_refusal_anywhere_is_one_line_naming_the_file(tmp_path, monkeypatch):
    """What no command anticipated (a full disk, a vanished mount) still ends as one line, not a traceback."""
    import flowprep.synth

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "mars"))

    monkeypatch.setattr(flowprep.synth, "write_dataset", full_disk)
    result = run_cli(flowprep_main, ["synth", "--layout", "mars", "--out", tmp_path / "mars"])
    assert_one_line_error(result, tmp_path / "mars", "No space left on device", "FLOWREID_TRACEBACK=1")


def test_an_extraction_stopped_by_an_unreadable_frame_resumes_once_it_is_readable(tmp_path, mars_root, monkeypatch,
                                                                                 refused_test_frames):
    args = ["extract", "--dataset", "mars", "--root", mars_root, "--out", tmp_path / "x.h5", "--workers", "1", *FAST_DIS]
    assert_one_line_error(run_cli(flowprep_main, args), refused_test_frames, "kept for --resume")
    monkeypatch.undo()  # the user fixed the permissions
    result = run_cli(flowprep_main, [*args, "--resume"])
    assert result.code == 0, result.err
    assert re.search(r"[1-9]\d* tracklets? (was|were) already done", result.out), result.out
