"""Training losses: label-smoothed identity cross-entropy plus batch-hard triplet.

Both are computed in float32 so bf16 autocast cannot round away small distance margins.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class CrossEntropyLabelSmooth(nn.Module):
    """Cross-entropy against (1 - epsilon) * one_hot + epsilon / num_classes (Szegedy et al.)."""

    def __init__(self, num_classes: int, epsilon: float = 0.1) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.epsilon = epsilon

    def forward(self, logits: Tensor, targets: Tensor) -> Tensor:
        log_probs = F.log_softmax(logits.float(), dim=1)
        smoothed = torch.full_like(log_probs, self.epsilon / self.num_classes)
        smoothed.scatter_add_(1, targets.unsqueeze(1), torch.full_like(log_probs[:, :1], 1 - self.epsilon))
        return -(smoothed * log_probs).sum(dim=1).mean()


def pairwise_distances(features: Tensor) -> Tensor:
    """Euclidean distances [B, B]; clamped before the sqrt so its gradient stays finite."""
    squared = features.pow(2).sum(dim=1, keepdim=True)
    gram = features @ features.t()
    return (squared + squared.t() - 2 * gram).clamp(min=1e-12).sqrt()


def hardest_pairs(distances: Tensor, pids: Tensor) -> tuple[Tensor, Tensor]:
    """Per anchor: the farthest same-identity sample and the closest other-identity sample.

    An anchor with no negative in the batch gets an infinite negative distance, so it
    contributes no loss instead of a meaningless one.
    """
    same = pids.unsqueeze(0) == pids.unsqueeze(1)
    hardest_positive = distances.masked_fill(~same, float("-inf")).amax(dim=1)
    hardest_negative = distances.masked_fill(same, float("inf")).amin(dim=1)
    return hardest_positive, hardest_negative


class TripletLoss(nn.Module):
    """Batch-hard triplet loss (Hermans et al.): mean of relu(d(a,p) - d(a,n) + margin)."""

    def __init__(self, margin: float = 0.3) -> None:
        super().__init__()
        self.margin = margin

    def forward(self, features: Tensor, pids: Tensor) -> Tensor:
        positive, negative = hardest_pairs(pairwise_distances(features.float()), pids)
        return F.relu(positive - negative + self.margin).mean()


class ReidLoss(nn.Module):
    """ce_weight * smoothed cross-entropy(logits) + triplet_weight * triplet(features)."""

    def __init__(
        self,
        num_classes: int,
        ce_weight: float = 1.0,
        triplet_weight: float = 1.0,
        smoothing: float = 0.1,
        margin: float = 0.3,
    ) -> None:
        super().__init__()
        self.ce_weight = ce_weight
        self.triplet_weight = triplet_weight
        self.cross_entropy = CrossEntropyLabelSmooth(num_classes, smoothing)
        self.triplet = TripletLoss(margin)

    def forward(self, output, pids: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """``output`` is a ``ModelOutput``; returns the total and its detached parts."""
        ce = self.cross_entropy(output.logits, pids)
        triplet = self.triplet(output.features, pids)
        total = self.ce_weight * ce + self.triplet_weight * triplet
        return total, {"ce": ce.detach(), "triplet": triplet.detach(), "total": total.detach()}
