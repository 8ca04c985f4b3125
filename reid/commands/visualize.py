"""``reid visualize``: pictures of a trained model's ranked lists and attention maps."""

from __future__ import annotations

from pathlib import Path

import click

STORE = click.option("--store", type=click.Path(path_type=Path), required=True, help="Store to draw from.")
CHECKPOINT = click.option("--checkpoint", type=click.Path(path_type=Path), required=True,
                          help="Checkpoint from reid train (best.pt).")
DEVICE = click.option("--device", default="auto", show_default=True, help="cpu, cuda, cuda:N or auto.")
ALLOW_MISMATCH = click.option("--allow-store-mismatch", is_flag=True,
                              help="Draw even from a store of another size, flow method, flow codec or split than "
                                   "the training store (a warning names the difference).")


@click.group("visualize")
def command() -> None:
    """Draw what a trained model does: ranked lists (ranks) and attention maps (attention)."""


@command.command("ranks")
@STORE
@CHECKPOINT
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder for the PNGs (one per query).")
@click.option("--queries", type=click.IntRange(min=1), default=8, show_default=True,
              help="Queries to draw, spread evenly over the store's queries.")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="Matches per query.")
@click.option("--metric", type=click.Choice(["euclidean", "cosine"]), default="euclidean", show_default=True)
@click.option("--seq-len", type=click.IntRange(min=1), default=None, help="Test clip length [default: the training one].")
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Loader processes; 0 reads in this process [default: the cores, at most 4].")
@DEVICE
@ALLOW_MISMATCH
@click.option("--quiet", is_flag=True, help="No progress bars.")
def ranks(store, checkpoint, out, queries, top, metric, seq_len, batch_size, workers, device, allow_store_mismatch,
          quiet) -> None:
    """One PNG per query: its clip, then the TOP nearest gallery tracklets.

    Green frames are the query's identity, red ones another identity; the labels give
    pid, camera and distance. Same-identity tracklets from the query's camera are left
    out, as in reid evaluate.
    """
    import numpy as np

    from flowprep import open_store
    from flowreid.options import default_workers
    from flowreid.outputs import writable_folder
    from flowreid.progress import progress_display
    from reid.distance import pairwise_distance
    from reid.engine.evaluation import QueryGallery
    from reid.engine.features import extract_features
    from reid.engine.inference import load_trained_model
    from reid.engine.runtime import resolve_device
    from reid.ranking import QUERY_FRAMES, spread_positions, store_matches
    from reid.visualize.canvas import save_png
    from reid.visualize.ranks import rank_picture

    writable_folder(out)
    dev = resolve_device(device)
    with open_store(store) as reader:
        model, run_config, _ = load_trained_model(checkpoint, dev, reader, allow_store_mismatch)
        sets = QueryGallery.of(reader)
        chosen = sets.query[spread_positions(len(sets.query), queries)]
        features = extract_features(model, reader, np.concatenate([chosen, sets.gallery]),
                                    seq_len=seq_len or int(run_config.get("seq_len", 4)), device=dev,
                                    batch_size=batch_size, workers=default_workers() if workers is None else workers,
                                    progress=not quiet)
        distances = pairwise_distance(features[: len(chosen)], features[len(chosen):], metric)
        t = reader.tracklets
        with progress_display(len(chosen), "pictures", "query", enabled=not quiet, leave=False) as bar:
            for k, query in enumerate(chosen):
                pid, camid, name = int(t.pid[query]), int(t.camid[query]), str(t.name[query])
                matches = store_matches(reader, sets.gallery, distances[k], top, pid, camid)
                frames, _ = reader.read_clip(query, spread_positions(int(t.frame_count[query]), QUERY_FRAMES))
                path = out / f"rank_{k:03d}_{name}.png"
                save_png(path, rank_picture(frames, f"pid {pid} cam {camid}", matches))
                right = sum(m.correct for m in matches)
                first = "right" if matches and matches[0].correct else "wrong"
                click.echo(f"{path}: query {name} (pid {pid}, cam {camid}): rank-1 {first}, "
                           f"{right}/{len(matches)} right")
                bar.update()


@command.command("attention")
@STORE
@CHECKPOINT
@click.option("--tracklet", "key", default="0", show_default=True, help="Tracklet name or index.")
@click.option("--start", type=click.IntRange(min=0), default=0, show_default=True, help="First frame of the clip.")
@click.option("--frames", "length", type=click.IntRange(min=1), default=None,
              help="Frames in the clip [default: the training clip length].")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Picture to write (.png or .jpg).")
@DEVICE
@ALLOW_MISMATCH
def attention(store, checkpoint, key, start, length, out, device, allow_store_mismatch) -> None:
    """Draw a clip's flow, activations without and with attention, and the attention map M (Fig. 5).

    Needs a mutual-attention or gated-attention checkpoint.
    """
    import numpy as np

    from flowprep import open_store
    from flowreid.outputs import image_file
    from reid.engine.inference import load_trained_model
    from reid.engine.runtime import resolve_device
    from reid.errors import ReidError
    from reid.visualize.attention import attention_maps, attention_picture
    from reid.visualize.canvas import save_png

    image_file(out)
    dev = resolve_device(device)
    with open_store(store) as reader:
        model, run_config, _ = load_trained_model(checkpoint, dev, reader, allow_store_mismatch)
        index = reader.tracklet_index(key)
        count = int(reader.tracklets.frame_count[index])
        if start >= count:
            raise ReidError(f"{store}: tracklet {reader.tracklets.name[index]} has {count} frames; "
                            f"--start {start} is past its end")
        length = length or int(run_config.get("seq_len", 4))
        positions = np.resize(np.arange(start, min(start + length, count)), length)
        frames, flows = reader.read_clip(index, positions)
        name = reader.tracklets.name[index]
    maps = attention_maps(model, frames, flows, dev)
    save_png(out, attention_picture(maps))
    click.echo(f"{out}: tracklet {name}, frames {positions.tolist()}, "
               f"M from {maps.attention.min():.3f} to {maps.attention.max():.3f}")
