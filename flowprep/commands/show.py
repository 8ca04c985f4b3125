"""``flowprep show``: a tracklet's frames above their colour-coded flow, like the paper's Fig. 2."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("show")
@click.argument("store", type=click.Path(path_type=Path))
@click.option("--tracklet", "key", default="0", show_default=True, help="Tracklet name or index.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="PNG to write.")
@click.option("--frames", "max_frames", type=click.IntRange(min=1), default=8, show_default=True,
              help="Frames to draw, spread evenly over the tracklet.")
def command(store: Path, key: str, out: Path, max_frames: int) -> None:
    """Draw a tracklet of STORE: frames on top, Middlebury-coloured flow below."""
    import cv2
    import numpy as np

    from flowprep.errors import FlowprepError
    from flowprep.flowviz import flow_to_rgb
    from flowprep.store import open_store

    with open_store(store) as reader:
        index = reader.tracklet_index(key)
        count = int(reader.tracklets.frame_count[index])
        positions = np.unique(np.linspace(0, count - 1, min(max_frames, count)).round().astype(int))
        images, flows = reader.read_clip(index, positions)
        name = reader.tracklets.name[index]
    # saturate at the 99th percentile: one fast occluder must not wash out the walker's motion
    speed = float(np.percentile(np.hypot(flows[:, 0], flows[:, 1]), 99))
    top = np.concatenate(list(images), axis=1)
    bottom = np.concatenate([flow_to_rgb(f, max_magnitude=speed) for f in flows], axis=1)
    picture = cv2.cvtColor(np.concatenate([top, bottom], axis=0), cv2.COLOR_RGB2BGR)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), picture):
        raise FlowprepError(f"{out}: could not write the picture")
    click.echo(f"{out}: tracklet {name}, frames {positions.tolist()}, colour saturates at {speed:.2f} px")
