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

# Elements of the largest temporary one chunk may create (rows of the full matrix while
# sorting, candidate sets while expanding, query-gallery pairs while intersecting).
CHUNK_ELEMENTS = 1 << 23


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
        return _rerank(_MatrixBlocks(q_g.to(dtype), q_q.to(dtype), g_g.to(dtype)), k1, k2, lambda_value)


def rerank_features(
    query: Tensor, gallery: Tensor, metric: str = "euclidean", k1: int = 20, k2: int = 6, lambda_value: float = 0.3,
    q_g: Tensor | None = None,
) -> Tensor:
    """The same re-ranking from the features, never holding the (gallery x gallery) distances.

    Rows of the full distance matrix are computed a chunk at a time and single entries on
    demand, so memory beyond the (query x gallery) result is bounded by CHUNK_ELEMENTS and the
    sparse neighbour sets (about N * k1 entries), whatever the gallery size. ``q_g`` is
    ``pairwise_distance(query, gallery, metric)`` when the caller has it already.
    """
    _check_parameters(k1, k2, lambda_value)
    if q_g is None:
        q_g = pairwise_distance(query, gallery, metric)
    with one_thread_on_cpu(q_g.device):
        return _rerank(_FeatureBlocks(q_g, query, gallery, metric), k1, k2, lambda_value)


def _rerank(blocks: _Blocks, k1: int, k2: int, lambda_value: float) -> Tensor:
    neighbours = blocks.ranking_heads(min(blocks.total, max(k1 + 1, k2)))
    weights = _encode(blocks, neighbours, k1)
    if k2 > 1:
        weights = _expand_query(weights, neighbours[:, :k2])
    jaccard = _query_gallery_jaccard(weights, blocks.num_query, blocks.num_gallery)
    original = blocks.q_g / blocks.row_max[: blocks.num_query, None]
    return (1 - lambda_value) * jaccard + lambda_value * original


rerank = k_reciprocal_rerank


