"""LiteFlowNet: cost volume, warping, the port's weight layout, and the resize/rescale protocol."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch
from torch import nn

from flowprep.errors import FlowprepError
from flowprep.flow import create_estimator
from flowprep.flow.correlation import correlation
from flowprep.flow.liteflownet import estimate_flow, load_network
from flowprep.flow.liteflownet_network import LiteFlowNet, backwarp


def naive_correlation(first: torch.Tensor, second: torch.Tensor, stride: int, reach: int = 3) -> torch.Tensor:
    """One displacement and one position at a time, straight from the definition."""
    count, channels, height, width = first.shape
    rows, columns = -(-height // stride), -(-width // stride)
    size = 2 * reach + 1
    out = torch.zeros(count, size * size, rows, columns)
    for i in range(size):
        for j in range(size):
            dy, dx = (i - reach) * stride, (j - reach) * stride
            for oy in range(rows):
                for ox in range(columns):
                    y, x = oy * stride, ox * stride
                    if 0 <= y + dy < height and 0 <= x + dx < width:
                        product = first[:, :, y, x] * second[:, :, y + dy, x + dx]
                        out[:, i * size + j, oy, ox] = product.sum(1) / channels
    return out


@pytest.mark.parametrize("stride, height, width", [(1, 6, 9), (2, 8, 10), (2, 7, 9)])
def test_correlation_matches_the_definition(stride, height, width):
    generator = torch.Generator().manual_seed(stride + height)
    first = torch.randn(2, 5, height, width, generator=generator)
    second = torch.randn(2, 5, height, width, generator=generator)
    expected = naive_correlation(first, second, stride)
    actual = correlation(first, second, stride)
    assert actual.shape == expected.shape
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-6)


def test_backwarp_with_integer_flow_is_a_shift():
    image = torch.arange(2 * 3 * 6 * 7, dtype=torch.float32).view(2, 3, 6, 7)
    flow = torch.zeros(2, 2, 6, 7)
    flow[:, 0] = 2.0  # sample two pixels to the right
    flow[:, 1] = -1.0  # and one row up
    warped = backwarp(image, flow)
    torch.testing.assert_close(warped[:, :, 1:, :-2], image[:, :, :-1, 2:])
    outside = torch.cat([warped[:, :, 0].flatten(), warped[:, :, :, -2:].flatten()])
    assert outside.abs().max() < 1e-3  # zero padding, up to grid rounding


def save_in_port_layout(network: nn.Module, path) -> None:
    """The port's files name every module 'module...' where the code says 'net...'."""
    torch.save({key.replace("net", "module"): value for key, value in network.state_dict().items()}, path)


@pytest.fixture(scope="module")
def port_weights(tmp_path_factory):
    torch.manual_seed(0)
    network = LiteFlowNet().eval()
    path = tmp_path_factory.mktemp("weights") / "network-default.pytorch"
    save_in_port_layout(network, path)
    return network, path


def test_port_layout_weights_load_strictly_and_give_identical_flow(port_weights):
    original, path = port_weights
    assert all(key.startswith("module") for key in torch.load(path, weights_only=True))
    loaded, digest = load_network(path)
    assert len(digest) == 64
    generator = torch.Generator().manual_seed(1)
    first = torch.rand(2, 3, 64, 64, generator=generator)
    second = torch.roll(first, shifts=2, dims=3)
    with torch.no_grad():
        expected = original(first, second)
        actual = loaded(first, second)
    assert expected.shape == (2, 2, 32, 32)
    torch.testing.assert_close(actual, expected, rtol=0, atol=0)


def test_estimator_runs_the_network_on_uint8_bgr_batches(port_weights):
    original, path = port_weights
    estimator = create_estimator("liteflownet", weights=path)
    assert estimator.params["weights"] == "network-default.pytorch"
    assert estimator.params["precision"] == "fp32"
    assert json.loads(json.dumps(estimator.params)) == estimator.params
    assert not estimator.needs_process_pool
    rng = np.random.default_rng(2)
    first = rng.integers(0, 256, size=(2, 40, 48, 3), dtype=np.uint8)
    second = rng.integers(0, 256, size=(2, 40, 48, 3), dtype=np.uint8)
    flow = estimator(first, second)
    assert flow.shape == (2, 2, 40, 48) and flow.dtype == np.float32
    to_tensor = lambda batch: torch.from_numpy(batch).permute(0, 3, 1, 2).float() / 255.0  # noqa: E731
    with torch.no_grad():
        expected = estimate_flow(original, to_tensor(first), to_tensor(second)).numpy()
    np.testing.assert_allclose(flow, expected, atol=1e-5)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(estimator))(first, second), flow)


