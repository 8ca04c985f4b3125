"""Searching a store's gallery for a new tracklet: a folder of frames in, the nearest gallery tracklets out.

The query goes through the same path as the gallery did: its frames are resized to the
store's size, given flow by the store's flow method and parameters, encoded with the
store's codec into a one-tracklet store, and embedded by ``extract_features``. So a
query made of a gallery tracklet's frames gets (close to) that tracklet's embedding.

Gallery embeddings are cached beside the store as ``<store>.features-<key>.pt``, where the
key is a SHA-256 of the checkpoint file's bytes, the store's creation time and size, and
the clip length: a retrained checkpoint or a rebuilt store misses the cache, while
several checkpoints can keep their caches side by side. The file is written atomically
and read with ``weights_only=True``; a damaged or foreign cache file is recomputed.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from flowprep.frames import load_frames
from flowprep.extract import encode_tracklet
from flowprep.store import StoreMeta, StoreReader, open_store, write_store
from reid.distance import pairwise_distance
from reid.engine.features import extract_features
from reid.errors import ReidError
from reid.visualize.ranks import QUERY_FRAMES, Match, spread_positions, store_matches

CACHE_FORMAT = 1
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
NUMBER = re.compile(r"\d+")


def query_frame_paths(folder: Path) -> list[Path]:
    """The image files of ``folder``, ordered by the last number in their names (by name if one has none)."""
    if not folder.is_dir():
        raise ReidError(f"{folder}: no such query folder (expected a folder of one tracklet's frames)")
    paths = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise ReidError(f"{folder}: no image files ({', '.join(IMAGE_SUFFIXES)}) in the query folder")
    numbers = {p: NUMBER.findall(p.stem) for p in paths}
    if all(numbers.values()):
        paths.sort(key=lambda p: int(numbers[p][-1]))  # stable: equal numbers stay in name order
    return paths


def write_query_store(folder: Path, meta: StoreMeta, out: Path, *, device: str = "cpu", weights: Path | None = None) -> None:
    """Turn a folder of frames into a one-tracklet store encoded like the gallery store ``meta`` describes."""
    from flowprep.flow import create_estimator, tracklet_flow

    loaded = load_frames(query_frame_paths(folder), meta.height, meta.width)
    if len(loaded.frames) == 0:
        reasons = "; ".join(f"{name}: {why}" for name, why in loaded.skipped[:3])
        raise ReidError(f"{folder}: no readable frame in the query folder ({reasons})")
    estimator = create_estimator(meta.flow_method, device=device, weights=weights, **meta.flow_params)
    flows = tracklet_flow(estimator, loaded.frames)
    tracklet = encode_tracklet(meta.codec, loaded, flows, name=folder.name or "query", order=0, pid=-1, camid=-1,
                               role="query")
    write_store(out, replace(meta, dataset="query", created="", skipped_tracklets=()), [tracklet])


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_key(checkpoint: Path, store: StoreReader, seq_len: int) -> str:
    """What the gallery embeddings depend on, hashed: the checkpoint's bytes, the store, the clip length."""
    facts = {"format": CACHE_FORMAT, "checkpoint": file_sha256(checkpoint), "store_created": store.meta.created,
             "tracklets": len(store.tracklets), "frames": store.num_frames, "seq_len": seq_len}
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def cache_path(store: Path, key: str) -> Path:
    return store.with_name(f"{store.name}.features-{key[:16]}.pt")


def load_cache(path: Path, key: str, tracklets: np.ndarray) -> torch.Tensor | None:
    """The cached gallery embeddings, or None if the file is missing, damaged or for other inputs."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError):
        return None
    if not isinstance(payload, dict) or payload.get("key") != key:
        return None
    if not torch.equal(payload.get("tracklets", torch.empty(0)), torch.from_numpy(tracklets)):
        return None
    return payload["features"]


def save_cache(path: Path, key: str, tracklets: np.ndarray, features: torch.Tensor) -> bool:
    """Write the cache atomically; False (and no file) when the store's folder is not writable or full."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        torch.save({"key": key, "tracklets": torch.from_numpy(tracklets), "features": features.cpu()}, tmp)
        os.replace(tmp, path)
        return True
    except (OSError, RuntimeError):  # torch.save reports a failed write as RuntimeError
        tmp.unlink(missing_ok=True)
        return False


@dataclass(frozen=True)
class GalleryFeatures:
    tracklets: np.ndarray  # store indices of the gallery tracklets
    features: torch.Tensor  # (N, D) on the CPU
    cache: Path | None  # None: computed, but the cache could not be written beside the store
    cached: bool  # read from the cache (False: computed now)


def gallery_features(model: nn.Module, store: StoreReader, checkpoint: Path, *, seq_len: int, device: torch.device,
                     batch_size: int = 32, workers: int = 0) -> GalleryFeatures:
    """Embeddings of the store's gallery tracklets, from the cache when it matches, else computed and cached."""
    tracklets = store.tracklets.of_role("gallery")
    if len(tracklets) == 0:
        raise ReidError(f"{store.path}: has no gallery tracklets to search")
    key = cache_key(Path(checkpoint), store, seq_len)
    path = cache_path(store.path, key)
    features = load_cache(path, key, tracklets)
    if features is not None:
        return GalleryFeatures(tracklets, features, path, cached=True)
    features = extract_features(model, store, tracklets, seq_len=seq_len, device=device,
                                batch_size=batch_size, workers=workers).cpu()
    written = save_cache(path, key, tracklets, features)
    return GalleryFeatures(tracklets, features, path if written else None, cached=False)


@dataclass(frozen=True)
class SearchResult:
    query_frames: np.ndarray  # a few query frames, RGB, at the store's size
    query_length: int
    skipped: list[tuple[str, str]]
    matches: list[Match]
    gallery: GalleryFeatures


def search(model: nn.Module, store: StoreReader, checkpoint: Path, query: Path, *, top: int = 10, seq_len: int = 4,
           device: torch.device = torch.device("cpu"), weights: Path | None = None, metric: str = "euclidean",
           batch_size: int = 32, workers: int = 0) -> SearchResult:
    """The ``top`` gallery tracklets of ``store`` nearest to the tracklet whose frames are in ``query``."""
    gallery = gallery_features(model, store, checkpoint, seq_len=seq_len, device=device,
                               batch_size=batch_size, workers=workers)
    with tempfile.TemporaryDirectory(prefix="reid-search-") as tmp:
        query_store = Path(tmp) / "query.h5"
        write_query_store(Path(query), store.meta, query_store, device=str(device), weights=weights)
        with open_store(query_store) as reader:
            embedding = extract_features(model, reader, np.array([0]), seq_len=seq_len, device=device, batch_size=batch_size)
            length = int(reader.tracklets.frame_count[0])
            frames, _ = reader.read_clip(0, spread_positions(length, QUERY_FRAMES))
            skipped = [tuple(s) for s in json.loads(reader.tracklets.skipped[0])]
    distances = pairwise_distance(embedding.cpu(), gallery.features, metric)[0]
    matches = store_matches(store, gallery.tracklets, distances, top)
    return SearchResult(frames, length, skipped, matches, gallery)
