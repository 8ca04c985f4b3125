"""The MARS adapter on small hand-built copies of its official layout."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from flowprep.datasets import load_tracklets
from helpers_datasets import MARS_TEST, assert_mat_file_refused, by_name, raises_one_line, write_mars


@pytest.fixture
def mars(tmp_path: Path) -> Path:
    write_mars(tmp_path / "mars")
    return tmp_path / "mars"


def test_mars_roles_ids_and_junk_rules(mars: Path) -> None:
    tracklets = load_tracklets("mars", mars)
    assert [(t.name, t.role, t.pid, t.camid) for t in tracklets] == [
        ("0001C1T0001", "train", 1, 1),
        ("0001C2T0001", "train", 1, 2),
        ("0002C1T0001", "query", 2, 1),
        ("0003C2T0001", "query", 3, 2),
        ("0002C2T0001", "gallery", 2, 2),
        ("0000C3T0001", "gallery", 0, 3),
        ("0003C5T0002", "gallery", 3, 5),
    ]
    assert all(t.pid != -1 for t in tracklets)


def test_mars_frames_are_ordered_by_frame_number_not_listing(mars: Path) -> None:
    tracklets = by_name(load_tracklets("mars", mars))
    assert [p.name for p in tracklets["0001C1T0001"].frames] == [f"0001C1T0001F00{i}.jpg" for i in (1, 2, 3)]
    assert [p.name for p in tracklets["0001C2T0001"].frames] == ["0001C2T0001F009.jpg", "0001C2T0001F010.jpg"]
    assert tracklets["0003C5T0002"].frames == (
        mars / "bbox_test" / "0003" / "0003C5T0002F002.jpg",
        mars / "bbox_test" / "0003" / "0003C5T0002F004.jpg",
    )


def test_mars_refuses_names_that_escape_the_root(mars: Path) -> None:
    names = mars / "info" / "test_name.txt"
    lines = names.read_text().splitlines()
    lines[2] = "../0002C1T0001F001.jpg"
    names.write_text("\n".join(lines))
    with raises_one_line(f"{names}:3"):
        load_tracklets("mars", mars)


@pytest.mark.parametrize(
    "track, culprit",
    [
        (("0001", 1, 1, [1]), "0004C1T0001"),  # second frame says pid 1
        (("0004", 2, 1, [2]), "0004C1T0001"),  # second frame says camera 2
    ],
)
def test_mars_refuses_a_tracklet_of_mixed_pid_or_camera(tmp_path: Path, track, culprit: str) -> None:
    root = tmp_path / "mars"
    write_mars(root, train=[("0004", 1, 1, [1]), track], test=MARS_TEST)
    info = root / "info" / "tracks_train_info.mat"
    scipy.io.savemat(info, {"track_train_info": np.array([[1, 2, 4, 1]], dtype=float)})  # one row over both
    with raises_one_line(f"tracklet {culprit}"):
        load_tracklets("mars", root)


@pytest.mark.parametrize(
    "contents, message",
    [
        ({"track_test_info": np.zeros((2, 4))}, "variable 'track_train_info' not found"),
        ({"track_train_info": np.ones((2, 3))}, "shape (2, 3)"),
        ({"track_train_info": np.array([[1.5, 2, 1, 1]])}, "non-integer"),
        ({"track_train_info": np.array([[1, 99, 1, 1]])}, "row 1 spans names 1..99"),
    ],
)
def test_mars_refuses_bad_track_info(mars: Path, contents, message: str) -> None:
    assert_mat_file_refused(mars / "info" / "tracks_train_info.mat", contents, "mars", mars, message)


def test_mars_refuses_an_unreadable_mat_file(mars: Path) -> None:
    path = mars / "info" / "tracks_test_info.mat"
    path.write_bytes(b"this is not a MATLAB file\n" * 20)
    with raises_one_line(f"{path}: unreadable MATLAB file"):
        load_tracklets("mars", mars)


@pytest.mark.parametrize(
    "query_idx, message",
    [(np.array([[7]]), "query_IDX holds 7"), (np.ones((2, 2)), "expected a vector"), (np.array([[0, 1]]), "holds 0")],
)
def test_mars_refuses_bad_query_idx(mars: Path, query_idx, message: str) -> None:
    path = mars / "info" / "query_IDX.mat"
    scipy.io.savemat(path, {"query_IDX": query_idx})
    with raises_one_line(message) as info:
        load_tracklets("mars", mars)
    assert str(path) in str(info.value)


def test_mars_accepts_query_idx_as_a_column(mars: Path) -> None:
    scipy.io.savemat(mars / "info" / "query_IDX.mat", {"query_IDX": np.array([[5], [1]], dtype=float)})
    queries = [t.name for t in load_tracklets("mars", mars) if t.role == "query"]
    assert queries == ["0002C1T0001", "0003C2T0001"]


@pytest.mark.parametrize(
    "missing", ["info/train_name.txt", "info/query_IDX.mat", "info/tracks_test_info.mat", "bbox_test"]
)
def test_mars_names_a_missing_file_and_the_layout(mars: Path, missing: str) -> None:
    path = mars / missing
    shutil.rmtree(path) if path.is_dir() else path.unlink()
    with raises_one_line(f"{path}: ") as info:
        load_tracklets("mars", mars)
    assert "bbox_train/, bbox_test/, info/" in str(info.value)
