"""Models: every model x aggregator trains on tiny clips; attention, weighting, gradients."""

from __future__ import annotations

import pytest
import torch

from reid.errors import ReidError
from reid.losses import ReidLoss
from reid.models import MODELS, build_model
from reid.models.aggregators import AGGREGATORS
from reid.models.aggregators.weighted import WeightedAddition
from reid.models.flow_encoding import IMAGENET_MEAN, IMAGENET_STD, build_flow_encoding

NUM_CLASSES = 5
FEATURE_DIM = 32


def tiny(name: str, **options):
    torch.manual_seed(0)
    options.setdefault("feature_dim", FEATURE_DIM)
    return build_model(name, num_classes=NUM_CLASSES, backbone="resnet_tiny", **options)


def clips(batch: int, length: int, height: int = 32, width: int = 16):
    generator = torch.Generator().manual_seed(batch * 100 + length)
    images = torch.randn(batch, length, 3, height, width, generator=generator)
    flows = 5 * torch.randn(batch, length, 2, height, width, generator=generator)
    return images, flows


def train_step(model, batch: int, length: int, **size):
    images, flows = clips(batch, length, **size)
    output = model(images, flows)
    pids = torch.arange(batch) % 2
    total, parts = ReidLoss(NUM_CLASSES)(output, pids)
    total.backward()
    return output, parts


def assert_all_parameters_trained(model):
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            assert parameter.grad is not None, name
            assert torch.isfinite(parameter.grad).all(), name


@pytest.mark.parametrize("length", [1, 4])
@pytest.mark.parametrize("aggregate", list(AGGREGATORS))
@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_and_aggregator_trains(name, aggregate, length):
    model = tiny(name, aggregate=aggregate)
    output, parts = train_step(model, batch=3, length=length)
    assert output.logits.shape == (3, NUM_CLASSES)
    assert output.features.shape == output.embedding.shape == (3, FEATURE_DIM)
    assert torch.isfinite(parts["total"])
    assert_all_parameters_trained(model)


@pytest.mark.parametrize("batch, length", [(1, 16), (1, 1)])
@pytest.mark.parametrize("name", list(MODELS))
def test_single_clip_batches_and_long_clips(name, batch, length):
    model = tiny(name)
    output, _ = train_step(model, batch=batch, length=length)
    assert output.embedding.shape == (batch, FEATURE_DIM)
    if output.frame_weights is not None:
        assert all(w.shape == (batch, length) for w in output.frame_weights.values())
    assert_all_parameters_trained(model)


@pytest.mark.parametrize(
    "layer, size", [(2, (16, 8)), (3, (8, 4)), (4, (4, 2)), (5, (4, 2))]
)
@pytest.mark.parametrize("name", ["gated-attention", "mutual-attention"])
def test_attention_maps_lie_in_unit_interval(name, layer, size):
    model = tiny(name, attention_layer=layer, aggregate="avg")
    images, flows = clips(2, 3, height=64, width=32)
    attention = model(images, flows).attention
    assert attention.shape == (2, 3, 1, *size)
    assert ((attention > 0) & (attention < 1)).all()


def test_models_without_attention_return_no_map():
    images, flows = clips(2, 2)
    assert tiny("baseline")(images, flows).attention is None
    assert tiny("two-stream")(images, flows).attention is None


def test_weighted_addition_weights_sum_to_one_and_favour_the_reference():
    torch.manual_seed(0)
    batch, length, channels = 2, 6, 16
    maps = 0.1 * torch.rand(batch, length, channels, 3, 2)
    dominant = torch.tensor([4, 1])
    maps[torch.arange(batch), dominant] += 1.0  # this frame is the temporal max in every channel
    aggregated = WeightedAddition(channels)(maps.flatten(0, 1), length)
    weights = aggregated.weights
    assert torch.allclose(weights.sum(dim=1), torch.ones(batch))
    assert torch.equal(weights.argmax(dim=1), dominant)
    features = maps.mean(dim=(3, 4))
    expected = (features * weights.unsqueeze(-1)).sum(dim=1)
    assert torch.allclose(aggregated.vector, expected, atol=1e-6)


def test_temporal_attention_weights_sum_to_one():
    output = tiny("two-stream", aggregate="attention")(*clips(2, 5))
    for weights in output.frame_weights.values():
        assert torch.allclose(weights.sum(dim=1), torch.ones(2)) and (weights > 0).all()


@pytest.mark.parametrize(
    "name, flow_part", [("mutual-attention", "flow_net"), ("two-stream", "flow_net"), ("gated-attention", "flow_cnn")]
)
def test_gradients_reach_both_streams(name, flow_part):
    model = tiny(name)
    train_step(model, batch=3, length=2)
    for part in ("image_net", flow_part):
        gradient = sum(p.grad.abs().sum() for p in getattr(model, part).parameters())
        assert gradient > 0, part


def test_config_rebuilds_the_same_architecture():
    model = tiny("mutual-attention", aggregate="rnn", attention_layer=3, last_stride=2, flow_encoding="colorwheel")
    assert model.config["model"] == "mutual-attention" and model.config["attention_layer"] == 3
    rebuilt = build_model(**model.config)
    rebuilt.load_state_dict(model.state_dict(), strict=True)
    images, flows = clips(2, 3)
    model.eval(), rebuilt.eval()
    assert torch.equal(model(images, flows).embedding, rebuilt(images, flows).embedding)


def test_bad_configuration_and_inputs_raise_one_line_errors():
    with pytest.raises(ReidError, match="known: baseline, gated-attention, mutual-attention, two-stream"):
        build_model("transformer", num_classes=2)
    with pytest.raises(ReidError, match="known: attention, avg, rnn, weighted"):
        tiny("baseline", aggregate="max")
    with pytest.raises(ReidError, match="attention layer"):
        tiny("mutual-attention", attention_layer=1)
    with pytest.raises(ReidError, match="known: uvm, colorwheel"):
        tiny("two-stream", flow_encoding="hsv")
    model = tiny("mutual-attention")
    images, flows = clips(1, 2)
    with pytest.raises(ReidError, match="needs optical flow"):
        model(images)
    with pytest.raises(ReidError, match="flows must be"):
        model(images, flows[:, :1])
    with pytest.raises(ReidError, match="images must be"):
        model(images[0], flows)


def test_baseline_ignores_flow():
    model = tiny("baseline").eval()
    images, flows = clips(2, 3)
    assert torch.equal(model(images, flows).embedding, model(images).embedding)


def test_uvm_encoding_scales_and_clamps():
    encode = build_flow_encoding("uvm", scale=10.0)
    flow = torch.tensor([3.0, -4.0, 30.0, 0.0]).view(2, 2, 1, 1)  # two frames of 1x1 flow
    encoded = encode(flow)
    assert torch.allclose(encoded[0].flatten(), torch.tensor([0.3, -0.4, 0.5]))
    assert torch.allclose(encoded[1].flatten(), torch.tensor([1.0, 0.0, 1.0]))


def test_colourwheel_encoding_white_at_rest_and_red_to_the_right():
    encode = build_flow_encoding("colorwheel", scale=10.0)
    mean, std = torch.tensor(IMAGENET_MEAN), torch.tensor(IMAGENET_STD)
    flow = torch.zeros(2, 2, 1, 1)
    flow[1, 0] = 25.0  # moving right, beyond the scale: saturated red in Middlebury coding
    encoded = encode(flow).flatten(1)
    assert torch.allclose(encoded[0], (1 - mean) / std)
    assert torch.allclose(encoded[1], (torch.tensor([1.0, 0.0, 0.0]) - mean) / std)
