"""How many loader workers does a GPU need? Clip decoding speed per worker process, per flow codec.

One process reads what a DataLoader worker reads: training clips (read, decode, augment) and
dense test clips (read, decode), from stores of the same synthetic MARS extracted with each
flow codec at 256x128. It prints frames/s per worker and how many workers keep up with a GPU
that consumes ``--gpu-frames-per-s`` (default 2,612: 32 clips x 4 frames every 49 ms, the
two-stream ResNet-50 step on an H100 that the developers' guide gives as the ceiling).

    python benchmarks/bench_loader.py [--identities 12] [--codecs jpeg,png16] [--clips 400]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from flowprep.extract import ExtractOptions, extract
from flowprep.store import open_store
from flowprep.synth import write_dataset
from reid.data.clips import DenseClips, TrainClips


def frames_per_second(read_clip, keys, frames_per_clip: int) -> float:
    """Best of two passes over ``keys`` (the first also warms the page cache)."""
    best = math.inf
    for _ in range(2):
        started = time.perf_counter()
        for key in keys:
            read_clip(key)
        best = min(best, time.perf_counter() - started)
    return len(keys) * frames_per_clip / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identities", type=int, default=12)
    parser.add_argument("--codecs", default="jpeg,png16")
    parser.add_argument("--clips", type=int, default=400, help="clips read per measurement")
    parser.add_argument("--seq-len", type=int, default=4)
    parser.add_argument("--gpu-frames-per-s", type=float, default=32 * 4 / 0.049)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mars"
        write_dataset("mars", root, identities=args.identities, cameras=6, seed=0)
        for codec in args.codecs.split(","):
            out = Path(tmp) / f"{codec}.h5"
            extract(ExtractOptions(dataset="mars", root=root, out=out, flow="dis", flow_params={"preset": "ultrafast"},
                                   workers=os.cpu_count() or 1, flow_codec=codec), progress=False)
            with open_store(out) as store:
                train = TrainClips(store, seq_len=args.seq_len)
                train_keys = [(int(i), 0) for i in rng.integers(0, len(train), args.clips)]
                test = DenseClips(store, store.tracklets.of_role("gallery"), seq_len=args.seq_len)
                test_keys = [int(i) for i in rng.integers(0, len(test), args.clips)]
                rows.append((codec, frames_per_second(train.__getitem__, train_keys, args.seq_len),
                             frames_per_second(test.__getitem__, test_keys, args.seq_len)))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; one process, "
          f"clips of {args.seq_len} frames at 256x128, {args.clips} clips per measurement")
    print(f"| flow codec | training clips, frames/s per worker | workers for {args.gpu_frames_per_s:,.0f} frames/s "
          "| test clips, frames/s per worker |")
    print("| --- | ---: | ---: | ---: |")
    for codec, train_rate, test_rate in rows:
        workers = math.ceil(args.gpu_frames_per_s / train_rate)
        print(f"| {codec} | {train_rate:,.0f} | {workers} | {test_rate:,.0f} |")


if __name__ == "__main__":
    main()
