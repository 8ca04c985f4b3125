"""Unsafe files: a checkpoint never runs code when loaded, and metadata never points outside the dataset root."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from flowprep.cli import main as flowprep_main
from reid.cli import main as reid_main

from .conftest import CHILD_ENV, EXTRACT_FLAGS, TRAIN_FLAGS, assert_one_line_error, run_cli

REPOSITORY = Path(__file__).resolve().parents[2]


class CreatesAFile:
    """A pickled payload: unpickling it calls ``open(path, "w")``, which would leave ``path`` behind."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def evil_checkpoint(good: Path, path: Path, marker: Path) -> Path:
    """A real checkpoint with a payload hidden among its entries."""
    payload = torch.load(good, weights_only=True)
    payload["config"] = {**payload["config"], "note": CreatesAFile(marker)}
    torch.save(payload, path)
    return path


def test_pickled_payload_in_a_checkpoint_is_refused_by_reid_evaluate(tiny_store, tiny_checkpoint, tmp_path):
    marker = tmp_path / "payload-ran"
    evil = evil_checkpoint(tiny_checkpoint, tmp_path / "evil.pt", marker)
    result = subprocess.run([sys.executable, "-m", "reid.cli", "evaluate", "--store", str(tiny_store),
                             "--checkpoint", str(evil), "--device", "cpu", "--workers", "0"],
                            env=CHILD_ENV, capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert f"{evil}: refused: it holds pickled objects" in result.stderr
    assert not marker.exists(), "loading the checkpoint ran its payload"


def test_pickled_payload_in_last_pt_is_refused_by_train_resume(tiny_store, tiny_checkpoint, tmp_path):
    marker = tmp_path / "payload-ran"
    run = Path(shutil.copytree(tiny_checkpoint.parent, tmp_path / "run"))
    evil_checkpoint(tiny_checkpoint, run / "last.pt", marker)
    result = run_cli(reid_main, ["train", "--store", tiny_store, "--out", run, "--epochs", "3", "--resume",
                                 *TRAIN_FLAGS])
    assert_one_line_error(result, run / "last.pt", "refused")
    assert not marker.exists()


def torch_load_calls(path: Path) -> list[ast.Call]:
    tree = ast.parse(path.read_text(), str(path))
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "load" and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch"]


def test_every_torch_load_in_the_code_is_weights_only():
    sources = [p for package in ("flowprep", "reid") for p in (REPOSITORY / package).rglob("*.py")]
    calls = [(path, call) for path in sources for call in torch_load_calls(path)]
    assert calls, "expected the checkpoint loader among the sources"
    for path, call in calls:
        flags = {k.arg: k.value for k in call.keywords}
        assert isinstance(flags.get("weights_only"), ast.Constant) and flags["weights_only"].value is True, \
            f"{path}:{call.lineno}: torch.load without weights_only=True"


ESCAPES = ["../0001C1T0001F001.jpg", "../../../../etc/passwd", "/etc/passwd", "/tmp/0001C1T0001F001.jpg",
           "0001/../../0001C1T0001F001.jpg", "..\\..\\0001C1T0001F001.jpg", ".."]


@pytest.mark.parametrize("name", ESCAPES)
@pytest.mark.parametrize("names_file", ["train_name.txt", "test_name.txt"])
def test_names_that_leave_the_dataset_root_are_refused(name, names_file, mars_root, tmp_path):
    root = Path(shutil.copytree(mars_root, tmp_path / "mars"))
    listing = root / "info" / names_file
    lines = listing.read_text().splitlines()
    lines[4] = name
    listing.write_text("\n".join(lines) + "\n")
    result = run_cli(flowprep_main, ["extract", "--dataset", "mars", "--root", root, "--out", tmp_path / "out.h5",
                                     *EXTRACT_FLAGS])
    assert_one_line_error(result, f"{listing}:5", "refused")
    assert not (tmp_path / "out.h5").exists()
