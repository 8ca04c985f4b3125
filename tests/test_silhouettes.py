"""Person silhouettes of the synthetic renderer (a sidecar folder) and the attention share measured on them."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from flowprep.errors import FlowprepError
from flowprep.store import open_store
from flowprep.synth import write_dataset
from reid.errors import ReidError
from reid.models import build_model
from reid.visualize.silhouette import attention_share, flow_on_person

SMALL = dict(identities=2, cameras=2, seed=5)


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> tuple[Path, Path, Path]:
    """A tiny synthetic MARS with its silhouettes beside it, and its store at 64x32."""
    from flowprep.cli import main as flowprep_main
    from helpers_store import FAST_DIS
    from reliability.conftest import run_cli

    folder = tmp_path_factory.mktemp("silhouettes")
    write_dataset("mars", folder / "mars", silhouettes=folder / "masks", **SMALL)
    store = folder / "mars.h5"
    result = run_cli(flowprep_main, ["extract", "--dataset", "mars", "--root", folder / "mars", "--out", store,
                                     "--workers", "0", *FAST_DIS])
    assert result.code == 0, result.err
    return folder / "mars", folder / "masks", store


def test_silhouettes_leave_the_dataset_byte_for_byte_and_cover_the_person(synth, tmp_path):
    root, masks, _ = synth
    write_dataset("mars", tmp_path / "plain", **SMALL)
    files = sorted(p.relative_to(tmp_path / "plain") for p in (tmp_path / "plain").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    assert all((root / f).read_bytes() == (tmp_path / "plain" / f).read_bytes() for f in files)
    frames = [f for f in files if f.suffix == ".jpg"]
    assert sorted(p.relative_to(masks) for p in masks.rglob("*.png")) == sorted(f.with_suffix(".png") for f in frames)
    stack = np.stack([cv2.imread(str(masks / f.with_suffix(".png")), cv2.IMREAD_GRAYSCALE) for f in frames[:40]])
    assert set(np.unique(stack)) <= {0, 255}
    coverage = (stack > 0).mean(axis=(0, 1))  # per column: the detector box centres the person
    assert 0.05 < (stack > 0).mean() < 0.6 and coverage[len(coverage) // 2] > 2 * max(coverage[0], coverage[-1])


def test_a_silhouette_folder_inside_the_dataset_is_refused(tmp_path):
    with pytest.raises(FlowprepError, match="outside the dataset folder"):
        write_dataset("mars", tmp_path / "mars", silhouettes=tmp_path / "mars" / "masks", **SMALL)
    assert not (tmp_path / "mars").exists()


class _FixedAttention(nn.Module):
    """Stands in for a trained model: its attention map is ``pattern`` (h x w) on every frame."""

    def __init__(self, pattern: torch.Tensor) -> None:
        super().__init__()
        self.pattern, self.config = pattern, {"model": "fixed"}

    def forward(self, images, flows):
        batch, length = images.shape[:2]
        return SimpleNamespace(attention=self.pattern.expand(batch, length, 1, *self.pattern.shape).clone())


def test_attention_share_against_maps_whose_answer_is_known(synth):
    _, masks, store_path = synth
    with open_store(store_path) as store:
        flat = attention_share(_FixedAttention(torch.full((8, 4), 0.7)), store, masks, torch.device("cpu"), 4)
        centre = torch.zeros(8, 4)
        centre[:, 1:3] = 1.0
        central = attention_share(_FixedAttention(centre), store, masks, torch.device("cpu"), 4)
        tested = sum(len(store.tracklets.of_role(role)) for role in ("query", "gallery"))
    assert flat["share"] == pytest.approx(flat["area"], abs=1e-6)  # no preference: the person's area
    assert flat["inside"] == pytest.approx(0.7) and flat["outside"] == pytest.approx(0.7)
    assert 0.05 < flat["area"] < 0.6 and flat["frames"] <= 2 * 4 * tested
    assert central["share"] > flat["area"] + 0.1 and central["inside"] > central["outside"]


def test_attention_share_of_real_models_and_refusals(synth, tmp_path):
    _, masks, store_path = synth
    cpu = torch.device("cpu")
    with open_store(store_path) as store:
        for name in ("gated-attention", "mutual-attention"):
            model = build_model(name, num_classes=2, backbone="resnet_tiny", feature_dim=16)
            row = attention_share(model, store, masks, cpu, 4, clips_per_tracklet=1)
            assert 0 < row["share"] < 1 and 0 < row["outside"] < 1
        with pytest.raises(ReidError, match="has no spatial attention"):
            attention_share(build_model("baseline", num_classes=2, backbone="resnet_tiny", feature_dim=16),
                            store, masks, cpu, 4)
        with pytest.raises(FlowprepError, match="no silhouette masks"):
            attention_share(model, store, tmp_path, cpu, 4)


def test_the_command_line_writes_masks_and_refuses_them_with_like(tmp_path):
    from flowprep.cli import main as flowprep_main
    from reliability.conftest import run_cli

    result = run_cli(flowprep_main, ["synth", "--layout", "prid", "--out", tmp_path / "prid", "--identities", "2",
                                     "--silhouettes", tmp_path / "masks"])
    assert result.code == 0, result.err
    frames = sorted(p.relative_to(tmp_path / "prid").with_suffix(".png") for p in (tmp_path / "prid").rglob("*.png"))
    assert frames and frames == sorted(p.relative_to(tmp_path / "masks") for p in (tmp_path / "masks").rglob("*.png"))
    result = run_cli(flowprep_main, ["synth", "--layout", "mars", "--out", tmp_path / "like", "--like", tmp_path,
                                     "--silhouettes", tmp_path / "masks2"])
    assert result.code == 2 and "--silhouettes go without --like" in result.err


class _UniformFlow:
    """A store whose every flow is 2 px to the right: motion that marks nothing."""

    def __init__(self, store) -> None:
        self.store, self.path, self.tracklets = store, store.path, store.tracklets

    def frame_names(self, tracklet: int):
        return self.store.frame_names(tracklet)

    def read_clip(self, tracklet: int, positions):
        images, flows = self.store.read_clip(tracklet, positions)
        return images, np.stack([np.full_like(flows[:, 0], 2.0), np.zeros_like(flows[:, 1])], axis=1)


def test_flow_on_person_against_flow_whose_answer_is_known_and_on_the_real_flow(synth):
    _, masks, store_path = synth
    with open_store(store_path) as store:
        uniform = flow_on_person(_UniformFlow(store), masks)
        real = flow_on_person(store, masks)
        frames = sum(len(store.frame_names(int(t))) for role in ("query", "gallery") for t in store.tracklets.of_role(role))
    assert uniform["inside"] == pytest.approx(2.0) and uniform["outside"] == pytest.approx(2.0)
    assert uniform["share"] == pytest.approx(uniform["area"], abs=1e-6) and uniform["frames"] == frames
    assert real["frames"] == frames and real["area"] == pytest.approx(uniform["area"])
    assert 0 < real["share"] < 1 and real["inside"] > 0 and real["outside"] > 0


def test_the_share_pipeline_prints_the_flow_line_without_runs(synth):
    import subprocess
    import sys

    _, masks, store_path = synth
    script = Path(__file__).resolve().parents[1] / "pipelines" / "attention_share.py"
    result = subprocess.run([sys.executable, str(script), "--store", str(store_path), "--silhouettes", str(masks)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{store_path}: flow magnitude on the person ") and " px vs off it " in result.stdout
