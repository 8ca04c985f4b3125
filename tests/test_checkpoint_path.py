"""--checkpoint given a file that is no checkpoint (a store, a config, a picture) or a run folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from safetensors.numpy import save_file

from helpers_store import shared_tiny_run
from reid.cli import main as reid_main
from reliability.conftest import assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, Path]:
    return shared_tiny_run(tmp_path_factory)


def not_checkpoints(folder: Path, store: Path) -> dict[str, tuple[Path, str]]:
    """name -> (the file, what the message must call it)."""
    (folder / "config.yaml").write_text("model: mutual-attention\nepochs: 150\n")
    cv2.imwrite(str(folder / "frame.png"), np.zeros((8, 8, 3), np.uint8))
    save_file({"w": np.zeros(3, np.float32)}, str(folder / "weights.safetensors"))
    (folder / "empty.pt").write_bytes(b"")
    (folder / "random.bin").write_bytes(bytes(range(7, 200)))
    return {"store": (store, "it is an HDF5 file"), "yaml": (folder / "config.yaml", "it is a text file"),
            "png": (folder / "frame.png", "it is a PNG image"),
            "safetensors": (folder / "weights.safetensors", "it is a safetensors weight file"),
            "empty": (folder / "empty.pt", "it is empty"),
            "other bytes": (folder / "random.bin", "it is neither a zip nor a pickle file")}


@pytest.mark.parametrize("kind", ["store", "yaml", "png", "safetensors", "empty", "other bytes"])
def test_a_file_that_is_not_a_checkpoint_is_named_for_what_it_is(run, tmp_path, kind):
    store, _ = run
    path, words = not_checkpoints(tmp_path, store)[kind]
    line = assert_one_line_error(run_cli(reid_main, ["evaluate", "--store", store, "--checkpoint", path,
                                                     "--device", "cpu", "--workers", "0"]),
                                 f"{path} is not a checkpoint: {words}", "best.pt")
    assert "pickled" not in line and "refused" not in line


@pytest.mark.parametrize("present, taken", [(("best.pt", "last.pt"), "best.pt"), (("last.pt",), "last.pt")])
def test_a_run_folder_is_read_as_its_best_or_last_checkpoint_and_says_which(run, tmp_path, present, taken):
    store, checkpoint = run
    folder = tmp_path / "run"
    folder.mkdir()
    for name in present:
        shutil.copyfile(checkpoint, folder / name)
    result = run_cli(reid_main, ["evaluate", "--store", store, "--checkpoint", folder, "--device", "cpu",
                                 "--workers", "0", "--quiet"])
    assert result.code == 0, result.err
    assert result.err_lines == [f"{folder} is a run folder: using {folder / taken}"]


def test_a_folder_without_checkpoints_points_at_what_a_run_folder_holds(run, tmp_path):
    store, _ = run
    (tmp_path / "epoch3.pt").write_bytes(b"")
    assert_one_line_error(run_cli(reid_main, ["evaluate", "--store", store, "--checkpoint", tmp_path,
                                              "--device", "cpu"]),
                          f"{tmp_path}: a folder without best.pt or last.pt", "it holds epoch3.pt")
