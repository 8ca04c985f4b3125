"""Where the LiteFlowNet weights of a store's flow are looked for, as the help texts say."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from flowprep.encode import _liteflownet_weights
from flowprep.store import StoreMeta
from reid.cli import cli as reid_cli

META = StoreMeta(dataset="mars", flow_method="liteflownet", flow_params={"weights": "network-default.pytorch"})


def test_flowprep_weights_names_a_file_used_when_the_recorded_name_is_not_in_the_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    named = tmp_path / "elsewhere" / "my-liteflownet.pytorch"
    named.parent.mkdir()
    named.write_bytes(b"w")
    monkeypatch.setenv("FLOWPREP_WEIGHTS", str(named))
    monkeypatch.delenv("REID_WEIGHTS", raising=False)
    assert _liteflownet_weights(META, None) == named  # a file, not a folder to search
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "network-default.pytorch").write_bytes(b"w")
    assert _liteflownet_weights(META, None) == Path("weights") / "network-default.pytorch"


def test_search_help_says_flowprep_weights_names_a_file() -> None:
    result = CliRunner().invoke(reid_cli, ["search", "--help"])
    text = " ".join(result.output.split())
    assert result.exit_code == 0 and "else the file $FLOWPREP_WEIGHTS names" in text
    assert "in $FLOWPREP_WEIGHTS" not in text
