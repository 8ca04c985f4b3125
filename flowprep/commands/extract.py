"""``flowprep extract``: compute optical flow for every tracklet and write the store."""

from __future__ import annotations

import shlex
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import click

from flowprep.datasets import DATASETS
from flowprep.errors import FlowprepError
from flowprep.flow import FLOW_METHODS
from flowprep.weights import default_liteflownet_weights
from flowreid.cli import RegistryChoice
from flowreid.errors import Interrupted
from flowreid.options import default_workers, parse_size

if TYPE_CHECKING:
    from flowprep.datasets.base import DatasetAdapter
    from flowprep.shards import Shard


def _parse_flow_params(items: tuple[str, ...]) -> dict[str, str]:
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r}: expected KEY=VALUE", param_hint="--flow-param")
        params[key.strip()] = value.strip()
    return params


def _choose_flow(flow: str, device: str, weights: Path | None) -> tuple[str, str, Path | None]:
    """``auto`` is LiteFlowNet (the paper's choice) on a GPU with weights at hand, else DIS on the CPU."""
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    if flow != "auto":
        return flow, device, weights
    weights = weights or default_liteflownet_weights()
    if device.startswith("cuda") and weights is not None:
        return "liteflownet", device, weights
    click.echo(f"flow: dis on the CPU ({'no GPU' if device == 'cpu' else 'no LiteFlowNet weights, see --weights'})", err=True)
    return "dis", "cpu", None


