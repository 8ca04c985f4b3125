"""Searching a store's gallery for a new tracklet: a folder of frames in, the nearest gallery tracklets out.

The query goes through ``FeatureExtractor``: its frames are resized to the gallery store's
size, given flow by the store's flow method and parameters, encoded and decoded with the
store's codec, and embedded like a store tracklet, all in memory. So a query made of a
gallery tracklet's frames gets (close to) that tracklet's embedding.

Gallery embeddings are cached beside the store as ``<store>.features-<key>.pt``, where the
key is a SHA-256 of the checkpoint file's bytes, the store's creation time and size, and
the clip length: a retrained checkpoint or a rebuilt store misses the cache, while
several checkpoints can keep their caches side by side. The file is written atomically
and read with ``weights_only=True``; a damaged or foreign cache file is recomputed, and a
store in a read-only folder is searched without a cache.

The caches are bounded: a store keeps the ``KEEP_CACHES`` (3) most recently used ones. Reading
a cache marks it used (its modification time); writing a new one deletes the least recently
used beyond that, so trying checkpoint after checkpoint never fills the store's folder. Deleting
``<store>.features-*.pt`` by hand is always safe: the next search recomputes what it needs.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from flowprep import StoreReader
from flowreid.atomic import atomic_path
from reid.api import FeatureExtractor, frame_files
from reid.distance import pairwise_distance
from reid.engine.record import file_sha256
from reid.errors import ReidError
from reid.ranking import QUERY_FRAMES, Match, spread_positions, store_matches

CACHE_FORMAT = 1
KEEP_CACHES = 3  # gallery caches kept beside a store: the most recently used (one per checkpoint and clip length)


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
    try:
        with atomic_path(path) as tmp:
            torch.save({"key": key, "tracklets": torch.from_numpy(tracklets), "features": features.cpu()}, tmp)
        return True
    except (OSError, RuntimeError):  # torch.save reports a failed write as RuntimeError
        return False


def mark_used(path: Path) -> None:
    """Make ``path`` the most recently used cache (nothing happens in a read-only folder)."""
    try:
        os.utime(path)
    except OSError:
        pass


def prune_caches(store: Path, keep: int = KEEP_CACHES) -> int:
    """Delete all but the ``keep`` most recently used gallery caches of ``store``; how many were deleted."""

    def last_used(path: Path) -> int:
        try:
            return path.stat().st_mtime_ns
        except OSError:  # deleted meanwhile by another search
            return -1

    caches = sorted(store.parent.glob(f"{glob.escape(store.name)}.features-*.pt"), key=last_used, reverse=True)
    deleted = 0
    for old in caches[keep:]:
        try:
            old.unlink()
            deleted += 1
        except OSError:
            pass
    return deleted


@dataclass(frozen=True)
class GalleryFeatures:
    tracklets: np.ndarray  # store indices of the gallery tracklets
    features: torch.Tensor  # (N, D) on the CPU
    cache: Path | None  # None: computed, but the cache could not be written beside the store
    cached: bool  # read from the cache (False: computed now)
    pruned: int = 0  # older caches of the store deleted to keep KEEP_CACHES


def gallery_features(extractor: FeatureExtractor, store: StoreReader, *, workers: int = 0,
                     progress: bool = False) -> GalleryFeatures:
    """Embeddings of the store's gallery tracklets, from the cache when it matches, else computed and cached."""
    tracklets = store.tracklets.of_role("gallery")
    if len(tracklets) == 0:
        raise ReidError(f"{store.path}: has no gallery tracklets to search")
    key = cache_key(extractor.checkpoint, store, extractor.seq_len)
    path = cache_path(store.path, key)
    features = load_cache(path, key, tracklets)
    if features is not None:
        mark_used(path)
        return GalleryFeatures(tracklets, features, path, cached=True)
    features = extractor.store(store, tracklets=tracklets, workers=workers, progress=progress,
                               desc="gallery features")
    written = save_cache(path, key, tracklets, features)
    pruned = prune_caches(store.path) if written else 0
    return GalleryFeatures(tracklets, features, path if written else None, cached=False, pruned=pruned)


@dataclass(frozen=True)
class SearchResult:
    query_frames: np.ndarray  # a few query frames, RGB, at the store's size
    query_length: int
    skipped: list[tuple[str, str]]
    matches: list[Match]
    gallery: GalleryFeatures
    itself: list[str]  # gallery tracklets left out of the ranking because they are the query itself


def search(extractor: FeatureExtractor, store: StoreReader, query: Path | Sequence[Path], *, top: int = 10,
           metric: str = "euclidean", workers: int = 0, progress: bool = False,
           gallery: GalleryFeatures | None = None) -> SearchResult:
    """The ``top`` gallery tracklets of ``store`` nearest to one tracklet: a folder of its frames, or the
    frame files. A gallery tracklet that is the query itself is left out (``search_query.query_itself``);
    ``gallery`` reuses features already computed for another query."""
    from reid.search_query import query_itself

    gallery = gallery or gallery_features(extractor, store, workers=workers, progress=progress)
    frames = frame_files(query) if isinstance(query, Path) else list(query)
    tracklet = extractor.prepare(frames, like=store.meta)
    embedding = extractor.embed(tracklet)
    distances = pairwise_distance(embedding[None], gallery.features, metric)[0]
    itself = query_itself(store, gallery.tracklets, frames)
    others = np.flatnonzero(~itself)
    matches = store_matches(store, gallery.tracklets[others], distances[torch.from_numpy(others)], top)
    length = len(tracklet.images)
    return SearchResult(tracklet.images[spread_positions(length, QUERY_FRAMES)], length, tracklet.skipped, matches,
                        gallery, [str(store.tracklets.name[k]) for k in gallery.tracklets[itself]])
