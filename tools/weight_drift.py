"""How far each part of a trained network moved from where its run started.

Why: a layer that starts from scratch inside ImageNet streams that are only fine-tuned (the attention
embeddings) can end a short schedule still close to its random start, and then whatever it computes
is mostly that random start. This says so in numbers, per top-level part of the model.

The start is rebuilt from the checkpoint's own record, as ``reid train`` built it: the recorded seed
gives the same random weights (``reid.engine.config.seeded_model``) and the recorded ImageNet file
goes into the backbone streams. Drift of a part = ||w_end - w_start|| / ||w_start|| over its
weights (batch-norm running statistics left out).

    python tools/weight_drift.py RUN/best.pt [RUN2/best.pt ...] [--pretrained PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from torch import Tensor

from reid.engine.checkpoint import load_checkpoint
from reid.engine.config import seeded_model
from reid.errors import ReidError


def part_drift(start: dict[str, Tensor], end: dict[str, Tensor]) -> dict[str, float]:
    """Relative change per top-level part (the key's first name), in state-dict order."""
    moved: dict[str, tuple[float, float]] = {}  # part -> (squared change, squared size)
    for key, before in start.items():
        if not before.is_floating_point() or key.rsplit(".", 1)[-1].startswith("running_"):
            continue
        part = key.split(".")[0]
        change, size = moved.get(part, (0.0, 0.0))
        moved[part] = (change + float((end[key].float() - before.float()).pow(2).sum()),
                       size + float(before.float().pow(2).sum()))
    return {part: (change / size) ** 0.5 if size else float("inf") for part, (change, size) in moved.items()}


def starting_state(path: Path, state: dict, pretrained: Path | None) -> dict[str, Tensor]:
    """The weights the run in ``state`` started from (``pretrained`` replaces the recorded ImageNet file)."""
    config = state["config"]
    if config.get("init_from"):
        raise ReidError(f"{path}: this run started from the checkpoint {config['init_from']}; compare with it directly")
    model = seeded_model(state["model_config"], int(config["seed"]))
    weights = pretrained or (None if config["pretrained"] == "none" else Path(config["pretrained"]))
    if weights is not None:
        if not weights.is_file():
            raise ReidError(f"{path}: the run started from {weights}, which is not here; pass --pretrained PATH")
        model.load_imagenet(weights)
    return model.state_dict()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", type=Path, nargs="+")
    parser.add_argument("--pretrained", type=Path, default=None, help="the ImageNet file, where the recorded one moved")
    args = parser.parse_args(argv)
    for path in args.checkpoints:
        try:
            state = load_checkpoint(path)
            drift = part_drift(starting_state(path, state, args.pretrained), state["model"])
        except ReidError as exc:
            sys.exit(f"weight_drift: error: {exc}")
        print(f"{path}: " + ", ".join(f"{part} {100 * value:.1f}%" for part, value in drift.items()))


if __name__ == "__main__":
    main()
