"""The training loop of ``reid train``: store -> loader -> model -> optimiser, with hooks around each epoch.

Runs on one CPU, one GPU, or many GPUs/nodes under ``torchrun`` (DistributedDataParallel:
every rank draws the same global P x K batches and keeps its slice; only rank 0 writes).

Three steps, each with one kind of effect. ``Trainer(cfg)`` builds the objects (store, data,
model, optimiser; a resumed run's states) and changes nothing outside itself. ``setup()``
changes the process: it joins the process group, sets torch's determinism switches, seeds
torch (or restores a resumed run's RNG states) and prepares the run folder. ``run()`` sets up,
trains, calls the hooks (``reid.engine.hooks``: evaluation, logging, checkpoints and any of
yours) and, via ``teardown()``, puts torch's switches back as it found them.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn
from torch.utils.data import DataLoader

from flowprep import check_before_use, open_store
from flowreid.progress import progress_display
from reid.config import default_out, resolve
from reid.data.augment import ClipAugment
from reid.data.clips import TrainClips
from reid.data.device import prepare_batch
from reid.data.samplers import IdentityBatchSampler
from reid.data.store_record import describe_store
from reid.data.workers import ignore_ctrl_c
from reid.engine.checkpoint import (check_model_config, load_checkpoint, load_matching_weights, restore_rng_state,
                                    rng_state)
from reid.engine.config import TrainConfig, seeded_model
from reid.engine.evaluation import Evaluation
from reid.engine.features import autocast
from reid.engine.hooks import Hook, default_hooks
from reid.engine.record import run_facts, write_record
from reid.engine.runtime import (DeterminismFlags, DistributedContext, agreed_by_rank0, join_process_group,
                                 leave_process_group, mean_over_ranks, recorded_device, resolve_device)
from reid.engine.summary import cpu_warning
from reid.errors import ReidError
from reid.losses import ReidLoss


def lr_factor(epoch: int, cfg: TrainConfig) -> float:
    """Linear warm-up from ``warmup_factor`` over ``warmup_epochs``, then a step decay at each milestone."""
    if epoch < cfg.warmup_epochs:
        return cfg.warmup_factor + (1 - cfg.warmup_factor) * epoch / cfg.warmup_epochs
    return cfg.gamma ** sum(epoch >= m for m in cfg.milestones)


def parameter_groups(model: nn.Module, cfg: TrainConfig) -> list[dict[str, Any]]:
    """Adam's parameter groups: all at ``cfg.lr``, or the attention layers in a second group at
    ``cfg.lr * cfg.attention_lr_factor`` (the schedule scales each group's own rate)."""
    if cfg.attention_lr_factor == 1:
        return [{"params": list(model.parameters())}]
    attention = [p for layer in model.attention_layers() for p in layer.parameters()]
    if not attention:
        raise ReidError(f"--attention-lr-factor {cfg.attention_lr_factor:g}: model {cfg.model} has no attention "
                        "layers (only gated-attention and mutual-attention have them)")
    chosen = {id(p) for p in attention}
    return [{"params": [p for p in model.parameters() if id(p) not in chosen]},
            {"params": attention, "lr": cfg.lr * cfg.attention_lr_factor}]


class Trainer:
    """One training run; ``run()`` trains until ``cfg.epochs`` (or a hook's ``stop()``) and returns the
    last evaluation.

    ``cfg`` may hold ``auto`` values; ``self.cfg`` is the resolved run that the record and the
    checkpoints keep. ``command`` is the command line to record. ``hooks`` run after the evaluation
    and before logging and checkpointing (see ``reid.engine.hooks``); ``self.hooks`` is the whole list.
    """

    def __init__(self, cfg: TrainConfig, resume: bool = False, command: str = "", hooks: Sequence[Hook] = ()):
        self.ctx = DistributedContext.from_environment()
        self.device = resolve_device(cfg.device, self.ctx.local_rank)
        warning = cpu_warning(cfg, self.device)
        if warning and self.ctx.is_main:  # before the slow part starts
            print(warning, file=sys.stderr)
        out = Path(cfg.out or default_out(cfg.store, cfg.model))
        resuming = resume and (out / "last.pt").exists()
        self.cfg = cfg = resolve(cfg, recorded_device(cfg.device, self.device), weights=not resuming)
        self.out = Path(cfg.out)
        self.store = open_store(cfg.store)
        check_before_use(self.store)
        self.dataset, self.sampler = self._build_data()
        self.model_config = cfg.model_config(self.dataset.num_classes)
        self.model = self._build_model(initialise=not resuming)
        self.optimizer = torch.optim.Adam(parameter_groups(self.model, cfg), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda e: lr_factor(e, cfg))
        self.loss = ReidLoss(self.dataset.num_classes, ce_weight=cfg.ce_weight, triplet_weight=cfg.triplet_weight,
                             smoothing=cfg.label_smoothing, margin=cfg.margin).to(self.device)
        self.resuming, self.start_epoch, self.best_map = resuming, 0, -1.0
        self.resumed_rng: dict[str, Any] | None = None
        self.facts = run_facts(cfg, self.store, self.device, self.ctx.world_size, command) if self.ctx.is_main else {}
        if resuming:  # before the run folder is touched: a refused resume leaves it as it was
            self._resume()
        elif resume and self.ctx.is_main:  # a job requeued before its first checkpoint starts afresh
            print(f"{self.out}: no checkpoint to resume yet, starting a new run", file=sys.stderr)
        self.hooks = default_hooks(*hooks)
        self.network: nn.Module = self.model  # setup() wraps it for DDP and torch.compile
        self.evaluation: Evaluation | None = None
        self.stopping = False
        self.flags: DeterminismFlags | None = None

    def _build_data(self) -> tuple[TrainClips, IdentityBatchSampler]:
        """The training clips and this rank's P x K batches of them."""
        cfg = self.cfg
        augment = ClipAugment(per_frame=cfg.augment == "frame", erase_p=cfg.erase_p, pad_fraction=cfg.crop_pad)
        dataset = TrainClips(self.store, seq_len=cfg.seq_len, augment=augment, seed=cfg.seed, sampling=cfg.sampling)
        if dataset.num_classes < 2:
            raise ReidError(f"{cfg.store}: needs at least 2 training identities, has {dataset.num_classes}")
        try:
            sampler = IdentityBatchSampler(dataset.labels, cfg.identities_per_batch, cfg.instances, cfg.seed,
                                           self.ctx.rank, self.ctx.world_size)
        except ValueError as exc:
            raise ReidError(f"{cfg.store}: cannot form training batches: {exc} (see --identities-per-batch, --instances)") from exc
        return dataset, sampler

    def _build_model(self, initialise: bool) -> nn.Module:
        """The network, starting from ImageNet weights or a reid checkpoint (not when resuming: the checkpoint has them).

        Random initial weights come from ``cfg.seed`` (``seeded_model``): the same seed gives the same network.
        """
        cfg = self.cfg
        model = seeded_model(self.model_config, cfg.seed)
        self.init_report = ""
        if initialise and cfg.init_from is not None:
            self.init_report = load_matching_weights(model, Path(cfg.init_from), self.model_config,
                                                     describe_store(self.store))
        elif initialise and cfg.pretrained != "none":
            model.load_imagenet(Path(cfg.pretrained))
        model = model.to(self.device)
        if self.device.type == "cuda":
            model = model.to(memory_format=torch.channels_last)
        return model

    def _resume(self) -> None:
        path = self.out / "last.pt"
        state = load_checkpoint(path, map_location=self.device)
        check_model_config(path, state["model_config"], self.model_config)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.resumed_rng = state["rng"]
        self.start_epoch, self.best_map = int(state["epoch"]), float(state["best_map"])
        self.facts = state.get("run", self.facts)

    def state(self, epoch: int) -> dict[str, Any]:
        """What a checkpoint after ``epoch`` holds: everything ``_resume`` needs to continue exactly."""
        return {
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

    def setup(self) -> None:
        """Join the process group, prepare the run folder (rank 0), set torch's determinism switches and seed
        torch (a resumed run gets its checkpoint's RNG states back). ``teardown()`` undoes the switches."""
        join_process_group(self.ctx, self.device)
        if self.ctx.is_main:
            self._prepare_run_dir()
        self.network = self._wrap(self.model)
        self.flags = DeterminismFlags(self.cfg.deterministic, self.device)  # after the checks that may refuse the run
        if self.resumed_rng is not None:
            restore_rng_state(self.resumed_rng)
        else:
            torch.manual_seed(self.cfg.seed)

    def teardown(self) -> None:
        """Put torch's global determinism switches back as ``setup()`` found them."""
        if self.flags is not None:
            self.flags.restore()
            self.flags = None

    def _wrap(self, model: nn.Module) -> nn.Module:
        if self.ctx.world_size > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            model = nn.parallel.DistributedDataParallel(model, device_ids=ids)
        if self.cfg.compile:
            model = torch.compile(model)
        return model

    def _prepare_run_dir(self) -> None:
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReidError(f"{self.out}: cannot create the run folder ({exc.strerror or exc}); choose another --out") from None
        if self.resuming:
            return  # the record describes the run as it was started: a resume never rewrites it
        if (self.out / "last.pt").exists():
            raise ReidError(f"{self.out}: holds a run already; pass --resume to continue it or choose another --out")
        try:
            write_record(self.out, self.cfg, self.facts)
        except OSError as exc:
            raise ReidError(f"{self.out}: cannot write the run record ({exc.strerror or exc}); choose another --out") from None

    def loader(self) -> DataLoader:
        workers = self.cfg.workers
        return DataLoader(self.dataset, batch_sampler=self.sampler, num_workers=workers,
                          pin_memory=self.device.type == "cuda", persistent_workers=workers > 0,
                          prefetch_factor=4 if workers > 0 else None, worker_init_fn=ignore_ctrl_c)

    def stop(self) -> None:
        """End the run after the current epoch's hooks (a hook calls this, e.g. to stop early)."""
        self.stopping = True

    def run(self) -> Evaluation | None:
        """Set up, train from ``start_epoch`` to ``cfg.epochs`` calling the hooks, tear down; the last evaluation."""
        try:
            self.setup()
            self._epochs()
        finally:
            self.teardown()
        leave_process_group(self.ctx)
        return self.evaluation

    def _epochs(self) -> None:
        try:
            for hook in self.hooks:
                hook.on_start(self)
            loader = self.loader()
            for epoch in range(self.start_epoch, self.cfg.epochs):
                self.sampler.set_epoch(epoch)
                scalars = self.train_epoch(loader, epoch)
                for hook in self.hooks:
                    hook.on_epoch_end(self, epoch + 1, scalars)
                if agreed_by_rank0(self.stopping, self.ctx, self.device):
                    break
        finally:
            for hook in self.hooks:
                hook.on_end(self)

    def train_epoch(self, loader: DataLoader, epoch: int, max_batches: int | None = None) -> dict[str, float]:
        """One pass over the sampler's batches (at most ``max_batches``, default ``cfg.max_batches``)."""
        self.network.train()
        cap = self.cfg.max_batches if max_batches is None else max_batches
        total = min(len(self.sampler), cap) if cap else len(self.sampler)
        bar = progress_display(total, f"epoch {epoch + 1}/{self.cfg.epochs}", "batch",
                               enabled=not self.cfg.quiet and self.ctx.is_main)
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
            # the loss parts in one copy to the host, made before backward: the finite check needs it there,
            # and no later read waits for the backward pass and the optimiser step
            values = dict(zip(parts, torch.stack([v.float() for v in parts.values()]).tolist()))
            if not math.isfinite(values["total"]):
                raise ReidError(f"epoch {epoch + 1}, batch {step}: the loss is {values['total']}; lower --lr or check the store")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            for key, value in values.items():
                sums[key] = sums.get(key, 0.0) + value
            seen += 1
            clips += labels.numel() * self.ctx.world_size
            rate = clips / max(time.monotonic() - started, 1e-9)
            bar.set_postfix_str(f"loss={values['total']:.3f}, clips_per_s={rate:.1f}")
            bar.update()
        bar.close()
        self.scheduler.step()
        scalars = {f"train/{k}": v for k, v in mean_over_ranks(sums, seen, self.ctx, self.device).items()}
        scalars["train/lr"] = self.optimizer.param_groups[0]["lr"]
        scalars["train/clips_per_s"] = clips / max(time.monotonic() - started, 1e-9)
        return scalars
