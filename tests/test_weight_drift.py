"""tools/weight_drift.py: the start it rebuilds is the run's real start (a frozen part moved exactly 0)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from reid.engine.config import TrainConfig
from reid.engine.trainer import Trainer

ROOT = Path(__file__).resolve().parents[1]


def load_tool():
    spec = importlib.util.spec_from_file_location("weight_drift", ROOT / "tools" / "weight_drift.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def frozen_attention_run(store, tmp_path_factory) -> Path:
    """Mutual attention trained two epochs with its attention layers at learning rate 0."""
    out = tmp_path_factory.mktemp("drift") / "run"
    Trainer(TrainConfig(store=str(store), out=str(out), model="mutual-attention", aggregate="avg", epochs=2,
                        backbone="resnet_tiny", pretrained="none", feature_dim=32, identities_per_batch=3, instances=2,
                        workers=0, device="cpu", warmup_epochs=0, eval_every=0, quiet=True, seed=7,
                        attention_lr_factor=0.0)).run()
    return out / "last.pt"


def test_a_frozen_part_has_not_moved_and_the_trained_ones_have(frozen_attention_run, capsys):
    load_tool().main([str(frozen_attention_run)])
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{frozen_attention_run}: image_net ")
    drift = {part: float(value.rstrip("%")) for part, value in
             (item.split() for item in line.split(": ", 1)[1].split(", "))}
    assert set(drift) == {"image_net", "flow_net", "mutual_attention", "head"}
    assert drift["mutual_attention"] == 0.0  # rebuilt from the recorded seed, bit for bit
    assert drift["image_net"] > 0.1 and drift["flow_net"] > 0.1 and drift["head"] > 0.1


def test_a_missing_imagenet_file_names_the_flag(frozen_attention_run, tmp_path):
    tool = load_tool()
    with pytest.raises(SystemExit, match=r"absent\.pth, which is not here; pass --pretrained PATH"):
        tool.main([str(frozen_attention_run), "--pretrained", str(tmp_path / "absent.pth")])