def test_bf16_autocast_stays_close_to_fp32(port_weights):
    network, _ = port_weights
    generator = torch.Generator().manual_seed(3)
    first = torch.rand(1, 3, 64, 64, generator=generator)
    second = torch.roll(first, shifts=1, dims=2)
    with torch.no_grad():
        exact = network(first, second)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            fast = network(first, second)
    assert fast.dtype == torch.float32
    assert (fast - exact).abs().max() < 0.05 * exact.abs().max() + 1e-3


class ConstantFlow(nn.Module):
    """Stands in for the network: flow (1, 1) at half the size it is given, remembering that size."""

    def forward(self, first, second):
        self.seen = tuple(first.shape[2:])
        count, _, height, width = first.shape
        return torch.ones(count, 2, height // 2, width // 2)


@pytest.mark.parametrize("height, width, padded", [(37, 53, (64, 64)), (256, 128, (256, 128)), (33, 100, (64, 128))])
def test_flow_is_resized_back_and_rescaled_to_the_input(height, width, padded):
    network = ConstantFlow()
    flow = estimate_flow(network, torch.rand(3, 3, height, width), torch.rand(3, 3, height, width))
    assert network.seen == padded
    assert flow.shape == (3, 2, height, width)
    torch.testing.assert_close(flow[:, 0], torch.full((3, height, width), width / padded[1]))
    torch.testing.assert_close(flow[:, 1], torch.full((3, height, width), height / padded[0]))


def test_estimator_output_for_odd_sizes(port_weights, monkeypatch):
    _, path = port_weights
    estimator = create_estimator("liteflownet", weights=path)
    monkeypatch.setattr(estimator, "network", ConstantFlow())
    frames = np.zeros((2, 37, 53, 3), np.uint8)
    flow = estimator(frames, frames)
    assert flow.shape == (2, 2, 37, 53)
    np.testing.assert_allclose(flow[:, 0], 53 / 64, rtol=1e-6)
    np.testing.assert_allclose(flow[:, 1], 37 / 64, rtol=1e-6)


def test_missing_weights_flag_names_the_flag_and_the_file():
    with pytest.raises(FlowprepError) as caught:
        create_estimator("liteflownet")
    message = str(caught.value)
    assert "--weights" in message and "network-default.pytorch" in message and "\n" not in message


def test_unreadable_weights_name_the_file(tmp_path):
    missing = tmp_path / "nowhere.pytorch"
    with pytest.raises(FlowprepError, match="nowhere.pytorch"):
        create_estimator("liteflownet", weights=missing)
    garbage = tmp_path / "garbage.pytorch"
    garbage.write_bytes(b"not a torch file")
    with pytest.raises(FlowprepError, match="garbage.pytorch: cannot read") as caught:
        create_estimator("liteflownet", weights=garbage)
    assert "\n" not in str(caught.value)


def test_weights_with_wrong_keys_name_them(tmp_path):
    state = {key.replace("net", "module"): value for key, value in LiteFlowNet().state_dict().items()}
    del state["moduleFeatures.moduleOne.0.weight"]
    state["moduleExtra.weight"] = torch.zeros(1)
    path = tmp_path / "network-other.pytorch"
    torch.save(state, path)
    with pytest.raises(FlowprepError) as caught:
        create_estimator("liteflownet", weights=path)
    message = str(caught.value)
    assert "network-other.pytorch" in message and "\n" not in message
    assert "netFeatures.netOne.0.weight" in message and "netExtra.weight" in message


@pytest.mark.parametrize("options, message", [({"scale": 2}, "no parameter scale"),
                                              ({"precision": "fp16"}, "precision must be"),
                                              ({"device": "tpu"}, "device")])
def test_bad_liteflownet_options_are_refused(port_weights, options, message):
    _, path = port_weights
    with pytest.raises(FlowprepError, match=message):
        create_estimator("liteflownet", weights=path, **options)


def test_frames_of_32_px_or_less_give_finite_flow(port_weights):
    """The port divides by zero on a 1-pixel-wide coarsest level; this implementation must not."""
    network, _ = port_weights
    with torch.no_grad():
        flow = estimate_flow(network, torch.rand(1, 3, 20, 30), torch.rand(1, 3, 20, 30))
    assert flow.shape == (1, 2, 20, 30) and torch.isfinite(flow).all()
