"""``reid export``: a checkpoint as a TorchScript or ONNX model, clip in, embedding out."""

from __future__ import annotations

from pathlib import Path

import click


def frame_size(run_config: dict, checkpoint: Path, size: tuple[int, int] | None) -> tuple[int, int]:
    """--size, else the size of the store the checkpoint was trained on."""
    if size is not None:
        return size
    from flowprep import StoreError, open_store
    from reid.errors import ReidError

    store = run_config.get("store")
    if store:
        try:
            with open_store(store) as reader:
                return reader.meta.height, reader.meta.width
        except StoreError:
            pass
    raise ReidError(f"{checkpoint}: its training store {store} is not readable here; pass --size HxW")


def _size(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, int] | None:
    from flowreid.options import parse_size

    return None if value is None else parse_size(value)


@click.command("export")
@click.option("--checkpoint", type=click.Path(path_type=Path), required=True, help="Checkpoint from reid train (best.pt).")
@click.option("--format", "fmt", type=click.Choice(["torchscript", "onnx"]), required=True,
              help="torchscript (torch.jit.trace) or onnx (torch.onnx, needs the onnx and onnxscript packages).")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="File to write (.pt or .onnx).")
@click.option("--seq-len", type=click.IntRange(min=1), default=None, help="Frames per clip T [default: the training one].")
@click.option("--size", callback=_size, default=None, metavar="HxW",
              help="Frame size, e.g. 256x128 [default: the training store's].")
def command(checkpoint, fmt, out, seq_len, size) -> None:
    """Export CHECKPOINT so that other programs can compute embeddings without this project.

    \b
    Inputs (float32; B is dynamic, T/H/W are fixed at export):
      images [B,T,3,H,W]  RGB, /255, then ImageNet mean/std normalised
      flows  [B,T,2,H,W]  optical flow in pixels (u right, v down); frame t is the
                          flow from frame t-1 to t, frame 0 repeats frame 1's
    Output:
      embedding [B,D]     compare with squared Euclidean distance; a tracklet's
                          descriptor is the mean over its T-frame clips
    The file is checked against PyTorch before it is written (ONNX: with onnxruntime).
    """
    import torch

    from flowreid.outputs import writable_file
    from reid.engine.inference import load_trained_model
    from reid.export import export_model

    writable_file(out)
    model, run_config, _ = load_trained_model(checkpoint, torch.device("cpu"))
    height, width = frame_size(run_config, checkpoint, size)
    seq_len = seq_len or int(run_config.get("seq_len", 4))
    difference = export_model(model, fmt, out, seq_len=seq_len, height=height, width=width)
    check = "not checked (onnxruntime is not installed)" if difference is None else f"max difference to PyTorch {difference:.2e}"
    click.echo(f"{out}: {fmt}, inputs images [B,{seq_len},3,{height},{width}] and flows [B,{seq_len},2,{height},{width}], "
               f"embedding [B,{model.config['feature_dim']}]; {check}")
