"""Splits end to end: `flowprep extract --split K --split-file` for iLIDS-VID/PRID, the split source
the store records, split-aware store names, and `reid evaluate --split` checked against the store."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest

from flowprep.cli import main as flowprep_main
from flowprep.store import open_store
from flowprep.synth import write_dataset
from clitools import run_console

SIZE = ["--size", "64x32", "--flow", "dis", "--flow-param", "preset=ultrafast", "--quiet", "--workers", "1"]
PERSONS = 8


@pytest.fixture(scope="module")
def prid_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("prid") / "prid"
    write_dataset("prid", root, identities=PERSONS, cameras=2, seed=4)
    return root


def torchreid_splits(persons: int, test: int, seed: int = 3) -> list[dict]:
    """Ten splits as torchreid's splits_prid2011.json holds them: person folder names, some persons unused."""
    rng = random.Random(seed)
    splits = []
    for _ in range(10):
        chosen = rng.sample(range(1, persons + 1), 2 * test)
        splits.append({"train": [f"person_{p:04d}" for p in chosen[test:]],
                       "test": [f"person_{p:04d}" for p in chosen[:test]]})
    return splits


def roles(store: Path) -> dict[str, set[int]]:
    with open_store(store) as reader:
        t = reader.tracklets
        return {role: {int(t.pid[i]) for i in t.of_role(role)} for role in ("train", "query", "gallery")}


def test_split_file_gives_torchreids_split_k_and_the_store_records_its_source(
    prid_root, tmp_path, capsys, monkeypatch
) -> None:
    splits = torchreid_splits(PERSONS, 3)
    split_file = tmp_path / "splits_prid2011.json"
    split_file.write_text(json.dumps(splits))
    out = tmp_path / "prid-{split}.h5"
    code, _, err = run_console(flowprep_main, ["extract", "--dataset", "prid", "--root", str(prid_root), "--split", "4",
                                           "--split-file", str(split_file), "--out", str(out), *SIZE],
                           capsys, monkeypatch)
    assert code == 0, err
    store = tmp_path / "prid-4.h5"  # {split} filled in
    expected = {int(f.split("_")[1]) for f in splits[4]["test"]}
    assert roles(store) == {"train": {int(f.split("_")[1]) for f in splits[4]["train"]},
                            "query": expected, "gallery": expected}
    digest = hashlib.sha256(split_file.read_bytes()).hexdigest()
    with open_store(store) as reader:
        assert reader.meta.split == 4 and reader.meta.split_source == f"splits_prid2011.json sha256:{digest}"
    assert f"split 4: splits_prid2011.json sha256:{digest}" in err and "published" not in err


def test_default_prid_split_says_so_records_its_number_and_names_the_store_by_split(
    prid_root, tmp_path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run_console(flowprep_main, ["extract", "--dataset", "prid", "--root", str(prid_root), *SIZE],
                           capsys, monkeypatch)
    assert code == 0, err
    split_lines = [line for line in err.splitlines() if line.startswith("split ")]
    assert len(split_lines) == 1 and split_lines[0].startswith("split 0: default: ")
    assert "splits_prid2011.json" in split_lines[0] and "--split-file" in split_lines[0]
    with open_store(tmp_path / "prid-split0.h5") as reader:
        assert reader.meta.split == 0 and reader.meta.split_source.startswith("default: ")
    code, _, err = run_console(flowprep_main, ["extract", "--dataset", "prid", "--root", str(prid_root), "--split", "3",
                                           *SIZE], capsys, monkeypatch)
    assert code == 0, err  # a second split does not collide with the first
    assert roles(tmp_path / "prid-split3.h5") != roles(tmp_path / "prid-split0.h5")


def test_split_file_in_the_root_is_found_as_torchreid_finds_it(prid_root, tmp_path, capsys, monkeypatch) -> None:
    copy = tmp_path / "with-file"
    copy.mkdir()
    (copy / "prid_2011").symlink_to(prid_root / "prid_2011", target_is_directory=True)
    splits = torchreid_splits(PERSONS, 2, seed=9)
    (copy / "splits_prid2011.json").write_text(json.dumps(splits))
    code, out, err = run_console(flowprep_main, ["extract", "--dataset", "prid", "--root", str(copy), "--split", "7",
                                             "--dry-run"], capsys, monkeypatch)
    assert code == 0, err
    assert "split 7: splits_prid2011.json sha256:" in out
    query_line = next(line for line in out.splitlines() if line.startswith("query"))
    assert query_line.split()[1:3] == ["2", "2"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--protocol", "matlab"], "pass --protocol matlab to reid evaluate"),
        (["--split-file", "nowhere.json"], "nowhere.json: splits file not found"),
    ],
)
def test_extract_refuses_in_one_line(prid_root, tmp_path, capsys, monkeypatch, args, message) -> None:
    monkeypatch.chdir(tmp_path)
    command = ["extract", "--dataset", "prid", "--root", str(prid_root), *args, *SIZE]
    code, out, err = run_console(flowprep_main, command, capsys, monkeypatch)
    errors = [line for line in err.splitlines() if "error" in line]
    assert code == 2 and len(errors) == 1 and message in errors[0], err
    assert not list(tmp_path.glob("*.h5"))


def test_split_placeholder_is_refused_for_a_dataset_without_splits(mars_root, tmp_path, capsys, monkeypatch) -> None:
    code, _, err = run_console(flowprep_main, ["extract", "--dataset", "mars", "--root", str(mars_root), "--out",
                                           str(tmp_path / "s{split}.h5"), *SIZE], capsys, monkeypatch)
    assert code == 2 and "mars has no splits to fill into {split}" in err
    assert not list(tmp_path.iterdir())
