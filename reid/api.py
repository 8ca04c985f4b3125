"""The Python API: a trained checkpoint turned into embeddings of tracklets and stores.

With the model and store of the demo (``bash pipelines/demo.sh``; feature_dim 256):

>>> from reid import FeatureExtractor
>>> extractor = FeatureExtractor("demo-run/run/best.pt", device="cpu")
>>> extractor(["walk/0001.jpg", "walk/0002.jpg", "walk/0003.jpg"]).shape   # one tracklet's frames
torch.Size([256])
>>> gallery = extractor.store("demo-run/mars.h5", role="gallery")          # (tracklets, 256)

A tracklet goes through what the store's tracklets went through at extraction: frames resized
to the store's size, flow computed by the store's method and parameters, both encoded with the
store's codec (JPEG images, quantised flow) and decoded again, then embedded as the mean over
its consecutive clips, as ``reid evaluate`` embeds a store tracklet. So the frames of a store
tracklet give (close to) that tracklet's embedding.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence, Union

import cv2
import numpy as np
import torch
from torch import nn

from flowprep import StoreMeta, StoreReader, as_stored, load_tracklet, open_store, store_estimator, tracklet_flow
from flowreid.options import default_workers
from reid.data.clips import clip_tensors
from reid.data.device import prepare_batch
from reid.data.sampling import dense_clips
from reid.engine.checkpoint import load_checkpoint
from reid.engine.checkpoint_path import resolve_checkpoint
from reid.engine.features import extract_features
from reid.engine.inference import trained_model
from reid.errors import ReidError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
NUMBER = re.compile(r"\d+")

Frames = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]], Sequence[np.ndarray], np.ndarray]


def frame_files(folder: str | os.PathLike) -> list[Path]:
    """The image files of ``folder``, ordered by the last number in their names (by name if one has none)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReidError(f"{folder}: no such folder (expected a folder of one tracklet's frames)")
    paths = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise ReidError(f"{folder}: no image files ({', '.join(IMAGE_SUFFIXES)}) in the folder")
    numbers = {p: NUMBER.findall(p.stem) for p in paths}
    if all(numbers.values()):
        paths.sort(key=lambda p: int(numbers[p][-1]))  # stable: equal numbers stay in name order
    return paths


def load_model(checkpoint: str | os.PathLike, device: str | torch.device = "cpu") -> nn.Module:
    """The network a ``reid train`` checkpoint holds, in eval mode; ``model(images, flows).embedding``.

    >>> model = load_model("demo-run/run/best.pt")
    >>> model.config["model"], model.config["feature_dim"]
    ('mutual-attention', 256)
    """
    from reid.engine.runtime import resolve_device

    device = resolve_device(device) if isinstance(device, str) else device
    return trained_model(load_checkpoint(checkpoint, map_location=device), Path(checkpoint), device)


def training_encoding(state: dict, checkpoint: Path) -> StoreMeta | None:
    """How the checkpoint's training store encoded frames and flow: from its store record, else from the store."""
    facts = state.get("store")
    if facts:
        keys = ("dataset", "flow_method", "flow_params", "height", "width", "jpeg_quality", "flow_codec", "flow_step")
        return StoreMeta(**{key: facts[key] for key in keys})
    store = (state.get("config") or {}).get("store")
    if store and Path(store).is_file():
        with open_store(store) as reader:
            return reader.meta
    return None


def fit_flow(flow: np.ndarray, height: int, width: int) -> np.ndarray:
    """Flow (2, h, w) in pixels of its own size, resized and rescaled to pixels of ``height x width``."""
    _, h, w = flow.shape
    if (h, w) == (height, width):
        return flow.astype(np.float32)
    u = cv2.resize(flow[0].astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR) * (width / w)
    v = cv2.resize(flow[1].astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR) * (height / h)
    return np.stack([u, v])


@dataclass(frozen=True)
class Tracklet:
    """One tracklet as the network sees it: RGB frames (T, H, W, 3) uint8 and flow (T, 2, H, W) in pixels."""

    images: np.ndarray
    flows: np.ndarray
    skipped: list[tuple[str, str]]


