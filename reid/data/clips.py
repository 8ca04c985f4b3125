"""PyTorch datasets of aligned image/flow clips read from a flowprep store.

Items stay compact on their way to the device (uint8 images, float16 flow): decoding
happens in the loader workers, normalisation on the device (see ``reid.data.device``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from flowprep import StoreReader, open_store
from reid.data.augment import ClipAugment
from reid.data.sampling import TRAIN_SAMPLING, dense_clip


def clip_tensors(images: np.ndarray, flows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """A clip as the loaders hand it over: images (T, H, W, 3) -> (T, 3, H, W) uint8, flow at half
    precision (0.03 px steps are plenty); ``FeatureExtractor`` feeds the model the same tensors."""
    return (
        torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2))),
        torch.from_numpy(np.ascontiguousarray(flows)).to(torch.float16),
    )


class TrainClips(Dataset):
    """Training tracklets: item i is a random clip of ``seq_len`` frames of tracklet i, augmented.

    ``sampling`` names how the clip's frames are drawn (``reid.data.sampling.TRAIN_SAMPLING``).

    Labels are the train identities renumbered 0..C-1 (``label_of_pid`` keeps the map).
    Randomness comes from a generator seeded by (seed, epoch, index), so a resumed run
    draws exactly the clips the uninterrupted run would have drawn.
    """

    def __init__(self, store: StoreReader | str | Path, seq_len: int = 4, augment: ClipAugment | None = ClipAugment(),
                 seed: int = 0, sampling: str = "random"):
        if sampling not in TRAIN_SAMPLING:
            raise ValueError(f"unknown sampling {sampling!r}: expected one of {', '.join(TRAIN_SAMPLING)}")
        self.store = store if isinstance(store, StoreReader) else open_store(store)
        self.indices = self.store.tracklets.of_role("train")
        pids = self.store.tracklets.pid[self.indices]
        self.pids = np.unique(pids)
        self.label_of_pid = {int(p): i for i, p in enumerate(self.pids)}
        self.labels = np.array([self.label_of_pid[int(p)] for p in pids], dtype=np.int64)
        self.seq_len, self.augment, self.seed = seq_len, augment, seed
        self.sample_positions = TRAIN_SAMPLING[sampling]

    @property
    def num_classes(self) -> int:
        return len(self.pids)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, key: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor, int]:
        """``key`` is (index, epoch), as the identity sampler yields it."""
        i, epoch = key
        rng = np.random.default_rng([self.seed, epoch, i])
        tracklet = int(self.indices[i])
        positions = self.sample_positions(int(self.store.tracklets.frame_count[tracklet]), self.seq_len, rng)
        images, flows = self.store.read_clip(tracklet, positions)
        if self.augment is not None:
            images, flows = self.augment(images, flows, rng)
        return (*clip_tensors(images, flows), int(self.labels[i]))


class DenseClips(Dataset):
    """All clips of the given tracklets (dense sampling); ``owner`` says whose feature a clip adds to.

    Clips are two integer arrays (owner, first frame: 16 bytes a clip) rather than an object each: a full MARS
    test set has 168,487 clips of 4 frames, and every loader worker shares these pages.
    """

    def __init__(self, store: StoreReader | str | Path, tracklets: np.ndarray, seq_len: int = 4):
        self.store = store if isinstance(store, StoreReader) else open_store(store)
        self.tracklets = np.asarray(tracklets, dtype=np.int64)
        self.seq_len = seq_len
        self.lengths = self.store.tracklets.frame_count[self.tracklets].astype(np.int64)
        if (self.lengths <= 0).any():
            raise ValueError("a tracklet needs at least one frame")
        clips_per_tracklet = -(-self.lengths // seq_len)
        self.owners = np.repeat(np.arange(len(self.tracklets)), clips_per_tracklet)
        first_clip = np.cumsum(clips_per_tracklet) - clips_per_tracklet
        self.starts = (np.arange(len(self.owners)) - first_clip[self.owners]) * seq_len

    def __len__(self) -> int:
        return len(self.owners)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        owner = int(self.owners[i])
        positions = dense_clip(int(self.lengths[owner]), int(self.starts[i]), self.seq_len)
        images, flows = self.store.read_clip(int(self.tracklets[owner]), positions)
        return (*clip_tensors(images, flows), owner)
