"""The PRID2011 adapter on small hand-built copies of its official layout, and its splits."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest

from flowprep.datasets import load_tracklets, open_dataset
from flowprep.datasets.prid import generated_splits
from helpers_datasets import raises_one_line, touch


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
