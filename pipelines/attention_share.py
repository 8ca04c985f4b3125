"""Share of the spatial attention on the person, for trained gated/mutual-attention runs.

    python pipelines/attention_share.py --store mars128.h5 --silhouettes data/mars-silhouettes \\
        RUN_OR_CHECKPOINT [...] [--jsonl shares.jsonl]

Each argument is a run folder (its ``last.pt``) or a checkpoint; with none, only the first line is
printed: the same numbers for the stored flow's magnitude (does motion mark the person?). The store
must have been extracted from a synthetic dataset written with ``flowprep synth --silhouettes DIR``
(the masks are matched to the store's frames by file name). Prints one line per run; ``--jsonl`` appends one JSON row per
run (run, model, share, area, inside, outside, frames), skipping runs already in the file.
See reid/visualize/silhouette.py for what the numbers mean.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", type=Path, help="run folders or checkpoints")
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--silhouettes", type=Path, required=True)
    parser.add_argument("--jsonl", type=Path, default=None)
    parser.add_argument("--clips-per-tracklet", type=int, default=2)
    args = parser.parse_args()

    import torch

    from flowprep import open_store
    from reid.engine.inference import load_trained_model
    from reid.visualize.silhouette import attention_share, flow_on_person

    done = set()
    if args.jsonl is not None and args.jsonl.exists():
        done = {json.loads(line)["run"] for line in args.jsonl.read_text().splitlines() if line.strip()}
    device = torch.device("cpu")
    with open_store(args.store) as store:
        flow = flow_on_person(store, args.silhouettes)
        print(f"{args.store}: flow magnitude on the person {flow['inside']:.2f} px vs off it {flow['outside']:.2f} px; "
              f"{flow['share']:.1%} of it on the person (its area: {flow['area']:.1%}), {flow['frames']} frames", flush=True)
        for run in args.runs:
            if str(run) in done:
                continue
            checkpoint = run / "last.pt" if run.is_dir() else run
            model, config = load_trained_model(checkpoint, device, store)
            row = {"run": str(run), "model": model.config["model"],
                   **attention_share(model, store, args.silhouettes, device, config.get("seq_len", 4),
                                     args.clips_per_tracklet)}
            print(f"{run}: {row['model']}: attention share on the person {row['share']:.1%} (flat map: "
                  f"{row['area']:.1%}), mean M inside {row['inside']:.3f} vs outside {row['outside']:.3f}, "
                  f"{row['frames']} frames", flush=True)
            if args.jsonl is not None:
                with open(args.jsonl, "a") as handle:
                    handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
