"""The training loop of ``reid train``: store -> loader -> model -> optimiser, checkpointed each epoch.

Runs on one CPU, one GPU, or many GPUs/nodes under ``torchrun`` (DistributedDataParallel:
every rank draws the same global P x K batches and keeps its slice; only rank 0 writes).
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader

from flowprep import check_before_use, open_store
from reid.data.augment import ClipAugment
from reid.data.clips import TrainClips
from reid.data.device import prepare_batch
from reid.data.samplers import IdentityBatchSampler
from reid.config import default_out, resolve
from reid.engine.checkpoint import (check_model_config, load_checkpoint, load_matching_weights, restore_rng_state,
                                    rng_state, save_checkpoint)
from reid.engine.config import TrainConfig, build_from_model_config
from reid.engine.evaluation import Evaluation, evaluate_model
from reid.engine.events import RunLog
from reid.engine.features import autocast
from reid.engine.record import run_facts, write_record
from reid.engine.summary import cpu_warning, run_header
from reid.errors import ReidError
from reid.losses import ReidLoss


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` is the GPU when there is one (this rank's, under torchrun), else the CPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":  # under torchrun each rank takes its own GPU
        name = f"cuda:{local_rank}"
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ReidError(f"--device {name}: no CUDA device is available here")
    return device


@dataclass(frozen=True)
class DistributedContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device_name: str) -> DistributedContext:
    """Join the process group that ``torchrun`` describes in the environment, if any."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return DistributedContext()
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_nccl = device_name != "cpu" and torch.cuda.is_available()
    if use_nccl:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        # rank 0 evaluates while the others wait at the next collective: allow for a long evaluation
        dist.init_process_group("nccl" if use_nccl else "gloo", timeout=timedelta(hours=2))
    return DistributedContext(rank, world_size, local_rank)


def lr_factor(epoch: int, cfg: TrainConfig) -> float:
    """Linear warm-up from ``warmup_factor`` over ``warmup_epochs``, then a step decay at each milestone."""
    if epoch < cfg.warmup_epochs:
        return cfg.warmup_factor + (1 - cfg.warmup_factor) * epoch / cfg.warmup_epochs
    return cfg.gamma ** sum(epoch >= m for m in cfg.milestones)


def epoch_line(epoch: int, epochs: int, scalars: dict[str, float]) -> str:
    """One epoch in one line: losses, learning rate, speed and (when evaluated) the scores."""
    parts = [f"epoch {epoch}/{epochs}", f"loss {scalars['train/total']:.4f} (ce {scalars['train/ce']:.4f}, "
             f"triplet {scalars['train/triplet']:.4f})", f"lr {scalars['train/lr']:.2e}",
             f"{scalars['train/clips_per_s']:.1f} clips/s"]
    if "eval/mAP" in scalars:
        parts.append(f"mAP {scalars['eval/mAP']:.1%} rank-1 {scalars['eval/rank1']:.1%}")
    return "  ".join(parts)


class DeterminismFlags:
    """torch's process-wide determinism switches: set for a run, put back as they were when it ends."""

    def __init__(self, deterministic: bool, device: torch.device):
        self.saved = (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark,
                      os.environ.get("CUBLAS_WORKSPACE_CONFIG"))
        if deterministic and device.type == "cuda":
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # what deterministic cuBLAS requires
        torch.use_deterministic_algorithms(deterministic)
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = not deterministic

    def restore(self) -> None:
        algorithms, benchmark, workspace = self.saved
        torch.use_deterministic_algorithms(algorithms)
        torch.backends.cudnn.benchmark = benchmark
        if workspace is None:
            os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
        else:
            os.environ["CUBLAS_WORKSPACE_CONFIG"] = workspace


def recorded_device(choice: str, device: torch.device) -> str:
    """The ``device`` value to record: what ``auto`` chose (cuda or cpu; each rank adds its own index)."""
    return device.type if choice == "auto" else choice


