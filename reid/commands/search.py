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
              help="Folder of one tracklet's frames (image files, ordered by the number in their names); a folder "
                   "of several (a MARS person folder) needs --tracklet.")
@click.option("--tracklet", default=None,
              help="Which tracklet of a --query folder that holds several (by the dataset's frame names, e.g. "
                   "0001C2T0001 in MARS), or 'all' to search each.")
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
def command(gallery, checkpoint, query, tracklet, top, out, metric, weights, seq_len, batch_size, workers, device,
            quiet) -> None:
    """Rank the gallery of GALLERY by distance to the tracklet in QUERY.

    The query's flow is computed like the store's (same method and parameters). A gallery
    tracklet made of the query's own frames is left out of the ranking (and named). Gallery
    embeddings are cached beside the store (<store>.features-<key>.pt) and recomputed
    when the checkpoint or the store changes; the 3 most recently used caches are kept, older ones
    deleted. A store in a read-only folder is searched without a cache.
    """
    from flowprep import open_store
    from flowreid.options import default_workers
    from reid.api import FeatureExtractor
    from reid.data.store_record import describe_store, other_dataset_notice
    from reid.search import search
    from reid.search_query import query_tracklets

    queries = query_tracklets(query, tracklet)
    extractor = FeatureExtractor(checkpoint, device, seq_len=seq_len, batch_size=batch_size, flow_weights=weights)
    with open_store(gallery) as reader:
        notice = other_dataset_notice(str(checkpoint), extractor.training_store, describe_store(reader))
        if notice:
            click.echo(notice, err=True)
        features = None
        for name, frames in queries.items():
            result = search(extractor, reader, frames, top=top, metric=metric, gallery=features,
                            workers=default_workers() if workers is None else workers, progress=not quiet)
            features = result.gallery
            one = len(queries) == 1 and not tracklet
            _report(result, str(query) if one else f"{query} tracklet {name}", query.name if one else name, gallery,
                    _picture_for(out, name, len(queries)))


def _picture_for(out: Path | None, name: str, queries: int) -> Path | None:
    """--out itself for one query; one picture per query beside it (its name suffixed) for several."""
    return out if out is None or queries == 1 else out.with_name(f"{out.stem}-{name}{out.suffix}")


def _report(result, label: str, title: str, gallery: Path, out: Path | None) -> None:
    """The ranked list of one query on stdout, and its picture."""
    from flowreid.wording import counted
    from reid.visualize.canvas import save_png
    from reid.visualize.ranks import rank_picture

    cache = result.gallery.cache
    pruned = result.gallery.pruned
    deleted = f" (deleted {counted(pruned, 'older cache')})" if pruned else ""
    source = (f"read from {cache}" if result.gallery.cached else f"computed, cached in {cache}{deleted}" if cache
              else f"computed (not cached: cannot write beside {gallery})")
    click.echo(f"query {label}: {result.query_length} frames ({len(result.skipped)} skipped); "
               f"{len(result.gallery.tracklets)} gallery tracklets, features {source}")
    if result.itself:
        click.echo(f"left out of the ranking: {', '.join(result.itself)} (the query's own frames)")
    click.echo(f"{'rank':>4}  {'distance':>10}  {'pid':>6}  {'camid':>5}  tracklet")
    for rank, match in enumerate(result.matches, 1):
        click.echo(f"{rank:>4}  {match.distance:>10.4f}  {match.pid:>6}  {match.camid:>5}  {match.name}")
    if out is not None:
        save_png(out, rank_picture(result.query_frames, title, result.matches))
        click.echo(f"{out}: ranked list")
