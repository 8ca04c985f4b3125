"""reid visualize: ranked-list and attention pictures of a tiny trained model."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from click.testing import CliRunner

from helpers_store import shared_tiny_run
from reid.cli import cli
from reid.engine.inference import load_trained_model
from reid.errors import ReidError
from reid.models import build_model
from reid.visualize.attention import COLUMNS, attention_maps
from reid.visualize.canvas import BLUE, BORDER, GAP, GREEN, LINE_HEIGHT, MIN_CELL_WIDTH, RED, display_scale
from flowprep.store import open_store


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return shared_tiny_run(tmp_path_factory)


def read_rgb(path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def runs_of(line: np.ndarray, colour) -> list[int]:
    """Start positions of the runs of exactly ``colour`` along a row of pixels."""
    hit = np.all(line == np.array(colour, np.uint8), axis=1)
    return np.flatnonzero(hit & ~np.concatenate([[False], hit[:-1]])).tolist()


def test_ranks_draws_one_picture_per_query_with_right_and_wrong_borders(run, tmp_path):
    store, checkpoint = run
    result = CliRunner().invoke(cli, ["visualize", "ranks", "--store", str(store), "--checkpoint", str(checkpoint),
                                      "--out", str(tmp_path / "ranks"), "--queries", "2", "--top", "12", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    pictures = sorted((tmp_path / "ranks").glob("*.png"))
    assert len(pictures) == 2 and len(result.output.splitlines()) == 2
    tile_height = 32 * display_scale(32) + 2 * BORDER
    for picture, line in zip(pictures, result.output.splitlines()):
        image = read_rgb(picture)
        assert image.shape[0] == tile_height + 2 * LINE_HEIGHT + 2
        top_border = image[1]
        # each identity has two gallery tracklets, in cameras 2 and 3: the whole gallery of 12 holds 2 right, 10 wrong
        assert len(runs_of(top_border, BLUE)) == 4
        green, red = runs_of(top_border, GREEN), runs_of(top_border, RED)
        assert (len(green), len(red)) == (2, 10)
        assert "2/12 right" in line
        first_is_green = min(green) < min(red)
        assert first_is_green == ("rank-1 right" in line)
        assert max(runs_of(top_border, BLUE)) < min(green + red)  # the query comes first


def test_attention_picture_has_a_row_per_frame_and_five_columns(run, tmp_path):
    store, checkpoint = run
    out = tmp_path / "attention.png"
    result = CliRunner().invoke(cli, ["visualize", "attention", "--store", str(store), "--checkpoint", str(checkpoint),
                                      "--tracklet", "p02_c1_query2", "--frames", "3", "--out", str(out), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "frames [0, 1, 2]" in result.output
    image = read_rgb(out)
    tile = 32 * display_scale(32)
    title_row = LINE_HEIGHT + 2
    assert image.shape[:2] == (title_row + 3 * (tile + 2) + 3 * GAP, len(COLUMNS) * MIN_CELL_WIDTH + (len(COLUMNS) - 1) * GAP)
    with open_store(store) as reader:
        frames, _ = reader.read_clip(int(list(reader.tracklets.name).index("p02_c1_query2")), [0])
    scale, top, left = display_scale(32), title_row + GAP, (MIN_CELL_WIDTH - 16 * display_scale(32)) // 2
    first_panel = image[top : top + tile : scale, left : left + 16 * scale : scale]
    assert np.array_equal(first_panel, frames[0])  # the frame column shows the frame itself, enlarged


def test_attention_maps_are_the_ones_the_attention_module_sees(run):
    store, checkpoint = run
    model, _, _ = load_trained_model(checkpoint, torch.device("cpu"))
    seen = {}
    handle = model.mutual_attention.register_forward_hook(
        lambda module, inputs, output: seen.update(before=inputs[0], after=output[0], attention=output[2]))
    with open_store(store) as reader:
        frames, flows = reader.read_clip(0, [0, 1, 2, 3])
    maps = attention_maps(model, frames, flows, torch.device("cpu"))
    handle.remove()
    np.testing.assert_allclose(maps.before, seen["before"].mean(dim=1).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(maps.after, seen["after"].mean(dim=1).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(maps.attention, seen["attention"][:, 0].numpy())
    assert maps.before.shape == maps.attention.shape and maps.before.shape[0] == 4


def test_attention_of_a_model_without_attention_is_a_one_line_error(run):
    store, _ = run
    model = build_model("baseline", num_classes=3, backbone="resnet_tiny", feature_dim=16).eval()
    with open_store(store) as reader:
        frames, flows = reader.read_clip(0, [0, 1])
    with pytest.raises(ReidError, match="baseline has no attention") as info:
        attention_maps(model, frames, flows, torch.device("cpu"))
    assert "\n" not in str(info.value)
