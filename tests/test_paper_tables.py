"""pipelines/paper_tables.py runs its cells from a reid train config file, then the flags after --."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

from helpers_store import write_tiny_store

ROOT = Path(__file__).resolve().parents[1]


def load_pipeline():
    spec = importlib.util.spec_from_file_location("paper_tables", ROOT / "pipelines" / "paper_tables.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_flags_after_the_separator_are_checked_by_the_settings():
    tables = load_pipeline()
    assert tables.parse_train_args(["--epochs", "3", "--milestones", "2,3", "--deterministic", "--no-quiet"]) == {
        "epochs": 3, "milestones": (2, 3), "deterministic": True, "quiet": False}
    with pytest.raises(SystemExit, match="unknown train setting --epoch"):
        tables.parse_train_args(["--epoch", "3"])
    with pytest.raises(SystemExit, match="--lr: expected a number, got 'fast'"):
        tables.parse_train_args(["--lr", "fast"])


def test_a_cell_trains_from_the_config_file_with_its_own_settings(tmp_path):
    tables = load_pipeline()
    store = write_tiny_store(tmp_path / "tiny.h5")
    config = tmp_path / "tables.yaml"
    config.write_text(f"_BASE_: {ROOT / 'configs' / 'demo-cpu.yaml'}\nepochs: 1\nfeature_dim: 32\n"
                      "identities_per_batch: 3\ninstances: 2\nworkers: 0\n")
    cell = tables.Cell("baseline", "avg", seq_len=2)
    row = tables.run_cell(cell, 3, store, tmp_path / "work", config, {"lr": 2e-3})
    assert row["cell"] == cell.key and row["seed"] == 3 and 0 <= row["mAP"] <= 1
    record = yaml.safe_load((tmp_path / "work" / "baseline_avg_L4_T2" / "seed3" / "config.yaml").read_text())
    assert (record["model"], record["aggregate"], record["seq_len"], record["seed"]) == ("baseline", "avg", 2, 3)
    assert (record["feature_dim"], record["backbone"], record["epochs"], record["lr"]) == (32, "resnet_tiny", 1, 2e-3)
