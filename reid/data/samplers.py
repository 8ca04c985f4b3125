"""The P x K identity sampler: batches of P identities with K clips each, for batch-hard triplets."""

from __future__ import annotations

from collections import defaultdict
from typing import Iterator, Sequence

import numpy as np
from torch.utils.data import Sampler


class IdentityBatchSampler(Sampler[list[tuple[int, int]]]):
    """Yields batches of (dataset index, epoch) keys: P distinct identities, K tracklets of each.

    The epoch travels with each key so that the dataset seeds its random clip from
    (seed, epoch, index) even inside persistent loader workers.

    Each epoch every identity's tracklets are shuffled and cut into groups of K (a short
    identity repeats tracklets to fill its group); batches draw P identities that still have
    groups. The order depends only on (seed, epoch), so every rank of a distributed run
    computes the same global batches and keeps its own slice of each batch.
    """

    def __init__(
        self,
        labels: Sequence[int],
        identities_per_batch: int = 8,
        instances: int = 4,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ):
        self.by_label: dict[int, list[int]] = defaultdict(list)
        for index, label in enumerate(labels):
            self.by_label[int(label)].append(index)
        if identities_per_batch < 2 or instances < 1:
            raise ValueError("need at least 2 identities and 1 instance per batch")
        if len(self.by_label) < identities_per_batch:
            raise ValueError(f"only {len(self.by_label)} identities for batches of {identities_per_batch}")
        if (identities_per_batch * instances) % world_size:
            raise ValueError(f"a batch of {identities_per_batch}x{instances} clips does not split over {world_size} ranks")
        self.p, self.k = identities_per_batch, instances
        self.seed, self.rank, self.world_size = seed, rank, world_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def global_batches(self) -> list[list[int]]:
        """Every batch of this epoch, as the whole (all-rank) batch."""
        rng = np.random.default_rng([self.seed, self.epoch])
        groups: dict[int, list[list[int]]] = {}
        for label in sorted(self.by_label):
            members = list(rng.permutation(self.by_label[label]))
            if len(members) < self.k:
                members = list(rng.choice(members, size=self.k, replace=True))
            usable = len(members) - len(members) % self.k
            groups[label] = [members[i : i + self.k] for i in range(0, usable, self.k)]
        batches = []
        while True:
            available = [label for label in sorted(groups) if groups[label]]
            if len(available) < self.p:
                return batches
            chosen = rng.choice(available, size=self.p, replace=False)
            batches.append([int(i) for label in chosen for i in groups[int(label)].pop()])

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        share = self.p * self.k // self.world_size
        for batch in self.global_batches():
            yield [(i, self.epoch) for i in batch[self.rank * share : (self.rank + 1) * share]]

    def __len__(self) -> int:
        return len(self.global_batches())
