"""``flowprep synth``: write a synthetic dataset in an official layout."""

from __future__ import annotations

from pathlib import Path

import click

from flowprep.synth.specs import LAYOUTS

_DEFAULTS = "; ".join(f"{spec.name}: {spec.identities} identities, {spec.cameras} cameras" for spec in LAYOUTS.values())


@click.command(
    "synth",
    help=(
        "Write a synthetic video ReID dataset in the official LAYOUT (images and .mat/.txt metadata) into "
        "the new or empty directory OUT, readable by the real dataset adapters. Walking figures whose "
        "identity is clothing, body shape and gait, seen by cameras with their own scene, lighting, "
        "scale and viewpoint. Same arguments, same bytes. "
        f"Defaults per layout ({_DEFAULTS}) give a demo set of a few thousand frames, written in "
        "seconds (mars default: about 6000 frames)."
    ),
)
@click.option("--layout", type=click.Choice(sorted(LAYOUTS)), required=True, help="Official layout to write.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Dataset root to create.")
@click.option("--identities", type=int, default=None, help="People seen by two or more cameras (default: per layout).")
@click.option("--cameras", type=int, default=None, help="Cameras (default: per layout; iLIDS-VID and PRID have 2).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed; the output is a function of it.")
@click.option("--frame-names", type=click.Choice(["current", "older"]), default=None,
              help="duke only: frame names as the release is distributed today (current, 0001_C6_F0001_X30823.jpg, "
                   "the default) or as older copies have them (older, 0001C6F0001X30823.jpg).")
def command(layout: str, out: Path, identities: int | None, cameras: int | None, seed: int,
            frame_names: str | None) -> None:
    from flowprep.synth import write_dataset

    spec = LAYOUTS[layout]
    summary = write_dataset(
        layout,
        out,
        identities=spec.identities if identities is None else identities,
        cameras=spec.cameras if cameras is None else cameras,
        seed=seed,
        frame_names=frame_names,
    )
    click.echo(summary.describe())
