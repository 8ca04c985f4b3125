"""How each stage's time and memory grow from 1/64 of MARS to all of it: per-unit cost per size.

For each fraction of the official MARS structure (``flowprep synth --like INFO_DIR``, fast
renderer, small frames) it measures, each stage in a fresh process so that its peak RSS is
its own: ``flowprep extract`` (DIS, ``--workers``), opening the store, one training epoch of
loader batches (no model), dense test-clip features (baseline model, tiny backbone), the query x
gallery distances, ``reid.metrics.evaluate`` and k-reciprocal re-ranking, in wall-clock and
CPU time (the CPU time of a stage's processes, workers included, is what stays comparable on a
shared machine). Linear growth shows as a flat row of per-unit costs. Results are kept per size
in ``WORKDIR/<size>/results.json``, so an interrupted run continues where it stopped (``--fresh``
measures the ``--stages`` again).

    nice -n 10 python benchmarks/bench_scale.py --info ../shared/real/mars-info --workdir /tmp/scale \
        [--fractions 1/64,1/16,1/4,1] [--frame-size 32x16] [--workers 2] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

STAGES = ("extract", "open", "loader", "features", "distances", "evaluate", "rerank")
UNITS = {"extract": "frame", "open": "frame", "loader": "clip", "features": "clip", "distances": "q x g pair",
         "evaluate": "q x g pair", "rerank": "(q+g)^2 entry"}
SEQ_LEN, BATCH = 4, 64


def peak_rss_mb() -> float:
    """Peak resident memory of this process or of any process it waited for (Linux: KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of every process it waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Clock:
    """Wall-clock and CPU seconds of one timed region (CPU time stays comparable on a shared machine)."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), cpu_seconds()

    def read(self) -> dict:
        return {"seconds": time.perf_counter() - self.wall, "cpu_seconds": cpu_seconds() - self.cpu}


def current_rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


# ---- stages: each runs in its own process and returns {"units": n, "seconds": s, ...} ----


def stage_extract(folder: Path, args) -> dict:
    store = folder / "store.h5"
    command = ["flowprep", "extract", "--dataset", "mars", "--root", str(folder / "data"), "--out", str(store),
               "--flow", "dis", "--size", args.frame_size, "--workers", str(args.workers), "--quiet", "--overwrite"]
    clock = Clock()
    subprocess.run(command, check=True)
    timed = clock.read()
    from flowprep.store import open_store

    with open_store(store) as reader:
        frames = reader.num_frames
    return {"units": frames, **timed, "store_mb": store.stat().st_size / 2**20,
            "data_mb": _disk_mb(folder / "data")}


def stage_open(folder: Path, args) -> dict:
    from flowprep.store import open_store

    before = current_rss_mb()
    open_store(folder / "store.h5").close()  # the page cache holds the index, as when a training run reopens it
    clock = Clock()
    reader = open_store(folder / "store.h5")
    timed = clock.read()
    return {"units": reader.num_frames, **timed, "tracklets": len(reader.tracklets), "rss_before_mb": before}


def stage_loader(folder: Path, args) -> dict:
    from torch.utils.data import DataLoader

    from flowprep.store import open_store
    from reid.data.clips import TrainClips
    from reid.data.samplers import IdentityBatchSampler

    clock = Clock()
    dataset = TrainClips(open_store(folder / "store.h5"), seq_len=SEQ_LEN)
    sampler = IdentityBatchSampler(dataset.labels, identities_per_batch=8, instances=4)
    loader = DataLoader(dataset, batch_sampler=sampler, num_workers=args.workers, prefetch_factor=4)
    clips = sum(len(labels) for _, _, labels in loader)
    return {"units": clips, **clock.read()}


def stage_features(folder: Path, args) -> dict:
    import numpy as np
    import torch

    from flowprep.store import open_store
    from reid.engine.evaluation import QueryGallery
    from reid.engine.features import extract_features
    from reid.models import build_model

    torch.manual_seed(0)
    store = open_store(folder / "store.h5")
    sets = QueryGallery.of(store)
    wanted = np.concatenate([sets.query, sets.gallery])
    model = build_model("baseline", num_classes=8, backbone="resnet_tiny")  # the cheapest model: the loader shows
    clock = Clock()
    features = extract_features(model, store, wanted, seq_len=SEQ_LEN, device=torch.device("cpu"),
                                batch_size=BATCH, workers=args.workers)
    timed = clock.read()
    counts = store.tracklets.frame_count[wanted]
    torch.save({"query": features[: len(sets.query)], "gallery": features[len(sets.query):],
                "query_index": sets.query, "gallery_index": sets.gallery}, folder / "features.pt")
    return {"units": int(((counts + SEQ_LEN - 1) // SEQ_LEN).sum()), **timed,
            "query": len(sets.query), "gallery": len(sets.gallery), "dim": features.shape[1]}


def _features(folder: Path):
    import torch

    return torch.load(folder / "features.pt", weights_only=False)


def stage_distances(folder: Path, args) -> dict:
    from reid.distance import pairwise_distance

    f = _features(folder)
    clock = Clock()
    distances = pairwise_distance(f["query"], f["gallery"])
    return {"units": distances.numel(), **clock.read(), "query": len(f["query"])}


def stage_evaluate(folder: Path, args) -> dict:
    from flowprep.store import open_store
    from reid.distance import pairwise_distance
    from reid.metrics import evaluate

    f = _features(folder)
    t = open_store(folder / "store.h5").tracklets
    q, g = f["query_index"], f["gallery_index"]
    distances = pairwise_distance(f["query"], f["gallery"])
    clock = Clock()
    result = evaluate(distances, t.pid[q], t.pid[g], t.camid[q], t.camid[g], max_rank=20)
    return {"units": distances.numel(), **clock.read(), "rank1": float(result.cmc[0]),
            "mAP": result.mAP}


def stage_rerank(folder: Path, args) -> dict:
    """As ``reid evaluate --rerank`` runs it: from the features, with the query x gallery distances at hand."""
    from reid.distance import pairwise_distance
    from reid.rerank import rerank_features

    f = _features(folder)
    q, g = f["query"], f["gallery"]
    distances = pairwise_distance(q, g)
    clock = Clock()
    rerank_features(q, g, q_g=distances, k1=20, k2=6, lambda_value=0.3)
    total = len(q) + len(g)
    return {"units": total * total, **clock.read()}


def _disk_mb(root: Path) -> float:
    output = subprocess.run(["du", "-sk", str(root)], check=True, capture_output=True, text=True).stdout
    return int(output.split()[0]) / 1024


# ---- driver ----


def prepare(folder: Path, fraction: Fraction, args) -> None:
    """The synthetic MARS of this size (kept between runs: it is input, not a measured stage)."""
    data = folder / "data"
    if (data / "info" / "query_IDX.mat").exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["flowprep", "synth", "--layout", "mars", "--like", str(args.info), "--fraction", str(float(fraction)),
                    "--frame-size", args.frame_size, "--out", str(data)], check=True)


def run_stage(stage: str, folder: Path, args) -> dict:
    command = [sys.executable, __file__, "--stage", stage, "--folder", str(folder), "--frame-size", args.frame_size,
               "--workers", str(args.workers), "--threads", str(args.threads)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def cost_table(results: dict[str, dict], key: str, title: str) -> list[str]:
    sizes = list(results)
    first, previous = sizes[0], sizes[max(0, len(sizes) - 2)]
    lines = ["| stage (unit) | " + " | ".join(f"{s}: {title}" for s in sizes)
             + f" | {sizes[-1]} / {first} | {sizes[-1]} / {previous} | peak RSS MB ({', '.join(sizes)}) |",
             "|---|" + "---:|" * (len(sizes) + 3)]
    for stage in STAGES:
        cost = {s: results[s][stage][key] / results[s][stage]["units"] * 1e6 for s in sizes if key in results[s].get(stage, {})}
        ratios = [f"{cost[sizes[-1]] / cost[base]:.2f}" if base in cost and sizes[-1] in cost else ""
                  for base in (first, previous)]
        peaks = " / ".join(f"{results[s][stage]['peak_rss_mb']:.0f}" if stage in results[s] else "" for s in sizes)
        cells = " | ".join(f"{cost[s]:.3g}" if s in cost else "" for s in sizes)
        lines.append(f"| {stage} ({UNITS[stage]}) | {cells} | {' | '.join(ratios)} | {peaks} |")
    return lines


def table(results: dict[str, dict]) -> str:
    """Per-unit cost of every stage at every size (wall clock, then CPU time of all its processes),
    the last size against the first and against the one before it; then what each size held."""
    lines = cost_table(results, "seconds", "wall us/unit") + [""] + cost_table(results, "cpu_seconds", "CPU us/unit")
    sizes = list(results)
    lines += ["", "| size | frames | tracklets | query x gallery | test clips | load average | seconds per stage |",
              "|---|---:|---:|---|---:|---|---|"]
    for s in sizes:
        r = results[s]
        seconds = ", ".join(f"{stage} {r[stage]['seconds']:.2f}" for stage in STAGES if stage in r)
        loads = [value for stage in STAGES if stage in r for value in r[stage].get("load", [])]
        load = f"{min(loads):.1f} to {max(loads):.1f}" if loads else ""
        features = r.get("features", {})
        lines.append(f"| {s} | {r.get('extract', {}).get('units', '')} | {r.get('open', {}).get('tracklets', '')} "
                     f"| {features.get('query', '')} x {features.get('gallery', '')} | {features.get('units', '')} "
                     f"| {load} | {seconds} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--info", type=Path, help="official MARS info/ folder (../shared/real/mars-info)")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--fractions", default="1/64,1/16,1/4,1")
    parser.add_argument("--frame-size", default="32x16")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads of the measuring process (loader workers use one each); on a shared "
                             "CPU more threads than free cores make the tiny model several times slower")
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--fresh", action="store_true", help="measure the --stages again even where recorded")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:  # child process: one stage, one JSON line
        if args.stage not in ("extract", "open"):  # open's memory is measured without torch loaded
            import torch

            torch.set_num_threads(args.threads)
        baseline, load = current_rss_mb(), os.getloadavg()[0]
        result = globals()[f"stage_{args.stage}"](args.folder, args)
        import flowprep

        print(json.dumps({**result, "peak_rss_mb": peak_rss_mb(), "import_rss_mb": baseline, "load": [load, os.getloadavg()[0]],
                          "code": flowprep.__file__}))
        return
    if args.info is None or args.workdir is None:
        parser.error("--info and --workdir are required")
    results = {}
    for text in args.fractions.split(","):
        fraction = Fraction(text)
        folder = args.workdir / f"{fraction.numerator}-{fraction.denominator}"
        prepare(folder, fraction, args)
        record = folder / "results.json"
        done = json.loads(record.read_text()) if record.exists() else {}
        for stage in args.stages.split(","):
            if stage in done and not args.fresh:
                continue
            done[stage] = run_stage(stage, folder, args)
            record.write_text(json.dumps(done, indent=1))
            print(f"{text} {stage}: {done[stage]}", flush=True)
        results[text] = done
    print(table(results))


if __name__ == "__main__":
    main()
