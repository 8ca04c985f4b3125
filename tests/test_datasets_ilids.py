"""The iLIDS-VID adapter on small hand-built copies of its official layout, and its splits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from flowprep.datasets import load_tracklets, open_dataset
from helpers_datasets import assert_mat_file_refused, raises_one_line, touch


ILIDS_PERSONS = [1, 2, 5, 7]  # gaps, as in the release: ls_set indexes the sorted folder list


def ls_set_for(count: int) -> np.ndarray:
    rng = np.random.default_rng(5)
    return np.stack([rng.permutation(count) + 1 for _ in range(10)]).astype(float)


def write_ilids(root: Path, persons=ILIDS_PERSONS, ls_set=None) -> np.ndarray:
    ls_set = ls_set_for(len(persons)) if ls_set is None else ls_set
    for camera in (1, 2):
        for person in persons:
            for frame in (10, 9, 120):
                touch(root / "i-LIDS-VID" / "sequences" / f"cam{camera}" / f"person{person:03d}"
                      / f"cam{camera}_person{person:03d}_{frame}.png")
    splits = root / "train-test people splits"
    splits.mkdir(parents=True)
    scipy.io.savemat(splits / "train_test_splits_ilidsvid.mat", {"ls_set": ls_set})
    return ls_set


@pytest.mark.parametrize("split", [0, 3, 9])
def test_ilids_split_selection_roles_and_order(tmp_path: Path, split: int) -> None:
    ls_set = write_ilids(tmp_path)
    tracklets = load_tracklets("ilidsvid", tmp_path, split=split)
    test = sorted(ILIDS_PERSONS[int(i) - 1] for i in ls_set[split, :2])
    train = sorted(set(ILIDS_PERSONS) - set(test))
    assert [(t.name, t.role, t.pid, t.camid) for t in tracklets] == (
        [(f"cam{c}_person{p:03d}", "train", p, c) for p in train for c in (1, 2)]
        + [(f"cam1_person{p:03d}", "query", p, 1) for p in test]
        + [(f"cam2_person{p:03d}", "gallery", p, 2) for p in test]
    )
    assert [p.name for p in tracklets[0].frames] == [f"cam1_person{train[0]:03d}_{n}.png" for n in (9, 10, 120)]


def test_ilids_default_split_is_zero(tmp_path: Path) -> None:
    write_ilids(tmp_path)
    assert load_tracklets("ilidsvid", tmp_path) == load_tracklets("ilidsvid", tmp_path, split=0)


def torchreid_ilids_splits(ls_set: np.ndarray, folders: list[str]) -> list[dict]:
    """What torchreid's prepare_split writes to splits.json: ls_set's first half is test, indices into
    the sorted cam1 folder names."""
    half = ls_set.shape[1] // 2
    return [{"train": [folders[int(i) - 1] for i in sorted(row[half:])],
             "test": [folders[int(i) - 1] for i in sorted(row[:half])]} for row in ls_set]


@pytest.mark.parametrize("name", ["splits.json", "splits_ilidsvid.json"])
def test_ilids_torchreid_json_and_the_official_mat_give_the_same_split(tmp_path: Path, name: str) -> None:
    ls_set = write_ilids(tmp_path)
    from_mat = [load_tracklets("ilidsvid", tmp_path, split=k) for k in range(10)]
    mat = tmp_path / "train-test people splits" / "train_test_splits_ilidsvid.mat"
    assert open_dataset("ilidsvid", tmp_path).split_source().startswith("train_test_splits_ilidsvid.mat sha256:")
    folders = sorted(f"person{p:03d}" for p in ILIDS_PERSONS)
    (tmp_path / name).write_text(json.dumps(torchreid_ilids_splits(ls_set, folders)))
    mat.unlink()  # the JSON alone must do
    assert [load_tracklets("ilidsvid", tmp_path, split=k) for k in range(10)] == from_mat
    assert open_dataset("ilidsvid", tmp_path).split_source().startswith(f"{name} sha256:")


def test_ilids_refuses_mixed_pid_in_a_tracklet(tmp_path: Path) -> None:
    write_ilids(tmp_path)
    touch(tmp_path / "i-LIDS-VID" / "sequences" / "cam2" / "person005" / "cam2_person007_00011.png")
    with raises_one_line("tracklet cam2_person005"):
        load_tracklets("ilidsvid", tmp_path)


def test_ilids_refuses_a_person_seen_by_one_camera(tmp_path: Path) -> None:
    write_ilids(tmp_path)
    touch(tmp_path / "i-LIDS-VID" / "sequences" / "cam1" / "person009" / "cam1_person009_00001.png")
    with raises_one_line("person009 is in only one of cam1/cam2"):
        load_tracklets("ilidsvid", tmp_path)


@pytest.mark.parametrize(
    "contents, message",
    [
        ({"ls_set": ls_set_for(4).T}, "has shape (4, 10), expected (10, 4)"),
        ({"ls_set": ls_set_for(5)}, "expected (10, 4)"),
        ({"sets": ls_set_for(4)}, "variable 'ls_set' not found"),
        ({"ls_set": np.ones((10, 4))}, "not a permutation of 1..4"),
    ],
)
def test_ilids_refuses_a_bad_split_matrix(tmp_path: Path, contents, message: str) -> None:
    write_ilids(tmp_path)
    path = tmp_path / "train-test people splits" / "train_test_splits_ilidsvid.mat"
    assert_mat_file_refused(path, contents, "ilidsvid", tmp_path, message)


def test_ilids_names_a_missing_split_file(tmp_path: Path) -> None:
    write_ilids(tmp_path)
    path = tmp_path / "train-test people splits" / "train_test_splits_ilidsvid.mat"
    path.unlink()
    with raises_one_line(f"{path}: metadata file not found"):
        load_tracklets("ilidsvid", tmp_path)
