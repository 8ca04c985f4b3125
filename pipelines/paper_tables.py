"""The paper's ablation tables on any store: train each cell over several seeds, write markdown.

    python pipelines/paper_tables.py --config configs/synthetic-tables.yaml --store mars.h5 \\
        --out docs/results-synthetic.md [--tables 1,2,3] [--seeds 0,1] [--work runs/tables] [-- reid train flags]

Every run starts from the settings of ``--config`` (a ``reid train`` config file; default: the
paper's recipe, configs/base.yaml), then the flags after ``--``, then the cell's own settings.

Table 1: mutual attention after conv2_x..conv5_x ("layer 2..5") vs the baseline, temporal pooling.
Table 2: baseline TP / RNN / TA, two-stream TP, gated TP, mutual TP, mutual + weighted addition.
Table 3: clip length 2, 4, 6, 8, 16 x (baseline TP, baseline RNN, gated + weighted, mutual + weighted).

Every finished run is appended to ``<work>/results.jsonl`` and skipped when the job is started
again, so a killed job resumes where it stopped; the markdown is rebuilt from that file.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Cell:
    """One configuration of the grid; ``key`` names its runs in the results file."""

    model: str
    aggregate: str
    attention_layer: int = 4
    seq_len: int = 4

    @property
    def key(self) -> str:
        return f"{self.model}|{self.aggregate}|L{self.attention_layer}|T{self.seq_len}"


BASELINE_TP = Cell("baseline", "avg")
TABLE1 = [("Baseline (TP)", BASELINE_TP)] + [
    (f"Baseline + MA (layer {layer}) + TP", Cell("mutual-attention", "avg", layer)) for layer in (2, 3, 4, 5)
]
TABLE2 = [
    ("Baseline (one stream), pooling", BASELINE_TP),
    ("No attention (two stream), pooling", Cell("two-stream", "avg")),
    ("Gated attention (one stream), pooling", Cell("gated-attention", "avg")),
    ("Mutual attention (two stream), pooling", Cell("mutual-attention", "avg")),
    ("Baseline, RNN", Cell("baseline", "rnn")),
    ("Baseline, temporal attention", Cell("baseline", "attention")),
    ("Mutual attention, weighted addition", Cell("mutual-attention", "weighted")),
]
TABLE3_COLUMNS = [
    ("Baseline, average pooling", "baseline", "avg"),
    ("Baseline, RNN", "baseline", "rnn"),
    ("Gated attention, weighted addition", "gated-attention", "weighted"),
    ("Mutual attention, weighted addition", "mutual-attention", "weighted"),
]
TABLE3_LENGTHS = (2, 4, 6, 8, 16)


def table3_cells() -> list[Cell]:
    return [Cell(model, aggregate, 4, length) for length in TABLE3_LENGTHS for _, model, aggregate in TABLE3_COLUMNS]


def cells_for(tables: list[int]) -> list[Cell]:
    cells: list[Cell] = []
    for table in tables:
        chosen = {1: [c for _, c in TABLE1], 2: [c for _, c in TABLE2], 3: table3_cells()}[table]
        cells += [c for c in chosen if c not in cells]
    return cells


def load_results(path: Path) -> dict[tuple[str, int], dict]:
    if not path.exists():
        return {}
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {(row["cell"], row["seed"]): row for row in rows}


def train_and_score(out: Path, config: Path | None, settings: dict, command: str) -> tuple:
    """Train one run from scratch into ``out`` (the settings of ``config``, then ``settings``) and evaluate
    its last epoch: (trainer, scores row)."""
    from reid.config import train_config
    from reid.engine.trainer import Trainer

    shutil.rmtree(out, ignore_errors=True)  # a half-finished run of a killed job starts over
    cfg = train_config({**settings, "out": str(out), "eval_every": 0, "quiet": True}, config)
    started = time.monotonic()
    trainer = Trainer(cfg, command=command)
    scores = trainer.run().as_dict()
    return trainer, {"mAP": scores["mAP"], "rank1": scores["rank1"], "chance_mAP": scores["chance"]["mAP"],
                     "chance_rank1": scores["chance"]["rank1"], "seconds": round(time.monotonic() - started, 1)}


def run_cell(cell: Cell, seed: int, store: Path, work: Path, config: Path, train_args: dict) -> dict:
    """Train one cell with one seed from scratch, evaluate its last epoch, return the scores."""
    out = work / cell.key.replace("|", "_") / f"seed{seed}"
    settings = {**train_args, "store": str(store), "model": cell.model, "aggregate": cell.aggregate,
                "attention_layer": cell.attention_layer, "seq_len": cell.seq_len, "seed": seed}
    _, scores = train_and_score(out, config, settings, f"pipelines/paper_tables.py cell {cell.key} seed {seed}")
    return {"cell": cell.key, "seed": seed, **scores}


def run_all(todo: list, results: dict, results_file: Path, run) -> None:
    """Run each (cell, seed) of ``todo`` with ``run``, appending its row to ``results_file`` as it finishes."""
    for number, (cell, seed) in enumerate(todo, 1):
        row = run(cell, seed)
        with open(results_file, "a") as handle:
            handle.write(json.dumps(row) + "\n")
        results[(cell.key, seed)] = row
        print(f"[{number}/{len(todo)}] {cell.key} seed {seed}: mAP {100 * row['mAP']:.1f} "
              f"rank-1 {100 * row['rank1']:.1f} ({row['seconds']} s)", flush=True)


def cell_text(results: dict, cell: Cell, metric: str, seeds: list[int]) -> str:
    values = [100 * results[(cell.key, s)][metric] for s in seeds if (cell.key, s) in results]
    if not values:
        return "-"
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.1f} ± {spread:.1f}"


def render(results: dict, tables: list[int], seeds: list[int], header: str) -> str:
    lines = [header, ""]
    for number, title, rows in ((1, "Table 1: where to attend (temporal pooling)", TABLE1),
                                (2, "Table 2: contribution of each module", TABLE2)):
        if number in tables:
            lines += [f"## {title}", "", "| method | mAP | rank-1 |", "| --- | ---: | ---: |"]
            lines += [f"| {name} | {cell_text(results, c, 'mAP', seeds)} | {cell_text(results, c, 'rank1', seeds)} |"
                      for name, c in rows]
            lines.append("")
    if 3 in tables:
        head = " | ".join(f"{name} mAP | rank-1" for name, _, _ in TABLE3_COLUMNS)
        lines += ["## Table 3: clip length", "", f"| frames | {head} |",
                  "| ---: |" + " ---: | ---: |" * len(TABLE3_COLUMNS)]
        for length in TABLE3_LENGTHS:
            cells = [Cell(model, aggregate, 4, length) for _, model, aggregate in TABLE3_COLUMNS]
            row = " | ".join(f"{cell_text(results, c, 'mAP', seeds)} | {cell_text(results, c, 'rank1', seeds)}"
                             for c in cells)
            lines.append(f"| {length} | {row} |")
        lines.append("")
    chance = [r["chance_mAP"] for r in results.values()]
    if chance:
        lines.append(f"Chance level (random ranking): mAP {100 * statistics.mean(chance):.1f}, "
                     f"rank-1 {100 * statistics.mean(r['chance_rank1'] for r in results.values()):.1f}.")
    return "\n".join(lines) + "\n"


def choose(parser: argparse.ArgumentParser, text: str, known: dict, what: str) -> list:
    """The entries of ``known`` that comma-separated ``text`` names, in its order; an unknown name is a
    usage error listing the known ones."""
    names = text.split(",")
    unknown = [name for name in names if name not in known]
    if unknown:
        parser.error(f"unknown {what}(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[name] for name in names]


def parse_train_args(items: list[str]) -> dict:
    """``reid train`` flags after ``--`` as settings, converted and checked by each setting's own definition."""
    from reid.settings import SETTINGS_BY_NAME, SettingError

    args, i = {}, 0
    while i < len(items):
        name = items[i].removeprefix("--")
        negated = name.startswith("no-") and name[3:].replace("-", "_") in SETTINGS_BY_NAME
        setting = SETTINGS_BY_NAME.get((name[3:] if negated else name).replace("-", "_"))
        if setting is None:
            raise SystemExit(f"unknown train setting {items[i]}")
        if setting.kind is bool:
            args[setting.name], i = not negated, i + 1
            continue
        if i + 1 == len(items):
            raise SystemExit(f"{items[i]} needs a value")
        try:
            args[setting.name] = setting.from_text(items[i + 1])
        except SettingError as exc:
            raise SystemExit(f"{items[i]}: {exc}") from None
        i += 2
    return args


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path(__file__).resolve().parents[1] / "configs" / "base.yaml",
                        help="reid train config file the runs start from")
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="markdown file to write")
    parser.add_argument("--work", type=Path, default=Path("runs/tables"))
    parser.add_argument("--tables", default="1,2,3")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("train", nargs=argparse.REMAINDER, help="-- then reid train settings, e.g. --epochs 30")
    args = parser.parse_args()
    tables = [int(t) for t in args.tables.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    train_args = parse_train_args([a for a in args.train if a != "--"])
    args.work.mkdir(parents=True, exist_ok=True)
    results_file = args.work / "results.jsonl"
    results = load_results(results_file)
    todo = [(c, s) for c in cells_for(tables) for s in seeds if (c.key, s) not in results]
    print(f"{len(todo)} runs to do, {len(results)} already done ({results_file})", flush=True)
    run_all(todo, results, results_file, lambda cell, seed: run_cell(cell, seed, args.store, args.work, args.config,
                                                                     train_args))
    extra = " ".join(a for a in args.train if a != "--")
    header = (f"# Paper tables on `{args.store}`\n\nSeeds {args.seeds}; train settings: `{args.config}`"
              f"{f' and `{extra}`' if extra else ''}. Cells: mean ± std over seeds, in %.")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(results, tables, seeds, header))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