def _refuse_protocol(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        raise FlowprepError("--protocol is chosen at evaluation now: extract the standard store and pass "
                            f"--protocol {value} to reid evaluate")


def _store_path(out: Path | None, dataset: type[DatasetAdapter], split: int | None, shard: Shard) -> Path:
    """``--out`` with ``{split}`` filled in, or the default name, which carries the split and shard."""
    split = 0 if split is None else split
    if out is None:
        stem = f"{dataset.name}-split{split}" if dataset.has_splits else dataset.name
        return Path(f"{stem}.h5" if shard.count == 1 else f"{stem}.shard{shard.index}of{shard.count}.h5")
    if "{split}" not in str(out):
        return out
    if not dataset.has_splits:
        raise FlowprepError(f"--out {out}: {dataset.name} has no splits to fill into {{split}}")
    return Path(str(out).replace("{split}", str(split)))


def _dry_run(adapter: DatasetAdapter) -> None:
    from flowprep.datasets.survey import survey

    tracklets = adapter.tracklets()
    report = survey(tracklets, check_frames=not adapter.planned_frames)
    click.echo(f"{adapter.root}: {adapter.name}, dry run (layout and metadata only, no frame read)")
    if adapter.planned_frames:
        click.echo(f"crops are made by the extraction, into {adapter.cache} (nothing written now)")
    if adapter.has_splits:
        click.echo(adapter.split_note())
    for line in report.lines():
        click.echo(line)


@contextmanager
def resume_hint(store: Path) -> Iterator[None]:
    """Ctrl-C becomes one line: what is kept, and this command line with --resume (and without --overwrite)."""
    from flowprep.parts import journal_folder

    try:
        yield
    except KeyboardInterrupt:
        args = [arg for arg in sys.argv[1:] if arg not in ("--resume", "--overwrite")]
        again = shlex.join(["flowprep", *args, "--resume"])
        parts = journal_folder(store)
        kept = f"the finished tracklets are kept in {parts}" if parts.exists() else "no tracklet was finished yet"
        raise Interrupted(f"interrupted; {kept}: continue with {again}") from None


@click.command("extract")
@click.option("--dataset", type=RegistryChoice(DATASETS), required=True,
              help="Dataset layout to read (mot: MOTChallenge-style tracker output).")
@click.option("--root", type=click.Path(path_type=Path), default=None,
              help="Dataset folder in its official layout [default: $REID_DATA/<dataset>, else ./data/<dataset>].")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Store to write; {split} is replaced by the split [default: ./<dataset>.h5, "
                   "./<dataset>-split<K>.h5 for iLIDS-VID/PRID].")
@click.option("--flow", type=RegistryChoice(FLOW_METHODS, first=("auto",)), default="auto", show_default=True,
              help="Flow method; auto: liteflownet on a GPU with weights, else dis.")
@click.option("--weights", type=click.Path(path_type=Path), default=None,
              help="LiteFlowNet weights (network-default.pytorch) [default: $FLOWPREP_WEIGHTS or ./weights/].")
@click.option("--device", default="auto", show_default=True, help="cpu, cuda, cuda:N or auto.")
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Processes (CPU flow) or reader threads; 0 works in this process [default: the cores, at most 4].")
@click.option("--size", default="256x128", show_default=True, help="Stored frame size HxW.")
@click.option("--flow-codec", type=click.Choice(["jpeg", "png16"]), default="jpeg", show_default=True,
              help="How flow is stored: jpeg (1/4 px, +-32 px, fast) or png16 (lossless 1/8 px).")
@click.option("--cache", type=click.Path(path_type=Path), default=None,
              help="Folder for what is derived from the dataset (mot: the crops), outside the root, which "
                   "may be read-only [default: beside the store, <store>.cache].")
@click.option("--split", type=click.IntRange(0, 9), default=None, help="iLIDS-VID/PRID split [default: 0].")
@click.option("--split-file", type=click.Path(path_type=Path), default=None,
              help="iLIDS-VID/PRID split file: torchreid's splits_prid2011.json or splits.json, the official "
                   "train_test_splits_ilidsvid.mat, or person-number JSON [default: the one in the root].")
@click.option("--dry-run", is_flag=True,
              help="Read the layout and metadata only: print per-role counts and problems, read no frame.")
@click.option("--protocol", hidden=True, default=None, callback=_refuse_protocol, expose_value=False)
@click.option("--shard", default="0/1", show_default=True, help="Write only shard i of N (join with flowprep merge).")
@click.option("--resume", is_flag=True, help="Continue an interrupted run.")
@click.option("--overwrite", is_flag=True, help="Replace an existing store.")
@click.option("--flush-every", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="Seconds between journal flushes: the most work a crash can cost.")
@click.option("--flow-param", "flow_params", multiple=True, metavar="KEY=VALUE",
              help="A parameter of the flow method, e.g. preset=fast (dis) or winsize=21 (farneback).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def command(dataset, root, out, flow, weights, device, workers, size, flow_codec, cache, split, split_file, dry_run,
            shard, resume, overwrite, flush_every, flow_params, quiet) -> None:
    """Read DATASET, compute optical flow for every tracklet, write one HDF5 store."""
    from flowprep.datasets import open_dataset
    from flowprep.datasets.base import default_cache, resolve_root
    from flowprep.extract import ExtractOptions, Shard, extract

    height, width = parse_size(size)
    data_root = resolve_root(dataset, root)
    if not data_root.is_dir():
        raise FlowprepError(f"{data_root}: dataset root not found; pass --root with the {dataset} folder, or set "
                            f"$REID_DATA to the folder that holds {dataset}/")
    parsed_shard = Shard.parse(shard)
    store = _store_path(out, DATASETS[dataset], split, parsed_shard)
    cache = cache or default_cache(store)
    adapter = open_dataset(dataset, data_root, split=split, split_file=split_file, cache=cache, read_only=dry_run)
    if dry_run:
        _dry_run(adapter)
        return
    flow, device, weights = _choose_flow(flow, device, weights)
    opts = ExtractOptions(
        dataset=dataset,
        root=adapter.root,
        out=store,
        flow=flow,
        weights=weights,
        device=device,
        workers=default_workers() if workers is None else workers,
        height=height,
        width=width,
        flow_codec=flow_codec,
        resume=resume,
        overwrite=overwrite,
        shard=parsed_shard,
        split=split,
        split_file=split_file,
        cache=cache,
        flow_params=_parse_flow_params(flow_params),
        flush_seconds=flush_every,
    )
    with resume_hint(store):
        summary = extract(opts, progress=not quiet, notify=lambda line: click.echo(line, err=True))
    click.echo(f"{opts.out}: {summary.report()}")
