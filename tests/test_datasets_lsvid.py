"""LS-VID: the adapter on the synthetic official layout, against the GLTR-lineage reader's logic."""

from __future__ import annotations

import glob
import os.path as osp
import shutil
from collections import Counter
from pathlib import Path

import h5py
import numpy as np
import pytest

from flowprep.datasets import load_tracklets
from flowprep.extract import ExtractOptions, extract
from flowprep.store import open_store
from flowprep.synth.matlab import save_mat73
from helpers_datasets import raises_one_line, synthetic_root


@pytest.fixture(scope="module")
def lsvid(tmp_path_factory) -> Path:
    return synthetic_root(tmp_path_factory, "lsvid", seed=5)


def public_reader_counts(root: Path) -> Counter:
    """(role, pid, camera, frames) per tracklet by the logic of the public LS-VID readers (GLTR lineage):
    frames are glob(prefix + '*') sorted, the camera the third '_' field of the first frame, query rows
    h5py['query'][0, :] - 1, the gallery every other test row, junk (pid -1) skipped."""
    counts: Counter = Counter()
    with h5py.File(root / "test" / "data" / "info_test.mat", "r") as f:
        query = set((np.array(f["query"][0, :], dtype=int) - 1).tolist())
    for subset in ("train", "test"):
        lines = (root / "list_sequence" / f"list_seq_{subset}.txt").read_text().splitlines()
        for row, line in enumerate(lines):
            prefix, pid = line.split(" ")
            paths = sorted(glob.glob(osp.join(str(root), prefix) + "*"))
            if int(pid) == -1:
                continue
            camid = int(osp.basename(paths[0]).split("_")[2])
            role = "train" if subset == "train" else ("query" if row in query else "gallery")
            counts[role, int(pid), camid, len(paths)] += 1
    return counts


def test_adapter_agrees_with_the_public_readers_logic(lsvid: Path) -> None:
    tracklets = load_tracklets("lsvid", lsvid)
    assert Counter((t.role, t.pid, t.camid, len(t.frames)) for t in tracklets) == public_reader_counts(lsvid)
    for tracklet in tracklets:
        assert [p.name for p in tracklet.frames] == sorted(p.name for p in tracklet.frames)
        assert all(p.is_file() for p in tracklet.frames)


def test_copies_with_the_lists_under_info_read_the_same(lsvid: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(lsvid, root)
    (root / "info").mkdir()
    shutil.move(root / "list_sequence", root / "info" / "list_sequence")
    shutil.move(root / "test" / "data", root / "info" / "data")
    assert [(t.name, t.role, len(t.frames)) for t in load_tracklets("lsvid", root)] == [
        (t.name, t.role, len(t.frames)) for t in load_tracklets("lsvid", lsvid)]


def test_a_tracklet_whose_frames_disagree_on_the_camera_is_refused(lsvid: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(lsvid, root)
    prefix = (root / "list_sequence" / "list_seq_train.txt").read_text().split()[0]
    frames = sorted((root / prefix).parent.glob(Path(prefix).name + "*"))
    fields = frames[-1].name.split("_")
    fields[2] = "99"
    frames[-1].rename(frames[-1].with_name("_".join(fields)))
    with raises_one_line("frames disagree on the camera"):
        load_tracklets("lsvid", root)


@pytest.mark.parametrize("line, message", [
    ("../outside/x_ 3", "leaves the dataset root"), ("{folder}/nothing_ 1", "no frame matches"),
    ("only-one-field", "expected '<path prefix> <pid>'"),
])
def test_bad_list_lines_are_one_line_errors(lsvid: Path, tmp_path: Path, line: str, message: str) -> None:
    root = tmp_path / "copy"
    shutil.copytree(lsvid, root)
    listed = root / "list_sequence" / "list_seq_train.txt"
    folder = Path(listed.read_text().split()[0]).parent
    listed.write_text(line.format(folder=folder) + "\n")
    with raises_one_line(message):
        load_tracklets("lsvid", root)


@pytest.mark.parametrize("query, message", [(np.array([[0.0]]), "query holds 0"), (np.array([[1.5]]), "whole numbers")])
def test_bad_query_files_are_refused(lsvid: Path, tmp_path: Path, query, message: str) -> None:
    root = tmp_path / "copy"
    shutil.copytree(lsvid, root)
    path = root / "test" / "data" / "info_test.mat"
    save_mat73(path, {"query": query})
    with raises_one_line(message) as error:
        load_tracklets("lsvid", root)
    assert str(path) in str(error.value)
    path.write_bytes(b"MATLAB 5.0 MAT-file, not HDF5" * 20)
    with raises_one_line("unreadable MATLAB v7.3 (HDF5) file"):
        load_tracklets("lsvid", root)


def test_extracts_through_the_store(lsvid: Path, tmp_path: Path) -> None:
    out = tmp_path / "lsvid.h5"
    summary = extract(ExtractOptions(dataset="lsvid", root=lsvid, out=out, height=64, width=32), progress=False)
    tracklets = load_tracklets("lsvid", lsvid)
    assert summary.frames == sum(len(t.frames) for t in tracklets)
    with open_store(out) as store:
        assert list(store.tracklets.name) == [t.name for t in tracklets]
        assert not store.tracklets.has_outfits()
