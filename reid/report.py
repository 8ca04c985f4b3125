"""The evaluation tables printed by ``reid train`` and ``reid evaluate``: one split, or mean and std over splits."""

from __future__ import annotations

import numpy as np

from reid.engine.evaluation import Evaluation

# (row name in the tables, key of Evaluation.as_dict)
ROWS = (("rank-1", "rank1"), ("rank-5", "rank5"), ("rank-10", "rank10"), ("rank-20", "rank20"), ("mAP", "mAP"),
        ("mINP", "mINP"))


def _chance(evaluation: Evaluation) -> dict[str, float]:
    c = evaluation.chance
    return {"rank1": c.cmc[0], "rank5": c.cmc[4], "rank10": c.cmc[9], "rank20": c.cmc[19], "mAP": c.mAP, "mINP": c.mINP}


def format_table(evaluation: Evaluation, title: str = "") -> str:
    """Rank-1/5/10/20, mAP and mINP in percent, with a random ranking's scores beside them."""
    scores, chance = evaluation.as_dict(), _chance(evaluation)
    lines = [title] if title else []
    lines.append(f"{'metric':<8} {'model':>7} {'chance':>7}   "
                 f"({evaluation.protocol} protocol, {evaluation.result.num_valid_queries} queries)")
    lines += [f"{name:<8} {100 * scores[key]:>6.1f}% {100 * chance[key]:>6.1f}%" for name, key in ROWS]
    for condition, result in evaluation.clothes.items():
        lines.append(f"{condition + ' outfit':<15} " + ("no query has such a match" if result is None else
                     f"rank-1 {100 * result.cmc[0]:.1f}%  mAP {100 * result.mAP:.1f}%  ({result.num_valid_queries} queries)"))
    return "\n".join(lines)


def format_splits(evaluations: list[Evaluation], as_dict: bool = False) -> str | dict:
    """Mean and standard deviation over splits (iLIDS-VID, PRID2011 report 10 splits), with the
    mean chance level, in the single-split table's rows and units."""
    values = {key: np.array([e.as_dict()[key] for e in evaluations]) for _, key in ROWS}
    chance = {key: float(np.mean([_chance(e)[key] for e in evaluations])) for _, key in ROWS}
    summary = {key: {"mean": float(v.mean()), "std": float(v.std())} for key, v in values.items()}
    if as_dict:
        return {**summary, "splits": len(evaluations), "protocol": evaluations[0].protocol,
                "chance": {key: chance[key] for key in ("rank1", "mAP")}}
    lines = [f"{'metric':<8} {'model':>7} {'std':>6} {'chance':>7}   "
             f"({evaluations[0].protocol} protocol, mean over {len(evaluations)} splits)"]
    lines += [f"{name:<8} {100 * summary[key]['mean']:>6.1f}% {100 * summary[key]['std']:>5.1f}% {100 * chance[key]:>6.1f}%"
              for name, key in ROWS]
    return "\n".join(lines)
