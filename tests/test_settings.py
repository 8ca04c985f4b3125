"""The one definition of every training setting: options, config files, the resume check, shipped configs."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner

import reid.models
from flowprep.datasets import DATASETS
from reid.cli import cli
from reid.commands.train import command as train_command
from reid.config import load_config_file, train_config
from reid.engine.config import MODEL_KEYS, TrainConfig
from reid.settings import SETTINGS_BY_NAME, TRAIN_SETTINGS, SettingError, resume_differences

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def test_options_dataclass_and_model_keys_all_come_from_the_settings():
    names = [s.name for s in TRAIN_SETTINGS]
    assert [f.name for f in fields(TrainConfig)] == names
    options = {p.name for p in train_command.params} - {"config_file", "resume"}
    assert options == set(names)
    assert MODEL_KEYS == ("model", "backbone", "aggregate", "attention_layer", "last_stride", "flow_encoding",
                          "feature_dim")
    for setting in TRAIN_SETTINGS:  # a default that does not pass its own check would be a broken entry
        assert setting.check(setting.default) == setting.default, setting.name


def test_the_loss_sampler_optimiser_and_schedule_settings_are_options():
    help_text = CliRunner().invoke(cli, ["train", "--help"], terminal_width=200).output
    for flag in ("--margin", "--label-smoothing", "--ce-weight", "--triplet-weight", "--identities-per-batch",
                 "--instances", "--lr", "--weight-decay", "--warmup-epochs", "--warmup-factor", "--milestones",
                 "--gamma", "--init-from", "--config", "--resume"):
        assert flag in help_text, flag


def test_choices_are_read_from_the_registries(monkeypatch):
    monkeypatch.setitem(reid.models.MODELS, "my-net", reid.models.MODELS["baseline"])
    help_text = CliRunner().invoke(cli, ["train", "--help"], terminal_width=200).output
    assert "[baseline|gated-attention|mutual-attention|my-net|two-stream]" in help_text
    assert "[mobilenet_v2|resnet50|resnet_tiny|se_resnet50|se_resnet50_timm]" in help_text
    assert "[attention|avg|rnn|weighted]" in help_text
    assert SETTINGS_BY_NAME["model"].check("my-net") == "my-net"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_config_file_extends_its_base_and_flags_override_both(tmp_path):
    (tmp_path / "sub").mkdir()
    write(tmp_path / "base.yaml", "store: base.h5\nlr: 1.0e-3\nmilestones: [5, 9]\nseq_len: 6\n")
    child = write(tmp_path / "sub" / "child.yaml", "_BASE_: ../base.yaml\nlr: 3e-4\nmodel: baseline\n")
    assert load_config_file(child) == {"store": "base.h5", "lr": 3e-4, "milestones": (5, 9), "seq_len": 6,
                                       "model": "baseline"}
    cfg = train_config({"seq_len": 2, "store": "flag.h5"}, child)
    assert (cfg.store, cfg.lr, cfg.seq_len, cfg.model, cfg.milestones) == ("flag.h5", 3e-4, 2, "baseline", (5, 9))
    assert cfg.epochs == SETTINGS_BY_NAME["epochs"].default
    assert cfg.out == str(Path("runs") / "flag-baseline")


@pytest.mark.parametrize("text, words", [
    ("lr: 1e-3\nlearning_rate: 0.1\n", "unknown setting 'learning_rate'"),
    ("epochs: ten\n", "epochs: expected an integer, got 'ten'"),
    ("deterministic: 1\n", "deterministic: expected true or false, got 1"),
    ("milestones: 40,80\n", "milestones: expected a list of integers, got '40,80'"),
    ("model: vgg\n", "model: 'vgg' is not one of baseline"),
    ("label_smoothing: 2\n", "label_smoothing: must be between 0.0 and 1.0, got 2.0"),
    ("lr: [1\n", "not valid YAML at line"),
    ("- lr\n", "expected setting: value lines, got a list"),
    ("_BASE_: missing.yaml\n", "missing.yaml: cannot read the config file"),
    ("_BASE_: bad.yaml\n", "loop.yaml: _BASE_ chain comes back to this file"),
])
def test_config_file_errors_are_one_line_naming_the_file_and_key(tmp_path, text, words):
    write(tmp_path / "bad.yaml", "_BASE_: loop.yaml\n")
    path = write(tmp_path / "loop.yaml", text)
    with pytest.raises(SettingError) as caught:
        load_config_file(path)
    message = str(caught.value)
    assert words in message and "\n" not in message
    assert message.startswith(str(tmp_path))


def test_config_file_error_through_the_command_line(tmp_path):
    path = write(tmp_path / "x.yaml", "store: s.h5\nmargins: 0.3\n")
    result = CliRunner().invoke(cli, ["train", "--config", str(path)])
    assert result.exit_code != 0
    assert str(result.exception).startswith(f"{path}: unknown setting 'margins'")


def test_resume_differences_list_each_change_except_placement_and_more_epochs():
    saved = {"lr": 3e-4, "seed": 0, "seq_len": 4, "epochs": 3, "workers": 2, "device": "cpu"}
    wanted = {"lr": 5e-2, "seed": 7, "seq_len": 2, "epochs": 5, "workers": 0, "device": "cuda", "quiet": True}
    assert resume_differences(saved, wanted) == ["--lr 0.0003 -> 0.05", "--seed 0 -> 7", "--seq-len 4 -> 2"]
    assert resume_differences(saved, {"epochs": 2}) == ["--epochs 3 -> 2"]
    assert resume_differences(saved, {"lr": 3e-4, "epochs": 3}) == []


def shipped_configs() -> list[Path]:
    return sorted(CONFIGS.rglob("*.yaml"))


def test_configs_are_shipped_for_the_paper_and_the_demo():
    names = {str(p.relative_to(CONFIGS)) for p in shipped_configs()}
    for dataset in ("mars", "duke", "ilidsvid"):
        for model in ("mutual-attention", "gated-attention", "baseline"):
            assert f"{dataset}/{model}.yaml" in names
    assert "demo-cpu.yaml" in names


@pytest.mark.parametrize("path", [p for p in shipped_configs() if p.parent.name in DATASETS.names()],
                         ids=lambda p: str(p.relative_to(CONFIGS)))
def test_a_dataset_config_names_the_store_flowprep_extract_writes_by_default(path):
    from flowprep.commands.extract import _store_path
    from flowprep.shards import Shard

    default = _store_path(None, DATASETS.get(path.parent.name), None, Shard(0, 1))
    assert load_config_file(path)["store"] == str(default)


@pytest.mark.parametrize("path", shipped_configs(), ids=lambda p: str(p.relative_to(CONFIGS)))
def test_every_shipped_config_loads_into_a_train_config(path):
    values = load_config_file(path)
    cfg = TrainConfig(**{"store": "x.h5", **values})
    assert cfg.model in reid.models.MODELS


def test_resolving_leaves_nothing_to_chance(tmp_path):
    from flowreid.options import default_workers
    from reid.config import resolve

    cfg = resolve(TrainConfig(store="s.h5", backbone="resnet_tiny"), "cpu")
    assert cfg.workers == default_workers() and cfg.device == "cpu" and cfg.pretrained == "none"
    assert cfg.store == str(Path("s.h5").resolve()) and cfg.out == str(Path("runs/s-mutual-attention").resolve())
    weights = tmp_path / "resnet50-0676ba61.pth"
    weights.write_bytes(b"")
    with_file = resolve(TrainConfig(store="s.h5", pretrained=str(weights)), "cuda")
    assert with_file.pretrained == str(weights) and with_file.device == "cuda"


def test_a_run_needs_a_store_from_a_flag_or_a_config_file(tmp_path):
    with pytest.raises(SettingError, match="no store: pass --store STORE"):
        train_config({})
    with pytest.raises(SettingError, match="no checkpoint to resume and no --store"):
        train_config({"out": str(tmp_path / "empty")}, resume=True)
