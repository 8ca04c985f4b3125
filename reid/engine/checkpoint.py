"""Checkpoints: written atomically, read with ``weights_only`` so loading never runs code.

A checkpoint holds everything needed to continue a run exactly: model, optimiser and
scheduler states, the epoch, the RNG states of torch, numpy and python, and the run's
config (which also tells ``reid evaluate`` how to rebuild the model).
"""

from __future__ import annotations

import io
import pickle
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from flowreid.atomic import atomic_path
from flowreid.killpoints import kill_point
from reid.engine.checkpoint_path import refuse_non_checkpoint, resolve_checkpoint
from reid.errors import CheckpointError

FORMAT = 1
CLASSIFIER_KEY = "classifier.weight"  # the identity classifier's tensor (its rows are the training people)


def rng_state() -> dict[str, Any]:
    """The RNG states as plain tensors and lists, loadable under ``weights_only``."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, state, gauss = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": pos, "has_gauss": has_gauss, "cached": cached},
        "python": {"version": version, "state": list(state), "gauss": gauss},
    }


def restore_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["state"]), p["gauss"]))


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` to ``path`` atomically: a crash or a full disk keeps the old file."""
    path = Path(path)
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, **payload}, buffer)
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(buffer.getbuffer())
            kill_point("checkpoint.before-rename")
    except OSError as exc:
        raise CheckpointError(f"{path}: could not write the checkpoint: {exc.strerror or exc}") from exc
    kill_point("checkpoint.after-rename")


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint without executing anything in it; every failure is one line.

    ``path`` may be a run folder (its best.pt, else last.pt, is read: ``resolve_checkpoint``)."""
    path = resolve_checkpoint(path)
    refuse_non_checkpoint(path)
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        detail = next((line.strip() for line in str(exc).splitlines() if "Unsupported" in line), "weights_only load failed")
        raise CheckpointError(f"{path}: refused: it holds pickled objects other than tensors and plain data ({detail})") from exc
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(f"{path}: not a readable checkpoint (truncated or damaged?): {detail}") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a reid checkpoint (format {payload.get('format') if isinstance(payload, dict) else '?'})")
    return payload


def check_model_config(path: Path, saved: dict[str, Any], wanted: dict[str, Any]) -> None:
    """Refuse a checkpoint made for another model, naming the first setting that differs."""
    for key in sorted(set(saved) | set(wanted)):
        if saved.get(key) != wanted.get(key):
            raise CheckpointError(
                f"{path}: made for {key}={saved.get(key)!r}, but this run uses {key}={wanted.get(key)!r}"
            )


def load_matching_weights(model: torch.nn.Module, path: Path, model_config: dict[str, Any],
                          store: dict[str, Any] | None = None) -> str:
    """Fine-tuning (``--init-from``): copy a reid checkpoint's weights into ``model``; say what was copied.

    The checkpoint must be of the same network; the identity classifier is copied only when it classifies
    the same people: the same number of identities, and (with ``store``, this run's ``describe_store``)
    the same dataset and split as the checkpoint's training store. A new dataset starts a new classifier,
    as torchreid's ``--load-weights`` does, even when its number of people happens to match.
    """
    from reid.data.store_record import same_identities, training_store_words

    state = load_checkpoint(path)
    saved = state.get("model_config")
    if not isinstance(saved, dict):
        raise CheckpointError(f"{path}: has no model config (not written by reid train?)")
    differences = [f"{key} {saved.get(key)!r} (this run: {value!r})" for key, value in model_config.items()
                   if key != "num_classes" and saved.get(key) != value]
    if differences:
        raise CheckpointError(f"{path}: --init-from needs a checkpoint of the same network; it differs in "
                              + ", ".join(differences))
    own = model.state_dict()
    fitting = {k: v for k, v in state["model"].items() if k in own and own[k].shape == v.shape}
    other_people = store is not None and not same_identities(state.get("store"), store)
    if other_people:
        fitting = {k: v for k, v in fitting.items() if not k.endswith(CLASSIFIER_KEY)}
    model.load_state_dict(fitting, strict=False)
    left = sorted(set(own) - set(fitting))
    why = (f"trained on {training_store_words(state['store'])}, this run on {training_store_words(store)}"
           if other_people else f"{saved.get('num_classes')} identities there, {model_config['num_classes']} here")
    note = f"; new: {', '.join(left)} ({why})" if left else ""
    return f"initialised from {path}: {len(fitting)} of {len(own)} tensors{note}"