class Trainer:
    """One training run; ``run()`` trains until ``cfg.epochs`` and returns the last evaluation.

    ``cfg`` may hold ``auto`` values; ``self.cfg`` is the resolved run that the record and the
    checkpoints keep. ``command`` is the command line to record.
    """

    def __init__(self, cfg: TrainConfig, resume: bool = False, command: str = ""):
        self.ctx = init_distributed(cfg.device)
        self.device = resolve_device(cfg.device, self.ctx.local_rank)
        warning = cpu_warning(cfg, self.device)
        if warning and self.ctx.is_main:  # before the slow part starts
            print(warning, file=sys.stderr)
        out = Path(cfg.out or default_out(cfg.store, cfg.model))
        resuming = resume and (out / "last.pt").exists()
        self.cfg = cfg = resolve(cfg, recorded_device(cfg.device, self.device), weights=not resuming)
        self.out = Path(cfg.out)
        torch.manual_seed(cfg.seed)
        self.store = open_store(cfg.store)
        check_before_use(self.store)
        augment = ClipAugment(per_frame=cfg.augment == "frame", erase_p=cfg.erase_p, pad_fraction=cfg.crop_pad)
        self.dataset = TrainClips(self.store, seq_len=cfg.seq_len, augment=augment, seed=cfg.seed, sampling=cfg.sampling)
        if self.dataset.num_classes < 2:
            raise ReidError(f"{cfg.store}: needs at least 2 training identities, has {self.dataset.num_classes}")
        self.model_config = cfg.model_config(self.dataset.num_classes)
        self.model = self._build_model(initialise=not resuming)
        try:
            self.sampler = IdentityBatchSampler(
                self.dataset.labels, cfg.identities_per_batch, cfg.instances, cfg.seed, self.ctx.rank, self.ctx.world_size
            )
        except ValueError as exc:
            raise ReidError(f"{cfg.store}: cannot form training batches: {exc} (see --identities-per-batch, --instances)") from exc
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda e: lr_factor(e, cfg))
        self.loss = ReidLoss(self.dataset.num_classes, ce_weight=cfg.ce_weight, triplet_weight=cfg.triplet_weight,
                             smoothing=cfg.label_smoothing, margin=cfg.margin).to(self.device)
        self.start_epoch, self.best_map = 0, -1.0
        self.facts = run_facts(cfg, self.store, self.device, self.ctx.world_size, command) if self.ctx.is_main else {}
        if resuming:  # first: a refused resume leaves the folder as it was
            self._resume()
        elif resume and self.ctx.is_main:  # a job requeued before its first checkpoint starts afresh
            print(f"{self.out}: no checkpoint to resume yet, starting a new run", file=sys.stderr)
        if self.ctx.is_main:
            self._prepare_run_dir(resuming)
        self.network = self._wrap(self.model)
        self.log = RunLog(self.out, enabled=self.ctx.is_main, resumed_step=self.start_epoch)
        self._announce(resuming)
        self.flags = DeterminismFlags(cfg.deterministic, self.device)  # last: a failed start leaves them alone

    def _build_model(self, initialise: bool) -> nn.Module:
        """The network, starting from ImageNet weights or a reid checkpoint (not when resuming: the checkpoint has them)."""
        cfg = self.cfg
        model = build_from_model_config(self.model_config)
        self.init_report = ""
        if initialise and cfg.init_from is not None:
            self.init_report = load_matching_weights(model, Path(cfg.init_from), self.model_config)
        elif initialise and cfg.pretrained != "none":
            model.load_imagenet(Path(cfg.pretrained))
        model = model.to(self.device)
        if self.device.type == "cuda":
            model = model.to(memory_format=torch.channels_last)
        return model

    def _wrap(self, model: nn.Module) -> nn.Module:
        if self.ctx.world_size > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            model = nn.parallel.DistributedDataParallel(model, device_ids=ids)
        if self.cfg.compile:
            model = torch.compile(model)
        return model

    def _prepare_run_dir(self, resuming: bool) -> None:
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReidError(f"{self.out}: cannot create the run folder ({exc.strerror or exc}); choose another --out") from None
        if resuming:
            return  # the record describes the run as it was started: a resume never rewrites it
        if (self.out / "last.pt").exists():
            raise ReidError(f"{self.out}: holds a run already; pass --resume to continue it or choose another --out")
        try:
            write_record(self.out, self.cfg, self.facts)
        except OSError as exc:
            raise ReidError(f"{self.out}: cannot write the run record ({exc.strerror or exc}); choose another --out") from None

    def _announce(self, resuming: bool) -> None:
        """The header: on screen and in train.log, so the log says what the run was."""
        for line in run_header(self.cfg, self.store, self.model, self.device, self.ctx.world_size):
            self.log.line(line)
        if self.init_report:
            self.log.line(self.init_report)
        if resuming:
            self.log.line(f"resumed from epoch {self.start_epoch} (best mAP so far {max(self.best_map, 0):.1%}), "
                          f"training to epoch {self.cfg.epochs}")

    def _resume(self) -> None:
        path = self.out / "last.pt"
        state = load_checkpoint(path, map_location=self.device)
        check_model_config(path, state["model_config"], self.model_config)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        restore_rng_state(state["rng"])
        self.start_epoch, self.best_map = int(state["epoch"]), float(state["best_map"])
        self.facts = state.get("run", self.facts)

    def _loader(self) -> DataLoader:
        workers = self.cfg.workers
        return DataLoader(self.dataset, batch_sampler=self.sampler, num_workers=workers,
                          pin_memory=self.device.type == "cuda", persistent_workers=workers > 0,
                          prefetch_factor=4 if workers > 0 else None)

    def run(self) -> Evaluation | None:
        cfg, evaluation = self.cfg, None
        try:
            loader = self._loader()
            for epoch in range(self.start_epoch, cfg.epochs):
                self.sampler.set_epoch(epoch)
                scalars = self.train_epoch(loader, epoch)
                last = epoch + 1 == cfg.epochs
                evaluated = self.ctx.is_main and (last or (cfg.eval_every > 0 and (epoch + 1) % cfg.eval_every == 0))
                if evaluated:
                    evaluation = self._evaluate()
                    scalars.update({f"eval/{k}": v for k, v in evaluation.as_dict().items() if isinstance(v, float)})
                if self.ctx.is_main:
                    self.log.log(epoch + 1, scalars)
                    self._checkpoint(epoch + 1, evaluation if evaluated else None)
                    shown = last or evaluated or (epoch + 1) % cfg.log_every == 0
                    self.log.line(epoch_line(epoch + 1, cfg.epochs, scalars), show=shown)
        finally:
            self.close()
        if self.ctx.world_size > 1:
            dist.barrier()  # rank 0 may still be evaluating: leave the group together
            dist.destroy_process_group()
        return evaluation

    def close(self) -> None:
        """Close the event file and put torch's global determinism switches back."""
        self.log.close()
        self.flags.restore()

    def train_epoch(self, loader: DataLoader, epoch: int, max_batches: int | None = None) -> dict[str, float]:
        """One pass over the sampler's batches (at most ``max_batches``, default ``cfg.max_batches``)."""
        from tqdm import tqdm

        self.network.train()
        cap = self.cfg.max_batches if max_batches is None else max_batches
        total = min(len(self.sampler), cap) if cap else len(self.sampler)
        bar = tqdm(total=total, desc=f"epoch {epoch + 1}/{self.cfg.epochs}", unit="batch",
                   disable=self.cfg.quiet or not self.ctx.is_main)
        sums: dict[str, float] = {}
        clips, started, seen = 0, time.monotonic(), 0
        for step, (images, flows, labels) in enumerate(loader):
            if step >= total:
                break
            images, flows = prepare_batch(images, flows, self.device)
            labels = labels.to(self.device, non_blocking=True)
            with autocast(self.device, self.cfg.amp):
                output = self.network(images, flows)
            loss, parts = self.loss(output, labels)
            if not math.isfinite(loss.item()):
                raise ReidError(f"epoch {epoch + 1}, batch {step}: the loss is {loss.item()}; lower --lr or check the store")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            for key, value in parts.items():
                sums[key] = sums.get(key, 0.0) + float(value)
            seen += 1
            clips += labels.numel() * self.ctx.world_size
            rate = clips / max(time.monotonic() - started, 1e-9)
            bar.set_postfix(loss=f"{loss.item():.3f}", clips_per_s=f"{rate:.1f}")
            bar.update()
        bar.close()
        self.scheduler.step()
        scalars = {f"train/{k}": v for k, v in self._mean_over_ranks(sums, seen).items()}
        scalars["train/lr"] = self.optimizer.param_groups[0]["lr"]
        scalars["train/clips_per_s"] = clips / max(time.monotonic() - started, 1e-9)
        return scalars

    def _mean_over_ranks(self, sums: dict[str, float], batches: int) -> dict[str, float]:
        """Per-batch means of the loss parts over every rank's slices, not over rank 0's alone."""
        keys = sorted(sums)
        totals = torch.tensor([sums[k] for k in keys] + [float(batches)], dtype=torch.float64)
        if self.ctx.world_size > 1:
            totals = totals.to(self.device)  # NCCL reduces device tensors only
            dist.all_reduce(totals)
            totals = totals.cpu()
        count = max(float(totals[-1]), 1.0)
        return {key: float(total) / count for key, total in zip(keys, totals[:-1])}

    def _evaluate(self) -> Evaluation:
        return evaluate_model(self.model, self.store, seq_len=self.cfg.seq_len, device=self.device,
                              metric=self.cfg.eval_metric, workers=min(self.cfg.workers, 4), amp=self.cfg.amp)

    def _checkpoint(self, epoch: int, evaluation: Evaluation | None) -> None:
        improved = evaluation is not None and evaluation.result.mAP > self.best_map
        if improved:
            self.best_map = evaluation.result.mAP
        payload = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "epoch": epoch,
            "best_map": self.best_map,
            "rng": rng_state(),
            "config": asdict(self.cfg),
            "model_config": self.model_config,
            "store": self.facts["store"],  # the run record's own description, which evaluate checks
            "run": self.facts,
        }
        save_checkpoint(self.out / "last.pt", payload)
        if improved:
            save_checkpoint(self.out / "best.pt", payload)
