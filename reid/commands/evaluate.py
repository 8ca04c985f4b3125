"""``reid evaluate``: CMC rank-1/5/10/20, mAP and mINP of a checkpoint on a store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from flowreid.protocols import PROTOCOLS
from reid.errors import ReidError

if TYPE_CHECKING:
    from flowprep import StoreMeta, StoreReader


SPLIT_FIELD = "{split}"


def _fill(pattern: Path, split: int | None) -> Path:
    return Path(str(pattern).replace(SPLIT_FIELD, str(split))) if split is not None else pattern


def _check_split_options(store: Path, checkpoint: Path, split: int | None, all_splits: bool) -> None:
    """Refuse split options that would be ignored or would evaluate one store ten times."""
    if all_splits and split is not None:
        raise ReidError("--split and --all-splits contradict each other: pass one")
    for option, path in (("--store", store), ("--checkpoint", checkpoint)):
        if SPLIT_FIELD in str(path) and split is None and not all_splits:
            raise ReidError(f"{option} {path} has {SPLIT_FIELD}: pass --split K or --all-splits")
    if all_splits and SPLIT_FIELD not in str(store):
        raise ReidError(f"--all-splits needs {SPLIT_FIELD} in --store (one store per split), got {store}")


def _check_store_split(reader: StoreReader, split: int | None) -> None:
    """The store must hold the split asked for: a path without {split} must not make --split a no-op."""
    recorded = reader.meta.split
    if split is None:
        return
    if recorded < 0:
        raise ReidError(f"{reader.path}: records no split ({reader.meta.dataset} store); drop --split, "
                            "or re-extract it with flowprep extract --split K")
    if recorded != split:
        raise ReidError(f"{reader.path}: holds split {recorded}, not split {split}; pass that split's store "
                            f"(e.g. --store with {SPLIT_FIELD})")


def _split_note(meta: StoreMeta) -> str:
    """Which split the store holds and where it came from, for the table's title."""
    return f", split {meta.split} from {meta.split_source or 'an unrecorded source'}" if meta.split >= 0 else ""


def _trained_note(trained: dict | None) -> str:
    """The training store, for the table's title (a checkpoint from before store records: nothing)."""
    from reid.data.store_record import training_store_words

    return f", trained on {training_store_words(trained)}" if trained else ""


@click.command("evaluate")
@click.option("--store", type=click.Path(path_type=Path), required=True,
              help="Store to evaluate on; may contain {split} with --split/--all-splits.")
@click.option("--checkpoint", type=click.Path(path_type=Path), required=True,
              help="Checkpoint from reid train (best.pt); may contain {split}.")
@click.option("--protocol", type=click.Choice(PROTOCOLS), default="standard", show_default=True,
              help="matlab: the official MARS code's gallery, every test tracklet with the queries included once.")
@click.option("--metric", type=click.Choice(["euclidean", "cosine"]), default="euclidean", show_default=True)
@click.option("--rerank", is_flag=True, help="k-reciprocal re-ranking.")
@click.option("--k1", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--k2", type=click.IntRange(min=1), default=6, show_default=True)
@click.option("--lambda", "lambda_value", type=click.FloatRange(0, 1), default=0.3, show_default=True)
@click.option("--split", type=click.IntRange(0, 9), default=None,
              help="iLIDS-VID/PRID split: fills {split} in the paths; the store must hold that split.")
@click.option("--all-splits", is_flag=True, help="Mean and std over splits 0..9.")
@click.option("--seq-len", type=click.IntRange(min=1), default=None, help="Test clip length [default: the training one].")
@click.option("--device", default="auto", show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Loader processes; 0 reads in this process [default: the cores, at most 4].")
@click.option("--amp", type=click.Choice(["bf16", "off"]), default="bf16", show_default=True)
@click.option("--allow-store-mismatch", is_flag=True,
              help="Evaluate even on a store of another size, flow method, flow codec or split than the "
                   "training store (a warning names the difference).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def command(store, checkpoint, protocol, metric, rerank, k1, k2, lambda_value, split, all_splits, seq_len, device,
            batch_size, workers, amp, allow_store_mismatch, as_json, quiet) -> None:
    """Evaluate CHECKPOINT on the query/gallery sets of STORE.

    A checkpoint trained on a store of another frame size, flow method, flow codec or split
    (same dataset) is refused unless --allow-store-mismatch is given.
    """
    from flowprep import open_store
    from flowreid.options import default_workers
    from reid.engine.evaluation import evaluate_model
    from reid.engine.inference import load_trained_model
    from reid.engine.runtime import resolve_device
    from reid.report import format_splits, format_table

    _check_split_options(store, checkpoint, split, all_splits)
    splits = list(range(10)) if all_splits else [split]
    dev = resolve_device(device)
    results = []
    for k in splits:
        with open_store(_fill(store, k)) as reader:
            _check_store_split(reader, k)
            recorded = reader.meta
            model, run_config, trained = load_trained_model(_fill(checkpoint, k), dev, reader, allow_store_mismatch)
            results.append(evaluate_model(
                model, reader, seq_len=seq_len or int(run_config.get("seq_len", 4)), device=dev, protocol=protocol,
                metric=metric, rerank={"k1": k1, "k2": k2, "lambda_value": lambda_value} if rerank else None,
                batch_size=batch_size, workers=default_workers() if workers is None else workers, amp=amp,
                progress=not quiet,
            ))
    if as_json:
        payload = results[0].as_dict() if len(results) == 1 else format_splits(results, as_dict=True)
        if len(results) == 1 and recorded.split >= 0:
            payload.update(split=recorded.split, split_source=recorded.split_source)
        if trained:
            payload["trained_on"] = {key: trained.get(key) for key in ("dataset", "split", "path")}
        click.echo(json.dumps(payload))
    elif len(results) == 1:
        title = f"{_fill(checkpoint, split)} on {_fill(store, split)}{_split_note(recorded)}{_trained_note(trained)}"
        click.echo(format_table(results[0], title=title))
    else:
        click.echo(format_splits(results))
