"""Dataset adapters on small hand-built copies of each official layout (empty image files suffice)."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from flowprep.datasets import DATASETS, load_tracklets, open_dataset
from flowprep.datasets.prid import generated_splits
from flowprep.errors import DatasetError


def touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


@contextmanager
def raises_one_line(fragment: str):
    """Expect a DatasetError whose message is one line containing ``fragment``."""
    with pytest.raises(DatasetError) as info:
        yield info
    message = str(info.value)
    assert fragment in message and "\n" not in message, message


def by_name(tracklets):
    return {tracklet.name: tracklet for tracklet in tracklets}


# ---------------------------------------------------------------- MARS

# (pid text, camid, track, frame numbers in the order they are listed)
MARS_TRAIN = [("0001", 1, 1, [3, 1, 2]), ("00-1", 2, 1, [1, 2]), ("0001", 2, 1, [10, 9])]
MARS_TEST = [
    ("0002", 1, 1, [2, 1]),  # row 1: query
    ("0002", 2, 1, [1]),  # row 2: gallery
    ("0000", 3, 1, [1, 2, 3]),  # row 3: distractor, named by query_IDX but gallery only
    ("00-1", 4, 1, [1]),  # row 4: junk, named by query_IDX, dropped
    ("0003", 2, 1, [1, 2]),  # row 5: query
    ("0003", 5, 2, [4, 2]),  # row 6: gallery
]
MARS_QUERY_IDX = [1, 3, 4, 5]


def write_mars(root: Path, train=MARS_TRAIN, test=MARS_TEST, query_idx=MARS_QUERY_IDX) -> None:
    info = root / "info"
    info.mkdir(parents=True)
    for subset, tracks in (("train", train), ("test", test)):
        names, rows = [], []
        for pid_text, camid, track, frames in tracks:
            listed = [f"{pid_text}C{camid}T{track:04d}F{frame:03d}.jpg" for frame in frames]
            for name in listed:
                touch(root / f"bbox_{subset}" / pid_text / name)
            pid = -1 if pid_text == "00-1" else int(pid_text)
            rows.append([len(names) + 1, len(names) + len(listed), pid, camid])
            names += listed
        (info / f"{subset}_name.txt").write_text("\n".join(names) + "\n")
        scipy.io.savemat(info / f"tracks_{subset}_info.mat", {f"track_{subset}_info": np.array(rows, dtype=float)})
    scipy.io.savemat(info / "query_IDX.mat", {"query_IDX": np.array([query_idx], dtype=float)})


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
    path = mars / "info" / "tracks_train_info.mat"
    scipy.io.savemat(path, contents)
    with raises_one_line(message) as info:
        load_tracklets("mars", mars)
    assert str(path) in str(info.value)


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


# ---------------------------------------------------------------- DukeMTMC-VideoReID


def write_duke(root: Path, frames: dict[str, list[str]]) -> None:
    for role in ("train", "query", "gallery"):
        (root / role).mkdir(parents=True, exist_ok=True)
    for folder, names in frames.items():
        for name in random.Random(0).sample(names, len(names)):  # creation order != frame order
            touch(root / folder / name)


DUKE_FRAMES = {
    "train/0001/0001": ["0001C6F10X30823.jpg", "0001C6F9X30822.jpg", "0001C6F100X30913.jpg"],
    "train/0001/0002": ["0001C2F0001X00001.jpg"],
    "query/0005/0003": ["0005C1F0002X00011.jpg", "0005C1F0001X00010.jpg"],
    "gallery/0005/0004": ["0005C3F0001X00100.jpg"],
    "gallery/0009/0001": ["0009C8F0001X00200.jpg"],
}


def test_duke_roles_ids_cameras_and_frame_order(tmp_path: Path) -> None:
    write_duke(tmp_path, DUKE_FRAMES)
    tracklets = load_tracklets("duke", tmp_path)
    assert [(t.name, t.role, t.pid, t.camid) for t in tracklets] == [
        ("train_0001_0001", "train", 1, 6),
        ("train_0001_0002", "train", 1, 2),
        ("query_0005_0003", "query", 5, 1),
        ("gallery_0005_0004", "gallery", 5, 3),
        ("gallery_0009_0001", "gallery", 9, 8),
    ]
    names = [p.name for p in tracklets[0].frames]
    assert names == ["0001C6F9X30822.jpg", "0001C6F10X30823.jpg", "0001C6F100X30913.jpg"]
    assert tracklets[0].frames[0] == tmp_path / "train" / "0001" / "0001" / "0001C6F9X30822.jpg"


def test_duke_reads_the_current_release_names_and_a_mix_of_both_forms(tmp_path: Path) -> None:
    write_duke(tmp_path, {
        "train/0001/0001": ["0001_C6_F0010_X30823.jpg", "0001_C6_F0009_X30822.jpg", "0001C6F0011X30824.jpg"],
        "query/0005/0003": ["0005_C1_F0001_X00010.jpg"],
        "gallery/0005/0004": ["0005_C3_F0001_X00100.jpg"],
    })
    tracklets = load_tracklets("duke", tmp_path)
    assert [(t.name, t.pid, t.camid) for t in tracklets] == [
        ("train_0001_0001", 1, 6), ("query_0005_0003", 5, 1), ("gallery_0005_0004", 5, 3),
    ]
    assert [p.name for p in tracklets[0].frames] == [
        "0001_C6_F0009_X30822.jpg", "0001_C6_F0010_X30823.jpg", "0001C6F0011X30824.jpg",
    ]


def test_duke_keeps_every_frame_of_a_tracklet_starting_at_f0002_or_with_gaps(tmp_path: Path) -> None:
    # torchreid looks up F0001..F<count> and drops what lies beyond a gap; every frame here must stay
    write_duke(tmp_path, {
        "train/0001/0001": ["0001_C2_F0002_X1.jpg", "0001_C2_F0003_X2.jpg", "0001_C2_F0004_X3.jpg"],
        "query/0002/0001": ["0002_C1_F0001_X1.jpg", "0002_C1_F0005_X5.jpg", "0002_C1_F0009_X9.jpg"],
        "gallery/0002/0002": ["0002_C3_F0001_X1.jpg"],
    })
    tracklets = by_name(load_tracklets("duke", tmp_path))
    assert [p.name[8:13] for p in tracklets["train_0001_0001"].frames] == ["F0002", "F0003", "F0004"]
    assert [p.name[8:13] for p in tracklets["query_0002_0001"].frames] == ["F0001", "F0005", "F0009"]


def test_duke_root_may_be_the_folder_the_zip_unpacks_into(tmp_path: Path) -> None:
    write_duke(tmp_path / "DukeMTMC-VideoReID", DUKE_FRAMES)
    tracklets = load_tracklets("duke", tmp_path)
    assert tracklets == load_tracklets("duke", tmp_path / "DukeMTMC-VideoReID") and len(tracklets) == 5


@pytest.mark.parametrize("odd_name", ["0001_C6F0099_X30823.jpg", "0001_C6_F0099.jpg", "0001-C6-F0099-X30823.jpg"])
def test_duke_names_a_file_in_neither_form(tmp_path: Path, odd_name: str) -> None:
    write_duke(tmp_path, {"train/0001/0001": ["0001_C6_F0098_X30822.jpg", odd_name]})
    path = tmp_path / "train" / "0001" / "0001" / odd_name
    with raises_one_line(f"{path}: not a DukeMTMC-VideoReID frame name") as info:
        load_tracklets("duke", tmp_path)
    assert "0001_C6_F0099_X30823.jpg" in str(info.value) and "0001C6F0099X30823.jpg" in str(info.value)


@pytest.mark.parametrize("odd_frame", ["0001C5F0002X1.jpg", "0002C6F0002X1.jpg"])
def test_duke_refuses_a_tracklet_of_mixed_pid_or_camera(tmp_path: Path, odd_frame: str) -> None:
    write_duke(tmp_path, {"train/0001/0007": ["0001C6F0001X0.jpg", odd_frame]})
    with raises_one_line("tracklet train_0001_0007"):
        load_tracklets("duke", tmp_path)


def test_duke_names_a_missing_role_folder(tmp_path: Path) -> None:
    write_duke(tmp_path, DUKE_FRAMES)
    shutil.rmtree(tmp_path / "gallery")
    with raises_one_line(f"{tmp_path / 'gallery'}: directory not found") as info:
        load_tracklets("duke", tmp_path)
    assert "{train,query,gallery}" in str(info.value)


def test_duke_refuses_a_frame_name_without_frame_number(tmp_path: Path) -> None:
    write_duke(tmp_path, {"train/0001/0001": ["0001C6X30823.jpg"]})
    with raises_one_line("0001C6X30823.jpg: not a DukeMTMC-VideoReID frame name"):
        load_tracklets("duke", tmp_path)


# ---------------------------------------------------------------- iLIDS-VID

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
    scipy.io.savemat(path, contents)
    with raises_one_line(message) as info:
        load_tracklets("ilidsvid", tmp_path)
    assert str(path) in str(info.value)


def test_ilids_names_a_missing_split_file(tmp_path: Path) -> None:
    write_ilids(tmp_path)
    path = tmp_path / "train-test people splits" / "train_test_splits_ilidsvid.mat"
    path.unlink()
    with raises_one_line(f"{path}: metadata file not found"):
        load_tracklets("ilidsvid", tmp_path)


# ---------------------------------------------------------------- PRID2011


def write_prid(root: Path, cam_a=(1, 2, 3, 4, 201), cam_b=(1, 2, 3, 4, 201, 202)) -> None:
    for camera, persons in (("cam_a", cam_a), ("cam_b", cam_b)):
        for person in persons:
            for frame in ("10.png", "9.png", "0001.png"):
                touch(root / "prid_2011" / "multi_shot" / camera / f"person_{person:04d}" / frame)


def test_prid_uses_persons_1_to_200_of_both_cameras(tmp_path: Path) -> None:
    write_prid(tmp_path)
    tracklets = load_tracklets("prid", tmp_path)
    assert sorted({t.pid for t in tracklets}) == [1, 2, 3, 4]
    assert [t.role for t in tracklets].count("train") == 4
    assert all(t.camid == 1 and t.name.startswith("cam_a_") for t in tracklets if t.role == "query")
    assert all(t.camid == 2 and t.name.startswith("cam_b_") for t in tracklets if t.role == "gallery")
    assert [p.name for p in tracklets[0].frames] == ["0001.png", "9.png", "10.png"]


def test_prid_generated_splits_follow_the_documented_algorithm() -> None:
    persons = list(range(1, 201))
    splits = generated_splits(persons)
    assert len(splits) == 10 and len({split.test for split in splits}) == 10
    for k, split in enumerate(splits):
        ranked = sorted(persons, key=lambda p: hashlib.sha256(f"prid2011:{k}:{p}".encode()).hexdigest())
        assert split.test == tuple(sorted(ranked[:100])) and split.train == tuple(sorted(ranked[100:]))


def test_prid_split_selection_from_generated_splits(tmp_path: Path) -> None:
    write_prid(tmp_path)
    for k in (0, 7):
        tracklets = load_tracklets("prid", tmp_path, split=k)
        expected = generated_splits([1, 2, 3, 4])[k]
        assert tuple(t.pid for t in tracklets if t.role == "query") == expected.test
        assert tuple(sorted({t.pid for t in tracklets if t.role == "train"})) == expected.train


def test_prid_split_selection_from_a_splits_file(tmp_path: Path) -> None:
    write_prid(tmp_path)
    splits = [{"train": [1, 2], "test": [3, 4]}] * 10
    splits[4] = {"train": [3], "test": [1, 4]}  # person 2 unused, as in the 178-person protocol
    path = tmp_path / "splits.json"
    path.write_text(json.dumps(splits))
    tracklets = load_tracklets("prid", tmp_path, split=4, split_file=path)
    assert [(t.name, t.role) for t in tracklets] == [
        ("cam_a_person_0003", "train"), ("cam_b_person_0003", "train"),
        ("cam_a_person_0001", "query"), ("cam_a_person_0004", "query"),
        ("cam_b_person_0001", "gallery"), ("cam_b_person_0004", "gallery"),
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ("[1, 2", "unreadable splits file"),
        (json.dumps([{"train": [1], "test": [2]}] * 9), "expected a JSON list of 10"),
        (json.dumps([{"train": [1], "test": ["2"]}] * 10), "expected a JSON list of 10"),
        (json.dumps([{"train": [1], "test": [201]}] * 10), "split 0 names person 201"),
        (json.dumps([{"train": [1, 2], "test": [2]}] * 10), "puts person 2 in both"),
    ],
)
def test_prid_refuses_a_bad_splits_file(tmp_path: Path, text: str, message: str) -> None:
    write_prid(tmp_path)
    path = tmp_path / "splits.json"
    path.write_text(text)
    with raises_one_line(message) as info:
        load_tracklets("prid", tmp_path, split_file=path)
    assert str(path) in str(info.value)


def torchreid_style_prid_splits(persons: list[int], test_count: int) -> list[dict]:
    """Ten splits as splits_prid2011.json holds them: person folder names, some persons in neither half."""
    rng = random.Random(7)
    splits = []
    for _ in range(10):
        chosen = rng.sample(persons, 2 * test_count)
        splits.append({"train": [f"person_{p:04d}" for p in chosen[test_count:]],
                       "test": [f"person_{p:04d}" for p in chosen[:test_count]]})
    return splits


def test_prid_reads_torchreids_splits_file_from_the_root_as_torchreid_does(tmp_path: Path) -> None:
    persons = [1, 2, 3, 4, 5, 6, 7]
    write_prid(tmp_path, cam_a=persons + [201], cam_b=persons + [201, 202])
    splits = torchreid_style_prid_splits(persons, 3)
    path = tmp_path / "splits_prid2011.json"
    path.write_text(json.dumps(splits))
    for k in (0, 3, 9):  # torchreid: splits[split_id]["train"] / ["test"]; test: cam_a queries, cam_b gallery
        adapter = open_dataset("prid", tmp_path, split=k)
        tracklets = adapter.tracklets()
        number = lambda folder: int(folder.split("_")[1])  # noqa: E731
        assert {t.pid for t in tracklets if t.role == "train"} == {number(f) for f in splits[k]["train"]}
        assert [t.name for t in tracklets if t.role == "query"] == sorted(f"cam_a_{f}" for f in splits[k]["test"])
        assert [t.name for t in tracklets if t.role == "gallery"] == sorted(f"cam_b_{f}" for f in splits[k]["test"])
        assert len(tracklets) == 2 * 3 + 3 + 3  # the unused person is in no role
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert adapter.split_source() == f"splits_prid2011.json sha256:{digest}"
    elsewhere = tmp_path / "elsewhere.json"
    path.rename(elsewhere)
    assert open_dataset("prid", tmp_path, split=3).split_source().startswith("default: ")
    passed = open_dataset("prid", tmp_path, split=9, split_file=elsewhere)  # the loop ended on split 9
    assert passed.tracklets() == tracklets and passed.split_source().startswith("elsewhere.json sha256:")


def test_prid_refuses_a_split_file_naming_a_folder_it_does_not_have(tmp_path: Path) -> None:
    write_prid(tmp_path)
    splits = [{"train": ["person_0001"], "test": ["person_0002", "person_0201"]}] * 10
    (tmp_path / "splits_prid2011.json").write_text(json.dumps(splits))
    with raises_one_line("split 0 names folder 'person_0201', which is not a person in both cameras"):
        load_tracklets("prid", tmp_path)


def test_prid_names_a_missing_camera_folder(tmp_path: Path) -> None:
    write_prid(tmp_path, cam_b=())
    (tmp_path / "prid_2011" / "multi_shot" / "cam_b").mkdir(parents=True)
    with raises_one_line("no person_NNNN (1..200) folder is in both"):
        load_tracklets("prid", tmp_path)
    (tmp_path / "prid_2011" / "multi_shot" / "cam_b").rmdir()
    with raises_one_line(f"{tmp_path / 'prid_2011' / 'multi_shot' / 'cam_b'}: directory not found"):
        load_tracklets("prid", tmp_path)


# ---------------------------------------------------------------- registry and options


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_adapter_names_a_missing_root_and_its_layout(tmp_path: Path, name: str) -> None:
    root = tmp_path / "nowhere"
    with raises_one_line(f"{root}: dataset root not found") as info:
        load_tracklets(name, root)
    assert DATASETS[name].layout in str(info.value)


def test_registry_names_and_unknown_dataset() -> None:
    assert set(DATASETS) == {"mars", "duke", "ilidsvid", "prid", "mot"}
    with raises_one_line("unknown dataset 'market'; known: duke, ilidsvid, mars, mot, prid"):
        load_tracklets("market", Path("."))


def test_options_that_cannot_apply_are_refused(tmp_path: Path, mars: Path) -> None:
    with raises_one_line("split must be 0..9, got 10"):
        load_tracklets("ilidsvid", tmp_path, split=10)
    with raises_one_line("a splits file does not apply"):
        load_tracklets("mars", mars, split_file=tmp_path / "s.json")
    assert load_tracklets("mars", mars, split=3) == load_tracklets("mars", mars)  # fixed partition: split ignored