class _Blocks:
    """The full (N x N) distance matrix [[q_q, q_g], [q_g^T, g_g]], read by rows or entries."""

    def __init__(self, q_g: Tensor) -> None:
        self.q_g = q_g
        self.num_query, self.num_gallery = q_g.shape
        self.total = self.num_query + self.num_gallery
        self.device = q_g.device
        self.row_max = torch.empty(self.total, dtype=q_g.dtype, device=self.device)

    def rows(self, start: int, stop: int) -> Tensor:
        """Rows start..stop-1 of the full matrix."""
        raise NotImplementedError

    def entries(self, rows: Tensor, cols: Tensor) -> Tensor:
        """Distances of the (rows[k], cols[k]) pairs."""
        raise NotImplementedError

    def ranking_heads(self, count: int) -> Tensor:
        """First `count` entries of every row's stable ranking; fills row_max on the way."""
        heads = torch.empty(self.total, count, dtype=torch.int64, device=self.device)
        step = max(1, CHUNK_ELEMENTS // self.total)
        for start in range(0, self.total, step):
            stop = min(start + step, self.total)
            rows = self.rows(start, stop)
            row_max = rows.max(dim=1).values
            row_max = torch.where(row_max > 0, row_max, torch.ones_like(row_max))  # an all-zero row stays zero
            self.row_max[start:stop] = row_max
            heads[start:stop] = _stable_smallest(rows / row_max[:, None], count)
        return heads

    def normalised(self, rows: Tensor, cols: Tensor) -> Tensor:
        """Normalised distances of the (rows[k], cols[k]) pairs."""
        return self.entries(rows, cols) / self.row_max[rows]


class _MatrixBlocks(_Blocks):
    """The full matrix kept as its three given blocks."""

    def __init__(self, q_g: Tensor, q_q: Tensor, g_g: Tensor) -> None:
        super().__init__(q_g)
        self.q_q, self.g_g = q_q, g_g

    def rows(self, start: int, stop: int) -> Tensor:
        nq = self.num_query
        parts = []
        if start < nq:
            parts.append(torch.cat([self.q_q[start : min(stop, nq)], self.q_g[start : min(stop, nq)]], dim=1))
        if stop > nq:
            first, last = max(start, nq) - nq, stop - nq
            parts.append(torch.cat([self.q_g[:, first:last].t(), self.g_g[first:last]], dim=1))
        return torch.cat(parts, dim=0)

    def entries(self, rows: Tensor, cols: Tensor) -> Tensor:
        nq = self.num_query
        values = torch.empty(rows.shape, dtype=self.q_g.dtype, device=self.device)
        row_is_query, col_is_query = rows < nq, cols < nq
        for mask, block, r, c in (
            (row_is_query & col_is_query, self.q_q, rows, cols),
            (row_is_query & ~col_is_query, self.q_g, rows, cols - nq),
            (~row_is_query & col_is_query, self.q_g, cols, rows - nq),
            (~row_is_query & ~col_is_query, self.g_g, rows - nq, cols - nq),
        ):
            values[mask] = block[r[mask], c[mask]]
        return values


class _FeatureBlocks(_Blocks):
    """The full distance matrix of the stacked query and gallery features, computed when read."""

    def __init__(self, q_g: Tensor, query: Tensor, gallery: Tensor, metric: str) -> None:
        features = torch.cat([query, gallery]).to(q_g.dtype)
        if metric == "cosine":  # then every distance is 1 - a.b of unit rows, as pairwise_distance computes it
            features = torch.nn.functional.normalize(features, dim=1)
        self.features, self.metric = features, metric
        self.squared_norms = features.pow(2).sum(dim=1)
        super().__init__(q_g)

    def rows(self, start: int, stop: int) -> Tensor:
        return pairwise_distance(self.features[start:stop], self.features, self.metric)

    def entries(self, rows: Tensor, cols: Tensor) -> Tensor:
        values = torch.empty(rows.shape, dtype=self.q_g.dtype, device=self.device)
        step = max(1, CHUNK_ELEMENTS // self.features.shape[1])
        for start in range(0, rows.numel(), step):
            r, c = rows[start : start + step], cols[start : start + step]
            dot = (self.features[r] * self.features[c]).sum(dim=1)
            if self.metric == "cosine":
                values[start : start + step] = 1 - dot
            else:
                values[start : start + step] = (self.squared_norms[r] + self.squared_norms[c] - 2 * dot).clamp_(min=0.0)
        return values


def _stable_smallest(rows: Tensor, count: int) -> Tensor:
    """Indices of each row's `count` smallest values, ordered exactly as a stable argsort orders them.

    topk is ~40x cheaper than sorting whole rows; its choice among values tied with the
    count-th smallest is arbitrary, so the rare rows with such a tie fall back to a stable sort.
    """
    chosen = torch.topk(rows, count, dim=1, largest=False).indices.sort(dim=1).values
    chosen = chosen.gather(1, torch.argsort(rows.gather(1, chosen), dim=1, stable=True))
    boundary = rows.gather(1, chosen[:, -1:])
    tied = (rows <= boundary).sum(dim=1) > count
    if bool(tied.any()):
        chosen[tied] = torch.argsort(rows[tied], dim=1, stable=True)[:, :count]
    return chosen


def _reciprocal_mask(neighbours: Tensor, k: int) -> Tensor:
    """(N x (k+1)) mask of which of each sample's k nearest have the sample among their own k nearest."""
    forward = neighbours[:, : k + 1]
    samples = torch.arange(neighbours.shape[0], device=neighbours.device)
    return (forward[forward] == samples[:, None, None]).any(dim=-1)


def _encode(blocks: _Blocks, neighbours: Tensor, k1: int) -> Tensor:
    """Sparse (N x N) k-reciprocal feature V: Gaussian weights over each expanded neighbour set."""
    half = int(np.around(k1 / 2))
    forward = neighbours[:, : k1 + 1]
    reciprocal = _reciprocal_mask(neighbours, k1)
    half_forward = neighbours[:, : half + 1]
    half_reciprocal = _reciprocal_mask(neighbours, half)
    width, half_width = forward.shape[1], half_forward.shape[1]
    step = max(1, CHUNK_ELEMENTS // (width * half_width * width))
    sentinel = blocks.total
    rows, cols = [], []
    for start in range(0, blocks.total, step):
        own, own_mask = forward[start : start + step], reciprocal[start : start + step]
        candidate_sets = half_forward[own]  # chunk x width x half_width
        candidate_masks = half_reciprocal[own]
        inside = ((candidate_sets[..., None] == own[:, None, None, :]) & own_mask[:, None, None, :]).any(dim=-1)
        overlap = (inside & candidate_masks).sum(dim=-1)
        accepted = own_mask & (3 * overlap > 2 * candidate_masks.sum(dim=-1))
        members = torch.cat([own, candidate_sets.flatten(1)], dim=1)
        valid = torch.cat([own_mask, (candidate_masks & accepted[..., None]).flatten(1)], dim=1)
        members = torch.sort(torch.where(valid, members, sentinel), dim=1).values
        unique = torch.ones_like(members, dtype=torch.bool)
        unique[:, 1:] = members[:, 1:] != members[:, :-1]
        row, col = torch.nonzero(unique & (members < sentinel), as_tuple=True)
        rows.append(row + start)
        cols.append(members[row, col])
    rows, cols = torch.cat(rows), torch.cat(cols)
    gaussian = torch.exp(-blocks.normalised(rows, cols))
    totals = torch.zeros(blocks.total, dtype=gaussian.dtype, device=blocks.device).index_add_(0, rows, gaussian)
    return _sparse(rows, cols, gaussian / totals[rows], blocks.total)


def _sparse(rows: Tensor, cols: Tensor, values: Tensor, size: int) -> Tensor:
    """Square sparse matrix with duplicate entries summed and entries sorted by (row, column)."""
    indices = torch.stack([rows, cols])
    return torch.sparse_coo_tensor(indices, values, (size, size), check_invariants=False).coalesce()


def _ragged_ranges(starts: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
    """Every element of the ranges [starts[r], starts[r] + lengths[r]): its range r and its position."""
    owner = torch.repeat_interleave(torch.arange(lengths.numel(), device=lengths.device), lengths)
    range_offsets = torch.cumsum(lengths, dim=0) - lengths
    return owner, starts[owner] + torch.arange(owner.numel(), device=lengths.device) - range_offsets[owner]


def _expand_query(weights: Tensor, nearest: Tensor) -> Tensor:
    """Local query expansion: every row of V becomes the mean of its k2 nearest samples' rows."""
    total, count = nearest.shape
    rows, cols = weights.indices()
    row_lengths = torch.bincount(rows, minlength=total)
    row_starts = torch.cumsum(row_lengths, dim=0) - row_lengths
    sources = nearest.flatten()
    pair, entry = _ragged_ranges(row_starts[sources], row_lengths[sources])
    return _sparse(pair // count, cols[entry], weights.values()[entry] / count, total)


def _query_gallery_jaccard(weights: Tensor, num_query: int, num_gallery: int) -> Tensor:
    """Jaccard distance of every query row of V to every gallery row, pairing entries that share a column."""
    rows, cols = weights.indices()
    values = weights.values()
    is_query = rows < num_query
    q_rows, q_cols, q_values = rows[is_query], cols[is_query], values[is_query]
    by_column = torch.argsort(cols[~is_query], stable=True)
    g_rows = rows[~is_query][by_column] - num_query
    g_cols = cols[~is_query][by_column]
    g_values = values[~is_query][by_column]
    # Gallery entries sharing query entry e's column: g_cols[first[e] : first[e] + counts[e]].
    first = torch.searchsorted(g_cols, q_cols)
    counts = torch.searchsorted(g_cols, q_cols, right=True) - first
    shared = torch.zeros(num_query * num_gallery, dtype=values.dtype, device=values.device)
    ends = torch.cumsum(counts, dim=0).cpu().numpy()
    start = 0
    while start < len(ends):
        offset = ends[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, offset + CHUNK_ELEMENTS, side="right")))
        entry, partner = _ragged_ranges(first[start:stop], counts[start:stop])
        entry += start
        shared.index_add_(
            0, q_rows[entry] * num_gallery + g_rows[partner], torch.minimum(q_values[entry], g_values[partner])
        )
        start = stop
    shared = shared.view(num_query, num_gallery)
    return 1 - shared / (2 - shared)


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
