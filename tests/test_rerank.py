"""k-reciprocal re-ranking against a per-sample reference written from Zhong et al.'s definitions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reid.rerank
import reid.rerank.blocks
from reid.distance import pairwise_distance
from reid.errors import ReidError
from reid.rerank import k_reciprocal_rerank, rerank


def reference_rerank(q_g, q_q, g_g, k1, k2, lambda_value):
    """Sets and loops, one sample at a time, following the paper (and the conventions in reid.rerank's docstring)."""
    num_query, num_gallery = q_g.shape
    full = np.block([[q_q, q_g], [q_g.T, g_g]]).astype(np.float64)
    full = full / full.max(axis=1, keepdims=True)
    total = len(full)
    ranking = [np.argsort(row, kind="stable").tolist() for row in full]

    def nearest(i, k):  # N(i, k): the k nearest, the sample itself included
        return set(ranking[i][: k + 1])

    def reciprocal(i, k):  # R(i, k) = {j in N(i, k) : i in N(j, k)}
        return {j for j in nearest(i, k) if i in nearest(j, k)}

    encoded = np.zeros((total, total))
    for i in range(total):
        base = reciprocal(i, k1)
        expanded = set(base)
        for candidate in base:
            half = reciprocal(candidate, int(np.around(k1 / 2)))
            if len(half & base) > 2 / 3 * len(half):
                expanded |= half
        members = sorted(expanded)
        gaussian = np.exp(-full[i, members])
        encoded[i, members] = gaussian / gaussian.sum()
    if k2 > 1:
        encoded = np.array([encoded[ranking[i][:k2]].mean(axis=0) for i in range(total)])
    jaccard = np.zeros((num_query, num_gallery))
    for i in range(num_query):
        for j in range(num_gallery):
            a, b = encoded[i], encoded[num_query + j]
            jaccard[i, j] = 1 - np.minimum(a, b).sum() / np.maximum(a, b).sum()
    return (1 - lambda_value) * jaccard + lambda_value * full[:num_query, num_query:]


def _distance_blocks(seed: int, num_query: int, num_gallery: int):
    """Features around a few identity centres, so that neighbourhoods overlap and the 2/3 rule matters."""
    generator = torch.Generator().manual_seed(seed)
    dtype = torch.float64  # the reference computes in float64; so does rerank on float64 input
    centres = torch.randn(5, 8, generator=generator, dtype=dtype)
    q_feats = centres[torch.randint(0, 5, (num_query,), generator=generator)]
    g_feats = centres[torch.randint(0, 5, (num_gallery,), generator=generator)]
    q_feats = q_feats + 0.7 * torch.randn(q_feats.shape, generator=generator, dtype=dtype)
    g_feats = g_feats + 0.7 * torch.randn(g_feats.shape, generator=generator, dtype=dtype)
    return (
        pairwise_distance(q_feats, g_feats),
        pairwise_distance(q_feats, q_feats),
        pairwise_distance(g_feats, g_feats),
    )


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(("k1", "k2", "lambda_value"), [(20, 6, 0.3), (5, 3, 0.5), (7, 1, 0.2), (4, 2, 0.0)])
def test_matches_reference(seed, k1, k2, lambda_value):
    q_g, q_q, g_g = _distance_blocks(seed, num_query=10, num_gallery=30)
    expected = reference_rerank(q_g.numpy(), q_q.numpy(), g_g.numpy(), k1, k2, lambda_value)
    result = k_reciprocal_rerank(q_g, q_q, g_g, k1=k1, k2=k2, lambda_value=lambda_value)
    assert result.shape == (10, 30) and result.dtype == torch.float64
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("k1", "k2"), [(20, 6), (5, 3), (3, 2)])
def test_tied_distances_follow_the_stable_ranking(k1, k2):
    # Duplicated samples give identical rows and zero distances, so the k-th neighbour is tied.
    generator = torch.Generator().manual_seed(4)
    q_feats = torch.randn(6, 8, generator=generator, dtype=torch.float64).repeat(2, 1)
    g_feats = torch.randn(10, 8, generator=generator, dtype=torch.float64).repeat(3, 1)
    blocks = [pairwise_distance(a, b) for a, b in ((q_feats, g_feats), (q_feats, q_feats), (g_feats, g_feats))]
    expected = reference_rerank(*(block.numpy() for block in blocks), k1, k2, 0.3)
    np.testing.assert_allclose(k_reciprocal_rerank(*blocks, k1=k1, k2=k2).numpy(), expected, rtol=1e-10, atol=1e-12)


def test_small_chunks_give_the_same_result(monkeypatch):
    q_g, q_q, g_g = _distance_blocks(7, num_query=10, num_gallery=30)
    whole = k_reciprocal_rerank(q_g, q_q, g_g, k1=6, k2=3)
    monkeypatch.setattr(reid.rerank.blocks, "CHUNK_ELEMENTS", 97)  # rows one by one, a handful of pairs at a time
    chunked = k_reciprocal_rerank(q_g, q_q, g_g, k1=6, k2=3)
    torch.testing.assert_close(chunked, whole, rtol=1e-12, atol=1e-12)


