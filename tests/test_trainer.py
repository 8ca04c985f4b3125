"""The Trainer's three steps (build, set up, run with hooks), and a hook added from outside the loop."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import torch

from reid.engine.checkpoint import load_checkpoint
from reid.engine.config import TrainConfig
from reid.engine.hooks import Hook, Log
from reid.engine.trainer import Trainer
from reid.errors import ReidError


def tiny_config(store: Path, out: Path, **settings) -> TrainConfig:
    return TrainConfig(**{**dict(store=str(store), out=str(out), backbone="resnet_tiny", pretrained="none",
                                 feature_dim=64, identities_per_batch=3, instances=2, workers=0, device="cpu",
                                 warmup_epochs=0, eval_every=0, quiet=True, deterministic=True, seed=5), **settings})


def logged(run: Path) -> list[dict[str, str]]:
    with open(run / "metrics.csv", newline="") as handle:
        return list(csv.DictReader(handle))


class ScriptedScore(Hook):
    """Adds ``test/score`` to each epoch's scalars from a script, as an evaluation would add its scores."""

    def __init__(self, scores: list[float]):
        self.scores = scores

    def on_epoch_end(self, trainer: Trainer, epoch: int, scalars: dict[str, float]) -> None:
        scalars["test/score"] = self.scores[epoch - 1]


