"""``flowprep show``: a tracklet's frames above their colour-coded flow, like the paper's Fig. 2."""

from __future__ import annotations

import math
from pathlib import Path

import click

MIN_TILE_HEIGHT = 128  # frames are enlarged by a whole factor to at least this height, so small stores stay legible
# flow of this fraction of the frame width gets full colour: the same motion has the same colour in
# every picture of every store, whatever its size (8 px at 256x128)
FULL_COLOUR_FRACTION = 1 / 16


@click.command("show")
@click.argument("store", type=click.Path(path_type=Path))
@click.option("--tracklet", "key", default="0", show_default=True, help="Tracklet name or index.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Picture to write (.png or .jpg).")
@click.option("--frames", "max_frames", type=click.IntRange(min=1), default=8, show_default=True,
              help="Frames to draw, spread evenly over the tracklet.")
@click.option("--max-flow", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Flow speed (px/frame) drawn in full colour [default: 1/16 of the frame width, the same for "
                   "every tracklet so pictures compare].")
def command(store: Path, key: str, out: Path, max_frames: int, max_flow: float | None) -> None:
    """Draw a tracklet of STORE: frames on top, Middlebury-coloured flow below, the colour key at the right.

    Hue is the direction of motion, saturation its speed; the key's rim is the --max-flow speed.
    """
    import cv2
    import numpy as np

    from flowprep.errors import FlowprepError
    from flowprep.store import open_store
    from flowreid.flowcolor import flow_to_rgb, wheel_legend
    from flowreid.outputs import image_file

    image_file(out)
    with open_store(store) as reader:
        index = reader.tracklet_index(key)
        count = int(reader.tracklets.frame_count[index])
        positions = np.unique(np.linspace(0, count - 1, min(max_frames, count)).round().astype(int))
        images, flows = reader.read_clip(index, positions)
        name = reader.tracklets.name[index]
    height, width = images.shape[1:3]
    speed = max_flow or width * FULL_COLOUR_FRACTION
    legend = wheel_legend(height, speed)
    top = np.concatenate([*images, np.full_like(legend, 255)], axis=1)
    bottom = np.concatenate([*(flow_to_rgb(f, max_magnitude=speed) for f in flows), legend], axis=1)
    scale = max(1, math.ceil(MIN_TILE_HEIGHT / height))
    picture = np.concatenate([top, bottom], axis=0)
    picture = cv2.resize(picture, (picture.shape[1] * scale, picture.shape[0] * scale), interpolation=cv2.INTER_NEAREST)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR)):
        raise FlowprepError(f"{out}: could not write the picture")
    click.echo(f"{out}: tracklet {name}, frames {positions.tolist()}, {picture.shape[0]}x{picture.shape[1]} px; "
               f"full colour at {speed:g} px/frame (the key at the right: direction is hue, speed saturation)")