def test_k_larger_than_the_sample_count_uses_every_sample():
    q_g, q_q, g_g = _distance_blocks(3, num_query=4, num_gallery=8)
    expected = reference_rerank(q_g.numpy(), q_q.numpy(), g_g.numpy(), 50, 20, 0.3)
    result = k_reciprocal_rerank(q_g, q_q, g_g, k1=50, k2=20)
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_float32_inputs_stay_float32_and_agree_with_float64():
    q_g, q_q, g_g = _distance_blocks(1, num_query=10, num_gallery=30)
    single = rerank(q_g.float(), q_q.float(), g_g.float())
    assert single.dtype == torch.float32
    torch.testing.assert_close(single.double(), rerank(q_g, q_q, g_g), rtol=1e-5, atol=1e-5)


def test_lambda_one_gives_the_row_normalised_original_distance():
    q_g, q_q, g_g = _distance_blocks(2, num_query=10, num_gallery=30)
    full = torch.cat([torch.cat([q_q, q_g], 1), torch.cat([q_g.T, g_g], 1)], 0)
    expected = q_g / full.max(dim=1).values[:10, None]
    torch.testing.assert_close(rerank(q_g, q_q, g_g, lambda_value=1.0), expected)


def test_reranking_pulls_true_matches_forward_on_clustered_data():
    # Jaccard distances of the same identity share neighbourhoods; the re-ranked distance must
    # keep every query's nearest gallery sample within its own cluster on well-separated data.
    generator = torch.Generator().manual_seed(0)
    centres = torch.randn(4, 16, generator=generator) * 5
    q_ids, g_ids = torch.arange(8) % 4, torch.arange(40) % 4
    q_feats = centres[q_ids] + torch.randn(8, 16, generator=generator)
    g_feats = centres[g_ids] + torch.randn(40, 16, generator=generator)
    result = rerank(
        pairwise_distance(q_feats, g_feats), pairwise_distance(q_feats, q_feats), pairwise_distance(g_feats, g_feats)
    )
    assert torch.equal(g_ids[result.argmin(dim=1)], q_ids)


@pytest.mark.parametrize(
    ("shapes", "kwargs", "message"),
    [
        (((2, 3), (2, 2), (4, 4)), {}, "g_g \\(3, 3\\)"),
        (((2, 3), (2, 2), (3, 3)), {"k1": 0}, "k1 must be a positive integer"),
        (((2, 3), (2, 2), (3, 3)), {"k2": 1.5}, "k2 must be a positive integer"),
        (((2, 3), (2, 2), (3, 3)), {"lambda_value": 1.5}, "lambda_value must be within"),
        (((2, 0), (2, 2), (0, 0)), {}, "at least one query and one gallery"),
    ],
)
def test_bad_input_is_a_one_line_error(shapes, kwargs, message):
    q_g, q_q, g_g = (torch.rand(shape) for shape in shapes)
    with pytest.raises(ReidError, match=message) as error:
        rerank(q_g, q_q, g_g, **kwargs)
    assert "\n" not in str(error.value)


def test_nan_input_is_rejected():
    q_g = torch.rand(2, 3)
    q_g[0, 1] = float("nan")
    with pytest.raises(ReidError, match="q_g contains NaN"):
        rerank(q_g, torch.rand(2, 2), torch.rand(3, 3))


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_from_features_matches_the_reference_without_a_gallery_square(metric, monkeypatch):
    generator = torch.Generator().manual_seed(9)
    q_feats = torch.randn(10, 16, generator=generator, dtype=torch.float64)
    g_feats = torch.randn(30, 16, generator=generator, dtype=torch.float64)
    blocks = [pairwise_distance(a, b, metric) for a, b in ((q_feats, g_feats), (q_feats, q_feats), (g_feats, g_feats))]
    expected = reference_rerank(*(block.numpy() for block in blocks), 6, 3, 0.3)
    shapes = []

    def recorded(query, gallery, metric):
        shapes.append((len(query), len(gallery)))
        return pairwise_distance(query, gallery, metric)

    for module in (reid.rerank, reid.rerank.blocks):  # the query x gallery block, then rows of the full matrix
        monkeypatch.setattr(module, "pairwise_distance", recorded)
    monkeypatch.setattr(reid.rerank.blocks, "CHUNK_ELEMENTS", 97)  # rows of the full matrix two at a time
    result = reid.rerank.rerank_features(q_feats, g_feats, metric, k1=6, k2=3, lambda_value=0.3)
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-9, atol=1e-12)
    assert shapes[0] == (10, 30) and max(rows for rows, _ in shapes[1:]) == 97 // 40  # never the gallery square
