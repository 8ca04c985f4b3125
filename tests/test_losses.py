"""Losses on hand-computed cases."""

from __future__ import annotations

import math

import pytest
import torch

from reid.losses import CrossEntropyLabelSmooth, ReidLoss, TripletLoss, hardest_pairs, pairwise_distances
from reid.models.base import ModelOutput


def test_label_smoothing_matches_hand_computation():
    # Three classes, epsilon 0.3: target distribution (0.8, 0.1, 0.1) for class 0.
    logits = torch.tensor([[2.0, 0.0, 0.0]])
    log_normaliser = math.log(math.exp(2) + 2)
    expected = -(0.8 * (2 - log_normaliser) + 0.2 * (0 - log_normaliser))
    loss = CrossEntropyLabelSmooth(num_classes=3, epsilon=0.3)(logits, torch.tensor([0]))
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_no_smoothing_is_plain_cross_entropy():
    logits = torch.randn(4, 6)
    targets = torch.tensor([0, 5, 2, 2])
    loss = CrossEntropyLabelSmooth(num_classes=6, epsilon=0.0)(logits, targets)
    assert loss.item() == pytest.approx(torch.nn.functional.cross_entropy(logits, targets).item(), rel=1e-6)


# 1-D features 0, 1, 3, 10 with identities 0, 0, 1, 1.
FEATURES = torch.tensor([[0.0], [1.0], [3.0], [10.0]])
PIDS = torch.tensor([0, 0, 1, 1])


def test_batch_hard_picks_farthest_positive_and_closest_negative():
    positive, negative = hardest_pairs(pairwise_distances(FEATURES), PIDS)
    assert torch.allclose(positive, torch.tensor([1.0, 1.0, 7.0, 7.0]), atol=1e-5)
    assert torch.allclose(negative, torch.tensor([3.0, 2.0, 2.0, 9.0]), atol=1e-5)


def test_triplet_loss_value():
    # Only anchor 3.0 violates the margin: 7 - 2 + 0.3 = 5.3; mean over 4 anchors.
    loss = TripletLoss(margin=0.3)(FEATURES, PIDS)
    assert loss.item() == pytest.approx(5.3 / 4, rel=1e-5)


def test_triplet_without_negatives_is_zero_and_gradients_stay_finite():
    features = torch.ones(3, 4, requires_grad=True)  # identical points: zero distances
    loss = TripletLoss()(features, torch.zeros(3, dtype=torch.long))
    loss.backward()
    assert loss.item() == 0.0 and torch.isfinite(features.grad).all()


def test_reid_loss_weights_its_parts():
    torch.manual_seed(0)
    output = ModelOutput(logits=torch.randn(4, 3), features=FEATURES, embedding=FEATURES)
    pids = torch.tensor([0, 0, 1, 1])
    total, parts = ReidLoss(num_classes=3, ce_weight=0.5, triplet_weight=2.0)(output, pids)
    assert set(parts) == {"ce", "triplet", "total"}
    assert total.item() == pytest.approx(0.5 * parts["ce"].item() + 2.0 * parts["triplet"].item())
    assert parts["triplet"].item() == pytest.approx(5.3 / 4, rel=1e-5)
