"""Choosing a backbone for a CPU: mobilenet_v2 against resnet50, side by side in one run.

Two costs per backbone and model, at the paper's 256x128:

* feature extraction: frames per second of a forward pass in inference mode (what ``reid evaluate``
  and ``reid search`` spend per frame), batches of ``--clips`` clips x ``--frames`` frames;
* training step: forward + backward + Adam update on the same clips, identity cross-entropy.

The backbones are measured in alternation (one extraction batch and one step of each, round after
round), so a change of load on a shared machine hits both alike; ratios are the result, the
absolute numbers depend on the machine. Parameters and forward GFLOPs per clip are printed beside
them (``reid train`` shows the same in its header).

    python benchmarks/bench_backbones.py [--backbones mobilenet_v2 resnet50] [--models baseline mutual-attention] \\
        [--clips 2 --frames 4 --height 256 --width 128 --rounds 5 --warmup 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from reid.models import build_model
from reid.models.flops import clip_flops


def timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbones", nargs="+", default=["mobilenet_v2", "resnet50"])
    parser.add_argument("--models", nargs="+", default=["baseline", "mutual-attention"])
    parser.add_argument("--clips", type=int, default=2)
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--classes", type=int, default=625)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args()
    torch.manual_seed(0)
    images = torch.randn(args.clips, args.frames, 3, args.height, args.width)
    flows = 5 * torch.randn(args.clips, args.frames, 2, args.height, args.width)
    targets = torch.randint(0, args.classes, (args.clips,))

    entries = []
    for model_name in args.models:
        for backbone in args.backbones:
            model = build_model(model_name, num_classes=args.classes, backbone=backbone)
            optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)
            entries.append(dict(model=model_name, backbone=backbone, net=model, optimizer=optimizer,
                                extract=[], step=[], gflops=clip_flops(model, args.frames, args.height, args.width) / 1e9,
                                params=sum(p.numel() for p in model.parameters()) / 1e6))

    def extract(entry) -> None:
        with torch.inference_mode():
            entry["net"].eval()(images, flows)

    def step(entry) -> None:
        entry["net"].train()
        loss = F.cross_entropy(entry["net"](images, flows).logits, targets)
        entry["optimizer"].zero_grad(set_to_none=True)
        loss.backward()
        entry["optimizer"].step()

    for round_ in range(args.warmup + args.rounds):
        for entry in entries:
            extract_s, step_s = timed(lambda: extract(entry)), timed(lambda: step(entry))
            if round_ >= args.warmup:
                entry["extract"].append(extract_s)
                entry["step"].append(step_s)

    frames = args.clips * args.frames
    print(f"CPU ({torch.get_num_threads()} threads), {args.clips} clips x {args.frames} frames of "
          f"{args.height}x{args.width}, float32, median of {args.rounds} alternating rounds\n")
    print("| model | backbone | parameters | GFLOPs / clip | extraction frames/s | training step s | "
          "extraction speed-up | step speed-up |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for entry in entries:
        reference = next(e for e in entries if e["model"] == entry["model"] and e["backbone"] == args.backbones[-1])
        rate = frames / statistics.median(entry["extract"])
        step_s = statistics.median(entry["step"])
        print(f"| {entry['model']} | {entry['backbone']} | {entry['params']:.1f} M | {entry['gflops']:.2f} | "
              f"{rate:.1f} | {step_s:.2f} | {statistics.median(reference['extract']) / statistics.median(entry['extract']):.2f}x | "
              f"{statistics.median(reference['step']) / step_s:.2f}x |")
    print(f"\nSpeed-ups are against {args.backbones[-1]} with the same model.")


if __name__ == "__main__":
    main()
