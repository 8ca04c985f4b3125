"""k-reciprocal re-ranking (Zhong et al., CVPR 2017), vectorised with torch on the inputs' device.

Steps, over all N = num_query + num_gallery samples of the full distance matrix
[[q_q, q_g], [q_g^T, g_g]]:
  1. each row is divided by its maximum; the public reference code divides each column by
     its maximum and transposes, the same thing for this symmetric matrix. The distances are
     used as given: pass squared Euclidean distances (reid.distance.pairwise_distance), as
     Zhong et al.'s feature-based code does. (torchreid's copy squares its input again, so
     its numbers for the same squared distances differ.)
  2. ranking = stable argsort of every row (ties broken by index), so "the k nearest" of a
     sample are the first k + 1 entries of its ranking, itself included (only the head of
     each ranking is needed: topk, made tie-exact);
  3. R(i, k1) = the k1-reciprocal neighbours: j among i's k1 nearest and i among j's;
  4. expansion: for every c in R(i, k1), R(c, round(k1 / 2)) is added when more than 2/3 of
     it already lies in R(i, k1) (strict, as in the public code; round() as numpy's around);
  5. V[i, j] = exp(-d[i, j]) over the expanded set, normalised to sum to 1;
  6. local query expansion: V[i] = mean of V over i's k2 nearest (skipped when k2 == 1);
  7. Jaccard distance = 1 - sum(min(V_i, V_j)) / sum(max(V_i, V_j)), where the max-sum is
     2 - min-sum because rows of V sum to 1; only query x gallery pairs are computed, through
     an inverted index over V's non-zero columns (V is sparse: about k1 entries per row);
  8. final = (1 - lambda) * jaccard + lambda * normalised original distance.

The steps over N x N or N x k^3 elements run in row chunks, so on the CPU the peak memory stays
near the size of the inputs (about 1.2 GiB for the whole MARS-size benchmark process).
``rerank_features`` takes the features instead of the three distance blocks and computes rows
and entries of the full matrix when it reads them, so it never holds the (gallery x gallery)
block: beyond its (query x gallery) result, memory is one chunk plus the sparse neighbour sets.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from reid.distance import pairwise_distance
from reid.errors import ReidError
from reid.metrics import one_thread_on_cpu
from reid.rerank.blocks import Blocks, FeatureBlocks, MatrixBlocks
from reid.rerank.sparse import encode, expand_query, query_gallery_jaccard


def k_reciprocal_rerank(
    q_g: Tensor, q_q: Tensor, g_g: Tensor, k1: int = 20, k2: int = 6, lambda_value: float = 0.3
) -> Tensor:
    """Re-ranked (num_query x num_gallery) distances, on the inputs' device, from the three distance blocks.

    q_g, q_q, g_g: query-gallery, query-query and gallery-gallery distances (squared Euclidean
    from reid.distance.pairwise_distance, or cosine); float64 inputs are computed in float64,
    anything else in float32.
    """
    _check_inputs(q_g, q_q, g_g)
    _check_parameters(k1, k2, lambda_value)
    dtype = torch.promote_types(q_g.dtype, torch.float32)
    with one_thread_on_cpu(q_g.device):
        return _rerank(MatrixBlocks(q_g.to(dtype), q_q.to(dtype), g_g.to(dtype)), k1, k2, lambda_value)


def rerank_features(
    query: Tensor, gallery: Tensor, metric: str = "euclidean", k1: int = 20, k2: int = 6, lambda_value: float = 0.3,
    q_g: Tensor | None = None,
) -> Tensor:
    """The same re-ranking from the features, never holding the (gallery x gallery) distances.

    Rows of the full distance matrix are computed a chunk at a time and single entries on
    demand, so memory beyond the (query x gallery) result is bounded by blocks.CHUNK_ELEMENTS and the
    sparse neighbour sets (about N * k1 entries), whatever the gallery size. ``q_g`` is
    ``pairwise_distance(query, gallery, metric)`` when the caller has it already.
    """
    _check_parameters(k1, k2, lambda_value)
    if q_g is None:
        q_g = pairwise_distance(query, gallery, metric)
    with one_thread_on_cpu(q_g.device):
        return _rerank(FeatureBlocks(q_g, query, gallery, metric), k1, k2, lambda_value)


def _rerank(blocks: Blocks, k1: int, k2: int, lambda_value: float) -> Tensor:
    neighbours = blocks.ranking_heads(min(blocks.total, max(k1 + 1, k2)))
    weights = encode(blocks, neighbours, k1)
    if k2 > 1:
        weights = expand_query(weights, neighbours[:, :k2])
    jaccard = query_gallery_jaccard(weights, blocks.num_query, blocks.num_gallery)
    original = blocks.q_g / blocks.row_max[: blocks.num_query, None]
    return (1 - lambda_value) * jaccard + lambda_value * original


rerank = k_reciprocal_rerank


def _check_inputs(q_g: Tensor, q_q: Tensor, g_g: Tensor) -> None:
    for name, block in (("q_g", q_g), ("q_q", q_q), ("g_g", g_g)):
        if not isinstance(block, Tensor) or block.dim() != 2:
            description = tuple(block.shape) if isinstance(block, Tensor) else type(block).__name__
            raise ReidError(f"re-ranking needs 2-D torch tensors; {name} is {description}")
        if block.device != q_g.device:
            raise ReidError(f"re-ranking inputs must share a device: q_g is on {q_g.device}, {name} on {block.device}")
        if block.is_floating_point() and bool(torch.isnan(block).any()):
            raise ReidError(f"re-ranking input {name} contains NaN values")
    num_query, num_gallery = q_g.shape
    if tuple(q_q.shape) != (num_query, num_query) or tuple(g_g.shape) != (num_gallery, num_gallery):
        raise ReidError(
            f"re-ranking blocks disagree: q_g is {tuple(q_g.shape)}, so q_q must be {(num_query, num_query)} "
            f"and g_g {(num_gallery, num_gallery)}, got {tuple(q_q.shape)} and {tuple(g_g.shape)}"
        )
    if num_query == 0 or num_gallery == 0:
        raise ReidError(f"re-ranking needs at least one query and one gallery sample; q_g has shape {tuple(q_g.shape)}")


def _check_parameters(k1: int, k2: int, lambda_value: float) -> None:
    for name, k in (("k1", k1), ("k2", k2)):
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ReidError(f"re-ranking {name} must be a positive integer, got {k!r}")
    if not 0.0 <= lambda_value <= 1.0:
        raise ReidError(f"re-ranking lambda_value must be within [0, 1], got {lambda_value!r}")
