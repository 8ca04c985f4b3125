"""pipelines/pretrained_grid.py: its cells, its paired comparisons and one real run."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load(name: str):
    sys.path.insert(0, str(ROOT / "pipelines"))  # the grid imports its siblings
    try:
        spec = importlib.util.spec_from_file_location(name, ROOT / "pipelines" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(ROOT / "pipelines"))


def test_comparisons_pair_each_seed_with_itself():
    grid = load("pretrained_grid")
    maps = {"baseline|avg|imagenet": [0.50, 0.40, 0.30], "baseline|avg|scratch": [0.45, 0.42, 0.20]}
    results = {(cell, seed): {"mAP": value, "rank1": value, "chance_mAP": 0.1}
               for cell, values in maps.items() for seed, value in enumerate(values)}
    text = grid.render(results, [0, 1, 2], "header")
    row = next(line for line in text.splitlines() if line.startswith("| pretrained vs scratch, baseline"))
    assert row == "| pretrained vs scratch, baseline | 4.3 ± 6.0 | 2 of 3 |"  # +5, -2, +10 points
    assert "| Gated attention (one stream), pooling | 0 | - | - | - |" in text
    assert "| Baseline (one stream), pooling | 3 | 40.0 ± 10.0 |" in text


def test_one_cell_runs_resumably_with_its_pretrained_setting(store, tmp_path, monkeypatch):
    grid = load("pretrained_grid")
    work = tmp_path / "grid"
    argv = ["pretrained_grid.py", "--store", str(store), "--config", str(ROOT / "configs" / "demo-cpu.yaml"),
            "--work", str(work), "--out", str(work / "grid.md"), "--seeds", "0", "--cells", "baseline|avg|scratch",
            "--", "--epochs", "1", "--max-batches", "1", "--feature-dim", "16", "--identities-per-batch", "3",
            "--instances", "2", "--workers", "0", "--warmup-epochs", "0"]
    monkeypatch.setattr(sys, "argv", argv)
    grid.main()
    rows = [json.loads(line) for line in (work / "results.jsonl").read_text().splitlines()]
    assert [(r["cell"], r["seed"]) for r in rows] == [("baseline|avg|scratch", 0)] and 0 <= rows[0]["mAP"] <= 1
    record = (work / "baseline_avg_scratch" / "seed0" / "config.yaml").read_text()
    assert "pretrained: none" in record and "aggregate: avg" in record
    grid.main()  # resumed: nothing left to do
    assert len((work / "results.jsonl").read_text().splitlines()) == 1
    assert "| Baseline, pooling, from scratch | 1 |" in (work / "grid.md").read_text()


def test_the_fix_cell_runs_mutual_attention_with_faster_attention_layers(tmp_path, monkeypatch):
    grid = load("pretrained_grid")
    seen = {}

    def fake_train_and_score(run_dir, config, settings, command):
        seen.update(settings, run_dir=run_dir)
        return None, {"mAP": 0.5, "rank1": 0.5, "chance_mAP": 0.1}

    monkeypatch.setattr(grid, "train_and_score", fake_train_and_score)
    args = type("Args", (), {"store": tmp_path / "s.h5", "config": tmp_path / "c.yaml", "work": tmp_path, "silhouettes": None})
    row = grid.run_cell(grid.BY_KEY["mutual-attention|avg|imagenet|attention-lr-x10"], 3, args, {"epochs": 1})
    assert row["cell"] == "mutual-attention|avg|imagenet|attention-lr-x10" and row["seed"] == 3
    assert seen["attention_lr_factor"] == 10.0 and seen["model"] == "mutual-attention" and seen["pretrained"] == "auto"
    assert seen["run_dir"] == tmp_path / "mutual-attention_avg_imagenet_attention-lr-x10" / "seed3"
    assert grid.BY_KEY["baseline|avg|imagenet"].attention_lr_factor == 1.0


def test_an_unknown_cell_is_a_usage_error_listing_the_cells(tmp_path, monkeypatch, capsys):
    grid = load("pretrained_grid")
    monkeypatch.setattr(sys, "argv", ["pretrained_grid.py", "--store", "s.h5", "--config", "c.yaml", "--work",
                                      str(tmp_path), "--out", str(tmp_path / "g.md"), "--cells", "baseline|avg|imagenet,vgg"])
    try:
        grid.main()
    except SystemExit as exc:
        assert exc.code == 2
    else:
        raise AssertionError("an unknown cell must stop the grid")
    error = capsys.readouterr().err
    assert "unknown cell(s) vgg; known: baseline|avg|imagenet," in error and not (tmp_path / "results.jsonl").exists()
