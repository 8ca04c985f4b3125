"""CMC / mAP / mINP against hand-computed cases and a plain per-query reference loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reid.distance
import reid.metrics
from reid.distance import pairwise_distance
from reid.errors import ReidError
from reid.metrics import evaluate, evaluate_rank


def reference_evaluate(distmat, q_pids, g_pids, q_camids, g_camids, max_rank=50):
    """The protocol transcribed query by query: returns (cmc, mAP, mINP, num_valid_queries)."""
    distmat, q_pids, g_pids, q_camids, g_camids = map(np.asarray, (distmat, q_pids, g_pids, q_camids, g_camids))
    cmcs, aps, inps = [], [], []
    for q in range(distmat.shape[0]):
        order = np.argsort(distmat[q], kind="stable")
        same_pid = g_pids[order] == q_pids[q]
        same_cam = g_camids[order] == q_camids[q]
        is_match = same_pid[~(same_pid & same_cam)]
        if not is_match.any():
            continue
        hit = np.minimum(np.cumsum(is_match), 1)
        if len(hit) < max_rank:
            hit = np.concatenate([hit, np.full(max_rank - len(hit), hit[-1])])
        cmcs.append(hit[:max_rank])
        match_ranks = np.flatnonzero(is_match) + 1
        aps.append(np.mean(np.arange(1, len(match_ranks) + 1) / match_ranks))
        inps.append(len(match_ranks) / match_ranks[-1])
    return np.mean(cmcs, axis=0), float(np.mean(aps)), float(np.mean(inps)), len(aps)


# Two queries, six gallery entries (pid, camera):
#   g0 (1, 0)  g1 (1, 1)  g2 (2, 0)  g3 (3, 1)  g4 (1, 2)  g5 (2, 1)
# query 0 = (pid 1, cam 0): sorted g0 g2 g3 g5 g1 g4; g0 is same pid+camera -> removed;
#   filtered g2 g3 g5 g1 g4: matches g1, g4 at ranks 4 and 5.
#   CMC 0 0 0 1 1; AP = (1/4 + 2/5) / 2 = 0.325; INP = 2/5 = 0.4
# query 1 = (pid 2, cam 1): sorted g5 g3 g2 g0 g1 g4; g5 removed;
#   filtered g3 g2 g0 g1 g4: match g2 at rank 2.
#   CMC 0 1 1 1 1; AP = 1/2; INP = 1/2
# Mean: CMC 0 .5 .5 1 1; mAP = 0.4125; mINP = 0.45
HAND_DIST = np.array([[0.1, 0.5, 0.2, 0.3, 0.9, 0.4], [0.6, 0.7, 0.3, 0.1, 0.8, 0.05]])
HAND_Q_PIDS, HAND_Q_CAMS = np.array([1, 2]), np.array([0, 1])
HAND_G_PIDS, HAND_G_CAMS = np.array([1, 1, 2, 3, 1, 2]), np.array([0, 1, 0, 1, 2, 1])


def test_two_query_hand_case():
    result = evaluate(HAND_DIST, HAND_Q_PIDS, HAND_G_PIDS, HAND_Q_CAMS, HAND_G_CAMS, max_rank=5)
    np.testing.assert_allclose(result.cmc, [0.0, 0.5, 0.5, 1.0, 1.0])
    assert result.mAP == pytest.approx(0.4125)
    assert result.mINP == pytest.approx(0.45)
    assert result.num_valid_queries == 2


def test_evaluate_rank_returns_cmc_and_map_of_evaluate():
    cmc, mAP = evaluate_rank(HAND_DIST, HAND_Q_PIDS, HAND_G_PIDS, HAND_Q_CAMS, HAND_G_CAMS, max_rank=3)
    assert isinstance(cmc, np.ndarray) and cmc.dtype == np.float64 and cmc.shape == (3,)
    np.testing.assert_allclose(cmc, [0.0, 0.5, 0.5])
    assert isinstance(mAP, float) and mAP == pytest.approx(0.4125)


def test_cmc_keeps_last_value_beyond_the_filtered_ranking():
    # Each query keeps 5 gallery entries; ranks 6 and 7 repeat the value at rank 5.
    result = evaluate(HAND_DIST, HAND_Q_PIDS, HAND_G_PIDS, HAND_Q_CAMS, HAND_G_CAMS, max_rank=7)
    np.testing.assert_allclose(result.cmc, [0.0, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0])


def test_queries_without_a_match_are_skipped(monkeypatch):
    # Query 2 has pid 9 (absent from the gallery); query 3 (pid 3, cam 1) only matches g3,
    # which is in its own camera. Neither may change the two-query scores, even when they
    # form chunks without any match (one query per chunk here).
    monkeypatch.setattr(reid.metrics, "CHUNK_ELEMENTS", 6)
    distmat = np.vstack([HAND_DIST, np.linspace(0, 1, 6), np.linspace(1, 0, 6)])
    result = evaluate(distmat, [1, 2, 9, 3], HAND_G_PIDS, [0, 1, 0, 1], HAND_G_CAMS, max_rank=5)
    assert result.num_valid_queries == 2
    np.testing.assert_allclose(result.cmc, [0.0, 0.5, 0.5, 1.0, 1.0])
    assert result.mAP == pytest.approx(0.4125)


def test_same_pid_same_camera_entries_are_removed_but_other_same_camera_ones_stay():
    # g0 (pid 1, cam 0) is removed; g1 (pid 5, cam 0) stays as a non-match; g2 (pid 1, cam 1) is the
    # true match, at filtered rank 2: CMC 0 1 1, AP 1/2.
    result = evaluate([[0.0, 1.0, 2.0]], [1], [1, 5, 1], [0], [0, 0, 1], max_rank=3)
    np.testing.assert_allclose(result.cmc, [0.0, 1.0, 1.0])
    assert result.mAP == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("g_pids", "expected_cmc", "expected_ap"),
    [
        ([2, 1, 3], [0.0, 1.0, 1.0], 0.5),  # equal distances: gallery order puts the match 2nd
        ([1, 2, 3], [1.0, 1.0, 1.0], 1.0),  # ... or 1st
    ],
)
def test_ties_are_broken_by_gallery_order(g_pids, expected_cmc, expected_ap):
    for distmat in (np.full((1, 3), 0.5), torch.full((1, 3), 0.5)):
        result = evaluate(distmat, [1], g_pids, [0], [1, 1, 1], max_rank=3)
        np.testing.assert_allclose(result.cmc, expected_cmc)
        assert result.mAP == pytest.approx(expected_ap)


def test_minp_and_ap_on_a_hand_case():
    # Matches (pid 1, other camera) at ranks 1, 3 and 6 of 6:
    # INP = 3 matches / rank 6 = 0.5; AP = (1/1 + 2/3 + 3/6) / 3 = 13/18.
    g_pids = [1, 4, 1, 4, 4, 1]
    result = evaluate([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]], [1], g_pids, [0], [1] * 6, max_rank=6)
    assert result.mINP == pytest.approx(0.5)
    assert result.mAP == pytest.approx(13 / 18)
    np.testing.assert_allclose(result.cmc, [1.0] * 6)


def test_no_valid_query_is_a_clear_error():
    with pytest.raises(ReidError, match="no query has a true match in the gallery from another camera"):
        evaluate([[0.1, 0.2]], [1], [1, 2], [0], [0, 1])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([[0.1, 0.2]], [1, 2], [1, 2], [0], [0, 1]), "query pids must be 1-D of length 1"),
        (([0.1, 0.2], [1], [1, 2], [0], [0, 1]), "must be 2-D"),
        (([[float("nan"), 0.2]], [1], [1, 2], [0], [0, 1]), "NaN"),
        (([[0.1, 0.2]], [1], ["a", "b"], [0], [0, 1]), "gallery pids must be a numeric"),
    ],
)
def test_bad_input_is_a_one_line_error(args, message):
    with pytest.raises(ReidError, match=message) as error:
        evaluate(*args)
    assert "\n" not in str(error.value)


def test_bad_max_rank_is_rejected():
    with pytest.raises(ReidError, match="max_rank"):
        evaluate(HAND_DIST, HAND_Q_PIDS, HAND_G_PIDS, HAND_Q_CAMS, HAND_G_CAMS, max_rank=0)


def _random_case(seed: int, num_query: int = 40, num_gallery: int = 120):
    rng = np.random.default_rng(seed)
    distmat = np.round(rng.random((num_query, num_gallery)), 1)  # rounding creates many ties
    q_pids = rng.integers(0, 15, num_query)
    g_pids = rng.integers(0, 15, num_gallery)
    q_camids = rng.integers(0, 3, num_query)
    g_camids = rng.integers(0, 3, num_gallery)
    return distmat, q_pids, g_pids, q_camids, g_camids


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("max_rank", [1, 10, 200])
def test_vectorised_matches_reference_loop(seed, max_rank, monkeypatch):
    monkeypatch.setattr(reid.metrics, "CHUNK_ELEMENTS", 7 * 120)  # several query chunks, one ragged
    distmat, *labels = _random_case(seed)
    for dtype in (np.float32, np.float64):  # float32 on the CPU takes the packed-key sort
        ref_cmc, ref_map, ref_minp, ref_valid = reference_evaluate(distmat.astype(dtype), *labels, max_rank=max_rank)
        result = evaluate(distmat.astype(dtype), *labels, max_rank=max_rank)
        assert result.num_valid_queries == ref_valid
        np.testing.assert_allclose(result.cmc, ref_cmc, rtol=0, atol=1e-12)
        assert result.mAP == pytest.approx(ref_map, abs=1e-12)
        assert result.mINP == pytest.approx(ref_minp, abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_torch_input_equals_numpy_input(seed):
    distmat, q_pids, g_pids, q_camids, g_camids = _random_case(seed)
    from_numpy = evaluate(distmat.astype(np.float32), q_pids, g_pids, q_camids, g_camids)
    from_torch = evaluate(
        torch.from_numpy(distmat.astype(np.float32)),
        torch.from_numpy(q_pids),
        torch.from_numpy(g_pids),
        torch.from_numpy(q_camids),
        torch.from_numpy(g_camids),
    )
    np.testing.assert_array_equal(from_torch.cmc, from_numpy.cmc)
    assert (from_torch.mAP, from_torch.mINP, from_torch.num_valid_queries) == (
        from_numpy.mAP,
        from_numpy.mINP,
        from_numpy.num_valid_queries,
    )


def test_cpu_float32_fast_order_equals_a_stable_argsort():
    # Ties, negative values, both zeros and infinities: the packed-key sort must order them
    # exactly as torch's stable sort does.
    values = torch.tensor([0.5, -0.0, 0.0, -1.5, float("inf"), 0.5, -float("inf"), -1.5, 0.0, 2.0, 0.5])
    rows = torch.stack([values, values.flip(0), torch.rand(11).round(decimals=1)])
    expected = torch.argsort(rows, dim=1, stable=True)
    assert torch.equal(reid.metrics._stable_order(rows), expected)
    assert torch.equal(reid.metrics._stable_order(rows.double()), expected)


def test_evaluate_restores_the_torch_thread_count():
    threads = torch.get_num_threads()
    evaluate(HAND_DIST, HAND_Q_PIDS, HAND_G_PIDS, HAND_Q_CAMS, HAND_G_CAMS, max_rank=5)
    assert torch.get_num_threads() == threads


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_pairwise_distance_matches_direct_formula_across_chunks(metric, monkeypatch):
    monkeypatch.setattr(reid.distance, "CHUNK_ELEMENTS", 3 * 50)  # 3 query rows per chunk
    generator = torch.Generator().manual_seed(0)
    query = torch.randn(10, 16, generator=generator, dtype=torch.float64)
    gallery = torch.randn(50, 16, generator=generator, dtype=torch.float64)
    if metric == "euclidean":
        expected = ((query[:, None, :] - gallery[None, :, :]) ** 2).sum(-1)
    else:
        expected = 1 - (query @ gallery.T) / (query.norm(dim=1)[:, None] * gallery.norm(dim=1)[None, :])
    distances = pairwise_distance(query, gallery, metric)
    assert distances.shape == (10, 50) and distances.dtype == torch.float64
    torch.testing.assert_close(distances, expected)


def test_pairwise_distance_of_identical_rows_is_zero_not_negative():
    features = torch.randn(5, 8) * 100
    assert pairwise_distance(features, features).diagonal().min() >= 0


@pytest.mark.parametrize(
    ("query", "gallery", "metric", "message"),
    [
        (torch.zeros(2, 4), torch.zeros(3, 4), "manhattan", "unknown distance metric 'manhattan'"),
        (torch.zeros(2, 4), torch.zeros(3, 5), "euclidean", "dimension 4 but gallery features have 5"),
        (torch.zeros(4), torch.zeros(3, 4), "cosine", "query features must be 2-D"),
    ],
)
def test_pairwise_distance_rejects_bad_input(query, gallery, metric, message):
    with pytest.raises(ReidError, match=message):
        pairwise_distance(query, gallery, metric)
