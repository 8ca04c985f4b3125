"""Forward FLOPs as ``reid train`` reports them, checked against the published ImageNet numbers."""

from __future__ import annotations

import pytest
import torch

from reid.models import build_model
from reid.models.flops import clip_flops


@pytest.mark.parametrize("backbone, published_macs", [("resnet50", 4.09e9), ("mobilenet_v2", 0.30e9)])
def test_one_frame_at_224_matches_the_published_count(backbone, published_macs):
    # torchvision's model cards list 4.09 and 0.30 GFLOPS (multiply-adds) at 224x224 with stride 32;
    # torch's counter reports 2 FLOPs per multiply-add; our small head is the only difference
    model = build_model("baseline", num_classes=10, backbone=backbone, last_stride=2, feature_dim=16)
    assert clip_flops(model, 1, 224, 224) == pytest.approx(2 * published_macs, rel=0.03)


def test_counting_leaves_the_model_and_random_state_alone():
    model = build_model("mutual-attention", num_classes=4, backbone="resnet_tiny", feature_dim=16).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    one, four = clip_flops(model, 1, 64, 32), clip_flops(model, 4, 64, 32)
    assert 3.8 * one < four <= 4 * one  # the frames cost 4x; the head runs once per clip
    assert model.training and torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
