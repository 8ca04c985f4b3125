"""Registries you add to: a thing registered by one module is listed by the command lines' help,
accepted as a value, named by their errors, and discovered without an edit anywhere else."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from flowprep.cli import cli as flowprep_cli
from flowprep.datasets import DATASETS
from flowprep.flow import FLOW_METHODS
from flowreid.errors import UserError
from flowreid.registry import Registry
from reid.cli import cli as reid_cli
from reid.models import MODELS, build_model
from reid.models.aggregators import AGGREGATORS
from reid.models.backbones import BACKBONES


def write_package(root: Path, name: str, modules: dict[str, str]) -> None:
    (root / name).mkdir()
    for module, text in modules.items():
        (root / name / f"{module}.py").write_text(textwrap.dedent(text))


@pytest.fixture
def on_path(tmp_path, monkeypatch):
    """A folder on sys.path for throw-away modules, forgotten afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


def test_every_module_of_the_package_registers_on_first_read_and_not_before(on_path) -> None:
    write_package(on_path, "widgets", {
        "__init__": "from flowreid.registry import Registry\nWIDGETS = Registry('widget', 'widgets')\n",
        "round": "from widgets import WIDGETS\n\n@WIDGETS.register('round')\ndef make():\n    return 'o'\n",
        "square": "from widgets import WIDGETS\n\n@WIDGETS.register('square')\ndef make():\n    return '[]'\n",
        "_helpers": "raise AssertionError('a private module is not a registration')\n",
    })
    registry = importlib.import_module("widgets").WIDGETS
    assert "widgets.round" not in sys.modules
    assert registry.names() == ["round", "square"]
    assert registry.get("square")() == "[]"


def test_an_unknown_name_is_the_stages_one_line_error_listing_the_names() -> None:
    class ToyError(UserError):
        pass

    registry = Registry("toy", "flowreid", ToyError)  # flowreid's modules register nothing
    registry.register("b")(object())
    registry.register("a")(object())
    with pytest.raises(ToyError, match=r"^unknown toy 'c'; known: a, b$"):
        registry.get("c")
    assert registry.get("c", None) is None


def test_a_name_registered_twice_is_refused() -> None:
    registry = Registry("toy", "flowreid")
    registry.register("a")(int)
    with pytest.raises(ValueError, match="registered twice"):
        registry.register("a")(float)


def option_choices(help_text: str, option: str) -> list[str]:
    return re.search(rf"{option} \[([^\]]+)\]", help_text).group(1).split("|")


def test_the_help_lists_exactly_the_registered_names() -> None:
    extract = CliRunner().invoke(flowprep_cli, ["extract", "--help"], terminal_width=200).output
    assert option_choices(extract, "--dataset") == DATASETS.names()
    assert option_choices(extract, "--flow") == ["auto", *FLOW_METHODS.names()]
    train = CliRunner().invoke(reid_cli, ["train", "--help"], terminal_width=200).output
    assert option_choices(train, "--model") == MODELS.names()
    assert option_choices(train, "--aggregate") == AGGREGATORS.names()
    assert option_choices(train, "--backbone") == BACKBONES.names()


ADAPTER = """
from flowprep.datasets import DATASETS
from flowprep.datasets.base import DatasetAdapter

@DATASETS.register()
class ToyAdapter(DatasetAdapter):
    name = "toy"
    layout = "nothing"

    def tracklets(self):
        return []
"""

AGGREGATOR = """
from torch import nn
from reid.models.aggregators import AGGREGATORS, Aggregated, frame_features

@AGGREGATORS.register("max")
class MaxPooling(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.out_dim = channels

    def forward(self, maps, clip_length):
        return Aggregated(frame_features(maps, clip_length).amax(dim=1), None)
"""


def test_a_new_dataset_adapter_is_one_module_and_the_cli_lists_it(on_path) -> None:
    (on_path / "toy_adapter.py").write_text(ADAPTER)
    importlib.import_module("toy_adapter")
    try:
        runner = CliRunner()
        extract = runner.invoke(flowprep_cli, ["extract", "--help"], terminal_width=200).output
        assert "toy" in option_choices(extract, "--dataset")
        refused = runner.invoke(flowprep_cli, ["extract", "--dataset", "market"])
        assert "'toy'" in refused.output
    finally:
        del DATASETS["toy"]


def test_a_new_aggregator_is_one_module_and_trains_by_name(on_path) -> None:
    import torch

    (on_path / "max_aggregator.py").write_text(AGGREGATOR)
    importlib.import_module("max_aggregator")
    try:
        train = CliRunner().invoke(reid_cli, ["train", "--help"], terminal_width=200).output
        assert "max" in option_choices(train, "--aggregate")
        model = build_model("baseline", num_classes=2, backbone="resnet_tiny", aggregate="max", feature_dim=8)
        assert model(torch.rand(2, 3, 3, 32, 16), None).embedding.shape == (2, 8)
    finally:
        del AGGREGATORS["max"]


def test_command_lines_start_without_reading_a_registry() -> None:
    """Importing the command lines (and extract's options) imports no registered module."""
    registered = ["flowprep.datasets.mars", "flowprep.datasets.mot", "flowprep.flow.methods.dis",
                  "reid.models.networks.baseline", "reid.models.aggregators.avg"]
    code = ("import sys, reid.cli, flowprep.cli, flowprep.commands.extract; "
            f"print(' '.join(m for m in {registered!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    assert loaded == []
