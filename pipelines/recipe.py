"""Training-recipe ablation: one change at a time, baseline and mutual attention, several seeds.

    python pipelines/recipe.py --store mars64.h5 --out runs/recipe/recipe.md --work runs/recipe \\
        [--config configs/synthetic-tables.yaml] [--variants before,frame-random,...] [--models baseline,mutual-attention] [--seeds 0,1,2,3,4] \\
        [-- shared `reid train` settings, e.g. --epochs 40]

Each variant fixes the recipe settings (augmentation per clip or per frame, training-frame
sampling, erasing probability, crop padding, learning-rate schedule); the shared settings
after ``--`` apply to every run. Every run is also scored with L2-normalised features
(cosine distance) from the same checkpoint, so test-time normalisation costs no training.

Runs go seed by seed (all variants with seed 0, then seed 1, ...), so a job stopped early has
the same seeds for every variant. Finished runs are appended to ``<work>/results.jsonl`` and
skipped when the job is started again, as in ``paper_tables.py``.
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import dataclass
from pathlib import Path

from paper_tables import choose, load_results, parse_train_args, train_and_score

# every variant names all four recipe settings, so a later change of the defaults leaves its runs valid
BEFORE = {"augment": "clip", "sampling": "run", "erase_p": 0.5, "crop_pad": 10 / 128}
FRAME_RANDOM = {**BEFORE, "augment": "frame", "sampling": "random"}


@dataclass(frozen=True)
class Variant:
    name: str
    change: str
    settings: dict


VARIANTS = [
    Variant("before", "per-clip augmentation, consecutive run (the recipe before this ablation)", BEFORE),
    Variant("frame-run", "augmentation drawn per frame", {**BEFORE, "augment": "frame"}),
    Variant("clip-random", "sorted random subset of the tracklet", {**BEFORE, "sampling": "random"}),
    Variant("frame-random", "per frame + sorted random subset", FRAME_RANDOM),
    Variant("paper", "per frame, consecutive run, no erasing: the paper's flips and crops as in [16]",
            {**BEFORE, "augment": "frame", "erase_p": 0.0}),
    Variant("frame-evenly", "per frame + evenly spaced (random phase)", {**BEFORE, "augment": "frame", "sampling": "evenly"}),
    Variant("frame-random-erase0", "frame-random, no random erasing", {**FRAME_RANDOM, "erase_p": 0.0}),
    Variant("frame-random-crop0", "frame-random, no random crop", {**FRAME_RANDOM, "crop_pad": 0.0}),
    Variant("frame-random-crop4px", "frame-random, crop padding 1/8 of the width (4 px)", {**FRAME_RANDOM, "crop_pad": 0.125}),
    Variant("frame-random-nodrop", "frame-random, no learning-rate drop", {**FRAME_RANDOM, "milestones": ()}),
    Variant("erase0-crop0", "frame-random-erase0, no random crop", {**FRAME_RANDOM, "erase_p": 0.0, "crop_pad": 0.0}),
    Variant("erase0-nodrop", "frame-random-erase0, no learning-rate drop",
            {**FRAME_RANDOM, "erase_p": 0.0, "milestones": ()}),
]
BY_NAME = {v.name: v for v in VARIANTS}


def key(variant: str, model: str) -> str:
    return f"{variant}|{model}"


def run_one(variant: Variant, model: str, seed: int, store: Path, work: Path, config: Path, shared: dict) -> dict:
    """Train one run, score it with raw and with L2-normalised test features."""
    from reid.engine.evaluation import evaluate_model

    settings = {**shared, **variant.settings, "model": model, "aggregate": "avg", "seed": seed, "store": str(store)}
    trainer, scores = train_and_score(work / variant.name / model / f"seed{seed}", config, settings,
                                      f"pipelines/recipe.py {variant.name} {model} seed {seed}")
    cosine = evaluate_model(trainer.model, trainer.store, seq_len=trainer.cfg.seq_len, device=trainer.device,
                            metric="cosine").as_dict()
    return {"cell": key(variant.name, model), "seed": seed, **scores,
            "mAP_cosine": cosine["mAP"], "rank1_cosine": cosine["rank1"]}


def summary(values: list[float]) -> str:
    """Mean ± std in %, or the single value of a cell with one run."""
    if len(values) == 1:
        return f"{100 * values[0]:.1f}"
    return f"{100 * statistics.mean(values):.1f} ± {100 * statistics.stdev(values):.1f}"


def ahead(results: dict, cell: str, reference: str, seeds: list[int], metric: str = "mAP",
          reference_metric: str = "mAP") -> str:
    """'n of k': in how many of the seeds both cells ran the cell scores above the reference."""
    both = [s for s in seeds if (cell, s) in results and (reference, s) in results]
    wins = sum(results[(cell, s)][metric] > results[(reference, s)][reference_metric] for s in both)
    return f"{wins} of {len(both)}" if both else "-"


def render(results: dict, variants: list[Variant], models: list[str], seeds: list[int], header: str) -> str:
    lines = [header, ""]
    for model in models:
        lines += [f"### {model} (temporal average pooling)", "",
                  "| variant | change | seeds | mAP | ahead of `before` | rank-1 | mAP, normalised features | ahead of raw |",
                  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for variant in variants:
            cell = key(variant.name, model)
            done = [results[(cell, s)] for s in seeds if (cell, s) in results]
            if not done:
                continue
            reference = key("before", model)
            lines.append(
                f"| `{variant.name}` | {variant.change} | {len(done)} | {summary([r['mAP'] for r in done])} "
                f"| {ahead(results, cell, reference, seeds) if cell != reference else '-'} "
                f"| {summary([r['rank1'] for r in done])} "
                f"| {summary([r['mAP_cosine'] for r in done])} "
                f"| {ahead(results, cell, cell, seeds, 'mAP_cosine', 'mAP')} |")
        lines.append("")
    if len(models) > 1:
        lines += [f"### {models[1]} vs {models[0]}, same recipe", "",
                  "| variant | mAP gain | ahead in |", "| --- | ---: | ---: |"]
        for variant in variants:
            first, second = key(variant.name, models[0]), key(variant.name, models[1])
            both = [s for s in seeds if (first, s) in results and (second, s) in results]
            if both:
                gains = [results[(second, s)]["mAP"] - results[(first, s)]["mAP"] for s in both]
                lines.append(f"| `{variant.name}` | {summary(gains)} | {ahead(results, second, first, both)} |")
        lines.append("")
    chance = [r["chance_mAP"] for r in results.values()]
    if chance:
        lines.append(f"Chance level (random ranking): mAP {100 * statistics.mean(chance):.1f}.")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="markdown file to write")
    parser.add_argument("--work", type=Path, default=Path("runs/recipe"))
    parser.add_argument("--config", type=Path, default=Path(__file__).resolve().parents[1] / "configs" / "synthetic-tables.yaml",
                        help="reid train config file the runs start from (each variant then sets its recipe)")
    parser.add_argument("--variants", default=",".join(v.name for v in VARIANTS))
    parser.add_argument("--models", default="baseline,mutual-attention")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--render-only", action="store_true", help="rebuild the markdown from finished runs, train none")
    parser.add_argument("train", nargs=argparse.REMAINDER, help="-- then reid train settings, e.g. --epochs 40")
    args = parser.parse_args()
    variants = choose(parser, args.variants, BY_NAME, "variant")
    models, seeds = args.models.split(","), [int(s) for s in args.seeds.split(",")]
    shared = parse_train_args([a for a in args.train if a != "--"])
    args.work.mkdir(parents=True, exist_ok=True)
    results_file = args.work / "results.jsonl"
    results = load_results(results_file)
    todo = [(v, m, s) for s in seeds for v in variants for m in models
            if (key(v.name, m), s) not in results and not args.render_only]
    print(f"{len(todo)} runs to do, {len(results)} already done ({results_file})", flush=True)
    for number, (variant, model, seed) in enumerate(todo, 1):
        if (key(variant.name, model), seed) in load_results(results_file):
            continue  # finished meanwhile by another job on the same work folder
        row = run_one(variant, model, seed, args.store, args.work, args.config, shared)
        with open(results_file, "a") as handle:
            handle.write(json.dumps(row) + "\n")
        results[(row["cell"], seed)] = row
        print(f"[{number}/{len(todo)}] {row['cell']} seed {seed}: mAP {100 * row['mAP']:.1f} "
              f"(normalised {100 * row['mAP_cosine']:.1f}) ({row['seconds']} s)", flush=True)
    header = (f"Recipe ablation on `{args.store}`, seeds {args.seeds}; settings: `{args.config}`, then "
              f"`{' '.join(a for a in args.train if a != '--') or 'defaults'}`. mAP and rank-1 in %, mean ± std.")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(results, variants, models, seeds, header))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
