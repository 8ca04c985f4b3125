"""What the training loop does besides training, as hooks it calls at three moments.

The loop (``Trainer.run``) calls every hook in ``trainer.hooks``, in order, at each moment:

- ``on_start(trainer)``: after the set-up, before the first epoch;
- ``on_epoch_end(trainer, epoch, scalars)``: after each epoch (``epoch`` counts from 1) with that
  epoch's scalars; a hook may add to them, and the hooks after it see (and log) what it added;
- ``on_end(trainer)``: when the run ends, also when it fails or stops early (close what on_start opened).

The default list is ``[Evaluate(), *your hooks, Log(), Checkpoint()]``: your hooks see the epoch's
scores, and what they add lands in metrics.csv and the checkpoint. Every rank calls every hook;
only rank 0 evaluates, logs and saves. A hook ends the run early with ``trainer.stop()``: the
loop finishes that epoch's hooks, then stops on every rank (rank 0's decision counts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reid.engine.checkpoint import save_checkpoint
from reid.engine.evaluation import evaluate_model
from reid.engine.events import RunLog
from reid.engine.summary import run_header

if TYPE_CHECKING:
    from reid.engine.trainer import Trainer


class Hook:
    """One job of the loop besides training; override the moments it needs (the others do nothing)."""

    def on_start(self, trainer: Trainer) -> None:
        pass

    def on_epoch_end(self, trainer: Trainer, epoch: int, scalars: dict[str, float]) -> None:
        pass

    def on_end(self, trainer: Trainer) -> None:
        pass


class Evaluate(Hook):
    """Scores the model on the store's query/gallery sets every ``eval_every`` epochs and after the last
    (rank 0); adds them to the scalars as ``eval/<metric>`` and keeps them in ``trainer.evaluation``."""

    def on_epoch_end(self, trainer: Trainer, epoch: int, scalars: dict[str, float]) -> None:
        cfg = trainer.cfg
        due = epoch == cfg.epochs or (cfg.eval_every > 0 and epoch % cfg.eval_every == 0)
        if not (due and trainer.ctx.is_main):
            return
        trainer.evaluation = evaluate_model(trainer.model, trainer.store, seq_len=cfg.seq_len, device=trainer.device,
                                            metric=cfg.eval_metric, workers=min(cfg.workers, 4), amp=cfg.amp)
        scalars.update({f"eval/{k}": v for k, v in trainer.evaluation.as_dict().items() if isinstance(v, float)})


def epoch_line(epoch: int, epochs: int, scalars: dict[str, float]) -> str:
    """One epoch in one line: losses, learning rate, speed and (when evaluated) the scores."""
    parts = [f"epoch {epoch}/{epochs}", f"loss {scalars['train/total']:.4f} (ce {scalars['train/ce']:.4f}, "
             f"triplet {scalars['train/triplet']:.4f})", f"lr {scalars['train/lr']:.2e}",
             f"{scalars['train/clips_per_s']:.1f} clips/s"]
    if "eval/mAP" in scalars:
        parts.append(f"mAP {scalars['eval/mAP']:.1%} rank-1 {scalars['eval/rank1']:.1%}")
    return "  ".join(parts)


class Log(Hook):
    """The header, then per epoch a row of metrics.csv, TensorBoard scalars and a line in train.log
    (shown every ``log_every`` epochs, at evaluations and at the end); rank 0 only."""

    def __init__(self) -> None:
        self.log: RunLog | None = None

    def on_start(self, trainer: Trainer) -> None:
        self.log = RunLog(trainer.out, enabled=trainer.ctx.is_main, resumed_step=trainer.start_epoch)
        for line in run_header(trainer.cfg, trainer.store, trainer.model, trainer.device, trainer.ctx.world_size):
            self.log.line(line)
        if trainer.init_report:
            self.log.line(trainer.init_report)
        if trainer.resuming:
            self.log.line(f"resumed from epoch {trainer.start_epoch} (best mAP so far {max(trainer.best_map, 0):.1%}), "
                          f"training to epoch {trainer.cfg.epochs}")

    def on_epoch_end(self, trainer: Trainer, epoch: int, scalars: dict[str, float]) -> None:
        cfg = trainer.cfg
        self.log.log(epoch, scalars)
        shown = epoch == cfg.epochs or "eval/mAP" in scalars or epoch % cfg.log_every == 0
        self.log.line(epoch_line(epoch, cfg.epochs, scalars), show=shown)

    def on_end(self, trainer: Trainer) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None


class Checkpoint(Hook):
    """``last.pt`` after every epoch, and ``best.pt`` when the epoch's ``eval/mAP`` beats the best so far
    (rank 0). Runs after Log: a run killed between the two redoes the epoch and logs it once."""

    def on_epoch_end(self, trainer: Trainer, epoch: int, scalars: dict[str, float]) -> None:
        if not trainer.ctx.is_main:
            return
        score = scalars.get("eval/mAP")
        improved = score is not None and score > trainer.best_map
        if improved:
            trainer.best_map = score
        state = trainer.state(epoch)
        save_checkpoint(trainer.out / "last.pt", state)
        if improved:
            save_checkpoint(trainer.out / "best.pt", state)


def default_hooks(*extra: Hook) -> list[Hook]:
    """Evaluation, then ``extra`` (which see the scores), then logging and checkpointing (which keep what all added)."""
    return [Evaluate(), *extra, Log(), Checkpoint()]
