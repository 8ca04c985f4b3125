"""The run folder as the record: config.yaml, repeating a run from it, safe resume, logs, fine-tuning."""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

import pytest
import torch
import yaml
from click.testing import CliRunner

from helpers_store import write_tiny_store
from reliability.conftest import run_cli
from reid.cli import cli
from reid.cli import main as reid_main
from reid.engine.checkpoint import load_checkpoint
from reid.engine.config import TrainConfig
from reid.engine.record import file_sha256
from reid.engine.trainer import Trainer
from reid.settings import TRAIN_SETTINGS

TINY = ["--backbone", "resnet_tiny", "--pretrained", "none", "--feature-dim", "64", "--identities-per-batch", "3",
        "--instances", "2", "--device", "cpu", "--warmup-epochs", "1", "--eval-every", "1", "--quiet",
        "--deterministic", "--lr", "1e-3"]


def train(monkeypatch, *args: str):
    """``reid train ARGS`` in this process, with sys.argv as a shell would set it."""
    monkeypatch.setattr(sys, "argv", ["reid", "train", *args])
    return CliRunner().invoke(cli, ["train", *args])


def metrics(run: Path) -> list[dict[str, str]]:
    with open(run / "metrics.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def results(run: Path) -> list[dict[str, str]]:
    """Every metric but the speed."""
    return [{k: v for k, v in row.items() if k != "train/clips_per_s"} for row in metrics(run)]


@pytest.fixture(scope="module")
def first_run(store, tmp_path_factory) -> tuple[Path, str]:
    """A 2-epoch deterministic run and what it printed."""
    run = tmp_path_factory.mktemp("record") / "run"
    with pytest.MonkeyPatch.context() as patch:
        result = train(patch, "--store", str(store), "--out", str(run), "--epochs", "2", "--workers", "0", *TINY)
    assert result.exit_code == 0, result.output
    return run, result.output


def test_record_holds_every_resolved_setting_and_the_facts_of_the_run(first_run, store):
    run, _ = first_run
    record = yaml.safe_load((run / "config.yaml").read_text())
    assert [k for k in record if k != "run"] == [s.name for s in TRAIN_SETTINGS]
    assert "auto" not in {record["device"], record["pretrained"], record["workers"]}
    assert (record["device"], record["pretrained"], record["workers"]) == ("cpu", "none", 0)
    assert record["store"] == str(store.resolve()) and record["out"] == str(run.resolve())
    facts = record["run"]
    assert facts["command"] == f"reid train --store {store} --out {run} --epochs 2 --workers 0 " + " ".join(TINY)
    assert facts["world_size"] == 1 and facts["device"]["name"] == "cpu"
    assert set(facts["versions"]) == {"python", "torch", "cuda", "flowreid"} and facts["versions"]["torch"] == torch.__version__
    described = facts["store"]
    assert described["path"] == str(store.resolve()) and described["schema_version"] == 2
    assert described["created"] and "split_source" in described and described["flow_method"] == "dis"
    assert load_checkpoint(run / "last.pt")["run"] == facts


def test_metrics_csv_has_a_row_per_epoch_with_training_and_evaluation_columns(first_run):
    rows = metrics(first_run[0])
    assert [row["epoch"] for row in rows] == ["1", "2"]
    assert {"train/total", "train/ce", "train/triplet", "train/lr", "train/clips_per_s", "eval/mAP", "eval/rank1"} <= set(rows[0])


def test_train_log_holds_the_header(first_run):
    log = (first_run[0] / "train.log").read_text()
    assert "reid train: device cpu" in log and "parameters" in log and "# tracklets" in log


def test_the_epoch_lines_are_logged_and_shown_with_quiet(first_run):
    run, output = first_run
    log = (run / "train.log").read_text()
    for line in ("epoch 1/2  loss", "epoch 2/2  loss"):
        assert line in log and line in output  # shown with --quiet too: only the bars are hidden


def test_tensorboard_events_hold_the_logged_scalars(first_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run, _ = first_run
    events = EventAccumulator(str(run))
    events.Reload()
    assert {"train/total", "train/lr", "eval/mAP"} <= set(events.Tags()["scalars"])
    logged = events.Scalars("train/total")
    assert [e.step for e in logged] == [1, 2]
    assert [e.value for e in logged] == pytest.approx([float(row["train/total"]) for row in metrics(run)], rel=1e-5)
    assert not list(Path(__file__).parent.glob("events.out.tfevents*"))  # nothing written beside the tests


def test_the_record_repeats_the_run(first_run, tmp_path, monkeypatch):
    run, _ = first_run
    again = tmp_path / "again"
    result = train(monkeypatch, "--config", str(run / "config.yaml"), "--out", str(again))
    assert result.exit_code == 0, result.output
    assert results(again) == results(run)  # losses, learning rates and scores, to the last printed digit
    a, b = load_checkpoint(run / "last.pt")["model"], load_checkpoint(again / "last.pt")["model"]
    assert all(torch.equal(a[key], b[key]) for key in a)


def test_resume_refuses_changed_settings_in_one_line_and_keeps_the_checkpoint(first_run, tmp_path, monkeypatch):
    run = tmp_path / "run"
    shutil.copytree(first_run[0], run)
    checkpoint = (run / "last.pt").read_bytes()
    refused = train(monkeypatch, "--out", str(run), "--resume", "--lr", "5e-2", "--seed", "7", "--seq-len", "2")
    assert refused.exit_code != 0
    message = str(refused.exception)
    assert "\n" not in message and "--lr 0.001 -> 0.05; --seed 0 -> 7; --seq-len 4 -> 2" in message
    assert (run / "last.pt").read_bytes() == checkpoint


@pytest.fixture(scope="module")
def extended_run(first_run, tmp_path_factory) -> tuple[Path, bytes]:
    """(first_run resumed to 3 epochs with other placement settings, first_run's record before that)."""
    run = tmp_path_factory.mktemp("record") / "extended"
    shutil.copytree(first_run[0], run)
    record = (run / "config.yaml").read_bytes()
    with pytest.MonkeyPatch.context() as patch:
        extended = train(patch, "--out", str(run), "--resume", "--epochs", "3", "--workers", "0", "--log-every", "2")
    assert extended.exit_code == 0, extended.output
    return run, record


def test_a_resume_may_extend_the_epochs_and_keeps_the_recorded_settings(extended_run):
    run, _ = extended_run
    state = load_checkpoint(run / "last.pt")
    assert (state["epoch"], state["config"]["lr"]) == (3, 1e-3)


def test_a_resume_never_rewrites_the_record(extended_run):
    run, record = extended_run
    assert (run / "config.yaml").read_bytes() == record


def test_a_resume_says_where_it_continues(extended_run):
    assert "resumed from epoch 2" in (extended_run[0] / "train.log").read_text()


def test_a_resume_logs_each_epoch_once(extended_run):
    assert [row["epoch"] for row in metrics(extended_run[0])] == ["1", "2", "3"]


def test_settings_reach_the_loss_sampler_and_schedule(store, tmp_path):
    cfg = TrainConfig(store=str(store), out=str(tmp_path / "run"), backbone="resnet_tiny", pretrained="none",
                      feature_dim=64, identities_per_batch=2, instances=3, margin=0.7, label_smoothing=0.25,
                      warmup_epochs=4, warmup_factor=0.5, lr=1e-2, workers=0, device="cpu", quiet=True)
    trainer = Trainer(cfg)
    assert trainer.loss.triplet.margin == 0.7 and trainer.loss.cross_entropy.epsilon == 0.25
    assert (trainer.sampler.p, trainer.sampler.k) == (2, 3)
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.5 * 1e-2)


def test_init_from_fine_tunes_from_a_checkpoint(first_run, tmp_path, monkeypatch):
    run, _ = first_run
    other = write_tiny_store(tmp_path / "other.h5", identities=4, seed=3)
    tuned = tmp_path / "tuned"
    result = train(monkeypatch, "--store", str(other), "--out", str(tuned), "--epochs", "1", "--workers", "0",
                   "--init-from", str(run / "best.pt"), *TINY)
    assert result.exit_code == 0, result.output
    assert "initialised from" in result.output and "new: head.classifier.weight (6 identities there, 4 here)" in result.output
    weights = yaml.safe_load((tuned / "config.yaml").read_text())["run"]["weights"]
    assert weights["init_from"] == {"path": str((run / "best.pt").resolve()), "sha256": file_sha256(run / "best.pt")}
    wrong = train(monkeypatch, "--store", str(other), "--out", str(tmp_path / "wrong"), "--epochs", "1",
                  "--workers", "0", "--init-from", str(run / "best.pt"), "--model", "baseline", *TINY)
    assert wrong.exit_code != 0
    assert "needs a checkpoint of the same network; it differs in model 'mutual-attention' (this run: 'baseline')" in str(wrong.exception)


def test_ctrl_c_points_to_resume(first_run, tmp_path, monkeypatch):
    run = tmp_path / "run"
    shutil.copytree(first_run[0], run)

    def interrupted(self, loader, epoch, max_batches=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "train_epoch", interrupted)
    result = run_cli(reid_main, ["train", "--out", run, "--resume", "--epochs", "4", "--workers", "0", "--quiet"])
    assert result.code == 130 and "Traceback" not in result.err
    assert result.err_lines == [f"reid: interrupted; {run / 'last.pt'} holds the last finished epoch: continue with "
                                f"reid train --out {run} --resume"]


def test_resnet50_on_the_cpu_says_it_is_slow_before_it_starts(store, tmp_path, monkeypatch):
    monkeypatch.setattr(Trainer, "run", lambda self: None)  # the warning is all this test needs to see
    result = train(monkeypatch, "--store", str(store), "--out", str(tmp_path / "r50"), "--backbone", "resnet50",
                   "--pretrained", "none", "--device", "cpu", "--workers", "0", "--identities-per-batch", "2")
    assert result.exit_code == 0, result.output
    assert "training resnet50 on the CPU is slow" in result.output and "--backbone resnet_tiny" in result.output
