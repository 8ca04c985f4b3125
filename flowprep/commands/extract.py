"""``flowprep extract``: compute optical flow for every tracklet and write the store."""

from __future__ import annotations

from pathlib import Path

import click

from flowprep.datasets import DATASETS
from flowprep.flow import FLOW_METHODS
from flowprep.options import parse_size
from flowprep.weights import default_liteflownet_weights
from flowprep.workers import default_workers


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


@click.command("extract")
@click.option("--dataset", type=click.Choice(sorted(DATASETS)), required=True,
              help="Dataset layout to read (mot: MOTChallenge-style tracker output).")
@click.option("--root", type=click.Path(path_type=Path), default=None,
              help="Dataset folder in its official layout [default: $REID_DATA/<dataset>, else ./data/<dataset>].")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Store to write [default: ./<dataset>.h5].")
@click.option("--flow", type=click.Choice(["auto", *FLOW_METHODS]), default="auto", show_default=True,
              help="Flow method; auto: liteflownet on a GPU with weights, else dis.")
@click.option("--weights", type=click.Path(path_type=Path), default=None,
              help="LiteFlowNet weights (network-default.pytorch) [default: $FLOWPREP_WEIGHTS or ./weights/].")
@click.option("--device", default="auto", show_default=True, help="cpu, cuda, cuda:N or auto.")
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Processes (CPU flow) or reader threads; 0 works in this process [default: the cores, at most 4].")
@click.option("--size", default="256x128", show_default=True, help="Stored frame size HxW.")
@click.option("--flow-codec", type=click.Choice(["jpeg", "png16"]), default="jpeg", show_default=True,
              help="How flow is stored: jpeg (1/4 px, +-32 px, fast) or png16 (lossless 1/8 px).")
@click.option("--split", type=click.IntRange(0, 9), default=None, help="iLIDS-VID/PRID split [default: 0].")
@click.option("--protocol", type=click.Choice(["standard", "matlab"]), default="standard", show_default=True,
              help="MARS: matlab also puts every query into the gallery.")
@click.option("--shard", default="0/1", show_default=True, help="Write only shard i of N (join with flowprep merge).")
@click.option("--resume", is_flag=True, help="Continue an interrupted run.")
@click.option("--overwrite", is_flag=True, help="Replace an existing store.")
@click.option("--flush-every", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="Seconds between journal flushes: the most work a crash can cost.")
@click.option("--flow-param", "flow_params", multiple=True, metavar="KEY=VALUE",
              help="A parameter of the flow method, e.g. preset=fast (dis) or winsize=21 (farneback).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def command(dataset, root, out, flow, weights, device, workers, size, flow_codec, split, protocol, shard, resume, overwrite,
            flush_every, flow_params, quiet) -> None:
    """Read DATASET, compute optical flow for every tracklet, write one HDF5 store."""
    from flowprep.datasets.base import resolve_root
    from flowprep.errors import FlowprepError
    from flowprep.extract import ExtractOptions, Shard, extract

    height, width = parse_size(size)
    data_root = resolve_root(dataset, root)
    if not data_root.is_dir():
        raise FlowprepError(f"{data_root}: dataset root not found; pass --root with the {dataset} folder, or set "
                            f"$REID_DATA to the folder that holds {dataset}/")
    flow, device, weights = _choose_flow(flow, device, weights)
    parsed_shard = Shard.parse(shard)
    default_out = f"{dataset}.h5" if parsed_shard.count == 1 else f"{dataset}.shard{parsed_shard.index}of{parsed_shard.count}.h5"
    opts = ExtractOptions(
        dataset=dataset,
        root=data_root,
        out=out or Path(default_out),
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
        protocol=protocol,
        flow_params=_parse_flow_params(flow_params),
        flush_seconds=flush_every,
    )
    summary = extract(opts, progress=not quiet)
    click.echo(f"{opts.out}: {summary.report()}")
