"""Backbones: stage structure, public weight layouts, strict pretrained loading."""

from __future__ import annotations

import pytest
import torch

from reid.errors import ReidError
from reid.models import build_model
from reid.models.backbones import BACKBONES, build_backbone, load_pretrained

# Published totals of the ImageNet models; our backbones have no classifier
# (2048 x 1000 weights + 1000 biases).
IMAGENET_CLASSIFIER_PARAMS = 2048 * 1000 + 1000
PUBLISHED_PARAMS = {"resnet50": 25_557_032, "se_resnet50": 28_088_024, "se_resnet50_timm": 28_088_024}
# Keys that only the named public layout has, each checked on our backbone.
LAYOUT_KEYS = {
    "resnet50": ["conv1.weight", "bn1.running_var", "layer1.0.downsample.0.weight", "layer1.0.downsample.1.bias", "layer4.2.bn3.weight"],
    "se_resnet50": ["layer0.conv1.weight", "layer0.bn1.weight", "layer1.0.se_module.fc1.weight", "layer1.0.se_module.fc2.bias", "layer4.2.conv3.weight"],
    "se_resnet50_timm": ["conv1.weight", "bn1.bias", "layer1.0.se.fc1.weight", "layer1.0.se.fc2.bias", "layer4.2.bn3.running_mean"],
}
CLASSIFIER_NAME = {"resnet50": "fc", "se_resnet50": "last_linear", "se_resnet50_timm": "fc"}


def as_public_file(backbone, classifier: str, path) -> dict[str, torch.Tensor]:
    """Save a state dict the way the public files look: with an ImageNet classifier and,
    like the older files, without BatchNorm's num_batches_tracked."""
    state = {k: v.clone() for k, v in backbone.state_dict().items() if not k.endswith("num_batches_tracked")}
    state[f"{classifier}.weight"] = torch.randn(1000, 2048)
    state[f"{classifier}.bias"] = torch.randn(1000)
    torch.save(state, path)
    return state


@pytest.mark.parametrize("name", ["resnet50", "se_resnet50", "se_resnet50_timm"])
def test_public_layout_loads_strictly(name, tmp_path):
    source = build_backbone(name)
    for module in source.modules():  # make running statistics distinguishable from a fresh model
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_()
    keys = set(source.state_dict())
    assert all(key in keys for key in LAYOUT_KEYS[name])
    assert sum(p.numel() for p in source.parameters()) + IMAGENET_CLASSIFIER_PARAMS == PUBLISHED_PARAMS[name]
    saved = as_public_file(source, CLASSIFIER_NAME[name], tmp_path / "imagenet.pth")
    del source

    target = build_backbone(name)
    load_pretrained(target, tmp_path / "imagenet.pth")
    loaded = target.state_dict()
    assert all(torch.equal(loaded[key], value) for key, value in saved.items() if key in loaded)


def test_resnet50_matches_torchvision_key_count():
    # torchvision's resnet50 state dict has 320 entries, 2 of them the classifier.
    assert len(build_backbone("resnet50").state_dict()) == 318


def test_se_layouts_put_the_stride_where_their_weights_were_trained():
    cadene, timm = build_backbone("se_resnet50"), build_backbone("se_resnet50_timm")
    assert cadene.layer2[0].conv1.stride == (2, 2) and cadene.layer2[0].conv2.stride == (1, 1)
    assert timm.layer2[0].conv1.stride == (1, 1) and timm.layer2[0].conv2.stride == (2, 2)


@pytest.mark.parametrize("last_stride, last_size", [(1, (4, 2)), (2, (2, 1))])
def test_stages_and_last_stride(last_stride, last_size):
    backbone = build_backbone("resnet_tiny", last_stride=last_stride)
    x = torch.randn(2, 3, 64, 32)
    sizes = [(16, 8), (16, 8), (8, 4), (4, 2), last_size]
    for layer, size in enumerate(sizes, start=1):
        out = backbone.forward_layers(x, 1, layer)
        assert out.shape == (2, backbone.out_channels(layer), *size)
    middle = backbone.forward_layers(x, 1, 3)
    assert torch.allclose(backbone.forward_layers(middle, 4, 5), backbone(x))
    assert [backbone.out_channels(k) for k in range(1, 6)] == [8, 32, 64, 128, 256]


def test_registry_names_and_errors():
    assert set(BACKBONES) >= {"resnet50", "se_resnet50", "resnet_tiny"}
    with pytest.raises(ReidError, match="known: .*resnet50"):
        build_backbone("vgg16")
    with pytest.raises(ReidError, match="last stride"):
        build_backbone("resnet_tiny", last_stride=3)


def test_missing_file_names_file_and_flag(tmp_path):
    with pytest.raises(ReidError) as error:
        load_pretrained(build_backbone("resnet_tiny"), tmp_path / "absent.pth")
    assert "--pretrained" in str(error.value) and "absent.pth" in str(error.value)


def test_wrong_keys_are_named_in_one_line(tmp_path):
    backbone = build_backbone("resnet_tiny")
    state = dict(backbone.state_dict())
    state["layer9.conv.weight"] = state.pop("layer1.0.conv1.weight")
    torch.save(state, tmp_path / "renamed.pth")
    with pytest.raises(ReidError) as error:
        load_pretrained(backbone, tmp_path / "renamed.pth")
    message = str(error.value)
    assert "\n" not in message and "renamed.pth" in message
    assert "layer1.0.conv1.weight" in message and "layer9.conv.weight" in message


