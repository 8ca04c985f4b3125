"""Training-step cost of flow-guided attention: mutual-attention vs two plain backbones.

One step = forward + backward + Adam update on the same clips, bf16 autocast and
channels_last on CUDA. The reference is the cost floor of any two-stream model: two
plain backbones, per-frame global average pooling, temporal mean, one linear classifier.
Target: attention + weighted aggregation + head add at most 10%.

    python benchmarks/bench_models.py                      # GPU, paper settings
    python benchmarks/bench_models.py --device cpu --clips 2 --frames 2 --height 64 \
        --width 32 --iters 2 --backbone resnet_tiny        # smoke test
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from reid.models import build_model
from reid.models.backbones import LAST_LAYER, build_backbone
from reid.models.flow_encoding import build_flow_encoding


class PlainTwoStream(nn.Module):
    """Two backbones with no attention, no learned aggregation and no embedding head."""

    def __init__(self, backbone: str, num_classes: int) -> None:
        super().__init__()
        self.flow_encoding = build_flow_encoding("uvm")
        self.image_net = build_backbone(backbone)
        self.flow_net = build_backbone(backbone)
        self.classifier = nn.Linear(2 * self.image_net.out_channels(LAST_LAYER), num_classes)

    def forward(self, images: Tensor, flows: Tensor) -> Tensor:
        batch, length = images.shape[:2]
        streams = [(self.image_net, images.flatten(0, 1)), (self.flow_net, self.flow_encoding(flows.flatten(0, 1)))]
        clip_vectors = [net(x).mean(dim=(2, 3)).unflatten(0, (batch, length)).mean(dim=1) for net, x in streams]
        return self.classifier(torch.cat(clip_vectors, dim=1))


def make_clips(args: argparse.Namespace, device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    """Random clips whose frames are laid out channels_last, as folded frames will be."""
    frames = args.clips * args.frames

    def clip_tensor(channels: int) -> Tensor:
        x = torch.randn(frames, channels, args.height, args.width, device=device)
        if args.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x.unflatten(0, (args.clips, args.frames))

    targets = torch.randint(0, args.classes, (args.clips,), device=device)
    return clip_tensor(3), 5 * clip_tensor(2), targets


def step_times_ms(model: nn.Module, logits_of, clips, args: argparse.Namespace, device: torch.device) -> list[float]:
    images, flows, targets = clips
    model.to(device).train()
    if args.channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)
    times = []
    for _ in range(args.warmup + args.iters):
        start = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.amp):
            loss = F.cross_entropy(logits_of(model(images, flows)).float(), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(1000 * (time.perf_counter() - start))
    return times[args.warmup :]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--backbone", default="resnet50")
    parser.add_argument("--models", nargs="+", default=["mutual-attention"])
    parser.add_argument("--aggregate", default="weighted")
    parser.add_argument("--attention-layer", type=int, default=4)
    parser.add_argument("--clips", type=int, default=32)
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--classes", type=int, default=625)
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--amp", action=argparse.BooleanOptionalAction, default=None, help="bf16 autocast (default: on CUDA)")
    parser.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    if args.amp is None:
        args.amp = args.device.startswith("cuda")
    return args


def main() -> None:
    args = parse_args()
    device = torch.device(args.device)
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    clips = make_clips(args, device)

    rows = []
    reference = PlainTwoStream(args.backbone, args.classes)
    rows.append((f"2 x plain {args.backbone} (GAP, temporal mean)", step_times_ms(reference, lambda out: out, clips, args, device)))
    del reference
    for name in args.models:
        model = build_model(
            name,
            num_classes=args.classes,
            backbone=args.backbone,
            aggregate=args.aggregate,
            attention_layer=args.attention_layer,
        )
        label = f"{name} ({args.aggregate}, layer {args.attention_layer})"
        rows.append((label, step_times_ms(model, lambda out: out.logits, clips, args, device)))
        del model

    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(
        f"Step time (forward + backward + Adam), {args.clips} clips x {args.frames} frames, "
        f"{args.height}x{args.width}, bf16 autocast {'on' if args.amp else 'off'}, "
        f"channels_last {'on' if args.channels_last else 'off'}, median of {args.iters} steps, {device_name}\n"
    )
    print("| model | ms / step | vs 2 x plain |")
    print("|---|---:|---:|")
    base = statistics.median(rows[0][1])
    for label, times in rows:
        median = statistics.median(times)
        print(f"| {label} | {median:.1f} | {median / base:.3f} ({100 * (median / base - 1):+.1f}%) |")
    print("\nTarget: mutual-attention at most +10%.")


if __name__ == "__main__":
    main()
