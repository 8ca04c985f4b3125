"""Time k-reciprocal re-ranking at MARS test-set size on the CPU (or --device cuda).

Run by hand from the repository root:  python benchmarks/bench_rerank.py
Prints a markdown table and writes it, with the machine, to benchmarks/results/rerank.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

import torch

from bench_metrics import REPO_ROOT, mars_like_features, write_report
from reid.distance import pairwise_distance
from reid.metrics import evaluate
from reid.rerank import k_reciprocal_rerank


def timed(function):
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    result = function()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-query", type=int, default=1980)
    parser.add_argument("--num-gallery", type=int, default=9330)
    parser.add_argument("--num-ids", type=int, default=625)
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--noise", type=float, default=3.0, help="3.0 at 2048-d gives MARS-like rank-1/mAP")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    q_feats, g_feats, *labels = mars_like_features(
        args.num_ids, args.num_query, args.num_gallery, num_cameras=6, dim=args.dim, noise=args.noise, seed=0
    )
    q_feats, g_feats = q_feats.to(args.device), g_feats.to(args.device)
    distance_time, (q_g, q_q, g_g) = timed(
        lambda: (
            pairwise_distance(q_feats, g_feats),
            pairwise_distance(q_feats, q_feats),
            pairwise_distance(g_feats, g_feats),
        )
    )
    rerank_time, reranked = timed(lambda: k_reciprocal_rerank(q_g, q_q, g_g, k1=20, k2=6, lambda_value=0.3))
    before, after = evaluate(q_g, *labels), evaluate(reranked, *labels)
    peak_rss_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    body = [
        f"{args.num_query} queries x {args.num_gallery} gallery, {args.dim}-d float32 features "
        f"({args.num_ids} ids, noise {args.noise}), k1=20, k2=6, lambda=0.3, device {args.device}; "
        f"peak resident memory of the whole process {peak_rss_gib:.2f} GiB. Isotropic synthetic clusters are the "
        "easy case for re-ranking, so its scores here show that it runs and helps, not what real features gain.",
        "",
        "| step | time (s) | rank-1 | mAP | mINP |",
        "|---|---:|---:|---:|---:|",
        f"| distances q_g, q_q, g_g (`pairwise_distance`) | {distance_time:.2f} | {before.cmc[0]:.4f} | "
        f"{before.mAP:.4f} | {before.mINP:.4f} |",
        f"| `k_reciprocal_rerank` | {rerank_time:.2f} | {after.cmc[0]:.4f} | {after.mAP:.4f} | {after.mINP:.4f} |",
    ]
    print("\n".join(body))
    path = write_report("rerank", "python " + " ".join([os.path.relpath(__file__, REPO_ROOT), *sys.argv[1:]]), body)
    print(f"\nwritten to {path.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