def test_other_layout_gets_a_hint(tmp_path):
    torch.save({"layer0.conv1.weight": torch.zeros(8, 3, 7, 7)}, tmp_path / "cadene.pth")
    with pytest.raises(ReidError, match="looks like a se_resnet50 file"):
        load_pretrained(build_backbone("resnet_tiny"), tmp_path / "cadene.pth")


def wrong_shape(backbone, path):
    state = dict(backbone.state_dict())
    state["conv1.weight"] = torch.zeros(8, 3, 3, 3)
    torch.save(state, path)


@pytest.mark.parametrize("write, message", [
    (wrong_shape, "conv1.weight: file \\(8, 3, 3, 3\\)"),
    (lambda backbone, path: path.write_bytes(b"not a torch file"), "bad.pth: not a readable weight file"),
    (lambda backbone, path: torch.save([torch.zeros(1)], path), "expected a state dict"),
], ids=["wrong-shape", "not-torch", "not-a-state-dict"])
def test_weight_files_that_do_not_fit_are_refused(tmp_path, write, message):
    backbone = build_backbone("resnet_tiny")
    write(backbone, tmp_path / "bad.pth")
    with pytest.raises(ReidError, match=message):
        load_pretrained(backbone, tmp_path / "bad.pth")


def test_build_model_loads_pretrained_into_both_streams(tmp_path):
    source = build_backbone("resnet_tiny")
    saved = as_public_file(source, "fc", tmp_path / "tiny.pth")
    model = build_model("mutual-attention", num_classes=3, backbone="resnet_tiny", feature_dim=32, pretrained=tmp_path / "tiny.pth")
    for stream in (model.image_net, model.flow_net):
        loaded = stream.state_dict()
        assert all(torch.equal(loaded[key], value) for key, value in saved.items() if key in loaded)


def test_safetensors_file_loads_like_a_pickle(tmp_path):
    from safetensors.torch import save_file

    source = build_backbone("resnet_tiny")
    saved = {k: v.clone().contiguous() for k, v in source.state_dict().items()}
    save_file(saved, tmp_path / "model.safetensors")
    target = build_backbone("resnet_tiny")
    load_pretrained(target, tmp_path / "model.safetensors")
    assert all(torch.equal(target.state_dict()[key], value) for key, value in saved.items())
    (tmp_path / "damaged.safetensors").write_bytes((tmp_path / "model.safetensors").read_bytes()[:100])
    with pytest.raises(ReidError) as error:
        load_pretrained(target, tmp_path / "damaged.safetensors")
    assert "\n" not in str(error.value) and "damaged.safetensors: not a readable safetensors file" in str(error.value)


class _RunsCode:
    """Pickles as a call to Path.touch: loading the file would create ``marker``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        from pathlib import Path

        return Path.touch, (Path(self.marker),)


def test_a_pickle_carrying_code_is_refused_in_one_line_and_not_run(tmp_path):
    state = dict(build_backbone("resnet_tiny").state_dict())
    state["payload"] = _RunsCode(tmp_path / "ran")
    torch.save(state, tmp_path / "trojan.pth")
    with pytest.raises(ReidError) as error:
        load_pretrained(build_backbone("resnet_tiny"), tmp_path / "trojan.pth")
    message = str(error.value)
    assert "\n" not in message and "trojan.pth: the file holds code" in message and "was not loaded" in message
    assert "weights_only" not in message and "trusted source" not in message  # none of torch's advice to load it
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize(
    "backbone, relative",
    [
        ("se_resnet50_timm", "seresnet50.a1_in1k/model.safetensors"),  # a timm hub folder
        ("se_resnet50_timm", "models--timm--seresnet50.a1_in1k/snapshots/0123abc/model.safetensors"),  # HF cache
        ("se_resnet50", "legacy_seresnet50.in1k/model.safetensors"),
        ("resnet50", "resnet50.a1_in1k/model.safetensors"),
        ("resnet50", "resnet50.tv_in1k.safetensors"),
    ],
)
def test_pretrained_auto_finds_timm_safetensors(tmp_path, monkeypatch, backbone, relative):
    from reid.pretrained import resolve_pretrained

    monkeypatch.setenv("REID_WEIGHTS", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / relative).write_bytes(b"")
    assert resolve_pretrained("auto", backbone) == tmp_path / relative


def test_pretrained_auto_does_not_give_one_backbones_timm_file_to_another(tmp_path, monkeypatch):
    from reid.pretrained import resolve_pretrained

    monkeypatch.setenv("REID_WEIGHTS", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seresnet50.a1_in1k").mkdir()
    (tmp_path / "seresnet50.a1_in1k" / "model.safetensors").write_bytes(b"")
    for backbone in ("resnet50", "se_resnet50"):
        with pytest.raises(ReidError, match=f"no ImageNet weights for {backbone}"):
            resolve_pretrained("auto", backbone)


def test_readme_weight_table_sends_each_timm_file_to_the_backbone_that_loads_it():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = readme[readme.index("| file | used by | flag |"):].split("\n\n")[0].splitlines()[2:]
    backbone_of = {}
    for row in table:
        file_cell, used_by = row.split(" | ")[:2]
        for model in ("seresnet50", "legacy_seresnet50", "resnet50"):
            if f"timm `{model}`" in file_cell:
                backbone_of[model] = used_by.split("--backbone ")[1].strip("` |")
    # the backbone whose key layout each timm model has (LAYOUT_KEYS above checks those layouts)
    assert backbone_of == {"seresnet50": "se_resnet50_timm", "legacy_seresnet50": "se_resnet50", "resnet50": "resnet50"}
