"""Steps 3-7 of re-ranking on sparse tensors: k-reciprocal neighbour sets, their Gaussian weights V,
local query expansion and the query x gallery Jaccard distance (see ``reid.rerank``)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from reid.rerank import blocks
from reid.rerank.blocks import Blocks


def _reciprocal_mask(neighbours: Tensor, k: int) -> Tensor:
    """(N x (k+1)) mask of which of each sample's k nearest have the sample among their own k nearest."""
    forward = neighbours[:, : k + 1]
    samples = torch.arange(neighbours.shape[0], device=neighbours.device)
    return (forward[forward] == samples[:, None, None]).any(dim=-1)


def encode(matrix: Blocks, neighbours: Tensor, k1: int) -> Tensor:
    """Sparse (N x N) k-reciprocal feature V: Gaussian weights over each expanded neighbour set."""
    half = int(np.around(k1 / 2))
    forward = neighbours[:, : k1 + 1]
    reciprocal = _reciprocal_mask(neighbours, k1)
    half_forward = neighbours[:, : half + 1]
    half_reciprocal = _reciprocal_mask(neighbours, half)
    width, half_width = forward.shape[1], half_forward.shape[1]
    step = max(1, blocks.CHUNK_ELEMENTS // (width * half_width * width))
    sentinel = matrix.total
    rows, cols = [], []
    for start in range(0, matrix.total, step):
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
    gaussian = torch.exp(-matrix.normalised(rows, cols))
    totals = torch.zeros(matrix.total, dtype=gaussian.dtype, device=matrix.device).index_add_(0, rows, gaussian)
    return _sparse(rows, cols, gaussian / totals[rows], matrix.total)


def _sparse(rows: Tensor, cols: Tensor, values: Tensor, size: int) -> Tensor:
    """Square sparse matrix with duplicate entries summed and entries sorted by (row, column)."""
    indices = torch.stack([rows, cols])
    return torch.sparse_coo_tensor(indices, values, (size, size), check_invariants=False).coalesce()


def _ragged_ranges(starts: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
    """Every element of the ranges [starts[r], starts[r] + lengths[r]): its range r and its position."""
    owner = torch.repeat_interleave(torch.arange(lengths.numel(), device=lengths.device), lengths)
    range_offsets = torch.cumsum(lengths, dim=0) - lengths
    return owner, starts[owner] + torch.arange(owner.numel(), device=lengths.device) - range_offsets[owner]


def expand_query(weights: Tensor, nearest: Tensor) -> Tensor:
    """Local query expansion: every row of V becomes the mean of its k2 nearest samples' rows."""
    total, count = nearest.shape
    rows, cols = weights.indices()
    row_lengths = torch.bincount(rows, minlength=total)
    row_starts = torch.cumsum(row_lengths, dim=0) - row_lengths
    sources = nearest.flatten()
    pair, entry = _ragged_ranges(row_starts[sources], row_lengths[sources])
    return _sparse(pair // count, cols[entry], weights.values()[entry] / count, total)


def query_gallery_jaccard(weights: Tensor, num_query: int, num_gallery: int) -> Tensor:
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
        stop = max(start + 1, int(np.searchsorted(ends, offset + blocks.CHUNK_ELEMENTS, side="right")))
        entry, partner = _ragged_ranges(first[start:stop], counts[start:stop])
        entry += start
        shared.index_add_(
            0, q_rows[entry] * num_gallery + g_rows[partner], torch.minimum(q_values[entry], g_values[partner])
        )
        start = stop
    shared = shared.view(num_query, num_gallery)
    return 1 - shared / (2 - shared)
