"""``reid search``: the gallery tracklets of a store nearest to a new tracklet."""

from __future__ import annotations

from pathlib import Path

import click

PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def _picture(ctx, param, value: Path | None) -> Path | None:
    """Refuse an --out that cannot become a picture before any work starts."""
    if value is not None and value.suffix.lower() not in PICTURE_SUFFIXES:
        raise click.BadParameter(f"{value}: needs a picture file name ending in {', '.join(PICTURE_SUFFIXES)}")
    return value


@click.command("search")
@click.option("--gallery", type=click.Path(path_type=Path), required=True,
              help="Store whose gallery tracklets are searched (e.g. from flowprep extract --dataset mot).")
@click.option("--checkpoint", type=click.Path(path_type=Path), required=True, help="Checkpoint from reid train (best.pt).")
@click.option("--query", type=click.Path(path_type=Path), required=True,
              help="Folder of one tracklet's frames (image files, ordered by the number in their names).")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="Matches to list.")
@click.option("--out", type=click.Path(path_type=Path), default=None, callback=_picture,
              help="Also draw the ranked list into this picture (.png).")
@click.option("--metric", type=click.Choice(["euclidean", "cosine"]), default="euclidean", show_default=True)
@click.option("--weights", type=click.Path(path_type=Path), default=None,
              help="LiteFlowNet weights, when the gallery store's flow is liteflownet [default: the file name "
                   "the store recorded, looked for in $REID_WEIGHTS and ./weights; else the file $FLOWPREP_WEIGHTS "
                   "names].")
@click.option("--seq-len", type=click.IntRange(min=1), default=None, help="Test clip length [default: the training one].")
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Loader processes for the gallery (0: in the main process) [default: the cores, at most 4].")
@click.option("--device", default="auto", show_default=True, help="cpu, cuda, cuda:N or auto.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def command(gallery, checkpoint, query, top, out, metric, weights, seq_len, batch_size, workers, device, quiet) -> None:
    """Rank the gallery of GALLERY by distance to the tracklet in QUERY.

    The query's flow is computed like the store's (same method and parameters). Gallery
    embeddings are cached beside the store (<store>.features-<key>.pt) and recomputed
    when the checkpoint or the store changes; a store in a read-only folder is searched without a cache.
    """
    from flowprep import open_store
    from flowreid.options import default_workers
    from reid.api import FeatureExtractor
    from reid.search import search
    from reid.visualize.canvas import save_png
    from reid.visualize.ranks import rank_picture

    extractor = FeatureExtractor(checkpoint, device, seq_len=seq_len, batch_size=batch_size, flow_weights=weights)
    with open_store(gallery) as reader:
        result = search(extractor, reader, query, top=top, metric=metric,
                        workers=default_workers() if workers is None else workers, progress=not quiet)
    cache = result.gallery.cache
    source = (f"read from {cache}" if result.gallery.cached else f"computed, cached in {cache}" if cache
              else f"computed (not cached: cannot write beside {gallery})")
    click.echo(f"query {query}: {result.query_length} frames ({len(result.skipped)} skipped); "
               f"{len(result.gallery.tracklets)} gallery tracklets, features {source}")
    click.echo(f"{'rank':>4}  {'distance':>10}  {'pid':>6}  {'camid':>5}  tracklet")
    for rank, match in enumerate(result.matches, 1):
        click.echo(f"{rank:>4}  {match.distance:>10.4f}  {match.pid:>6}  {match.camid:>5}  {match.name}")
    if out is not None:
        save_png(out, rank_picture(result.query_frames, query.name, result.matches))
        click.echo(f"{out}: ranked list")
