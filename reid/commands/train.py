"""``reid train``: train a model on a flowprep store."""

from __future__ import annotations

from pathlib import Path

import click


def _milestones(ctx, param, value: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected comma-separated epochs, e.g. 40,80,120") from None


@click.command("train")
@click.option("--store", type=click.Path(path_type=Path), required=True, help="Store written by flowprep extract.")
@click.option("--model", default="mutual-attention", show_default=True,
              help="baseline, two-stream, gated-attention or mutual-attention.")
@click.option("--aggregate", default="weighted", show_default=True, help="avg, attention, rnn or weighted.")
@click.option("--attention-layer", type=click.IntRange(2, 5), default=4, show_default=True,
              help="Attention after conv{N}_x (4 = after conv4_x).")
@click.option("--backbone", default="resnet50", show_default=True, help="resnet50, se_resnet50 (Cadene/timm legacy weights), se_resnet50_timm or resnet_tiny.")
@click.option("--pretrained", default="auto", show_default=True,
              help="ImageNet weights: a file, 'none', or 'auto' ($REID_WEIGHTS or ./weights/).")
@click.option("--flow-encoding", default="uvm", show_default=True, help="uvm or colorwheel.")
@click.option("--last-stride", type=click.Choice(["1", "2"]), default="1", show_default=True)
@click.option("--feature-dim", type=click.IntRange(min=8), default=2048, show_default=True)
@click.option("--seq-len", type=click.IntRange(min=1), default=4, show_default=True, help="Frames per clip.")
@click.option("--sampling", type=click.Choice(["run", "random", "evenly"]), default="random", show_default=True,
              help="Training clips: a sorted random subset of the tracklet, consecutive frames (the paper's), "
                   "or one frame per equal segment.")
@click.option("--augment", type=click.Choice(["frame", "clip"]), default="frame", show_default=True,
              help="Draw flip/crop/erase once per clip or once per frame (image and flow of a frame share it).")
@click.option("--erase-p", type=click.FloatRange(0, 1), default=0.5, show_default=True, help="Random-erasing probability.")
@click.option("--crop-pad", type=click.FloatRange(0, 0.5), default=10 / 128, show_default=True,
              help="Random-crop padding as a fraction of the frame width (0: no crop).")
@click.option("--identities-per-batch", type=click.IntRange(min=2), default=8, show_default=True)
@click.option("--instances", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--epochs", type=click.IntRange(min=1), default=150, show_default=True)
@click.option("--warmup-epochs", type=click.IntRange(min=0), default=10, show_default=True)
@click.option("--milestones", default="40,80,120", show_default=True, callback=_milestones,
              help="Epochs where the learning rate drops by --gamma.")
@click.option("--gamma", type=float, default=0.1, show_default=True)
@click.option("--lr", type=float, default=3e-4, show_default=True)
@click.option("--weight-decay", type=float, default=5e-4, show_default=True)
@click.option("--ce-weight", type=float, default=1.0, show_default=True)
@click.option("--triplet-weight", type=float, default=1.0, show_default=True)
@click.option("--eval-every", type=click.IntRange(min=0), default=10, show_default=True,
              help="Evaluate every K epochs (and after the last); 0: only after the last.")
@click.option("--eval-metric", type=click.Choice(["euclidean", "cosine"]), default="euclidean", show_default=True,
              help="Distance for evaluation during training (cosine: L2-normalised features).")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Run folder [default: runs/<store>-<model>].")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its last checkpoint.")
@click.option("--amp", type=click.Choice(["bf16", "off"]), default="bf16", show_default=True,
              help="Mixed precision on GPU.")
@click.option("--compile", "compile_", is_flag=True, help="torch.compile the model.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--workers", type=click.IntRange(min=0), default=4, show_default=True, help="Loader processes.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--deterministic", is_flag=True, help="Deterministic algorithms (bit-exact resume on CPU).")
@click.option("--max-batches", type=click.IntRange(min=0), default=0, help="Cap batches per epoch (smoke runs).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def command(store, model, aggregate, attention_layer, backbone, pretrained, flow_encoding, last_stride, feature_dim,
            seq_len, sampling, augment, erase_p, crop_pad, identities_per_batch, instances, epochs, warmup_epochs, milestones, gamma, lr, weight_decay,
            ce_weight, triplet_weight, eval_every, eval_metric, out, resume, amp, compile_, device, workers, seed, deterministic,
            max_batches, quiet) -> None:
    """Train a video ReID model on STORE; checkpoints, metrics.csv and TensorBoard events go to --out."""
    from reid.engine.config import TrainConfig
    from reid.engine.trainer import Trainer

    cfg = TrainConfig(
        store=str(store), out=str(out or Path("runs") / f"{store.stem}-{model}"), model=model, backbone=backbone,
        aggregate=aggregate, attention_layer=attention_layer, last_stride=int(last_stride), flow_encoding=flow_encoding,
        feature_dim=feature_dim, pretrained=pretrained, seq_len=seq_len, sampling=sampling, augment=augment,
        erase_p=erase_p, crop_pad=crop_pad, identities_per_batch=identities_per_batch,
        instances=instances, epochs=epochs, warmup_epochs=warmup_epochs, milestones=milestones, gamma=gamma, lr=lr,
        weight_decay=weight_decay, ce_weight=ce_weight, triplet_weight=triplet_weight, eval_every=eval_every, eval_metric=eval_metric, amp=amp,
        compile=compile_, device=device, workers=workers, seed=seed, deterministic=deterministic, max_batches=max_batches,
    )
    trainer = Trainer(cfg, resume=resume, progress=not quiet)
    evaluation = trainer.run()
    if trainer.ctx.is_main:
        click.echo(f"{cfg.out}: trained {cfg.epochs} epochs; checkpoints last.pt and best.pt")
        if evaluation is not None:
            from reid.report import format_table

            click.echo(format_table(evaluation))
