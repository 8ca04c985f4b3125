"""reid search: a folder of frames against a store's gallery, with cached gallery features."""

from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import cv2
import h5py
import numpy as np
import pytest
import torch
from click.testing import CliRunner

import flowprep.store
from flowprep.store import open_store
from helpers_mount import read_only_bind
from helpers_store import shared_tiny_run
from reid.cli import cli
from reid.api import FeatureExtractor, frame_files
from reid.engine.checkpoint import load_checkpoint, save_checkpoint
from reid.errors import ReidError
from reid.search import KEEP_CACHES, gallery_features
from reid.visualize.canvas import GREY

QUERY_TRACKLET = "p03_c2_gallery3"


@pytest.fixture()
def gallery(tmp_path_factory, tmp_path):
    """A private copy of the tiny store (caches appear beside it) and the shared checkpoint."""
    store, checkpoint = shared_tiny_run(tmp_path_factory)
    copy = tmp_path / "gallery.h5"
    shutil.copy(store, copy)
    return copy, checkpoint


def write_query_folder(store, folder) -> None:
    """The frames of one gallery tracklet, named so that name order and number order differ."""
    folder.mkdir()
    with open_store(store) as reader:
        index = int(list(reader.tracklets.name).index(QUERY_TRACKLET))
        frames, _ = reader.read_clip(index, range(int(reader.tracklets.frame_count[index])))
    for k, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"frame{8 + k}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))


def search(store, checkpoint, query, *extra) -> list[str]:
    result = CliRunner().invoke(cli, ["search", "--gallery", str(store), "--checkpoint", str(checkpoint),
                                      "--query", str(query), "--device", "cpu", *extra])
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()  # the progress bar goes to stderr


@pytest.fixture(scope="module")
def searched(tmp_path_factory) -> tuple[Path, Path, list[str]]:
    """(folder holding gallery.h5 and its cache, the query folder, the first search's lines), searched once."""
    store, checkpoint = shared_tiny_run(tmp_path_factory)
    folder = tmp_path_factory.mktemp("searched")
    shutil.copy(store, folder / "gallery.h5")
    write_query_folder(store, folder / "query")
    lines = search(folder / "gallery.h5", checkpoint, folder / "query", "--top", "5", "--out", str(folder / "ranked.png"))
    return folder, checkpoint, lines


def test_search_lists_matches_in_distance_order_query_identity_first(searched):
    _, _, lines = searched
    assert "6 frames (0 skipped)" in lines[0]
    rows = [line.split() for line in lines[2:7]]
    assert [int(r[0]) for r in rows] == [1, 2, 3, 4, 5]
    distances = [float(r[1]) for r in rows]
    assert distances == sorted(distances)
    assert int(rows[0][2]) == 3  # the query's identity (its colour) comes first


def test_the_first_search_caches_the_gallery_features_beside_it(searched):
    folder, _, lines = searched
    assert "features computed, cached in" in lines[0]
    assert len(list(folder.glob("gallery.h5.features-*.pt"))) == 1


def test_the_picture_frames_an_unknown_query_identity_in_grey(searched):
    folder, _, _ = searched
    picture = cv2.cvtColor(cv2.imread(str(folder / "ranked.png")), cv2.COLOR_BGR2RGB)
    grey = np.all(picture[1] == np.array(GREY, np.uint8), axis=1)
    assert np.count_nonzero(grey & ~np.concatenate([[False], grey[:-1]])) == 5


def test_a_second_search_reads_the_cache_and_ranks_the_same(searched):
    folder, checkpoint, first = searched
    second = search(folder / "gallery.h5", checkpoint, folder / "query", "--top", "5")
    assert "features read from" in second[0]
    assert second[1:7] == first[1:7]


@pytest.fixture
def computed(gallery):
    """(extractor, open store, the gallery features computed and cached once)."""
    store, checkpoint = gallery
    extractor = FeatureExtractor(checkpoint, "cpu")
    with open_store(store) as reader:
        yield extractor, reader, gallery_features(extractor, reader)


def test_gallery_features_are_cached_beside_the_store(computed):
    _, _, features = computed
    assert not features.cached and features.cache.is_file()


