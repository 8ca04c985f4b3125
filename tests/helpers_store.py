"""A tiny store and a tiny trained checkpoint for the tests of the tools around trained models.

Every identity has its own colour and a stripe that moves one pixel a frame (so the flow
is real motion the images show), seen by 3 cameras: train tracklets in cameras 1 and 2,
a query in camera 1, gallery tracklets in cameras 2 and 3.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import h5py
import numpy as np

from flowprep.codec import FrameCodec
from flowprep.store import EncodedTracklet, StoreMeta, write_store

FRAMES = 6
FAST_DIS = ["--size", "64x32", "--flow", "dis", "--flow-param", "preset=ultrafast", "--quiet"]  # extract flags
SHIFT_PX = 1.0
ROLES_BY_CAMERA = (("train", 1), ("train", 2), ("query", 1), ("gallery", 2), ("gallery", 3))


def identity_colour(pid: int, identities: int) -> np.ndarray:
    """A distinct saturated BGR colour per identity (hues spread around the wheel)."""
    hue = np.uint8(180 * (pid - 1) // identities)
    return cv2.cvtColor(np.array([[[hue, 220, 220]]], np.uint8), cv2.COLOR_HSV2BGR)[0, 0]


def _frames(colour: np.ndarray, height: int, width: int, rng: np.random.Generator) -> list[np.ndarray]:
    """The identity's colour with noise and a dark stripe moving right by SHIFT_PX a frame."""
    frames = []
    start = int(rng.integers(0, width))
    for t in range(FRAMES):
        image = np.clip(colour.astype(np.int16) + rng.integers(-12, 13, (height, width, 3)), 0, 255).astype(np.uint8)
        column = (start + int(t * SHIFT_PX)) % width
        image[:, column : column + 2] //= 3
        frames.append(image)
    return frames


def write_tiny_store(path: str | Path, identities: int = 6, height: int = 32, width: int = 16, seed: int = 0) -> Path:
    """Write the tiny store described in the module docstring and return its path."""
    path = Path(path)
    codec = FrameCodec(height=height, width=width)
    rng = np.random.default_rng(seed)
    flow = np.zeros((2, height, width), np.float32)
    flow[0] = SHIFT_PX
    encoded_flow = codec.encode_flow(flow)
    tracklets = []
    for pid in range(1, identities + 1):
        colour = identity_colour(pid, identities)
        for k, (role, camid) in enumerate(ROLES_BY_CAMERA):
            name = f"p{pid:02d}_c{camid}_{role}{k}"
            frames = _frames(colour, height, width, rng)
            tracklets.append(EncodedTracklet(
                name=name, order=0, pid=pid, camid=camid, role=role,
                frame_names=[f"{name}_{t:03d}.jpg" for t in range(FRAMES)],
                images=[codec.encode_image(frame) for frame in frames],
                flows=[encoded_flow] * FRAMES,
            ))
    tracklets.sort(key=lambda t: ("train", "query", "gallery").index(t.role))
    for order, tracklet in enumerate(tracklets):
        tracklet.order = order
    meta = StoreMeta(dataset="tiny", flow_method="dis", flow_params={}, height=height, width=width)
    write_store(path, meta, tracklets)
    return path


def train_tiny_checkpoint(store: str | Path, out_dir: str | Path, model: str = "mutual-attention") -> Path:
    """Train a tiny model for 2 epochs on ``store`` (a few seconds on a CPU); return its best.pt."""
    from reid.engine.config import TrainConfig
    from reid.engine.trainer import Trainer

    cfg = TrainConfig(
        store=str(store), out=str(out_dir), model=model, backbone="resnet_tiny", pretrained="none",
        feature_dim=64, identities_per_batch=3, instances=2, workers=0, device="cpu", epochs=2,
        warmup_epochs=0, amp="off", quiet=True,
    )
    Trainer(cfg).run()
    return Path(out_dir) / "best.pt"


def shared_tiny_run(tmp_path_factory) -> tuple[Path, Path]:
    """(store, checkpoint) made once per test session and shared by the test files that only read them."""
    folder = tmp_path_factory.getbasetemp() / "shared-tiny-run"
    store, checkpoint = folder / "tiny.h5", folder / "run" / "best.pt"
    if not checkpoint.is_file():
        folder.mkdir(exist_ok=True)
        train_tiny_checkpoint(write_tiny_store(store), folder / "run")
    return store, checkpoint


def altered_copy(source: Path, target: Path, **attrs) -> Path:
    shutil.copyfile(source, target)
    with h5py.File(target, "r+") as f:
        for key, value in attrs.items():
            f.attrs[key] = value
    return target


def trained_on_split(checkpoint: Path, target: Path, split: int) -> Path:
    """``checkpoint`` as if its training store had held ``split``."""
    import torch

    from reid.engine.checkpoint import save_checkpoint

    payload = torch.load(checkpoint, weights_only=True)
    payload["store"]["split"] = split
    save_checkpoint(target, {k: v for k, v in payload.items() if k != "format"})
    return target
