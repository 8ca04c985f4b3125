"""reid train and reid evaluate end to end on a tiny store, on the CPU, and their bad inputs."""

from __future__ import annotations

import json

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


def test_train_checkpoint_resume_evaluate(tmp_path):
    store = write_tiny_store(tmp_path / "tiny.h5", identities=6)
    run = tmp_path / "run"
    first = invoke(["train", "--store", str(store), "--out", str(run), "--epochs", "2", *TINY])
    assert first.exit_code == 0, first.output
    assert {"last.pt", "best.pt", "config.yaml", "metrics.csv", "train.log"} <= {p.name for p in run.iterdir()}
    assert list(run.glob("events.out.tfevents.*"))
    assert load_checkpoint(run / "last.pt")["epoch"] == 2
    assert yaml.safe_load((run / "config.yaml").read_text())["model"] == "mutual-attention"

    refused = invoke(["train", "--store", str(store), "--out", str(run), "--epochs", "3", *TINY])
    assert refused.exit_code != 0 and "pass --resume" in str(refused.exception)
    resumed = invoke(["train", "--store", str(store), "--out", str(run), "--epochs", "3", "--resume", *TINY])
    assert resumed.exit_code == 0, resumed.output
    assert load_checkpoint(run / "last.pt")["epoch"] == 3
    epochs = [line.split(",")[0] for line in (run / "metrics.csv").read_text().splitlines()[1:]]
    assert epochs == ["1", "2", "3"]  # one row per epoch: the resumed run did not redo epochs 1-2

    result = invoke(["evaluate", "--store", str(store), "--checkpoint", str(run / "best.pt"), "--device", "cpu",
                     "--workers", "0", "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert set(scores) >= {"rank1", "rank5", "rank10", "rank20", "mAP", "mINP", "protocol"}
    assert all(0 <= scores[k] <= 1 for k in ("rank1", "rank5", "rank10", "rank20", "mAP", "mINP"))
    assert scores["mAP"] > scores["chance"]["mAP"] + 0.2  # identities differ by colour: easy to learn
    table = invoke(["evaluate", "--store", str(store), "--checkpoint", str(run / "best.pt"), "--device", "cpu",
                    "--workers", "0", "--protocol", "matlab"])
    assert table.exit_code == 0 and "matlab protocol" in table.output and "chance" in table.output


def test_resume_continues_like_an_uninterrupted_run(tmp_path):
    """Two epochs, stop, one more epoch == three epochs straight (deterministic CPU)."""
    store = write_tiny_store(tmp_path / "tiny.h5", identities=6)
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
        (["--backbone", "vgg16"], "'vgg16' is not one of resnet50, resnet_tiny, se_resnet50, se_resnet50_timm"),
        (["--lr", "fast"], "expected a number, got 'fast'"),
        (["--milestones", "4,x"], "expected comma-separated integers"),
        (["--backbone", "resnet_tiny", "--pretrained", "/no/such/weights.pth"], "no such weight file"),
        (["--backbone", "resnet50", "--pretrained", "auto"], "pass --pretrained PATH"),
    ],
)
def test_bad_train_settings_are_one_line_errors(tmp_path, args, words):
    store = write_tiny_store(tmp_path / "tiny.h5")
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


def test_checkpoint_of_another_model_is_refused(tmp_path):
    store = write_tiny_store(tmp_path / "tiny.h5")
    run = tmp_path / "run"
    assert invoke(["train", "--store", str(store), "--out", str(run), "--epochs", "1", *TINY]).exit_code == 0
    other = invoke(["train", "--store", str(store), "--out", str(run), "--epochs", "2", "--resume",
                    "--model", "baseline", *TINY])
    assert other.exit_code != 0
    assert "--model mutual-attention -> baseline" in str(other.exception)
    state = load_checkpoint(run / "last.pt")
    state["model_config"]["aggregate"] = "avg"  # the weights no longer fit the model the config describes
    torch.save(state, run / "mislabelled.pt")
    result = invoke(["evaluate", "--store", str(store), "--checkpoint", str(run / "mislabelled.pt"), "--device", "cpu"])
    assert result.exit_code != 0 and "weights do not fit" in str(result.exception)


def test_evaluate_all_splits_and_rerank(tmp_path_factory, tmp_path):
    from helpers_store import shared_tiny_run

    store, checkpoint = shared_tiny_run(tmp_path_factory)
    for k in range(10):  # the same store and model for every split: the spread must be zero
        (tmp_path / f"store{k}.h5").write_bytes(store.read_bytes())
        with h5py.File(tmp_path / f"store{k}.h5", "a") as f:
            f.attrs["split"] = k  # evaluate checks that store k holds split k
        (tmp_path / f"ckpt{k}.pt").write_bytes(checkpoint.read_bytes())
    common = ["--device", "cpu", "--workers", "0", "--json"]
    result = invoke(["evaluate", "--store", str(tmp_path / "store{split}.h5"),
                     "--checkpoint", str(tmp_path / "ckpt{split}.pt"), "--all-splits", *common])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["splits"] == 10 and summary["mAP"]["std"] < 1e-9 and 0 < summary["mAP"]["mean"] <= 1
    single = json.loads(invoke(["evaluate", "--store", str(store), "--checkpoint", str(checkpoint), *common]).output)
    assert abs(single["mAP"] - summary["mAP"]["mean"]) < 1e-9
    reranked = invoke(["evaluate", "--store", str(store), "--checkpoint", str(checkpoint), "--rerank", "--k1", "4",
                       "--k2", "2", *common])
    assert reranked.exit_code == 0, reranked.output
    assert 0 <= json.loads(reranked.output)["mAP"] <= 1
    clash = invoke(["evaluate", "--store", str(store), "--checkpoint", str(checkpoint), "--split", "1", "--all-splits"])
    assert clash.exit_code != 0 and "contradict" in str(clash.exception)


def test_resume_before_the_first_checkpoint_starts_afresh(tmp_path):
    """A job killed before its first checkpoint and requeued with --resume just trains."""
    store = write_tiny_store(tmp_path / "tiny.h5", identities=6)
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.csv").write_text("epoch,train/total\n1,9.9\n")  # logged, never checkpointed
    result = invoke(["train", "--store", str(store), "--out", str(run), "--epochs", "1", "--resume", *TINY])
    assert result.exit_code == 0, result.output
    assert "no checkpoint to resume yet" in result.output
    assert load_checkpoint(run / "last.pt")["epoch"] == 1
    assert "9.9" not in (run / "metrics.csv").read_text()


def test_recipe_settings_reach_the_run_and_bad_choices_are_refused(tmp_path):
    store = write_tiny_store(tmp_path / "tiny.h5")
    run = tmp_path / "run"
    recipe = ["--augment", "frame", "--sampling", "evenly", "--erase-p", "0.25", "--crop-pad", "0.125",
              "--eval-metric", "cosine"]
    result = invoke(["train", "--store", str(store), "--out", str(run), "--epochs", "1", *TINY, *recipe])
    assert result.exit_code == 0, result.output
    import yaml

    config = yaml.safe_load((run / "config.yaml").read_text())
    recorded = tuple(config[k] for k in ("augment", "sampling", "erase_p", "crop_pad", "eval_metric"))
    assert recorded == ("frame", "evenly", 0.25, 0.125, "cosine")
    for bad in (["--sampling", "dense"], ["--augment", "tracklet"], ["--erase-p", "1.5"], ["--eval-metric", "l1"]):
        refused = invoke(["train", "--store", str(store), "--out", str(tmp_path / "other"), *TINY, *bad])
        assert refused.exit_code == 2 and bad[0] in refused.output
