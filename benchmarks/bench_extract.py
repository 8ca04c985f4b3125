"""flowprep extract against a plain loop of the same OpenCV calls, and the store's bytes per frame.

The plain loop is the bare OpenCV calls (imread, resize, cvtColor, the flow call) on the
same frames, in a joblib pool of the same size; extract also encodes, journals and writes
the store, once per flow codec. Target: extract costs at most 10 % more time. A second
table gives each stage's cost per frame in one process, to show where the time goes, and a
third how far each flow codec's stored flow is from the estimator's.

    python benchmarks/bench_extract.py [--identities 40] [--workers 2] [--flow dis] [--size 256x128]
        [--codecs jpeg,png16] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from joblib import Parallel, delayed

from flowprep.datasets import load_tracklets
from flowprep.extract import ExtractOptions, extract
from flowprep.codec import FrameCodec
from flowprep.flow import create_estimator, flows_for_tracklets
from flowprep.frames import load_frames
from flowprep.store import open_store
from flowprep.synth import write_dataset


def plain_tracklet(paths, estimator, height: int, width: int) -> int:
    """What a user would write by hand: read, resize, grey, one OpenCV flow call per pair; nothing kept."""
    cv2.setNumThreads(1)  # one thread per worker process, as extract runs them
    previous = None
    for path in paths:
        image = cv2.imread(str(path))
        if image.shape[:2] != (height, width):
            image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        if previous is not None:
            estimator.pair_flow(previous, grey)  # the bare cv2 call (DIS: create + calc)
        previous = grey
    return len(paths)


def stage_costs(tracklets, estimator, height: int, width: int, codecs: list[str]) -> dict[str, float]:
    """Milliseconds per frame of each stage of extract, in this one process (one OpenCV thread)."""
    cv2.setNumThreads(1)
    frames = sum(len(t.frames) for t in tracklets)
    costs: dict[str, float] = {}

    def timed(label: str, work):
        started = time.perf_counter()
        result = work()
        costs[label] = (time.perf_counter() - started) * 1000 / frames
        return result

    loaded = timed("read + resize (load_frames)", lambda: [load_frames(t.frames, height, width) for t in tracklets])
    flows = timed(f"flow ({estimator.name})", lambda: flows_for_tracklets(estimator, [f.frames for f in loaded]))
    codec = FrameCodec(height=height, width=width)
    timed("encode image (JPEG q90; not needed for JPEG files of the stored size)", lambda: [codec.encode_image(i) for f in loaded for i in f.frames])
    for name in codecs:
        codec = FrameCodec.with_flow_codec(name, height, width)
        timed(f"encode flow ({name})", lambda: [codec.encode_flow(f) for flow in flows for f in flow])
    return costs, flows


def codec_errors(flows: list[np.ndarray], codecs: list[str], height: int, width: int) -> None:
    """How far each flow codec's stored flow is from the estimator's, inside its range and beyond."""
    print("| flow codec | mean error in range (px) | 99th percentile in range (px) | components out of range |")
    print("| --- | ---: | ---: | ---: |")
    field = np.concatenate([flow[1:] for flow in flows if len(flow) > 1])
    for name in codecs:
        codec = FrameCodec.with_flow_codec(name, height, width)
        decoded = np.stack([codec.decode_flow(codec.encode_flow(f)) for f in field])
        limit = codec.flow_step * (127 if name == "jpeg" else 32767)
        inside = np.abs(field) <= limit
        error = np.abs(decoded - field)[inside]
        print(f"| {name} | {error.mean():.3f} | {np.percentile(error, 99):.3f} | {100 * (1 - inside.mean()):.2f} % |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identities", type=int, default=40)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--flow", default="dis")
    parser.add_argument("--size", default="256x128")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--codecs", default="jpeg,png16", help="flow codecs to run extract with")
    args = parser.parse_args()
    codecs = args.codecs.split(",")
    height, width = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mars"
        write_dataset("mars", root, identities=args.identities, cameras=6, seed=0)
        tracklets = load_tracklets("mars", root)
        frames = sum(len(t.frames) for t in tracklets)
        estimator = create_estimator(args.flow)
        plain: list[float] = []
        ours: dict[str, list[float]] = {codec: [] for codec in codecs}
        sizes: dict[str, tuple[float, float, float]] = {}
        for repeat in range(args.repeats):  # alternate, so drifting machine load hits every run alike
            started = time.perf_counter()
            Parallel(n_jobs=args.workers)(delayed(plain_tracklet)(t.frames, estimator, height, width) for t in tracklets)
            plain.append(time.perf_counter() - started)
            for codec in codecs:
                out = Path(tmp) / f"mars-{codec}-{repeat}.h5"
                started = time.perf_counter()
                extract(ExtractOptions(dataset="mars", root=root, out=out, flow=args.flow, workers=args.workers,
                                       height=height, width=width, flow_codec=codec), progress=False)
                ours[codec].append(time.perf_counter() - started)
                sizes[codec] = store_sizes(out, frames)
                out.unlink()
        costs, flows = stage_costs(tracklets, estimator, height, width, codecs)
    best_plain = min(plain)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"{len(tracklets)} tracklets, {frames} frames at {height}x{width}, flow {args.flow}, {args.workers} workers")
    print(f"| run | seconds (best of {args.repeats}) | frames/s | overhead | store KiB/frame (image + flow) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(f"| plain joblib loop of the OpenCV calls (read, resize, grey, flow) | {best_plain:.2f} | {frames / best_plain:.0f} | | |")
    for codec in codecs:
        best = min(ours[codec])
        total, image_part, flow_part = sizes[codec]
        print(f"| flowprep extract, --flow-codec {codec} | {best:.2f} | {frames / best:.0f} | "
              f"{100 * (best / best_plain - 1):+.1f} % | {total:.1f} ({image_part:.1f} + {flow_part:.1f}) |")
    print()
    print("| stage, one process | ms per frame |")
    print("| --- | ---: |")
    for stage, cost in costs.items():
        print(f"| {stage} | {cost:.3f} |")
    print()
    codec_errors(flows, codecs, height, width)


def store_sizes(path: Path, frames: int) -> tuple[float, float, float]:
    """KiB per frame: the whole file on disk, the images, the flow."""
    with open_store(path) as reader:
        image_bytes, flow_bytes = reader.encoded_bytes()
    return path.stat().st_size / frames / 1024, image_bytes / frames / 1024, flow_bytes / frames / 1024

if __name__ == "__main__":
    main()
