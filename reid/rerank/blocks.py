"""The full (N x N) distance matrix of re-ranking, read a chunk of rows or a set of entries at a time.

Two readers: ``MatrixBlocks`` keeps the three given blocks (q_q, q_g, g_g); ``FeatureBlocks``
computes rows and entries from the features when read, so it never holds the gallery square.
"""

from __future__ import annotations

import torch
from torch import Tensor

from reid.distance import pairwise_distance

# Elements of the largest temporary one chunk may create (rows of the full matrix while
# sorting, candidate sets while expanding, query-gallery pairs while intersecting).
CHUNK_ELEMENTS = 1 << 23


class Blocks:
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
            heads[start:stop] = stable_smallest(rows / row_max[:, None], count)
        return heads

    def normalised(self, rows: Tensor, cols: Tensor) -> Tensor:
        """Normalised distances of the (rows[k], cols[k]) pairs."""
        return self.entries(rows, cols) / self.row_max[rows]


class MatrixBlocks(Blocks):
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


class FeatureBlocks(Blocks):
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


def stable_smallest(rows: Tensor, count: int) -> Tensor:
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
