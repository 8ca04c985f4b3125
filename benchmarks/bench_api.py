"""The Python API against the command line it wraps: README's ``FeatureExtractor`` example vs ``reid evaluate``.

Both run on the same store and checkpoint, in turns, ``--repeats`` times each; the medians are compared.

- whole process: ``reid evaluate --quiet`` against a fresh ``python`` running the README's example
  (``FeatureExtractor``, ``extractor.store`` of the query, then of the gallery, distances, scores);
- extraction alone, in this process: the query and gallery features as ``reid evaluate`` extracts them
  (``extract_features`` with the command's workers and batch size) against the two ``extractor.store``
  calls of the README, and against those calls with ``workers=0`` (the API's default before issue 25).

Without --store/--checkpoint it builds the demo's store (synthetic MARS, 80 identities, 64x32, DIS) and
a 1-epoch tiny checkpoint in a temporary folder (timings do not depend on the weights).

    python benchmarks/bench_api.py [--store demo-run/mars.h5 --checkpoint demo-run/run/best.pt] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

README_EXAMPLE = """
import sys, time, torch
started = time.perf_counter()
from flowprep import open_store
from reid import FeatureExtractor
from reid.metrics import evaluate
extractor = FeatureExtractor(sys.argv[2], device="cpu")
with open_store(sys.argv[1]) as store:
    t = store.tracklets
    query, gallery = t.of_role("query"), t.of_role("gallery")
    distances = torch.cdist(extractor.store(store, tracklets=query), extractor.store(store, tracklets=gallery))
    result = evaluate(distances, t.pid[query], t.pid[gallery], t.camid[query], t.camid[gallery])
print(f"mAP {result.mAP:.4f}")
"""


def build_demo_store(folder: Path) -> tuple[Path, Path]:
    from flowprep.extract import ExtractOptions, extract
    from flowprep.synth import write_dataset
    from reid.engine.config import TrainConfig
    from reid.engine.trainer import Trainer

    write_dataset("mars", folder / "mars", identities=80, cameras=6, seed=0)  # flowprep synth --layout mars --seed 0
    store = folder / "mars.h5"
    extract(ExtractOptions(dataset="mars", root=folder / "mars", out=store, height=64, width=32,
                           workers=os.cpu_count() or 1), progress=False)
    cfg = TrainConfig(store=str(store), out=str(folder / "run"), backbone="resnet_tiny", pretrained="none",
                      feature_dim=256, epochs=1, warmup_epochs=0, device="cpu", workers=1, quiet=True, amp="off",
                      max_batches=2)
    Trainer(cfg).run()
    return store, folder / "run" / "best.pt"


def wall_seconds(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter() - started


def extraction_seconds(store: Path, checkpoint: Path, repeats: int) -> dict[str, list[float]]:
    """The features ``reid evaluate`` extracts, the README's two ``extractor.store`` calls, and those with workers=0."""
    import torch

    from flowprep import open_store
    from flowreid.options import default_workers
    from reid import FeatureExtractor
    from reid.engine.features import extract_features

    extractor = FeatureExtractor(checkpoint, device="cpu")
    times: dict[str, list[float]] = {"cli": [], "api": [], "api workers=0": []}
    with open_store(store) as reader:
        query, gallery = reader.tracklets.of_role("query"), reader.tracklets.of_role("gallery")
        wanted = np.unique(np.concatenate([query, gallery]))
        runs = {
            "cli": lambda: extract_features(extractor.model, reader, wanted, seq_len=extractor.seq_len,
                                            device=torch.device("cpu"), batch_size=32, workers=default_workers()),
            "api": lambda: [extractor.store(reader, tracklets=part, progress=False) for part in (query, gallery)],
            "api workers=0": lambda: [extractor.store(reader, tracklets=part, workers=0, progress=False)
                                      for part in (query, gallery)],
        }
        for _ in range(repeats):
            for name, run in runs.items():
                started = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path)
    parser.add_argument("--checkpoint", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store, checkpoint = ((args.store, args.checkpoint) if args.store and args.checkpoint
                             else build_demo_store(Path(tmp)))
        commands = {
            "reid evaluate": [sys.executable, "-m", "reid.cli", "evaluate", "--store", str(store), "--checkpoint",
                              str(checkpoint), "--device", "cpu", "--quiet"],
            "README FeatureExtractor example": [sys.executable, "-c", README_EXAMPLE, str(store), str(checkpoint)],
        }
        whole: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeats):
            for name, command in commands.items():
                whole[name].append(wall_seconds(command))
        inside = extraction_seconds(store, checkpoint, args.repeats)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
          f"median of {args.repeats}, run in turns")
    cli, api = statistics.median(whole["reid evaluate"]), statistics.median(whole["README FeatureExtractor example"])
    print("| whole process | seconds (median) | all runs | vs reid evaluate |\n| --- | ---: | --- | ---: |")
    for name, values in whole.items():
        print(f"| {name} | {statistics.median(values):.2f} | {', '.join(f'{v:.2f}' for v in values)} | "
              f"{statistics.median(values) / cli:.2f}x |")
    base = statistics.median(inside["cli"])
    print("\n| feature extraction, query + gallery | seconds (median) | all runs | vs the CLI's |\n| --- | ---: | --- | ---: |")
    for name, values in inside.items():
        print(f"| {name} | {statistics.median(values):.2f} | {', '.join(f'{v:.2f}' for v in values)} | "
              f"{statistics.median(values) / base:.2f}x |")
    print(f"\nAPI / CLI: whole process {api / cli:.2f}x, extraction {statistics.median(inside['api']) / base:.2f}x")


if __name__ == "__main__":
    main()
