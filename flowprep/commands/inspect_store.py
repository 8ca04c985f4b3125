"""``flowprep inspect``: what a store holds."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("inspect")
@click.argument("store", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object.")
def command(store: Path, as_json: bool) -> None:
    """Show the schema, dataset, split, size, flow method and codec, creation and per-role counts of STORE."""
    from flowprep.store import describe

    info = describe(store)
    if as_json:
        click.echo(json.dumps(info))
        return
    split = f", split {info['split']}" if info["split"] >= 0 else ""  # MARS, Duke, MOT: one fixed train/test division
    click.echo(f"{store}: schema {info['schema_version']}, dataset {info['dataset']}{split}, "
               f"flow {info['flow']} {json.dumps(info['flow_params'], sort_keys=True)}, "
               f"size {info['size'][0]}x{info['size'][1]}, flow stored as {info['flow_codec']} (step {info['flow_step']:g} px), created {info['created']} by {info['project_version']}")
    click.echo(f"{'role':<8} {'tracklets':>10} {'identities':>11} {'frames':>10}")
    for role, counts in info["roles"].items():
        click.echo(f"{role:<8} {counts['tracklets']:>10} {counts['identities']:>11} {counts['frames']:>10}")
    if info["shard"] != "0/1":
        click.echo(f"shard {info['shard']} of a dataset of {info['dataset_tracklets']} tracklets "
                   "(join all shards with flowprep merge)")
    if info["skipped_tracklets"]:
        click.echo(f"{info['skipped_tracklets']} tracklets had no readable frame (listed in the store's attributes)")
