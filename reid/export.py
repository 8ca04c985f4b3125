"""A trained model as a deployable file (TorchScript or ONNX): a clip in, its embedding out.

The exported model takes two inputs and returns one output:

* ``images``: float32 [B, T, 3, H, W], RGB channel order, pixel values divided by 255
  and then normalised with the ImageNet mean (0.485, 0.456, 0.406) and std
  (0.229, 0.224, 0.225), per channel. This is what ``reid.data.device.prepare_batch``
  does to the store's frames.
* ``flows``: float32 [B, T, 2, H, W], optical flow in pixels of the H x W frame
  (channel 0: u, to the right; channel 1: v, downwards). Frame t holds the flow from frame
  t-1 to frame t; frame 0 repeats frame 1's flow (``flowprep.flow.tracklet_flow``). Use
  the flow method the training store was made with. Models without a flow stream
  (baseline) ignore this input, but it is still part of the signature.
* ``embedding``: float32 [B, D], the test-time descriptor (the head's BN output). Compare
  embeddings with the squared Euclidean distance, as ``reid evaluate`` does; a tracklet's
  descriptor is the mean of the embeddings of its consecutive T-frame clips.

B (the batch) is dynamic; T, H and W are fixed when the model is exported.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from flowreid.atomic import atomic_path
from reid.errors import ReidError

FORMATS = ("torchscript", "onnx")
EXAMPLE_BATCH = 2  # torch.export treats a size of 1 as a constant; 2 keeps the batch dynamic
TOLERANCE = 1e-3


class EmbeddingModel(nn.Module):
    """The deployable part of a re-identification model: (images, flows) -> embedding."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: Tensor, flows: Tensor) -> Tensor:
        return self.model(images, flows).embedding


def example_inputs(seq_len: int, height: int, width: int, batch: int = EXAMPLE_BATCH, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Random clips of the exported shape: roughly normalised images and flows of a few pixels."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(batch, seq_len, 3, height, width, generator=generator)
    flows = 3 * torch.randn(batch, seq_len, 2, height, width, generator=generator)
    return images, flows


def _torchscript(wrapper: nn.Module, inputs: tuple[Tensor, Tensor], path: Path) -> None:
    with warnings.catch_warnings():
        # the models' input-shape checks become constants of the trace, which is what a fixed T, H, W wants;
        # torch.jit's deprecation notice is not the user's concern
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        traced = torch.jit.trace(wrapper, inputs, check_trace=False)
    traced.save(str(path))


def _onnx(wrapper: nn.Module, inputs: tuple[Tensor, Tensor], path: Path) -> None:
    try:
        import onnx  # noqa: F401  (the exporter needs both; a clear message beats its import error)
        import onnxscript  # noqa: F401
    except ImportError as exc:
        raise ReidError(f"ONNX export needs the onnx and onnxscript packages ({exc.name} is missing): "
                        "pip install 'flowreid[export]'") from exc
    batch = torch.export.Dim("batch")
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)  # it notes every torchvision operator it cannot find; none is used here
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(wrapper, inputs, str(path), dynamo=True, input_names=["images", "flows"],
                              output_names=["embedding"], dynamic_shapes=({0: batch}, {0: batch}),
                              external_data=False, verbose=False)
    finally:
        logger.setLevel(level)


def run_exported(path: Path, fmt: str, images: Tensor, flows: Tensor) -> np.ndarray | None:
    """The exported file's output for these inputs; None for ONNX when onnxruntime is not installed."""
    if fmt == "torchscript":
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.load(str(path))(images, flows).numpy()
    try:
        import onnxruntime
    except ImportError:
        return None
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["embedding"], {"images": images.numpy(), "flows": flows.numpy()})[0]


def export_model(model: nn.Module, fmt: str, out: Path, *, seq_len: int, height: int, width: int) -> float | None:
    """Export ``model`` (moved to the CPU, eval mode) to ``out``, written atomically, and check it.

    Returns the largest absolute difference between the file's and PyTorch's embeddings on
    random clips of another batch size than the one traced (None: no ONNX runtime to check
    with); a difference above TOLERANCE is an error, and the file is not left behind.
    """
    if fmt not in FORMATS:
        raise ReidError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})")
    wrapper = EmbeddingModel(model.cpu().eval()).eval()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        with torch.no_grad():
            (_torchscript if fmt == "torchscript" else _onnx)(wrapper, example_inputs(seq_len, height, width), tmp)
        images, flows = example_inputs(seq_len, height, width, batch=EXAMPLE_BATCH + 1, seed=1)
        exported = run_exported(tmp, fmt, images, flows)
        difference = None
        if exported is not None:
            with torch.no_grad():
                expected = wrapper(images, flows).numpy()
            difference = float(np.abs(exported - expected).max())
            if not difference <= TOLERANCE:
                raise ReidError(f"{out}: the exported model differs from PyTorch by {difference:.2e} (more than {TOLERANCE})")
    return difference