class FeatureExtractor:
    """Embeddings from a ``reid train`` checkpoint, for one tracklet or a whole store.

    ``seq_len`` defaults to the training clip length. ``flow_weights`` is the LiteFlowNet file when
    the store's flow is liteflownet (else the file of the store's recorded name in ``$REID_WEIGHTS`` or
    ``./weights``, else the file ``$FLOWPREP_WEIGHTS`` names; its SHA-256 must match the store's record).
    """

    def __init__(self, checkpoint: str | os.PathLike, device: str | torch.device = "auto", *,
                 seq_len: int | None = None, batch_size: int = 32, flow_weights: str | os.PathLike | None = None):
        from reid.engine.runtime import resolve_device

        self.checkpoint = resolve_checkpoint(checkpoint)  # a run folder: its best.pt (the search cache hashes the file)
        self.device = resolve_device(device) if isinstance(device, str) else device
        state = load_checkpoint(self.checkpoint, map_location=self.device)
        self.model = trained_model(state, self.checkpoint, self.device)
        self.seq_len = seq_len or int((state.get("config") or {}).get("seq_len", 4))
        self.batch_size = batch_size
        self.flow_weights = Path(flow_weights) if flow_weights is not None else None
        self.encoding = training_encoding(state, self.checkpoint)
        self.training_store: dict | None = state.get("store")  # describe_store's record (None: older checkpoints)
        self._estimators: dict[str, object] = {}

    def __call__(self, frames: Frames, flows: np.ndarray | None = None) -> torch.Tensor:
        """The embedding (D,) of one tracklet: a folder, a list of frame files, or RGB uint8 arrays (T, H, W, 3).

        ``flows`` (T, 2, H, W) in pixels of the given frames replaces the computed flow.
        """
        return self.embed(self.prepare(frames, flows))

    def prepare(self, frames: Frames, flows: np.ndarray | None = None, like: StoreMeta | None = None) -> Tracklet:
        """The tracklet encoded like the store ``like`` (default: the checkpoint's training store)."""
        meta = like or self.encoding
        if meta is None:
            raise ReidError(f"{self.checkpoint}: does not record how its training store encoded frames; "
                            "pass like=open_store(STORE).meta")
        if isinstance(frames, (str, os.PathLike)):
            frames = frame_files(frames)
        loaded = load_tracklet(frames, meta.height, meta.width)
        if len(loaded.frames) == 0:
            reasons = "; ".join(f"{name}: {why}" for name, why in loaded.skipped[:3])
            raise ReidError(f"no readable frame in the tracklet ({reasons})")
        if flows is not None:
            if len(flows) != len(loaded.frames):
                raise ReidError(f"{len(flows)} flow fields for {len(loaded.frames)} readable frames")
            flow = np.stack([fit_flow(f, meta.height, meta.width) for f in flows])
        elif getattr(self.model, "needs_flow", True):
            flow = tracklet_flow(self._estimator(meta), loaded.frames)
        else:  # a one-stream model never looks at the flow
            flow = np.zeros((len(loaded.frames), 2, meta.height, meta.width), np.float32)
        images, stored_flow = as_stored(meta, loaded, flow)
        return Tracklet(images, stored_flow, loaded.skipped)

    @torch.no_grad()
    def embed(self, tracklet: Tracklet) -> torch.Tensor:
        """The mean embedding over the tracklet's consecutive clips of ``seq_len`` frames, on the CPU."""
        clips = dense_clips(len(tracklet.images), self.seq_len)
        total = None
        for start in range(0, len(clips), self.batch_size):
            pairs = [clip_tensors(tracklet.images[p], tracklet.flows[p]) for p in clips[start:start + self.batch_size]]
            images, flows = prepare_batch(torch.stack([i for i, _ in pairs]), torch.stack([f for _, f in pairs]),
                                          self.device)
            summed = self.model(images, flows).embedding.float().sum(dim=0)
            total = summed if total is None else total + summed
        return (total / len(clips)).cpu()

    def store(self, store: str | os.PathLike | StoreReader, *, role: str | None = None,
              tracklets: Sequence[int] | None = None, workers: int | None = None, progress: bool = True,
              desc: str = "features") -> torch.Tensor:
        """Embeddings (N, D) of a store's tracklets: the given indices, else those of ``role``, else all.

        The same loader as ``reid evaluate``: ``workers`` loader processes (default: the cores, at most 4,
        as the command lines) and ``batch_size`` clips per batch; ``progress`` shows the batches on stderr
        (a bar on a terminal, a timed line in a log or notebook).
        """
        if not isinstance(store, StoreReader):
            with open_store(store) as reader:
                return self.store(reader, role=role, tracklets=tracklets, workers=workers, progress=progress,
                                  desc=desc)
        if tracklets is not None:
            chosen = np.asarray(tracklets)
        elif role is not None:
            chosen = store.tracklets.of_role(role)
        else:
            chosen = np.arange(len(store.tracklets))
        return extract_features(self.model, store, chosen, seq_len=self.seq_len, device=self.device,
                                batch_size=self.batch_size, workers=default_workers() if workers is None else workers,
                                progress=progress, desc=desc).cpu()

    def _estimator(self, meta: StoreMeta):
        """The store's flow method with its recorded parameters (one instance per method and parameters)."""
        key = json.dumps([meta.flow_method, meta.flow_params], sort_keys=True)
        if key not in self._estimators:
            self._estimators[key] = store_estimator(meta, device=str(self.device), weights=self.flow_weights)
        return self._estimators[key]
