"""reid search: a folder of frames against a store's gallery, with cached gallery features."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest
import torch
from click.testing import CliRunner

import reid.search
from flowprep.store import open_store
from helpers_store import shared_tiny_run
from reid.cli import cli
from reid.engine.checkpoint import load_checkpoint, save_checkpoint
from reid.engine.inference import load_trained_model
from reid.errors import ReidError
from reid.search import gallery_features, query_frame_paths
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
    return result.output.splitlines()


def test_search_lists_matches_in_distance_order_and_reuses_the_cache(gallery, tmp_path):
    store, checkpoint = gallery
    write_query_folder(store, tmp_path / "query")
    first = search(store, checkpoint, tmp_path / "query", "--top", "5", "--out", str(tmp_path / "ranked.png"))
    assert "6 frames (0 skipped)" in first[0] and "features computed, cached in" in first[0]
    rows = [line.split() for line in first[2:7]]
    assert [int(r[0]) for r in rows] == [1, 2, 3, 4, 5]
    distances = [float(r[1]) for r in rows]
    assert distances == sorted(distances)
    assert int(rows[0][2]) == 3  # the query's identity (its colour) comes first
    assert len(list(tmp_path.glob("gallery.h5.features-*.pt"))) == 1
    picture = cv2.cvtColor(cv2.imread(str(tmp_path / "ranked.png")), cv2.COLOR_BGR2RGB)
    grey = np.all(picture[1] == np.array(GREY, np.uint8), axis=1)
    assert np.count_nonzero(grey & ~np.concatenate([[False], grey[:-1]])) == 5  # unknown identity: grey frames

    second = search(store, checkpoint, tmp_path / "query", "--top", "5")
    assert "features read from" in second[0]
    assert second[1:7] == first[1:7]


def test_gallery_cache_reuse_invalidation_and_unwritable_folder(gallery, tmp_path, monkeypatch):
    store, checkpoint = gallery
    model, _ = load_trained_model(checkpoint, torch.device("cpu"))
    with open_store(store) as reader:
        computed = gallery_features(model, reader, checkpoint, seq_len=4, device=torch.device("cpu"))
        assert not computed.cached and computed.cache.is_file()

        def no_extraction(*args, **kwargs):
            raise AssertionError("the cache should have been used")

        with monkeypatch.context() as patch:
            patch.setattr(reid.search, "extract_features", no_extraction)
            cached = gallery_features(model, reader, checkpoint, seq_len=4, device=torch.device("cpu"))
        assert cached.cached and torch.equal(cached.features, computed.features)

        state = load_checkpoint(checkpoint)
        state["model"]["head.bn.bias"] = state["model"]["head.bn.bias"] + 1.0
        retrained = tmp_path / "retrained.pt"
        save_checkpoint(retrained, state)
        model, _ = load_trained_model(retrained, torch.device("cpu"))
        other = gallery_features(model, reader, retrained, seq_len=4, device=torch.device("cpu"))
        assert not other.cached and other.cache != computed.cache
        assert not torch.allclose(other.features, computed.features)

        computed.cache.write_bytes(b"not a torch file")
        again = gallery_features(model, reader, checkpoint, seq_len=4, device=torch.device("cpu"))
        assert not again.cached and again.cache == computed.cache

        def full_disk(*args, **kwargs):
            raise OSError(28, "No space left on device")

        with monkeypatch.context() as patch:
            patch.setattr(torch, "save", full_disk)
            uncached = gallery_features(model, reader, checkpoint, seq_len=2, device=torch.device("cpu"))
        assert uncached.cache is None and uncached.features.shape == computed.features.shape
        assert not list(tmp_path.glob(".*tmp*"))


def test_query_frames_follow_the_numbers_in_their_names(tmp_path):
    for name in ("b_10.jpg", "a_9.jpg", "c_1.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in query_frame_paths(tmp_path)] == ["c_1.png", "a_9.jpg", "b_10.jpg"]
    (tmp_path / "cover.jpg").write_bytes(b"")  # no number: the whole folder goes by name
    assert [p.name for p in query_frame_paths(tmp_path)] == ["a_9.jpg", "b_10.jpg", "c_1.png", "cover.jpg"]
    with pytest.raises(ReidError, match="no such query folder"):
        query_frame_paths(tmp_path / "missing")
