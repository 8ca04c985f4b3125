"""The embedding head: clip vector(s) -> FC -> BN -> identity classifier.

``features`` (before the BN) feed the triplet loss, the BN output is the test-time
``embedding`` and the classifier input (the "BNNeck" of Luo et al.: triplet and
cross-entropy then pull on differently normalised tensors and do not fight). The BN has
no shift, so embeddings stay centred for distance-based retrieval.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


class FeatureNorm(nn.BatchNorm1d):
    """BatchNorm1d that uses its running statistics for a training batch of one clip,
    where batch statistics do not exist, so any batch size works."""

    def forward(self, x: Tensor) -> Tensor:
        if self.training and x.shape[0] == 1:
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)
        return super().forward(x)


class EmbeddingHead(nn.Module):
    def __init__(self, in_dim: int, feature_dim: int, num_classes: int) -> None:
        super().__init__()
        self.fc = nn.Linear(in_dim, feature_dim) if in_dim != feature_dim else nn.Identity()
        self.bn = FeatureNorm(feature_dim)
        self.bn.bias.requires_grad_(False)
        self.classifier = nn.Linear(feature_dim, num_classes, bias=False)
        nn.init.normal_(self.classifier.weight, std=0.001)

    def forward(self, clip_vector: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Return (features, embedding, logits)."""
        features = self.fc(clip_vector)
        embedding = self.bn(features)
        return features, embedding, self.classifier(embedding)
