"""A checkpoint used on another dataset's store: a one-line notice naming the training store, the
evaluation header naming it too, and no identity classifier carried over to other people by --init-from.

Real synthetic datasets (``flowprep synth``) extracted at the tiny checkpoints' size, and tiny models
trained on them, so each checkpoint's store record is the one ``reid train`` writes.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from flowprep.store import open_store
from helpers_store import train_tiny_checkpoint
from reid.cli import main as reid_main
from reid.engine.config import TrainConfig
from reid.engine.trainer import Trainer
from reliability.conftest import run_cli

ON_CPU = ["--device", "cpu", "--workers", "0"]


@pytest.fixture(scope="module")
def stores(small_stores) -> dict[str, Path]:
    """A PRID, an iLIDS-VID (split 0, 3 training people each) and a MARS store, all 32x16 DIS."""
    return {name: small_stores[name] for name in ("mars", "prid", "ilidsvid")}


@pytest.fixture(scope="module")
def checkpoints(stores, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cross-runs")
    return {name: train_tiny_checkpoint(stores[name], folder / name) for name in ("prid", "ilidsvid")}


def notices(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("note:")]


@pytest.mark.parametrize("trained, evaluated", [("prid", "ilidsvid"), ("ilidsvid", "mars")])
def test_evaluating_on_another_datasets_store_says_so_and_the_header_names_the_training_store(
        stores, checkpoints, trained, evaluated):
    result = run_cli(reid_main, ["evaluate", "--store", stores[evaluated], "--checkpoint", checkpoints[trained],
                                 *ON_CPU, "--quiet"])
    assert result.code == 0, result.err
    [notice] = notices(result.err)
    assert f"trained on {trained} split 0 ({stores[trained].resolve()})" in notice
    assert f"{stores[evaluated].resolve()} holds {evaluated}: these are cross-dataset" in notice
    header = result.out.splitlines()[0]
    assert f"trained on {trained} split 0 ({stores[trained].resolve()})" in header


def test_the_training_dataset_itself_gets_no_notice_and_json_names_the_training_store(stores, checkpoints):
    result = run_cli(reid_main, ["evaluate", "--store", stores["prid"], "--checkpoint", checkpoints["prid"],
                                 *ON_CPU, "--json"])
    assert result.code == 0, result.err
    assert notices(result.err) == []
    trained_on = json.loads(result.out)["trained_on"]
    assert trained_on == {"dataset": "prid", "split": 0, "path": str(stores["prid"].resolve())}


def test_visualize_ranks_on_another_dataset_says_so(stores, checkpoints, tmp_path):
    result = run_cli(reid_main, ["visualize", "ranks", "--store", stores["ilidsvid"], "--checkpoint",
                                 checkpoints["prid"], "--out", tmp_path / "ranks", "--queries", "1", *ON_CPU, "--quiet"])
    assert result.code == 0, result.err
    assert len(notices(result.err)) == 1 and "trained on prid split 0" in notices(result.err)[0]


def test_search_of_another_datasets_gallery_says_so(stores, checkpoints, tmp_path):
    query = tmp_path / "query"
    query.mkdir()
    with open_store(stores["mars"]) as reader:
        frames, _ = reader.read_clip(0, range(4))
    for k, frame in enumerate(frames):
        cv2.imwrite(str(query / f"{k:04d}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    result = run_cli(reid_main, ["search", "--gallery", stores["ilidsvid"], "--checkpoint", checkpoints["prid"],
                                 "--query", query, *ON_CPU, "--quiet"])
    assert result.code == 0, result.err
    assert len(notices(result.err)) == 1 and "holds ilidsvid" in notices(result.err)[0]


def init_report(store: Path, checkpoint: Path, out: Path) -> str:
    cfg = TrainConfig(store=str(store), out=str(out), backbone="resnet_tiny", pretrained="none", feature_dim=64,
                      identities_per_batch=3, instances=2, workers=0, device="cpu", epochs=1, init_from=str(checkpoint))
    return Trainer(cfg).init_report


def test_init_from_another_dataset_starts_a_new_classifier_though_the_number_of_people_matches(
        stores, checkpoints, tmp_path):
    with open_store(stores["prid"]) as prid, open_store(stores["ilidsvid"]) as ilids:
        people = [len(set(s.tracklets.pid[s.tracklets.of_role("train")])) for s in (prid, ilids)]
    assert people[0] == people[1]  # the case where the classifier's shape alone would let it through
    across = init_report(stores["ilidsvid"], checkpoints["prid"], tmp_path / "across")
    assert "new: head.classifier.weight (trained on prid split 0" in across
    assert "this run on ilidsvid split 0" in across
    same = init_report(stores["prid"], checkpoints["prid"], tmp_path / "same")
    assert "new:" not in same
