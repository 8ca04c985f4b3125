"""Time reid.metrics.evaluate against a per-query reference loop at MARS test-set size.

Run by hand from the repository root:  python benchmarks/bench_metrics.py
Prints a markdown table and writes it, with the machine, to benchmarks/results/metrics.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from reid.distance import pairwise_distance
from reid.metrics import evaluate

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"


def machine_lines() -> list[str]:
    """Markdown bullet lines naming the CPU, core count, load and library versions of this run.

    The load average matters: on a shared 2-core machine torch's 2-thread kernels slow down
    several-fold when other processes hold the cores.
    """
    cpu_model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    return [
        f"- machine: `nproc` = {os.cpu_count()}, CPU model: {cpu_model}, torch threads: {torch.get_num_threads()}, "
        f"1-minute load average when the report was written: {os.getloadavg()[0]:.2f}",
        f"- software: Python {platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}",
    ]


def write_report(name: str, command: str, body: list[str]) -> Path:
    """Write benchmarks/results/<name>.md: the command, the machine, then the measured table."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.md"
    lines = [f"# {name} benchmark", "", f"- command: `{command}`", *machine_lines(), "", *body, ""]
    path.write_text("\n".join(lines))
    return path


def load_reference_evaluate():
    """The per-query reference loop lives in the tests, so the benchmark checks the same code the tests trust."""
    spec = importlib.util.spec_from_file_location("_metrics_reference", REPO_ROOT / "tests" / "test_metrics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.reference_evaluate


def python_reference_evaluate(distmat, q_pids, g_pids, q_camids, g_camids, max_rank=50):
    """The protocol transcribed with plain Python arithmetic per gallery entry (one argsort per query)."""
    q_pids, g_pids, q_camids, g_camids = (np.asarray(a).tolist() for a in (q_pids, g_pids, q_camids, g_camids))
    cmc_sum, ap_sum, inp_sum, num_valid = [0.0] * max_rank, 0.0, 0.0, 0
    for q, row in enumerate(np.asarray(distmat)):
        rank, matches, precision_sum, first_rank = 0, 0, 0.0, None
        for g in np.argsort(row, kind="stable").tolist():
            if g_pids[g] == q_pids[q] and g_camids[g] == q_camids[q]:
                continue
            rank += 1
            if g_pids[g] == q_pids[q]:
                matches += 1
                precision_sum += matches / rank
                last_rank = rank
                first_rank = first_rank or rank
        if matches == 0:
            continue
        num_valid += 1
        ap_sum += precision_sum / matches
        inp_sum += matches / last_rank
        for r in range(first_rank - 1, max_rank):
            cmc_sum[r] += 1
    return np.array(cmc_sum) / num_valid, ap_sum / num_valid, inp_sum / num_valid, num_valid


def mars_like_features(
    num_ids: int, num_query: int, num_gallery: int, num_cameras: int, dim: int, noise: float, seed: int
):
    """Features clustered by identity with MARS-like counts, so rankings hold realistic match patterns.

    `noise` (per-dimension std around unit-variance identity centres) sets the difficulty;
    distances concentrate as dim grows, so larger dims need more noise for the same scores.
    Returns (query features, gallery features, q_pids, g_pids, q_camids, g_camids).
    """
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(num_ids, dim)).astype(np.float32)
    g_pids = rng.integers(0, num_ids, num_gallery)
    q_pids = rng.integers(0, num_ids, num_query)
    g_camids = rng.integers(0, num_cameras, num_gallery)
    q_camids = rng.integers(0, num_cameras, num_query)
    g_feats = centres[g_pids] + noise * rng.normal(size=(num_gallery, dim)).astype(np.float32)
    q_feats = centres[q_pids] + noise * rng.normal(size=(num_query, dim)).astype(np.float32)
    return torch.from_numpy(q_feats), torch.from_numpy(g_feats), q_pids, g_pids, q_camids, g_camids


def same_scores(result, reference_scores) -> bool:
    cmc, mAP, mINP, num_valid = reference_scores
    return (
        result.num_valid_queries == num_valid
        and np.allclose(result.cmc, cmc, rtol=0, atol=1e-12)
        and abs(result.mAP - mAP) < 1e-12
        and abs(result.mINP - mINP) < 1e-12
    )


def interleaved_best_times(functions: dict, repeats: int) -> tuple[dict, dict]:
    """Best time and last result of each function, running them in turns so load changes hit all alike."""
    best = {name: float("inf") for name in functions}
    results = {}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            results[name] = function()
            best[name] = min(best[name], time.perf_counter() - start)
    return best, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-query", type=int, default=1980)
    parser.add_argument("--num-gallery", type=int, default=9330)
    parser.add_argument("--num-ids", type=int, default=625)
    parser.add_argument("--repeats", type=int, default=3, help="runs of every method (the best is kept)")
    args = parser.parse_args()

    # 128-d features with noise 1.3: rank-1 and mAP land near published MARS results.
    q_feats, g_feats, q_pids, g_pids, q_camids, g_camids = mars_like_features(
        args.num_ids, args.num_query, args.num_gallery, num_cameras=6, dim=128, noise=1.3, seed=0
    )
    distmat = pairwise_distance(q_feats, g_feats)
    split = (distmat.numpy(), q_pids, g_pids, q_camids, g_camids)
    reference_evaluate = load_reference_evaluate()
    vectorised = "`reid.metrics.evaluate` (vectorised)"
    functions = {
        "per-query loop, plain Python per gallery entry": lambda: python_reference_evaluate(*split, max_rank=50),
        "per-query loop, numpy per query (the tests' reference)": lambda: reference_evaluate(*split, max_rank=50),
        vectorised: lambda: evaluate(distmat, q_pids, g_pids, q_camids, g_camids, max_rank=50),
    }
    seconds, results = interleaved_best_times(functions, args.repeats)
    result = results.pop(vectorised)
    same = all(same_scores(result, scores) for scores in results.values())
    body = [
        f"{args.num_query} queries x {args.num_gallery} gallery, {args.num_ids} ids, 6 cameras, "
        f"{result.num_valid_queries} valid queries; rank-1 {result.cmc[0]:.4f}, mAP {result.mAP:.4f}, "
        f"mINP {result.mINP:.4f}; identical to the references: {'yes' if same else 'NO'}",
        "",
        f"| method (best of {args.repeats}, run in turns) | time (s) | evaluate is faster by |",
        "|---|---:|---:|",
        *(f"| {name} | {t:.3f} | {t / seconds[vectorised]:.1f}x |" for name, t in seconds.items()),
    ]
    print("\n".join(body))
    path = write_report("metrics", "python " + " ".join([os.path.relpath(__file__, REPO_ROOT), *sys.argv[1:]]), body)
    print(f"\nwritten to {path.relative_to(REPO_ROOT)}")
    if not same:
        sys.exit("vectorised results differ from a reference loop")


if __name__ == "__main__":
    main()
