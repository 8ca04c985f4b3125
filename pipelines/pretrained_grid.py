"""Table 2 with ImageNet-pretrained streams, against the same backbone from scratch (issue 22).

    python pipelines/pretrained_grid.py --store mars128.h5 --config configs/synthetic-mobilenet.yaml \\
        --work runs/mobilenet-grid --out runs/mobilenet-grid/grid.md [--seeds 0,1,2,3,4] \\
        [--silhouettes DIR] [--render-only] [-- shared `reid train` settings]

Cells: the paper's Table 2 rows (baseline TP, two-stream TP, gated TP, mutual TP, mutual + weighted
addition) with ``--pretrained auto``, baseline TP and mutual TP with ``--pretrained none``, and mutual TP
with its attention embeddings at 10x the learning rate (``--attention-lr-factor 10``: the fix that the
seed-0 maps pointed to, docs/results-synthetic.md). Runs
go seed by seed (every cell with seed 0, then seed 1, ...), so a job stopped early has the same seeds
for every cell; each finished run is appended to ``<work>/results.jsonl`` and skipped when the job is
started again. With ``--silhouettes`` (the masks of ``flowprep synth --silhouettes``) every attention
run also records the share of its attention on the person (reid/visualize/silhouette.py).
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import dataclass
from pathlib import Path

from paper_tables import choose, load_results, parse_train_args, run_all, train_and_score
from recipe import ahead, summary


@dataclass(frozen=True)
class GridCell:
    label: str
    model: str
    aggregate: str
    pretrained: bool
    attention_lr_factor: float = 1.0

    @property
    def key(self) -> str:
        faster = f"|attention-lr-x{self.attention_lr_factor:g}" if self.attention_lr_factor != 1 else ""
        return f"{self.model}|{self.aggregate}|{'imagenet' if self.pretrained else 'scratch'}{faster}"


CELLS = [
    GridCell("Baseline (one stream), pooling", "baseline", "avg", True),
    GridCell("No attention (two stream), pooling", "two-stream", "avg", True),
    GridCell("Gated attention (one stream), pooling", "gated-attention", "avg", True),
    GridCell("Mutual attention (two stream), pooling", "mutual-attention", "avg", True),
    GridCell("Mutual attention, weighted addition", "mutual-attention", "weighted", True),
    GridCell("Baseline, pooling, from scratch", "baseline", "avg", False),
    GridCell("Mutual attention, pooling, from scratch", "mutual-attention", "avg", False),
    GridCell("Mutual attention, pooling, attention layers at 10x lr", "mutual-attention", "avg", True, 10.0),
]
BY_KEY = {cell.key: cell for cell in CELLS}
# (question, cell, reference): the comparisons issue 22 asks for, each seed paired with itself
COMPARISONS = [
    ("pretrained vs scratch, baseline", "baseline|avg|imagenet", "baseline|avg|scratch"),
    ("pretrained vs scratch, mutual attention", "mutual-attention|avg|imagenet", "mutual-attention|avg|scratch"),
    ("mutual vs gated attention (pretrained, pooling)", "mutual-attention|avg|imagenet", "gated-attention|avg|imagenet"),
    ("mutual attention vs baseline (pretrained, pooling)", "mutual-attention|avg|imagenet", "baseline|avg|imagenet"),
    ("mutual attention vs baseline (scratch, pooling)", "mutual-attention|avg|scratch", "baseline|avg|scratch"),
    ("weighted addition vs pooling (mutual, pretrained)", "mutual-attention|weighted|imagenet",
     "mutual-attention|avg|imagenet"),
    ("attention layers at 10x lr vs 1x (mutual, pretrained, pooling)", "mutual-attention|avg|imagenet|attention-lr-x10",
     "mutual-attention|avg|imagenet"),
    ("mutual attention at 10x lr vs baseline (pretrained, pooling)", "mutual-attention|avg|imagenet|attention-lr-x10",
     "baseline|avg|imagenet"),
    ("mutual attention at 10x lr vs gated attention (pretrained, pooling)",
     "mutual-attention|avg|imagenet|attention-lr-x10", "gated-attention|avg|imagenet"),
]


def run_cell(cell: GridCell, seed: int, args: argparse.Namespace, shared: dict) -> dict:
    settings = {**shared, "store": str(args.store), "model": cell.model, "aggregate": cell.aggregate, "seed": seed,
                "pretrained": "auto" if cell.pretrained else "none", "attention_lr_factor": cell.attention_lr_factor}
    trainer, scores = train_and_score(args.work / cell.key.replace("|", "_") / f"seed{seed}", args.config, settings,
                                      f"pipelines/pretrained_grid.py {cell.key} seed {seed}")
    row = {"cell": cell.key, "seed": seed, **scores}
    if args.silhouettes is not None and cell.model in ("gated-attention", "mutual-attention"):
        from reid.visualize.silhouette import attention_share

        share = attention_share(trainer.model, trainer.store, args.silhouettes, trainer.device, trainer.cfg.seq_len)
        row.update({f"attention_{name}": value for name, value in share.items()})
    return row


def render(results: dict, seeds: list[int], header: str) -> str:
    lines = [header, "", "| row | seeds | mAP | rank-1 | attention on the person (flat map) |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for cell in CELLS:
        done = [results[(cell.key, s)] for s in seeds if (cell.key, s) in results]
        if not done:
            lines.append(f"| {cell.label} | 0 | - | - | - |")
            continue
        shares = [r for r in done if "attention_share" in r]
        share = (f"{summary([r['attention_share'] for r in shares])} ({summary([r['attention_area'] for r in shares])})"
                 if shares else "-")
        lines.append(f"| {cell.label} | {len(done)} | {summary([r['mAP'] for r in done])} "
                     f"| {summary([r['rank1'] for r in done])} | {share} |")
    lines += ["", "| comparison | mAP difference | ahead in |", "| --- | ---: | ---: |"]
    for question, first, second in COMPARISONS:
        both = [s for s in seeds if (first, s) in results and (second, s) in results]
        gains = [results[(first, s)]["mAP"] - results[(second, s)]["mAP"] for s in both]
        lines.append(f"| {question} | {summary(gains) if gains else '-'} | {ahead(results, first, second, seeds)} |")
    chance = [r["chance_mAP"] for r in results.values()]
    if chance:
        lines += ["", f"Chance level (random ranking): mAP {100 * statistics.mean(chance):.1f}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--config", type=Path, required=True, help="reid train config file the runs start from")
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="markdown file to write")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--cells", default=",".join(BY_KEY), help="cell keys to run (default: all eight)")
    parser.add_argument("--silhouettes", type=Path, default=None)
    parser.add_argument("--render-only", action="store_true", help="rebuild the markdown from finished runs")
    parser.add_argument("train", nargs=argparse.REMAINDER, help="-- then reid train settings")
    args = parser.parse_args()
    cells, seeds = choose(parser, args.cells, BY_KEY, "cell"), [int(s) for s in args.seeds.split(",")]
    shared = parse_train_args([a for a in args.train if a != "--"])
    args.work.mkdir(parents=True, exist_ok=True)
    results_file = args.work / "results.jsonl"
    results = load_results(results_file)
    todo = [] if args.render_only else [(c, s) for s in seeds for c in cells if (c.key, s) not in results]
    print(f"{len(todo)} runs to do, {len(results)} already done ({results_file})", flush=True)
    run_all(todo, results, results_file, lambda cell, seed: run_cell(cell, seed, args, shared))
    extra = " ".join(a for a in args.train if a != "--")
    header = (f"Table 2 with pretrained streams on `{args.store}`, seeds {args.seeds}; settings `{args.config}`"
              f"{f' then `{extra}`' if extra else ''}. mAP and rank-1 in %, mean ± std over the finished seeds.")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(results, seeds, header))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
