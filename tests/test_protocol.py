"""The evaluation protocol lives in one place: stores keep the standard roles, `reid evaluate --protocol
matlab` builds the official MARS gallery, and old `--protocol matlab` stores hold each query once.
Also `reid evaluate --split` against the split a store records."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np
import pytest

from flowprep.store import TrackletIndex, open_store, write_store
from clitools import run_console
from helpers_store import shared_tiny_run
from reid.cli import main as reid_main
from reid.engine.evaluation import QueryGallery


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, Path]:
    return shared_tiny_run(tmp_path_factory)


def legacy_matlab_store(store: Path, out: Path) -> Path:
    """What `flowprep extract --protocol matlab` wrote: each query again in the gallery as `<name>#gallery`."""
    with open_store(store) as reader:
        tracklets = [reader.encoded_tracklet(i) for i in range(len(reader.tracklets))]
        meta = reader.meta
    copies = [replace(t, name=f"{t.name}#gallery", role="gallery") for t in tracklets if t.role == "query"]
    everything = tracklets + copies
    for order, tracklet in enumerate(everything):
        tracklet.order = order
    write_store(out, replace(meta, created=""), everything)
    return out


def names(store: Path, indices: np.ndarray) -> list[str]:
    with open_store(store) as reader:
        return sorted(str(reader.tracklets.name[i]) for i in indices)


def test_matlab_gallery_holds_every_test_tracklet_once_also_from_an_old_matlab_store(tiny, tmp_path) -> None:
    store, _ = tiny
    legacy = legacy_matlab_store(store, tmp_path / "legacy.h5")
    with open_store(store) as reader:
        standard, matlab = QueryGallery.of(reader), QueryGallery.of(reader, "matlab")
        test_set = np.concatenate([standard.query, standard.gallery])
        test_tracklets = sorted(str(n) for n in reader.tracklets.name[test_set])
    assert names(store, matlab.gallery) == test_tracklets  # every query and gallery tracklet, each once
    with open_store(legacy) as reader:
        old_standard, old_matlab = QueryGallery.of(reader), QueryGallery.of(reader, "matlab")
    assert names(legacy, old_matlab.gallery) == test_tracklets  # the #gallery copies are not a second entry
    assert names(legacy, old_standard.gallery) == names(store, standard.gallery)


def test_evaluate_scores_an_old_matlab_store_like_the_standard_store(tiny, tmp_path, capsys, monkeypatch) -> None:
    store, checkpoint = tiny
    legacy = legacy_matlab_store(store, tmp_path / "legacy.h5")
    scores = []
    for path in (store, legacy):
        args = ["evaluate", "--store", str(path), "--checkpoint", str(checkpoint), "--device", "cpu",
                "--workers", "0", "--amp", "off", "--protocol", "matlab", "--json"]
        code, out, err = run_console(reid_main, args, capsys, monkeypatch)
        assert code == 0, err
        scores.append(json.loads(out))
    assert scores[0] == scores[1]


def test_query_copies_are_dropped_only_when_they_copy_a_query() -> None:
    roles = np.array([1, 2, 2, 2], dtype=np.uint8)  # query, then gallery
    tracklets = TrackletIndex(
        name=np.array(["a", "a#gallery", "b#gallery", "c"], dtype=object), order=np.arange(4), pid=np.ones(4),
        camid=np.ones(4), role=roles, frame_start=np.arange(4), frame_count=np.ones(4), skipped=np.array([""] * 4),
    )
    assert QueryGallery.of_tracklets(tracklets).gallery.tolist() == [2, 3]  # "b#gallery" copies no query: kept
    assert QueryGallery.of_tracklets(tracklets, "matlab").gallery.tolist() == [2, 3, 0]


# ---------------------------------------------------------------- reid evaluate --split


def with_split(store: Path, out: Path, split: int, source: str) -> Path:
    shutil.copy(store, out)
    with h5py.File(out, "a") as f:
        f.attrs["split"] = split
        f.attrs["split_source"] = source
    return out


def test_evaluate_split_checks_the_split_the_store_holds(tiny, tmp_path, capsys, monkeypatch) -> None:
    store, checkpoint = tiny
    source = "splits_prid2011.json sha256:" + "ab" * 32
    split3 = with_split(store, tmp_path / "split3.h5", 3, source)
    common = ["--checkpoint", str(checkpoint), "--device", "cpu", "--workers", "0", "--amp", "off"]
    args = ["evaluate", "--store", str(split3), "--split", "3", *common]
    code, out, err = run_console(reid_main, args, capsys, monkeypatch)
    assert code == 0, err
    assert f"split 3 from {source}" in out
    code, out, err = run_console(reid_main, ["evaluate", "--store", str(split3), "--split", "3", "--json", *common],
                             capsys, monkeypatch)
    assert code == 0 and json.loads(out)["split_source"] == source


@pytest.mark.parametrize(
    "store_name, args, message",
    [
        ("split3.h5", ["--split", "2"], "holds split 3, not split 2"),
        ("nosplit.h5", ["--split", "0"], "records no split"),
        ("s{split}.h5", [], "has {split}: pass --split K or --all-splits"),
        ("split3.h5", ["--all-splits"], "--all-splits needs {split} in --store"),
    ],
)
def test_evaluate_split_options_that_would_be_ignored_are_refused(
    tiny, tmp_path, capsys, monkeypatch, store_name, args, message
) -> None:
    store, checkpoint = tiny
    with_split(store, tmp_path / "split3.h5", 3, "default: x")
    shutil.copy(store, tmp_path / "nosplit.h5")
    args = ["evaluate", "--store", str(tmp_path / store_name), "--checkpoint", str(checkpoint),
            "--device", "cpu", "--workers", "0", *args]
    code, out, err = run_console(reid_main, args, capsys, monkeypatch)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
