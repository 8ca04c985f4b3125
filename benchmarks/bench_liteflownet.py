"""LiteFlowNet throughput: pairs/s at 256x128 per batch size, fp32 against bf16 autocast.

Run by hand from the repository root, on a GPU machine:
    python benchmarks/bench_liteflownet.py
and as a smoke test on CPU:
    python benchmarks/bench_liteflownet.py --device cpu --batches 1,2 --iters 2
Random weights: the weights do not change the amount of work. Timed is the
estimator call the pipeline makes (uint8 numpy in, float32 numpy out, so the
host-device copies count). Prints a markdown table; the target on an H100 is
at least 5,000 pairs/s.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from flowprep.flow.liteflownet import LiteFlowNetEstimator
from flowprep.flow.liteflownet_network import LiteFlowNet

PRECISIONS = ("fp32", "bf16")


def parse_arguments() -> argparse.Namespace:
    on_gpu = torch.cuda.is_available()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if on_gpu else "cpu")
    parser.add_argument("--batches", help="comma-separated batch sizes (default 1..256 on cuda, 1,2,4 on cpu)")
    parser.add_argument("--iters", type=int, default=None, help="timed calls per cell (default 20 on cuda, 3 on cpu)")
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--cudnn-benchmark", action="store_true", help="let cuDNN pick kernels per shape")
    parser.add_argument("--channels-last", action="store_true", help="store the weights channels-last (NHWC)")
    return parser.parse_args()


def pairs_per_second(estimator: LiteFlowNetEstimator, batch: int, height: int, width: int, iters: int) -> float:
    rng = np.random.default_rng(0)
    first = rng.integers(0, 256, size=(batch, height, width, 3), dtype=np.uint8)
    second = np.roll(first, 2, axis=2)
    estimator(first, second)  # warm-up: allocator, cuDNN plans
    start = time.perf_counter()
    for _ in range(iters):
        estimator(first, second)  # returns numpy, so each call ends synchronised
    return batch * iters / (time.perf_counter() - start)


def main() -> None:
    arguments = parse_arguments()
    device = torch.device(arguments.device)
    on_gpu = device.type == "cuda"
    batches = [int(b) for b in arguments.batches.split(",")] if arguments.batches else (
        [2**k for k in range(9)] if on_gpu else [1, 2, 4]
    )
    iters = arguments.iters or (20 if on_gpu else 3)
    torch.backends.cudnn.benchmark = arguments.cudnn_benchmark
    network = LiteFlowNet().eval()
    if arguments.channels_last:
        network = network.to(memory_format=torch.channels_last)
    estimators = {p: LiteFlowNetEstimator(network, device, {"precision": p}) for p in PRECISIONS}
    name = torch.cuda.get_device_name(device) if on_gpu else platform.processor() or "cpu"
    print(f"LiteFlowNet pairs/s at {arguments.height}x{arguments.width} (HxW) on {device} ({name}), "
          f"torch {torch.__version__}, {iters} timed calls per cell, cudnn.benchmark={arguments.cudnn_benchmark}, "
          f"channels_last={arguments.channels_last}\n")
    print("| batch | " + " | ".join(PRECISIONS) + " |")
    print("|---:|" + "---:|" * len(PRECISIONS))
    for batch in batches:
        cells = []
        for precision in PRECISIONS:
            try:
                rate = pairs_per_second(estimators[precision], batch, arguments.height, arguments.width, iters)
                cells.append(f"{rate:,.1f}")
            except torch.cuda.OutOfMemoryError:
                torch.cuda.empty_cache()
                cells.append("OOM")
        print(f"| {batch} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
