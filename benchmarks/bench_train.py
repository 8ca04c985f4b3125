"""Is data ever the bottleneck? The real training loop against the same model on in-memory tensors.

1. Training: seconds per step of ``Trainer.train_epoch`` (store -> loader workers -> device ->
   model -> Adam), against steps on one batch that already sits on the device. Target >= 0.9.
2. Test features: frames/s of ``extract_features`` (dense clips from the store) against pure
   inference on device-resident clips. Target >= 0.8.

    python benchmarks/bench_train.py --store mars.h5 [--model mutual-attention] [--backbone resnet50]
        [--workers 16] [--steps 30] [--device cuda]
    python benchmarks/bench_train.py --store tiny.h5 --backbone resnet_tiny --device cpu --steps 3 --workers 2

A synthetic store works as well as a real one: speed depends on frame size and model, not content.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from reid.data.device import prepare_batch
from reid.engine.config import TrainConfig
from reid.engine.features import autocast, extract_features
from reid.engine.trainer import Trainer


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def loop_step_time(trainer: Trainer, steps: int) -> float:
    """Seconds per step of the real loop, after one warm-up epoch slice."""
    loader = trainer.loader()
    trainer.train_epoch(loader, 0, max_batches=2)  # warm-up: workers start, cudnn picks kernels
    synchronize(trainer.device)
    started = time.perf_counter()
    trainer.train_epoch(loader, 1, max_batches=steps)
    synchronize(trainer.device)
    done = min(steps, len(trainer.sampler))
    return (time.perf_counter() - started) / done


def memory_step_time(trainer: Trainer, steps: int) -> float:
    """Seconds per step on one device-resident batch: the same work without any data loading."""
    images, flows, labels = next(iter(trainer.loader()))
    images, flows = prepare_batch(images, flows, trainer.device)
    labels = labels.to(trainer.device)
    trainer.network.train()

    def step() -> None:
        with autocast(trainer.device, trainer.cfg.amp):
            output = trainer.network(images, flows)
        loss, _ = trainer.loss(output, labels)
        trainer.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        trainer.optimizer.step()

    step()
    synchronize(trainer.device)
    started = time.perf_counter()
    for _ in range(steps):
        step()
    synchronize(trainer.device)
    return (time.perf_counter() - started) / steps


def feature_rates(trainer: Trainer, batch_size: int) -> tuple[float, float]:
    """(frames/s of extract_features over the gallery, frames/s of the model on resident clips)."""
    store, cfg, device = trainer.store, trainer.cfg, trainer.device
    gallery = store.tracklets.of_role("gallery")
    frames = int(store.tracklets.frame_count[gallery].sum())
    extract_features(trainer.model, store, gallery[:4], seq_len=cfg.seq_len, device=device, amp=cfg.amp)
    synchronize(device)
    started = time.perf_counter()
    extract_features(trainer.model, store, gallery, seq_len=cfg.seq_len, device=device, batch_size=batch_size,
                     workers=cfg.workers, amp=cfg.amp)
    synchronize(device)
    pipeline = frames / (time.perf_counter() - started)
    height, width = store.meta.height, store.meta.width
    images = torch.randn(batch_size, cfg.seq_len, 3, height, width, device=device)
    flows = torch.randn(batch_size, cfg.seq_len, 2, height, width, device=device)
    clips = -(-frames // cfg.seq_len)
    trainer.model.eval()
    with torch.no_grad(), autocast(device, cfg.amp):
        trainer.model(images, flows)
        synchronize(device)
        started = time.perf_counter()
        for _ in range(-(-clips // batch_size)):
            trainer.model(images, flows)
        synchronize(device)
    pure = frames / (time.perf_counter() - started)
    return pipeline, pure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--model", default="mutual-attention")
    parser.add_argument("--backbone", default="resnet50")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--amp", default="bf16")
    parser.add_argument("--batch-size", type=int, default=64, help="test clips per batch")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as run:
        cfg = TrainConfig(store=args.store, out=run, model=args.model, backbone=args.backbone, pretrained="none",
                          device=args.device, workers=args.workers, amp=args.amp, epochs=2, eval_every=0, quiet=True)
        trainer = Trainer(cfg)
        trainer.setup()  # the loop's own set-up (torch.compile, seeding), without its hooks
        try:
            real = loop_step_time(trainer, args.steps)
            ideal = memory_step_time(trainer, args.steps)
            pipeline, pure = feature_rates(trainer, args.batch_size)
        finally:
            trainer.teardown()
    name = torch.cuda.get_device_name(trainer.device) if trainer.device.type == "cuda" else "CPU"
    print(f"device: {name}; {args.model}/{args.backbone}, {cfg.identities_per_batch}x{cfg.instances} clips of "
          f"{cfg.seq_len} frames at {trainer.store.meta.height}x{trainer.store.meta.width}, amp {args.amp}, "
          f"{args.workers} loader workers")
    print("| measure | real loop | in-memory | ratio (target) |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| training step (ms) | {1000 * real:.1f} | {1000 * ideal:.1f} | {ideal / real:.2f} (>= 0.9) |")
    print(f"| test features (frames/s) | {pipeline:.0f} | {pure:.0f} | {pipeline / pure:.2f} (>= 0.8) |")


if __name__ == "__main__":
    main()
