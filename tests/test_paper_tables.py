"""pipelines/paper_tables.py runs its cells from a reid train config file, then the flags after --."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import pytest
import yaml


ROOT = Path(__file__).resolve().parents[1]


def load_pipeline():
    spec = importlib.util.spec_from_file_location("paper_tables", ROOT / "pipelines" / "paper_tables.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_flags_after_the_separator_become_train_settings():
    tables = load_pipeline()
    assert tables.parse_train_args(["--epochs", "3", "--milestones", "2,3", "--deterministic", "--no-quiet"]) == {
        "epochs": 3, "milestones": (2, 3), "deterministic": True, "quiet": False}


@pytest.mark.parametrize("flags, message", [(["--epoch", "3"], "unknown train setting --epoch"),
                                            (["--lr", "fast"], "--lr: expected a number, got 'fast'")])
def test_bad_flags_after_the_separator_are_refused_by_the_settings(flags, message):
    with pytest.raises(SystemExit, match=message):
        load_pipeline().parse_train_args(flags)


@pytest.fixture(scope="module")
def cell_run(store, tmp_path_factory) -> tuple[dict, Path]:
    """(the row of one cell trained with seed 3 from a config file plus a flag, its run folder)."""
    tables = load_pipeline()
    folder = tmp_path_factory.mktemp("tables")
    config = folder / "tables.yaml"
    config.write_text(f"_BASE_: {ROOT / 'configs' / 'demo-cpu.yaml'}\nepochs: 1\nfeature_dim: 32\n"
                      "identities_per_batch: 3\ninstances: 2\nworkers: 0\n")
    row = tables.run_cell(tables.Cell("baseline", "avg", seq_len=2), 3, store, folder / "work", config, {"lr": 2e-3})
    return row, folder / "work" / "baseline_avg_L4_T2" / "seed3"


def test_a_cell_row_reports_the_last_evaluation_of_its_run(cell_run):
    row, run = cell_run
    with open(run / "metrics.csv", newline="") as handle:
        logged = list(csv.DictReader(handle))[-1]
    assert (row["cell"], row["seed"]) == ("baseline|avg|L4|T2", 3)
    assert row["mAP"] == pytest.approx(float(logged["eval/mAP"]), rel=1e-5)
    assert row["rank1"] == pytest.approx(float(logged["eval/rank1"]), rel=1e-5)


def test_a_cell_trains_from_the_config_file_with_its_own_settings(cell_run):
    _, run = cell_run
    record = yaml.safe_load((run / "config.yaml").read_text())
    assert (record["model"], record["aggregate"], record["seq_len"], record["seed"]) == ("baseline", "avg", 2, 3)
    assert (record["feature_dim"], record["backbone"], record["epochs"], record["lr"]) == (32, "resnet_tiny", 1, 2e-3)
