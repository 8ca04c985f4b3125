"""Query/gallery evaluation of a model on a store: features, distances, CMC/mAP/mINP."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from flowprep import StoreReader, TrackletIndex
from flowreid.progress import progress_display
from flowreid.protocols import PROTOCOLS, protocol_gallery, without_legacy_copies
from reid.distance import pairwise_distance
from reid.engine.features import extract_features
from reid.errors import ReidError
from reid.metrics import RankResult, evaluate

@dataclass(frozen=True)
class QueryGallery:
    """Tracklet indices of the query and gallery sets under a protocol (``flowreid.protocols``)."""

    query: np.ndarray
    gallery: np.ndarray

    @classmethod
    def of(cls, store: StoreReader, protocol: str = "standard") -> "QueryGallery":
        return cls.of_tracklets(store.tracklets, protocol, where=store.path)

    @classmethod
    def of_tracklets(
        cls, tracklets: TrackletIndex, protocol: str = "standard", *, where: object = "store"
    ) -> "QueryGallery":
        """The sets from a store's standard roles; an old store's ``#gallery`` query copies are dropped first,
        so that the MATLAB protocol holds each query once."""
        if protocol not in PROTOCOLS:
            raise ReidError(f"unknown protocol {protocol!r} (choose from {', '.join(PROTOCOLS)})")
        query = tracklets.of_role("query")
        gallery = without_legacy_copies(tracklets.of_role("gallery"), tracklets.name, query)
        gallery = protocol_gallery(query, gallery, protocol)
        if len(query) == 0 or len(gallery) == 0:
            raise ReidError(f"{where}: needs query and gallery tracklets, has {len(query)} and {len(gallery)}")
        return cls(query, gallery)


@dataclass(frozen=True)
class Evaluation:
    """Scores of a model next to what a random ranking scores on the same sets."""

    result: RankResult
    chance: RankResult
    protocol: str
    clothes: dict[str, RankResult | None] = field(default_factory=dict)
    """With outfits (MEVID): the same-outfit and changed-outfit scores; None where no query has such a match."""

    def as_dict(self) -> dict:
        r, c = self.result, self.chance
        scores = {
            "rank1": float(r.cmc[0]), "rank5": float(r.cmc[4]), "rank10": float(r.cmc[9]), "rank20": float(r.cmc[19]),
            "mAP": r.mAP, "mINP": r.mINP, "protocol": self.protocol, "valid_queries": r.num_valid_queries,
            "chance": {"rank1": float(c.cmc[0]), "mAP": c.mAP},
        }
        if self.clothes:
            scores["clothes"] = {
                condition: None if s is None else {"rank1": float(s.cmc[0]), "rank5": float(s.cmc[4]), "mAP": s.mAP,
                                                   "mINP": s.mINP, "valid_queries": s.num_valid_queries}
                for condition, s in self.clothes.items()
            }
        return scores


def chance_level(store: StoreReader, sets: QueryGallery, trials: int = 5, seed: int = 0) -> RankResult:
    """The scores of random rankings (mean of ``trials`` draws): the floor a model must beat."""
    rng = np.random.default_rng(seed)
    results = [
        _rank(torch.from_numpy(rng.random((len(sets.query), len(sets.gallery)))), store, sets)
        for _ in range(trials)
    ]
    return RankResult(
        cmc=np.mean([r.cmc for r in results], axis=0),
        mAP=float(np.mean([r.mAP for r in results])),
        mINP=float(np.mean([r.mINP for r in results])),
        num_valid_queries=results[0].num_valid_queries,
    )


def _rank(distmat: torch.Tensor, store: StoreReader, sets: QueryGallery, clothes: str = "all") -> RankResult:
    t = store.tracklets
    return evaluate(distmat, t.pid[sets.query], t.pid[sets.gallery], t.camid[sets.query], t.camid[sets.gallery], max_rank=20,
                    outfits=(t.outfit[sets.query], t.outfit[sets.gallery]), clothes=clothes)


def clothes_scores(distmat: torch.Tensor, store: StoreReader, sets: QueryGallery) -> dict[str, RankResult | None]:
    """The clothes-changing protocol as MEVID papers report it: true matches in the query's outfit
    ("same") or in another outfit ("changed"); empty for a store without outfits."""
    if not store.tracklets.has_outfits():
        return {}
    scores: dict[str, RankResult | None] = {}
    for condition in ("same", "changed"):
        try:
            scores[condition] = _rank(distmat, store, sets, condition)
        except ReidError:  # no query has a match in this condition
            scores[condition] = None
    return scores


def evaluate_model(
    model: nn.Module,
    store: StoreReader,
    *,
    seq_len: int,
    device: torch.device,
    protocol: str = "standard",
    metric: str = "euclidean",
    rerank: dict | None = None,
    batch_size: int = 32,
    workers: int = 0,
    amp: str = "off",
    progress: bool = False,
) -> Evaluation:
    """Extract query and gallery features, rank on the device, score, and compare with chance.

    Memory grows with (query x gallery), the distances every ranking needs, never with
    (gallery x gallery): distances and scores run in chunks of queries, and re-ranking reads
    the rows of the full matrix from the features (benchmarks/bench_scale.py measures it).
    ``progress`` shows a bar of feature batches, then one of the ranking steps, on stderr (a bar on a terminal, timed lines in a log).
    """
    sets = QueryGallery.of(store, protocol)
    wanted = np.unique(np.concatenate([sets.query, sets.gallery]))
    features = extract_features(model, store, wanted, seq_len=seq_len, device=device,
                                batch_size=batch_size, workers=workers, amp=amp, progress=progress)
    row = {int(t): i for i, t in enumerate(wanted)}
    query = features[[row[int(t)] for t in sets.query]]
    gallery = features[[row[int(t)] for t in sets.gallery]]
    steps = ["distances", *(["re-ranking"] if rerank is not None else []), "scores"]
    with progress_display(len(steps), "ranking", "step", enabled=progress, leave=False) as bar:
        bar.set_postfix_str(steps[0])
        distmat = pairwise_distance(query, gallery, metric)
        bar.update()
        if rerank is not None:
            from reid.rerank import rerank_features

            bar.set_postfix_str("re-ranking")
            distmat = rerank_features(query, gallery, metric, q_g=distmat, **rerank)
            bar.update()
        bar.set_postfix_str("scores")
        evaluation = Evaluation(_rank(distmat, store, sets), chance_level(store, sets), protocol,
                                clothes_scores(distmat, store, sets))
        bar.update()
    return evaluation
