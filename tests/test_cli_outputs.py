"""What works through both command lines beside their errors: shards and merge, store mismatch warnings,
progress bars, worker counts, the all-splits table and the flow picture."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from flowprep.cli import main as flowprep_main
from flowprep.store import open_store
from helpers_store import altered_copy, shared_tiny_run, trained_on_split
from reid.cli import main as reid_main
from reliability.conftest import CliResult, assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, Path]:
    """(tiny store, the tiny model trained on it)."""
    return shared_tiny_run(tmp_path_factory)


@pytest.mark.parametrize("i", [0, 1])
def test_a_shard_records_which_shard_of_how_many_tracklets_it_is(shards, i):
    with open_store(shards[i]) as reader:
        assert reader.meta.shard == f"{i}/2" and reader.meta.dataset_tracklets > len(reader.tracklets)
        whole = reader.meta.dataset_tracklets
    shown = run_cli(flowprep_main, ["inspect", shards[i]]).out
    assert f"shard {i}/2 of a dataset of {whole} tracklets" in shown


def test_merge_joins_all_shards_in_any_order_into_the_whole_store(shards, tmp_path):
    result = run_cli(flowprep_main, ["merge", tmp_path / "m.h5", *reversed(shards)])
    assert result.code == 0 and result.out.strip() == f"{tmp_path / 'm.h5'}: merged 2 shards of mars"
    with open_store(tmp_path / "m.h5") as reader:
        assert reader.meta.shard == "0/1" and len(reader.tracklets) == reader.meta.dataset_tracklets


def test_merge_of_one_shard_in_one_says_shard(run, tmp_path):
    store, _ = run
    one = altered_copy(store, tmp_path / "only.h5", shard="0/1")
    result = run_cli(flowprep_main, ["merge", tmp_path / "m.h5", one])
    assert_one_line_error(result, one, "not a shard")  # a whole store: nothing to merge it with


def test_allowed_store_mismatch_runs_with_a_warning(run, tmp_path):
    store, checkpoint = run
    split3 = altered_copy(store, tmp_path / "split3.h5", split=3)
    split0 = trained_on_split(checkpoint, tmp_path / "split0.pt", 0)
    result = run_cli(reid_main, ["evaluate", "--store", split3, "--checkpoint", split0, "--device", "cpu",
                                 "--workers", "0", "--split", "3", "--allow-store-mismatch"])
    assert result.code == 0, result.err
    assert result.err_lines == [f"warning: {split0} was trained on another kind of store: split 0 in training, "
                                "3 here (its test identities may have been trained on)"]
    assert "rank-1" in result.out


def test_checkpoint_records_its_training_store(run):
    store, checkpoint = run
    record = torch.load(checkpoint, weights_only=True)["store"]
    assert record["path"] == str(store) and (record["height"], record["width"]) == (32, 16)
    assert record["flow_method"] == "dis" and record["split"] == -1 and record["dataset"] == "tiny"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run_in_terminal(main, args: list) -> CliResult:
    """``run_cli`` with a stderr that says it is a terminal, where progress bars are drawn."""
    return run_cli(main, args, err=Terminal())


@pytest.mark.parametrize("command", ["evaluate", "visualize ranks"])
def test_long_steps_show_progress_on_a_terminal_unless_quiet(command, run, tmp_path):
    store, checkpoint = run
    args = [*command.split(), "--store", store, "--checkpoint", checkpoint, "--device", "cpu", "--workers", "0"]
    args += ["--out", tmp_path / "ranks", "--queries", "1", "--top", "3"] if command != "evaluate" else ["--rerank", "--k1", "4", "--k2", "2"]
    shown = run_in_terminal(reid_main, args)
    assert shown.code == 0, shown.err
    assert "features" in shown.err and ("ranking" in shown.err if command == "evaluate" else "pictures" in shown.err)
    quiet = run_in_terminal(reid_main, [*args, "--quiet"])
    assert quiet.code == 0 and quiet.err == "" and quiet.out == shown.out
    # not a terminal (logs, pipes): no bars, as test_allowed_store_mismatch_runs_with_a_warning's stderr shows


def test_extract_accepts_workers_0(shards):
    assert all(shard.is_file() for shard in shards)  # the fixture extracted both with --workers 0


@pytest.mark.parametrize("cores, expected", [(1, 1), (2, 2), (64, 4), (None, 1)])
def test_default_workers_are_the_cores_at_most_4(monkeypatch, cores, expected):
    from flowreid.options import default_workers

    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    assert default_workers() == expected


def test_all_splits_table_has_the_single_split_rows_percent_and_chance(run, tmp_path, monkeypatch):
    from reid.engine import evaluation

    store, checkpoint = run
    real, computed = evaluation.evaluate_model, []

    def once(*args, **kwargs):  # the same store for every split: evaluate it once, not eleven times
        computed or computed.append(real(*args, **kwargs))
        return computed[0]

    monkeypatch.setattr(evaluation, "evaluate_model", once)
    for k in range(10):  # store k holds split k, as evaluate checks
        altered_copy(store, tmp_path / f"store{k}.h5", split=k)
    common = ["--checkpoint", checkpoint, "--device", "cpu", "--workers", "0"]
    single = run_cli(reid_main, ["evaluate", "--store", store, *common]).out.splitlines()[2:]
    table = run_cli(reid_main, ["evaluate", "--store", tmp_path / "store{split}.h5", "--all-splits", *common])
    assert table.code == 0, table.err
    rows = table.out.splitlines()
    assert "model" in rows[0] and "std" in rows[0] and "chance" in rows[0] and "over 10 splits" in rows[0]
    for line, one in zip(rows[1:], single, strict=True):
        name, mean, std, chance = line.split()
        assert [name, mean, chance] == [one.split()[0], one.split()[1], one.split()[2]]  # same rows, same numbers
        assert std == "0.0%" and mean.endswith("%") and chance.endswith("%")


def test_show_draws_a_fixed_colour_scale_with_its_key_larger_than_the_frames(run, tmp_path):
    import cv2

    store, _ = run
    result = run_cli(flowprep_main, ["show", store, "--out", tmp_path / "a.png", "--frames", "8"])
    assert result.code == 0, result.err
    assert "full colour at 1 px/frame" in result.out  # 16 px wide frames / 16, the same for every tracklet
    picture = cv2.imread(str(tmp_path / "a.png"))
    assert picture.shape[0] >= 256 and picture.shape[1] > 128  # 32x16 frames enlarged to 128 px tall
    other = run_cli(flowprep_main, ["show", store, "--tracklet", "5", "--out", tmp_path / "b.png"])
    assert "full colour at 1 px/frame" in other.out
    key = picture[picture.shape[0] * 3 // 4, -picture.shape[0] // 4]  # the middle of the key: no flow is white
    assert np.all(key > 240)