def readme_hooks() -> dict:
    """The classes the README's training example defines (the lines before it trains)."""
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    example = re.search(r"```python\n(from reid.config import train_config\n.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(example[: example.index("\ncfg = ")], namespace)
    return namespace


class Failing(Hook):
    def on_epoch_end(self, trainer: Trainer, epoch: int, scalars: dict[str, float]) -> None:
        raise RuntimeError("a hook failed")


def test_construction_changes_nothing_outside_the_trainer(store, tmp_path):
    rng = torch.get_rng_state()
    Trainer(tiny_config(store, tmp_path / "run"))
    assert not torch.are_deterministic_algorithms_enabled()  # --deterministic waits for setup()
    assert torch.equal(torch.get_rng_state(), rng)  # the initial weights come from a private generator
    assert not (tmp_path / "run").exists()


def test_the_seed_fixes_the_initial_weights(store, tmp_path):
    a, b = (Trainer(tiny_config(store, tmp_path / name)).model.state_dict() for name in ("a", "b"))
    other = Trainer(tiny_config(store, tmp_path / "c", seed=6)).model.state_dict()
    assert all(torch.equal(a[key], b[key]) for key in a)
    assert not all(torch.equal(a[key], other[key]) for key in a)


def test_setup_sets_the_determinism_switch_and_teardown_puts_it_back(store, tmp_path):
    trainer = Trainer(tiny_config(store, tmp_path / "run"))
    trainer.setup()
    try:
        assert torch.are_deterministic_algorithms_enabled()
    finally:
        trainer.teardown()
    assert not torch.are_deterministic_algorithms_enabled()


def test_setup_seeds_torch_from_the_run_seed(store, tmp_path):
    trainer = Trainer(tiny_config(store, tmp_path / "run"))
    trainer.setup()
    try:
        drawn = torch.rand(4)
    finally:
        trainer.teardown()
    torch.manual_seed(5)
    assert torch.equal(drawn, torch.rand(4))


@pytest.fixture(scope="module")
def stopped_early(store, tmp_path_factory) -> Path:
    """The run folder of an 8-epoch run with a scripted score and the README's early stopping (patience 2)."""
    run = tmp_path_factory.mktemp("trainer") / "run"
    scores = [0.1, 0.3, 0.2, 0.3, 0.9, 0.9, 0.9, 0.9]  # no better score after epoch 2: stop after epoch 4
    early_stopping = readme_hooks()["EarlyStopping"](patience=2, key="test/score")
    Trainer(tiny_config(store, run, epochs=8), hooks=[ScriptedScore(scores), early_stopping]).run()
    return run


def test_the_readmes_early_stopping_hook_ends_the_run_without_editing_the_loop(stopped_early):
    assert load_checkpoint(stopped_early / "last.pt")["epoch"] == 4
    assert [row["epoch"] for row in logged(stopped_early)] == ["1", "2", "3", "4"]


def test_what_a_hook_adds_to_the_scalars_is_logged(stopped_early):
    assert [row["test/score"] for row in logged(stopped_early)] == ["0.1", "0.3", "0.2", "0.3"]


@pytest.fixture(scope="module")
def failed(store, tmp_path_factory) -> tuple[Trainer, bool]:
    """(a run whose hook raised after the first epoch, whether torch's determinism switch was on after it)."""
    trainer = Trainer(tiny_config(store, tmp_path_factory.mktemp("trainer") / "run", epochs=1), hooks=[Failing()])
    with pytest.raises(RuntimeError, match="a hook failed"):
        trainer.run()
    return trainer, torch.are_deterministic_algorithms_enabled()


def test_a_failing_hook_still_puts_the_switches_back(failed):
    _, deterministic_after = failed
    assert not deterministic_after


def test_a_failing_hook_still_closes_the_log(failed):
    trainer, _ = failed
    assert [hook.log for hook in trainer.hooks if isinstance(hook, Log)] == [None]  # Log.on_end closed it


def test_a_loss_that_is_not_finite_stops_the_run_naming_the_batch(store, tmp_path):
    trainer = Trainer(tiny_config(store, tmp_path / "run", epochs=1))
    real = trainer.loss

    def diverged(output, labels):
        loss, parts = real(output, labels)
        return loss * float("nan"), {**parts, "total": parts["total"] * float("nan")}

    trainer.loss = diverged
    with pytest.raises(ReidError, match=r"epoch 1, batch 0: the loss is nan; lower --lr"):
        trainer.run()
    assert not (tmp_path / "run" / "last.pt").exists()  # no checkpoint of diverged weights


def attention_displacement(store: Path, out: Path, factor: float) -> tuple[float, Trainer]:
    """How far the mutual-attention embeddings move from their start in two epochs at ``factor``."""
    trainer = Trainer(tiny_config(store, out, model="mutual-attention", aggregate="avg", epochs=2,
                                  attention_lr_factor=factor))
    start = [p.detach().clone() for p in trainer.model.mutual_attention.parameters()]
    trainer.run()
    moved = sum(float((p.detach() - s).pow(2).sum()) for p, s in zip(trainer.model.mutual_attention.parameters(), start))
    return moved ** 0.5, trainer


def test_the_attention_layers_learn_at_their_own_rate(store, tmp_path):
    same, _ = attention_displacement(store, tmp_path / "x1", 1.0)
    faster, trainer = attention_displacement(store, tmp_path / "x10", 10.0)
    rest, attention = trainer.optimizer.param_groups
    assert attention["lr"] == pytest.approx(10 * rest["lr"])  # the schedule keeps the ratio
    assert {id(p) for p in attention["params"]} == {id(p) for p in trainer.model.mutual_attention.parameters()}
    assert len(rest["params"]) + len(attention["params"]) == len(list(trainer.model.parameters()))
    assert faster > 3 * same  # Adam's steps scale with the rate
    assert "(attention layers x10)" in (tmp_path / "x10" / "train.log").read_text()


def test_gated_attention_speeds_up_its_flow_cnn(store, tmp_path):
    trainer = Trainer(tiny_config(store, tmp_path / "run", model="gated-attention", attention_lr_factor=5.0))
    assert {id(p) for p in trainer.optimizer.param_groups[1]["params"]} == {id(p) for p in trainer.model.flow_cnn.parameters()}


def test_an_attention_rate_for_a_model_without_attention_is_refused(store, tmp_path):
    with pytest.raises(ReidError, match="model baseline has no attention layers"):
        Trainer(tiny_config(store, tmp_path / "run", model="baseline", attention_lr_factor=10.0))
