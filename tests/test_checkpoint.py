"""Checkpoints load without running code; run logs are valid TensorBoard records."""

from __future__ import annotations

import random
import struct

import numpy as np
import pytest
import torch

from reid.engine.checkpoint import check_model_config, load_checkpoint, restore_rng_state, rng_state, save_checkpoint
from reid.engine.events import RunLog, crc32c
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


def test_damaged_and_missing_checkpoints_are_one_line_errors(tmp_path):
    save_checkpoint(tmp_path / "c.pt", {"epoch": 1})
    (tmp_path / "t.pt").write_bytes((tmp_path / "c.pt").read_bytes()[:50])
    for path, words in ((tmp_path / "t.pt", "truncated or damaged"), (tmp_path / "none.pt", "no such checkpoint")):
        with pytest.raises(CheckpointError, match=words) as info:
            load_checkpoint(path)
        assert "\n" not in str(info.value)


def test_model_config_mismatch_names_the_setting(tmp_path):
    with pytest.raises(CheckpointError, match="backbone='resnet50'.*backbone='se_resnet50'"):
        check_model_config(tmp_path / "c.pt", {"backbone": "resnet50"}, {"backbone": "se_resnet50"})


def test_failed_save_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    save_checkpoint(tmp_path / "c.pt", {"epoch": 1})

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("reid.engine.checkpoint.os.fsync", full_disk)
    with pytest.raises(CheckpointError, match="No space left"):
        save_checkpoint(tmp_path / "c.pt", {"epoch": 2})
    assert load_checkpoint(tmp_path / "c.pt")["epoch"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pt"]


def read_records(path):
    data = path.read_bytes()
    records, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        records.append(data[pos + 12 : pos + 12 + length])
        pos += 12 + length + 4
    return records


def test_run_log_writes_csv_and_framed_events(tmp_path):
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    log = RunLog(tmp_path)
    log.log(3, {"train/loss": 1.5})
    log.close()
    assert (tmp_path / "metrics.csv").read_text().splitlines() == ["step,name,value", "3,train/loss,1.5"]
    (events,) = tmp_path.glob("events.out.tfevents.*")
    records = read_records(events)
    assert len(records) == 2 and b"brain.Event:2" in records[0]
    assert b"train/loss" in records[1] and struct.pack("<f", 1.5) in records[1]


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
    assert [row.split(",")[0] for row in rows[1:]] == ["1", "1", "2", "2", "3", "3"]
    assert "3,train/loss,3.5" in rows and "3,train/loss,3" not in rows
