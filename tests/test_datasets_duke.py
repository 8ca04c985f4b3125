"""The DukeMTMC-VideoReID adapter on small hand-built copies of its official layout."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from flowprep.datasets import load_tracklets
from helpers_datasets import by_name, raises_one_line, touch


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
