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
@click.option("--like", "like", type=click.Path(path_type=Path), default=None, metavar="INFO_DIR",
              help="mars: copy the tracklet structure (identities, cameras, lengths, junk, distractors, "
                   "queries) of an official MARS info/ folder; mevid: of an official annotation folder "
                   "(track_*_info.txt, query_IDX.txt; outfits too). Drawn by a fast renderer, for scale tests.")
@click.option("--fraction", type=click.FloatRange(0, 1, min_open=True), default=1.0, show_default=True,
              help="With --like: keep this random fraction of the identities and of the junk/distractor tracklets.")
@click.option("--silhouettes", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write each frame's person mask (PNG, 255 = person) into this folder, outside OUT, at the "
                   "frame's path relative to OUT (pipelines/attention_share.py reads them); OUT is unchanged.")
@click.option("--frame-size", default="256x128", show_default=True, help="With --like: written frame size HxW.")
def command(layout: str, out: Path, identities: int | None, cameras: int | None, seed: int,
            frame_names: str | None, like: Path | None, fraction: float, frame_size: str,
            silhouettes: Path | None) -> None:
    from flowprep.synth import write_dataset

    spec = LAYOUTS[layout]
    if like is not None:
        if frame_names is not None or silhouettes is not None:
            raise click.UsageError("--frame-names and --silhouettes go without --like")
        click.echo(_write_like(layout, out, like, identities, cameras, fraction, frame_size, seed).describe())
        return
    if fraction != 1.0 or frame_size != "256x128":
        raise click.UsageError("--fraction and --frame-size go with --like")
    summary = write_dataset(
        layout,
        out,
        identities=spec.identities if identities is None else identities,
        cameras=spec.cameras if cameras is None else cameras,
        seed=seed,
        frame_names=frame_names,
        silhouettes=silhouettes,
    )
    click.echo(summary.describe())


def _write_like(layout: str, out: Path, like: Path, identities: int | None, cameras: int | None, fraction: float,
                frame_size: str, seed: int):
    from flowreid.options import parse_size

    if layout == "mars":
        from flowprep.synth.like import write_like
    elif layout == "mevid":
        from flowprep.synth.like_mevid import write_like
    else:
        raise click.UsageError("--like copies an official MARS info/ folder or MEVID annotation folder: use it "
                               "with --layout mars or mevid (the other layouts' metadata holds no tracklet lengths)")
    if identities is not None or cameras is not None:
        raise click.UsageError("--like takes identities and cameras from INFO_DIR; drop --identities/--cameras")
    return write_like(like, out, fraction=fraction, frame_size=parse_size(frame_size, "--frame-size"), seed=seed)
