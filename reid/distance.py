"""Query-gallery distance matrices, computed on the features' device in bounded memory."""

from __future__ import annotations

import torch
from torch import Tensor

from reid.errors import ReidError

METRICS = ("euclidean", "cosine")

# Elements of the largest temporary (rows x gallery) one chunk may create: 2**24 float32
# values are 64 MiB, so a million-entry gallery still fits in memory, 16 query rows at a time.
CHUNK_ELEMENTS = 1 << 24


def pairwise_distance(query: Tensor, gallery: Tensor, metric: str = "euclidean") -> Tensor:
    """Distance of every query row to every gallery row, shape (num_query, num_gallery).

    "euclidean" is the squared Euclidean distance (what ranking and the re-ranking of
    Zhong et al. use; the square root would not change any ranking), "cosine" is
    1 - cosine similarity. Query rows are processed in chunks so that the temporaries
    stay bounded whatever the gallery size; the result lives on the features' device.
    """
    if metric not in METRICS:
        raise ReidError(f"unknown distance metric {metric!r}: expected one of {', '.join(METRICS)}")
    _check_features(query, gallery)
    dtype = torch.promote_types(torch.promote_types(query.dtype, gallery.dtype), torch.float32)
    query = query.to(dtype)
    gallery = gallery.to(dtype)
    if metric == "cosine":
        query = torch.nn.functional.normalize(query, dim=1)
        gallery = torch.nn.functional.normalize(gallery, dim=1)
    else:
        gallery_sq_norms = gallery.pow(2).sum(dim=1)
    distances = torch.empty(query.shape[0], gallery.shape[0], dtype=dtype, device=query.device)
    rows = max(1, CHUNK_ELEMENTS // max(1, gallery.shape[0]))
    for start in range(0, query.shape[0], rows):
        block = query[start : start + rows]
        out = distances[start : start + rows]
        if metric == "cosine":
            torch.mm(block, gallery.t(), out=out)
            out.neg_().add_(1.0)
        else:
            # |q - g|^2 = |q|^2 + |g|^2 - 2 q.g; rounding can make it slightly negative.
            torch.addmm(gallery_sq_norms.unsqueeze(0), block, gallery.t(), beta=1.0, alpha=-2.0, out=out)
            out.add_(block.pow(2).sum(dim=1, keepdim=True)).clamp_(min=0.0)
    return distances


def _check_features(query: Tensor, gallery: Tensor) -> None:
    for name, features in (("query", query), ("gallery", gallery)):
        if not isinstance(features, Tensor):
            raise ReidError(f"{name} features must be a torch.Tensor, got {type(features).__name__}")
        if features.dim() != 2:
            raise ReidError(f"{name} features must be 2-D (count x dim), got shape {tuple(features.shape)}")
    if query.shape[1] != gallery.shape[1]:
        raise ReidError(
            f"query features have dimension {query.shape[1]} but gallery features have {gallery.shape[1]}"
        )
    if query.device != gallery.device:
        raise ReidError(f"query features are on {query.device} but gallery features are on {gallery.device}")
