"""reid export: the exported TorchScript and ONNX models give PyTorch's embeddings."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from helpers_store import shared_tiny_run
from reid.cli import cli
from reid.commands.export import frame_size
from reid.engine.inference import load_trained_model
from reid.errors import ReidError
from reid.export import example_inputs


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return shared_tiny_run(tmp_path_factory)


def pytorch_embedding(checkpoint, images, flows) -> np.ndarray:
    model, _, _ = load_trained_model(checkpoint, torch.device("cpu"))
    with torch.no_grad():
        return model(images, flows).embedding.numpy()


def export(checkpoint, fmt, out) -> str:
    result = CliRunner().invoke(cli, ["export", "--checkpoint", str(checkpoint), "--format", fmt, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file()
    return result.output


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")
def test_torchscript_matches_pytorch_for_another_batch_size(run, tmp_path):
    _, checkpoint = run
    output = export(checkpoint, "torchscript", tmp_path / "model.pt")
    assert "images [B,4,3,32,16]" in output and "embedding [B,64]" in output  # size from the training store
    images, flows = example_inputs(4, 32, 16, batch=5, seed=7)
    with torch.no_grad():
        exported = torch.jit.load(str(tmp_path / "model.pt"))(images, flows).numpy()
    assert exported.shape == (5, 64)
    np.testing.assert_allclose(exported, pytorch_embedding(checkpoint, images, flows), atol=1e-5, rtol=1e-4)


def test_onnx_matches_pytorch_in_onnxruntime(run, tmp_path):
    import onnxruntime  # the test extra installs it: this test must run, not skip

    _, checkpoint = run
    output = export(checkpoint, "onnx", tmp_path / "model.onnx")
    assert "max difference to PyTorch" in output
    images, flows = example_inputs(4, 32, 16, batch=3, seed=8)
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["images", "flows"]
    exported = session.run(["embedding"], {"images": images.numpy(), "flows": flows.numpy()})[0]
    np.testing.assert_allclose(exported, pytorch_embedding(checkpoint, images, flows), atol=1e-4, rtol=1e-3)
    assert not list(tmp_path.glob(".*tmp*"))  # the temporary file was renamed into place


def test_frame_size_needs_flags_when_the_training_store_is_gone(tmp_path):
    assert frame_size({"store": "/nowhere.h5"}, tmp_path / "c.pt", (64, 32)) == (64, 32)
    with pytest.raises(ReidError, match="pass --size HxW"):
        frame_size({"store": str(tmp_path / "gone.h5")}, tmp_path / "c.pt", None)
