"""The Python API: load_model, FeatureExtractor, open_store, metrics.evaluate; its docstring and README examples run."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import reid.api
from flowprep import open_store
from helpers_store import write_tiny_store
from reid import FeatureExtractor, load_model
from reid.engine.config import TrainConfig
from reid.engine.trainer import Trainer
from reid.errors import ReidError

README = Path(__file__).resolve().parents[1] / "README.md"
TRACKLET = "p03_c2_gallery3"


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory) -> Path:
    """What the examples name: the demo's store and run (tiny, feature_dim 256) and a folder of frames ``walk/``."""
    root = tmp_path_factory.mktemp("api")
    (root / "demo-run").mkdir()
    store = write_tiny_store(root / "demo-run" / "mars.h5")
    Trainer(TrainConfig(store=str(store), out=str(root / "demo-run" / "run"), backbone="resnet_tiny",
                        pretrained="none", feature_dim=256, identities_per_batch=3, instances=2, epochs=1,
                        warmup_epochs=0, workers=0, device="cpu", quiet=True)).run()
    (root / "walk").mkdir()
    for k, frame in enumerate(store_frames(store)):
        cv2.imwrite(str(root / "walk" / f"{k + 1:04d}.jpg"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    return root


def store_frames(store: Path) -> np.ndarray:
    with open_store(store) as reader:
        index = list(reader.tracklets.name).index(TRACKLET)
        frames, _ = reader.read_clip(index, range(int(reader.tracklets.frame_count[index])))
    return frames


def store_flows(store: Path) -> np.ndarray:
    with open_store(store) as reader:
        index = list(reader.tracklets.name).index(TRACKLET)
        return reader.read_clip(index, range(int(reader.tracklets.frame_count[index])))[1]


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.nn.functional.cosine_similarity(a, b, dim=0))


def test_docstring_examples_run(demo_folder, monkeypatch):
    monkeypatch.chdir(demo_folder)
    result = doctest.testmod(reid.api, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 5 and result.failed == 0


def test_readme_example_runs(demo_folder, monkeypatch, capsys):
    monkeypatch.chdir(demo_folder)
    text = README.read_text()
    section = text[text.index("## Python API"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    exec(compile(code, str(README), "exec"), {})
    printed = capsys.readouterr().out
    assert re.search(r"mAP \d+\.\d%", printed) and "torch.Size([256])" in printed


def test_a_tracklet_from_files_arrays_or_given_flow_embeds_like_the_store_tracklet(demo_folder):
    store, checkpoint = demo_folder / "demo-run" / "mars.h5", demo_folder / "demo-run" / "run" / "best.pt"
    extractor = FeatureExtractor(checkpoint, device="cpu")
    with open_store(store) as reader:
        index = list(reader.tracklets.name).index(TRACKLET)
        stored = extractor.store(reader, tracklets=[index])[0]
        assert extractor.store(reader, role="gallery").shape == (12, 256)
    frames, flows = store_frames(store), store_flows(store)
    from_arrays = extractor(list(frames), flows=flows)
    assert cosine(from_arrays, stored) > 0.999  # only the JPEG round trip differs
    doubled_frames = [cv2.resize(f, (32, 64)) for f in frames]
    doubled_flows = np.stack([[cv2.resize(2 * component, (32, 64)) for component in f] for f in flows])
    from_large = extractor(doubled_frames, flows=doubled_flows)
    assert cosine(from_large, stored) > 0.99  # frames and flow resized back to the store's 32x16
    computed = extractor(demo_folder / "walk")  # flow computed by DIS, as the store records
    assert computed.shape == (256,) and [e.name for e in extractor._estimators.values()] == ["dis"]
    assert torch.equal(extractor(sorted((demo_folder / "walk").iterdir())), computed)
    with pytest.raises(ReidError, match="5 flow fields for 6 readable frames"):
        extractor(list(frames), flows=flows[:5])


def test_load_model_gives_the_trained_network(demo_folder):
    model = load_model(demo_folder / "demo-run" / "run" / "best.pt")
    assert not model.training and model.config["feature_dim"] == 256