def test_cached_gallery_features_are_reused(computed, monkeypatch):
    extractor, reader, features = computed

    def no_extraction(*args, **kwargs):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(FeatureExtractor, "store", no_extraction)
    cached = gallery_features(extractor, reader)
    assert cached.cached and torch.equal(cached.features, features.features)


def retrained_copy(checkpoint: Path, path: Path, shift: float) -> Path:
    """``checkpoint`` with other weights (so another cache key)."""
    state = load_checkpoint(checkpoint)
    state["model"]["head.bn.bias"] = state["model"]["head.bn.bias"] + shift
    save_checkpoint(path, state)
    return path


def test_another_checkpoint_gets_its_own_cache(computed, gallery, tmp_path):
    _, reader, features = computed
    other = gallery_features(FeatureExtractor(retrained_copy(gallery[1], tmp_path / "retrained.pt", 1.0), "cpu"),
                             reader)
    assert not other.cached and other.cache != features.cache
    assert not torch.allclose(other.features, features.features)


def test_a_store_keeps_only_its_most_recently_used_caches(computed, gallery, tmp_path):
    extractor, reader, first = computed  # cache A, computed now
    others = [FeatureExtractor(retrained_copy(gallery[1], tmp_path / f"r{k}.pt", k + 1.0), "cpu") for k in range(3)]
    caches = [first.cache] + [gallery_features(other, reader).cache for other in others[:2]]  # A, B, C
    for age, cache in enumerate(caches):  # last used in the order A, B, C, a minute apart
        os.utime(cache, (1e9 + 60 * age, 1e9 + 60 * age))
    assert gallery_features(extractor, reader).cached  # reading A makes it the most recently used
    newest = gallery_features(others[2], reader)  # D: one cache too many, B goes
    assert newest.pruned == 1 and KEEP_CACHES == 3
    assert sorted(reader.path.parent.glob("gallery.h5.features-*.pt")) == sorted([caches[0], caches[2], newest.cache])


def test_search_says_which_older_caches_it_deleted(gallery, tmp_path):
    store, checkpoint = gallery
    write_query_folder(store, tmp_path / "query")
    for k in range(KEEP_CACHES):
        search(store, retrained_copy(checkpoint, tmp_path / f"r{k}.pt", k + 1.0), tmp_path / "query", "--quiet")
    line = search(store, checkpoint, tmp_path / "query", "--quiet")[0]
    assert line.endswith("(deleted 1 older cache)")
    assert len(list(store.parent.glob("gallery.h5.features-*.pt"))) == KEEP_CACHES


def test_a_damaged_cache_is_computed_again(computed):
    extractor, reader, features = computed
    features.cache.write_bytes(b"not a torch file")
    again = gallery_features(extractor, reader)
    assert not again.cached and again.cache == features.cache


def test_a_cache_that_cannot_be_written_is_skipped_without_leftovers(computed, gallery, tmp_path, monkeypatch):
    _, reader, features = computed

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    uncached = gallery_features(FeatureExtractor(gallery[1], "cpu", seq_len=2), reader)
    assert uncached.cache is None and uncached.features.shape == features.features.shape
    assert not list(tmp_path.glob(".*tmp*"))


