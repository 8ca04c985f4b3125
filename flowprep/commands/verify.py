"""``flowprep verify``: exit non-zero with the reason when a store is damaged."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("verify")
@click.argument("store", type=click.Path(path_type=Path))
def command(store: Path) -> None:
    """Check STORE's schema, index and the CRC of every frame."""
    from flowprep.store.verify import verify

    counts = verify(store)
    click.echo(f"{store}: ok ({counts['tracklets']} tracklets, {counts['frames']} frames, {counts['bytes']} bytes)")
