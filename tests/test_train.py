"""reid train and reid evaluate end to end on a tiny store, on the CPU, and their bad inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py
import pytest
import torch
import yaml
from click.testing import CliRunner

from helpers_store import write_tiny_store
from reid.cli import cli
from reid.engine.checkpoint import load_checkpoint

TINY = ["--backbone", "resnet_tiny", "--pretrained", "none", "--feature-dim", "64", "--identities-per-batch", "3",
        "--instances", "2", "--workers", "0", "--device", "cpu", "--warmup-epochs", "0", "--eval-every", "1", "--quiet"]


def invoke(args: list[str]):
    return CliRunner().invoke(cli, args)


@pytest.fixture(scope="module")
def trained(store, tmp_path_factory) -> Path:
    """The run folder of a 2-epoch ``reid train``, shared by the tests that read it (copy it to change it)."""
    run = tmp_path_factory.mktemp("train") / "run"
    result = invoke(["train", "--store", str(store), "--out", str(run), "--epochs", "2", *TINY])
    assert result.exit_code == 0, result.output
    return run


def copy_of(run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run, tmp_path / "run"))


def test_train_writes_checkpoints_record_and_logs(trained):
    assert {"last.pt", "best.pt", "config.yaml", "metrics.csv", "train.log"} <= {p.name for p in trained.iterdir()}
    assert list(trained.glob("events.out.tfevents.*"))


def test_the_header_shows_parameters_and_flops(trained):
    import re

    model_line = next(line for line in (trained / "train.log").read_text().splitlines() if line.startswith("model "))
    found = re.search(r"parameters, (\d+\.\d\d) GFLOPs per clip \(4 frames of \d+x\d+, forward\)", model_line)
    assert found and float(found.group(1)) > 0, model_line


def test_last_checkpoint_holds_the_last_epoch(trained):
    assert load_checkpoint(trained / "last.pt")["epoch"] == 2


def test_the_record_names_the_model(trained):
    assert yaml.safe_load((trained / "config.yaml").read_text())["model"] == "mutual-attention"


def test_training_into_a_finished_run_without_resume_is_refused(store, trained, tmp_path):
    run = copy_of(trained, tmp_path)
    refused = invoke(["train", "--store", str(store), "--out", str(run), "--epochs", "3", *TINY])
    assert refused.exit_code != 0 and "pass --resume" in str(refused.exception)
    assert load_checkpoint(run / "last.pt")["epoch"] == 2


def test_resume_trains_the_missing_epochs_and_logs_each_epoch_once(store, trained, tmp_path):
    run = copy_of(trained, tmp_path)
    resumed = invoke(["train", "--store", str(store), "--out", str(run), "--epochs", "3", "--resume", *TINY])
    assert resumed.exit_code == 0, resumed.output
    assert load_checkpoint(run / "last.pt")["epoch"] == 3
    epochs = [line.split(",")[0] for line in (run / "metrics.csv").read_text().splitlines()[1:]]
    assert epochs == ["1", "2", "3"]  # the resumed run did not redo epochs 1-2


@pytest.fixture(scope="module")
def scores(store, trained) -> dict:
    """``reid evaluate --json`` of the shared run's best.pt."""
    result = invoke(["evaluate", "--store", str(store), "--checkpoint", str(trained / "best.pt"), "--device", "cpu",
                     "--workers", "0", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_evaluate_json_reports_every_score(scores):
    assert set(scores) >= {"rank1", "rank5", "rank10", "rank20", "mAP", "mINP", "protocol"}


def test_the_trained_model_beats_chance(scores):
    assert scores["mAP"] > scores["chance"]["mAP"] + 0.2  # identities differ by colour: easy to learn


def test_evaluate_prints_a_table_for_the_chosen_protocol(store, trained):
    table = invoke(["evaluate", "--store", str(store), "--checkpoint", str(trained / "best.pt"), "--device", "cpu",
                    "--workers", "0", "--protocol", "matlab"])
    assert table.exit_code == 0 and "matlab protocol" in table.output and "chance" in table.output


def test_resume_continues_like_an_uninterrupted_run(store, tmp_path):
    """Two epochs, stop, one more epoch == three epochs straight (deterministic CPU)."""
    common = [*TINY, "--deterministic", "--eval-every", "0"]
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert invoke(["train", "--store", str(store), "--out", str(straight), "--epochs", "3", *common]).exit_code == 0
    assert invoke(["train", "--store", str(store), "--out", str(split), "--epochs", "2", *common]).exit_code == 0
    assert invoke(["train", "--store", str(store), "--out", str(split), "--epochs", "3", "--resume", *common]).exit_code == 0
    a, b = load_checkpoint(straight / "last.pt")["model"], load_checkpoint(split / "last.pt")["model"]
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


@pytest.mark.parametrize(
    "args, words",
    [
        (["--model", "vgg"], "'vgg' is not one of baseline, gated-attention, mutual-attention, two-stream"),
        (["--aggregate", "median"], "'median' is not one of attention, avg, rnn, weighted"),
        (["--backbone", "vgg16"], "'vgg16' is not one of mobilenet_v2, resnet50, resnet_tiny, se_resnet50, se_resnet50_timm"),
        (["--lr", "fast"], "expected a number, got 'fast'"),
        (["--milestones", "4,x"], "expected comma-separated integers"),
        (["--backbone", "resnet_tiny", "--pretrained", "/no/such/weights.pth"], "no such weight file"),
        (["--backbone", "resnet50", "--pretrained", "auto"], "pass --pretrained PATH"),
    ],
)
def test_bad_train_settings_are_one_line_errors(store, tmp_path, args, words):
    result = invoke(["train", "--store", str(store), "--out", str(tmp_path / "run"), "--epochs", "1",
                     *[a for a in TINY if a not in ("--backbone", "resnet_tiny", "--pretrained", "none")], *args])
    assert result.exit_code != 0
    # click's usage errors (exit 2) print usage, hint and one error line; ours are the exception's one line
    message = result.output if isinstance(result.exception, SystemExit) else str(result.exception)
    assert [line for line in message.splitlines() if words in line] and "Traceback" not in message


def test_store_of_the_wrong_schema_is_refused(tmp_path):
    store = write_tiny_store(tmp_path / "tiny.h5")
    with h5py.File(store, "r+") as f:
        f.attrs["schema_version"] = 7
    result = invoke(["train", "--store", str(store), "--out", str(tmp_path / "run"), *TINY])
    assert result.exit_code != 0 and "schema version 7 is not supported" in str(result.exception)


def test_resume_with_another_model_is_refused(store, trained, tmp_path):
    run = copy_of(trained, tmp_path)
    other = invoke(["train", "--store", str(store), "--out", str(run), "--epochs", "3", "--resume",
                    "--model", "baseline", *TINY])
    assert other.exit_code != 0
    assert "--model mutual-attention -> baseline" in str(other.exception)


def test_evaluate_refuses_weights_that_do_not_fit_the_recorded_model(store, trained, tmp_path):
    state = load_checkpoint(trained / "last.pt")
    state["model_config"]["aggregate"] = "avg"  # the weights no longer fit the model the config describes
    torch.save(state, tmp_path / "mislabelled.pt")
    result = invoke(["evaluate", "--store", str(store), "--checkpoint", str(tmp_path / "mislabelled.pt"), "--device", "cpu"])
    assert result.exit_code != 0 and "weights do not fit" in str(result.exception)


@pytest.fixture(scope="module")
def shared_run(tmp_path_factory) -> tuple[Path, Path]:
    from helpers_store import shared_tiny_run

    return shared_tiny_run(tmp_path_factory)


def evaluate_json(*args: str) -> dict:
    result = invoke(["evaluate", *args, "--device", "cpu", "--workers", "0", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_all_splits_of_one_model_on_one_store_agree_with_the_single_split(shared_run, tmp_path):
    store, checkpoint = shared_run
    for k in range(10):  # the same store and model for every split: the spread must be zero
        (tmp_path / f"store{k}.h5").write_bytes(store.read_bytes())
        with h5py.File(tmp_path / f"store{k}.h5", "a") as f:
            f.attrs["split"] = k  # evaluate checks that store k holds split k
        (tmp_path / f"ckpt{k}.pt").write_bytes(checkpoint.read_bytes())
    summary = evaluate_json("--store", str(tmp_path / "store{split}.h5"), "--checkpoint", str(tmp_path / "ckpt{split}.pt"),
                            "--all-splits")
    single = evaluate_json("--store", str(store), "--checkpoint", str(checkpoint))
    assert summary["splits"] == 10 and summary["mAP"]["std"] < 1e-9
    assert abs(single["mAP"] - summary["mAP"]["mean"]) < 1e-9


def test_rerank_flags_reach_the_re_ranking(shared_run, monkeypatch):
    import reid.rerank

    store, checkpoint = shared_run
    calls = []

    def recorded(*args, **kwargs):
        calls.append({k: kwargs[k] for k in ("k1", "k2", "lambda_value")})
        return rerank_features(*args, **kwargs)

    rerank_features = reid.rerank.rerank_features
    monkeypatch.setattr(reid.rerank, "rerank_features", recorded)
    evaluate_json("--store", str(store), "--checkpoint", str(checkpoint), "--rerank", "--k1", "4", "--k2", "2")
    assert calls == [{"k1": 4, "k2": 2, "lambda_value": 0.3}]


def test_split_and_all_splits_together_are_refused(shared_run):
    store, checkpoint = shared_run
    clash = invoke(["evaluate", "--store", str(store), "--checkpoint", str(checkpoint), "--split", "1", "--all-splits"])
    assert clash.exit_code != 0 and "contradict" in str(clash.exception)


def test_resume_before_the_first_checkpoint_starts_afresh(store, tmp_path):
    """A job killed before its first checkpoint and requeued with --resume just trains."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.csv").write_text("epoch,train/total\n1,9.9\n")  # logged, never checkpointed
    result = invoke(["train", "--store", str(store), "--out", str(run), "--epochs", "1", "--resume", *TINY])
    assert result.exit_code == 0, result.output
    assert "no checkpoint to resume yet" in result.output
    assert load_checkpoint(run / "last.pt")["epoch"] == 1
    assert "9.9" not in (run / "metrics.csv").read_text()


def test_recipe_settings_reach_the_run_record(store, tmp_path):
    run = tmp_path / "run"
    recipe = ["--augment", "frame", "--sampling", "evenly", "--erase-p", "0.25", "--crop-pad", "0.125",
              "--eval-metric", "cosine"]
    result = invoke(["train", "--store", str(store), "--out", str(run), "--epochs", "1", *TINY, *recipe])
    assert result.exit_code == 0, result.output
    config = yaml.safe_load((run / "config.yaml").read_text())
    recorded = tuple(config[k] for k in ("augment", "sampling", "erase_p", "crop_pad", "eval_metric"))
    assert recorded == ("frame", "evenly", 0.25, 0.125, "cosine")


@pytest.mark.parametrize("bad", [["--sampling", "dense"], ["--augment", "tracklet"], ["--erase-p", "1.5"],
                                 ["--eval-metric", "l1"]])
def test_bad_recipe_choices_are_usage_errors(store, tmp_path, bad):
    refused = invoke(["train", "--store", str(store), "--out", str(tmp_path / "other"), *TINY, *bad])
    assert refused.exit_code == 2 and bad[0] in refused.output