def test_query_frames_follow_the_numbers_in_their_names(tmp_path):
    for name in ("b_10.jpg", "a_9.jpg", "c_1.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in frame_files(tmp_path)] == ["c_1.png", "a_9.jpg", "b_10.jpg"]


def test_query_frames_without_a_number_go_by_name(tmp_path):
    for name in ("b_10.jpg", "a_9.jpg", "c_1.png", "cover.jpg"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in frame_files(tmp_path)] == ["a_9.jpg", "b_10.jpg", "c_1.png", "cover.jpg"]


def test_a_missing_query_folder_is_an_error(tmp_path):
    with pytest.raises(ReidError, match="no such folder"):
        frame_files(tmp_path / "missing")


@contextmanager
def read_only_copy(store: Path, tmp_path: Path, monkeypatch) -> Iterator[Path]:
    """``store`` in a read-only bind mount (as a container's ``:ro`` volume); where mounting is impossible,
    writes and unlinks in its folder fail as they would there."""
    source, view = tmp_path / "source", tmp_path / "readonly"
    source.mkdir()
    shutil.copy(store, source / store.name)
    with read_only_bind(source, view) as mounted:
        if not mounted:
            view = source
            refuse = OSError(30, "Read-only file system")

            def no_write(*args, **kwargs):
                raise refuse

            monkeypatch.setattr(torch, "save", no_write)
            monkeypatch.setattr(Path, "unlink", no_write)
        yield view / store.name


def test_a_gallery_in_a_read_only_folder_is_searched_without_a_cache(gallery, tmp_path, monkeypatch):
    store, checkpoint = gallery
    write_query_folder(store, tmp_path / "query")
    with read_only_copy(store, tmp_path, monkeypatch) as readonly:
        lines = search(readonly, checkpoint, tmp_path / "query", "--top", "3")
    assert f"features computed (not cached: cannot write beside {readonly})" in lines[0]
    assert int(lines[2].split()[2]) == 3


def test_search_embeds_the_query_in_memory_and_shows_progress(gallery, tmp_path, monkeypatch):
    store, checkpoint = gallery
    monkeypatch.setenv("FLOWREID_PROGRESS_SECONDS", "0")  # a line at each step: stderr is no terminal here
    write_query_folder(store, tmp_path / "query")

    def no_store_writing(*args, **kwargs):
        raise AssertionError("search wrote a store")

    monkeypatch.setattr(flowprep.store.StoreWriter, "__init__", no_store_writing)
    result = CliRunner().invoke(cli, ["search", "--gallery", str(store), "--checkpoint", str(checkpoint),
                                      "--query", str(tmp_path / "query"), "--device", "cpu", "--top", "3"])
    assert result.exit_code == 0, result.output
    assert "gallery features: 100% 1/1 batch" in result.stderr  # 12 tracklets of 6 frames: 12 clips of 4, 1 batch


def test_out_without_a_picture_extension_is_refused_before_any_work(gallery, tmp_path, monkeypatch):
    store, checkpoint = gallery

    def no_work(*args, **kwargs):
        raise AssertionError("work started")

    monkeypatch.setattr(FeatureExtractor, "__init__", no_work)
    result = CliRunner().invoke(cli, ["search", "--gallery", str(store), "--checkpoint", str(checkpoint),
                                      "--query", str(tmp_path), "--out", str(tmp_path / "ranked")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "needs a picture file name ending in .png" in result.output


def save_random_liteflownet(path: Path) -> str:
    """Random LiteFlowNet weights in the PyTorch port's layout (as its network-default.pytorch); their sha256."""
    from flowprep.flow.liteflownet import load_network
    from flowprep.flow.liteflownet_network import LiteFlowNet

    torch.manual_seed(0)
    network = LiteFlowNet().eval()
    torch.save({key.replace("net", "module"): value for key, value in network.state_dict().items()}, path)
    return load_network(path)[1]


def test_search_on_a_liteflownet_store(gallery, tmp_path, monkeypatch):
    """A store extracted with --flow liteflownet records the weight file's name and sha256 in flow_params."""
    store, checkpoint = gallery
    weights = tmp_path / "weights" / "network-default.pytorch"
    weights.parent.mkdir()
    digest = save_random_liteflownet(weights)
    with h5py.File(store, "r+") as f:
        f.attrs["flow_method"] = "liteflownet"
        f.attrs["flow_params"] = json.dumps({"precision": "fp32", "weights": weights.name, "weights_sha256": digest})
    write_query_folder(store, tmp_path / "query")
    given = search(store, checkpoint, tmp_path / "query", "--top", "3", "--weights", str(weights))
    assert "6 frames (0 skipped)" in given[0] and len(given) >= 5

    monkeypatch.setenv("REID_WEIGHTS", str(weights.parent))  # found by the name the store recorded
    assert search(store, checkpoint, tmp_path / "query", "--top", "3")[1:5] == given[1:5]

    other = tmp_path / "other.pytorch"
    torch.manual_seed(1)
    save_random_liteflownet(other)
    refused = CliRunner().invoke(cli, ["search", "--gallery", str(store), "--checkpoint", str(checkpoint), "--query",
                                       str(tmp_path / "query"), "--device", "cpu", "--weights", str(other)])
    assert refused.exit_code != 0
    assert "not the LiteFlowNet weights the store's flow was computed with" in str(refused.exception)
    assert "\n" not in str(refused.exception)
