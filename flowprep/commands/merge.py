"""``flowprep merge``: join the shards of a sharded extraction."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("merge")
@click.argument("out", type=click.Path(path_type=Path))
@click.argument("shards", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace an existing OUT.")
def command(out: Path, shards: tuple[Path, ...], overwrite: bool) -> None:
    """Join SHARDS (all N stores from `extract --shard i/N`) into OUT, in the dataset's order.

    A missing, repeated or foreign shard is refused, naming it.
    """
    from flowprep.errors import FlowprepError
    from flowprep.shards import merge_shards
    from flowreid.outputs import writable_file

    if out.exists() and not overwrite:
        raise FlowprepError(f"{out}: store exists; pass --overwrite to replace it")
    if out.resolve() in {s.resolve() for s in shards}:
        raise FlowprepError(f"{out}: the output cannot also be an input")
    writable_file(out)
    meta = merge_shards(list(shards), out)
    click.echo(f"{out}: merged {len(shards)} shard{'s' if len(shards) != 1 else ''} of {meta.dataset}")
