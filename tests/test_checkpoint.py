"""Checkpoints load without running code; run logs are valid TensorBoard records."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from reid.engine.checkpoint import check_model_config, load_checkpoint, restore_rng_state, rng_state, save_checkpoint
from reid.engine.events import RunLog
from reid.errors import CheckpointError


def test_rng_state_round_trips_through_a_checkpoint(tmp_path):
    save_checkpoint(tmp_path / "c.pt", {"rng": rng_state()})
    expected = (np.random.rand(), random.random(), torch.rand(1).item())
    restore_rng_state(load_checkpoint(tmp_path / "c.pt")["rng"])
    assert (np.random.rand(), random.random(), torch.rand(1).item()) == expected


class Payload:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_pickled_code_is_refused(tmp_path, capsys):
    torch.save({"format": 1, "model": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint(tmp_path / "evil.pt")
    assert "never run" not in capsys.readouterr().out


@pytest.mark.parametrize("name, words", [("truncated.pt", "truncated or damaged"), ("none.pt", "no such checkpoint")])
def test_damaged_and_missing_checkpoints_are_one_line_errors(tmp_path, name, words):
    save_checkpoint(tmp_path / "c.pt", {"epoch": 1})
    (tmp_path / "truncated.pt").write_bytes((tmp_path / "c.pt").read_bytes()[:50])
    with pytest.raises(CheckpointError, match=words) as info:
        load_checkpoint(tmp_path / name)
    assert "\n" not in str(info.value)


def test_model_config_mismatch_names_the_setting(tmp_path):
    with pytest.raises(CheckpointError, match="backbone='resnet50'.*backbone='se_resnet50'"):
        check_model_config(tmp_path / "c.pt", {"backbone": "resnet50"}, {"backbone": "se_resnet50"})


def test_failed_save_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    save_checkpoint(tmp_path / "c.pt", {"epoch": 1})

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("flowreid.atomic.os.fsync", full_disk)
    with pytest.raises(CheckpointError, match="No space left"):
        save_checkpoint(tmp_path / "c.pt", {"epoch": 2})
    assert load_checkpoint(tmp_path / "c.pt")["epoch"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pt"]


def tensorboard_scalars(folder, tag) -> list[tuple[int, float]]:
    """What TensorBoard itself reads back from the event files in ``folder``."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder))
    events.Reload()
    return [(e.step, e.value) for e in events.Scalars(tag)]


@pytest.fixture
def logged(tmp_path) -> Path:
    """A run log of two epochs, the second with a metric seen for the first time, and one text line."""
    log = RunLog(tmp_path)
    log.log(1, {"train/loss": 1.5})
    log.log(2, {"train/loss": 1.25, "eval/mAP": 0.5})
    log.line("epoch 2 done", show=False)
    log.close()
    return tmp_path


def test_run_log_writes_one_csv_row_per_epoch_widening_the_header_for_new_metrics(logged):
    assert (logged / "metrics.csv").read_text().splitlines() == ["epoch,train/loss,eval/mAP", "1,1.5,", "2,1.25,0.5"]


def test_run_log_keeps_its_lines_in_train_log(logged):
    assert (logged / "train.log").read_text() == "epoch 2 done\n"


def test_run_log_writes_tensorboard_events_at_the_epoch_steps(logged):
    assert tensorboard_scalars(logged, "train/loss") == [(1, 1.5), (2, 1.25)]
    assert tensorboard_scalars(logged, "eval/mAP") == [(2, 0.5)]


def test_resumed_run_log_forgets_steps_after_the_checkpoint(tmp_path):
    """A run killed between logging epoch 3 and checkpointing it: the resumed run logs epoch 3 once."""
    killed = RunLog(tmp_path)
    for step in (1, 2, 3):
        killed.log(step, {"train/loss": float(step), "train/lr": 0.1})
    killed.close()
    resumed = RunLog(tmp_path, resumed_step=2)
    resumed.log(3, {"train/loss": 3.5, "train/lr": 0.1})
    resumed.close()
    rows = (tmp_path / "metrics.csv").read_text().splitlines()
    assert rows == ["epoch,train/loss,train/lr", "1,1,0.1", "2,2,0.1", "3,3.5,0.1"]
    assert tensorboard_scalars(tmp_path, "train/loss") == [(1, 1.0), (2, 2.0), (3, 3.5)]
