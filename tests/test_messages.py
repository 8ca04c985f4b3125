"""Small wording a new user trips over: counts in the singular, a store with no split, a mistyped config key."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowprep.cli import main as flowprep_main
from flowreid.wording import counted
from helpers_store import altered_copy
from reid.cli import main as reid_main
from reid.settings import SettingError, check_values
from reliability.conftest import TRAIN_FLAGS, run_cli


@pytest.mark.parametrize("number, shown", [(0, "0 epochs"), (1, "1 epoch"), (2, "2 epochs")])
def test_counts_take_the_singular_for_one(number, shown):
    assert counted(number, "epoch") == shown


def test_a_one_epoch_run_says_1_epoch(store, tmp_path):
    result = run_cli(reid_main, ["train", "--store", store, "--out", tmp_path / "run", "--epochs", "1", *TRAIN_FLAGS,
                                 "--max-batches", "1"])
    assert result.code == 0, result.err
    assert "clips of 4 frames, 1 epoch, lr " in result.out  # the header
    assert f"{tmp_path / 'run'}: trained 1 epoch; checkpoints" in result.out
    assert "1 epochs" not in result.out


@pytest.mark.parametrize("split, shown", [(-1, None), (0, ", split 0,"), (7, ", split 7,")])
def test_inspect_names_a_split_only_when_the_store_holds_one(store, tmp_path, split, shown):
    copy = altered_copy(store, tmp_path / "s.h5", split=split)
    first = run_cli(flowprep_main, ["inspect", copy]).out.splitlines()[0]
    assert first.startswith(f"{copy}: schema ")
    facts = first[len(str(copy)):]
    assert "split -1" not in facts and ("split" not in facts if shown is None else shown in facts)


@pytest.mark.parametrize("key, suggestion", [("epoch", "epochs"), ("seq-len", "seq_len"), ("Margins", "margin"),
                                             ("eval_evry", "eval_every")])
def test_a_mistyped_config_key_gets_the_close_match(key, suggestion):
    with pytest.raises(SettingError) as caught:
        check_values({key: 1}, "run.yaml")
    assert str(caught.value) == f"run.yaml: unknown setting {key!r}; did you mean {suggestion!r}?"


def test_a_key_like_no_setting_lists_them_all():
    with pytest.raises(SettingError) as caught:
        check_values({"colour": "red"}, "run.yaml")
    message = str(caught.value)
    assert message.startswith("run.yaml: unknown setting 'colour' (known: store, ") and "epochs" in message


def test_the_mistyped_key_reaches_the_user_in_one_line(tmp_path: Path):
    config = tmp_path / "c.yaml"
    config.write_text("store: s.h5\nepoch: 3\n")
    result = run_cli(reid_main, ["train", "--config", config])
    assert result.code == 2 and result.err_lines == [
        f"reid: error: {config}: unknown setting 'epoch'; did you mean 'epochs'?"]
