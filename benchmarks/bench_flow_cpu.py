"""CPU optical flow throughput: pairs/s of Farneback and DIS presets at 256x128, one process.

Run by hand from the repository root:  python benchmarks/bench_flow_cpu.py
One process on one OpenCV thread, as each joblib worker runs them; multiply by
the worker count for a rough pipeline rate. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import time

import cv2
import numpy as np

from flowprep.flow import create_estimator

CONFIGURATIONS = (
    ("farneback", {}),
    ("dis", {"preset": "ultrafast"}),
    ("dis", {"preset": "fast"}),
    ("dis", {"preset": "medium"}),
)


def textured_frames(count: int, height: int, width: int) -> np.ndarray:
    """Smoothed noise drifting 2 px right per frame: motion for the estimators to find."""
    rng = np.random.default_rng(0)
    noise = rng.uniform(0, 255, size=(height, width + 2 * count)).astype(np.float32)
    texture = cv2.normalize(cv2.GaussianBlur(noise, (0, 0), 2.0), None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    frames = [texture[:, 2 * (count - 1 - t) : 2 * (count - 1 - t) + width] for t in range(count)]
    return np.repeat(np.stack(frames)[..., None], 3, axis=3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=64, help="pairs timed per method")
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=128)
    arguments = parser.parse_args()
    frames = textured_frames(arguments.pairs + 1, arguments.height, arguments.width)
    first, second = frames[:-1], frames[1:]
    print(f"CPU flow pairs/s at {arguments.height}x{arguments.width} (HxW), one process, one OpenCV thread, "
          f"{arguments.pairs} pairs, OpenCV {cv2.__version__}, nproc {os.cpu_count()}\n")
    print("| method | params | pairs/s | median u (true 2.0) |")
    print("|---|---|---:|---:|")
    for method, params in CONFIGURATIONS:
        estimator = create_estimator(method, **params)
        estimator(first[:1], second[:1])  # warm-up
        start = time.perf_counter()
        flow = np.concatenate([
            estimator(first[i : i + estimator.preferred_batch], second[i : i + estimator.preferred_batch])
            for i in range(0, arguments.pairs, estimator.preferred_batch)
        ])
        rate = arguments.pairs / (time.perf_counter() - start)
        print(f"| {method} | {params or 'defaults'} | {rate:,.1f} | {np.median(flow[:, 0, 16:-16, 16:-16]):.2f} |")


if __name__ == "__main__":
    main()
