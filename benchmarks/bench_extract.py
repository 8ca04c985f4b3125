"""flowprep extract against a plain loop of the same OpenCV calls, and the store's bytes per frame.

The plain loop reads, resizes and computes flow for the same frames with the same
estimator in a joblib pool of the same size; extract also encodes, journals and writes
the store. Target: extract costs at most 10 % more time.

    python benchmarks/bench_extract.py [--identities 40] [--workers 2] [--flow dis] [--size 256x128]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from joblib import Parallel, delayed

from flowprep.datasets import load_tracklets
from flowprep.extract import ExtractOptions, extract
from flowprep.flow import create_estimator, tracklet_flow
from flowprep.frames import load_frames
from flowprep.store import open_store
from flowprep.synth import write_dataset


def plain_tracklet(paths, estimator, height, width) -> int:
    frames = load_frames(paths, height, width).frames
    tracklet_flow(estimator, frames)
    return len(frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identities", type=int, default=40)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--flow", default="dis")
    parser.add_argument("--size", default="256x128")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    height, width = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mars"
        write_dataset("mars", root, identities=args.identities, cameras=6, seed=0)
        tracklets = load_tracklets("mars", root)
        frames = sum(len(t.frames) for t in tracklets)
        estimator = create_estimator(args.flow)
        plain, ours = [], []
        for repeat in range(args.repeats):  # alternate, so drifting machine load hits both alike
            started = time.perf_counter()
            Parallel(n_jobs=args.workers)(delayed(plain_tracklet)(t.frames, estimator, height, width) for t in tracklets)
            plain.append(time.perf_counter() - started)
            out = Path(tmp) / f"mars{repeat}.h5"
            started = time.perf_counter()
            extract(ExtractOptions(dataset="mars", root=root, out=out, flow=args.flow, workers=args.workers,
                                   height=height, width=width), progress=False)
            ours.append(time.perf_counter() - started)
        with open_store(out) as reader:
            stored = reader._handle()["blob"].shape[0]
            image_bytes = int(reader._image_size.sum())
        size_on_disk = out.stat().st_size
    best_plain, best_ours = min(plain), min(ours)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"{len(tracklets)} tracklets, {frames} frames at {height}x{width}, flow {args.flow}, {args.workers} workers")
    print("| run | seconds (best of %d) | frames/s |" % args.repeats)
    print("| --- | ---: | ---: |")
    print(f"| plain joblib loop (read + resize + flow) | {best_plain:.2f} | {frames / best_plain:.0f} |")
    print(f"| flowprep extract (+ encode + journal + store) | {best_ours:.2f} | {frames / best_ours:.0f} |")
    print(f"| overhead | {100 * (best_ours / best_plain - 1):+.1f} % | |")
    print()
    print(f"store: {size_on_disk / frames / 1024:.1f} KiB per frame on disk "
          f"(image {image_bytes / frames / 1024:.1f} KiB + flow {(stored - image_bytes) / frames / 1024:.1f} KiB)")


if __name__ == "__main__":
    main()
