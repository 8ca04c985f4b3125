"""The evaluation table printed by ``reid train`` and ``reid evaluate``."""

from __future__ import annotations

from reid.engine.evaluation import Evaluation


def format_table(evaluation: Evaluation, title: str = "") -> str:
    """Rank-1/5/10/20, mAP and mINP in percent, with a random ranking's scores beside them."""
    r, c = evaluation.result, evaluation.chance
    rows = [
        ("rank-1", r.cmc[0], c.cmc[0]), ("rank-5", r.cmc[4], c.cmc[4]), ("rank-10", r.cmc[9], c.cmc[9]),
        ("rank-20", r.cmc[19], c.cmc[19]), ("mAP", r.mAP, c.mAP), ("mINP", r.mINP, c.mINP),
    ]
    lines = [title] if title else []
    lines.append(f"{'metric':<8} {'model':>7} {'chance':>7}   ({evaluation.protocol} protocol, {r.num_valid_queries} queries)")
    lines += [f"{name:<8} {100 * value:>6.1f}% {100 * floor:>6.1f}%" for name, value, floor in rows]
    return "\n".join(lines)


def format_splits(evaluations: list[Evaluation], as_dict: bool = False) -> str | dict:
    """Mean and standard deviation over splits (iLIDS-VID, PRID2011 report 10 splits)."""
    import numpy as np

    keys = ("rank1", "rank5", "rank10", "rank20", "mAP", "mINP")
    values = {k: np.array([e.as_dict()[k] for e in evaluations]) for k in keys}
    summary = {k: {"mean": float(v.mean()), "std": float(v.std())} for k, v in values.items()}
    if as_dict:
        return {**summary, "splits": len(evaluations), "protocol": evaluations[0].protocol}
    lines = [f"{'metric':<8} {'mean':>7} {'std':>6}   (over {len(evaluations)} splits)"]
    lines += [f"{k:<8} {100 * s['mean']:>6.1f}% {100 * s['std']:>5.1f}" for k, s in summary.items()]
    return "\n".join(lines)
