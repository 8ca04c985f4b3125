"""From config files and flags to the one ``TrainConfig`` a run uses.

A config file is YAML whose keys are setting names (``reid.settings``). It may name a
base file it extends, ``_BASE_: ../base.yaml`` (relative to itself, as in fast-reid); the
file's own keys override the base's, and command-line flags override both. The run record
``config.yaml`` that ``reid train`` writes is such a file too: its ``run:`` section holds
facts about the run (versions, store, command line) and is not read back as settings.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from reid.engine.config import TrainConfig
from reid.settings import SETTINGS_BY_NAME, SettingError, check_values, resume_differences

BASE_KEY = "_BASE_"
RECORD_KEY = "run"


def load_config_file(path: str | os.PathLike, _inside: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The checked settings of a config file and its bases; every problem is one line naming the file."""
    import yaml

    path = Path(path)
    if path.resolve() in _inside:
        raise SettingError(f"{path}: {BASE_KEY} chain comes back to this file")
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise SettingError(f"{path}: cannot read the config file ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise SettingError(f"{path}: not valid YAML{line}: {getattr(exc, 'problem', None) or exc}") from None
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise SettingError(f"{path}: expected setting: value lines, got a {type(data).__name__}")
    data.pop(RECORD_KEY, None)
    base = data.pop(BASE_KEY, None)
    values: dict[str, Any] = {}
    if base is not None:
        if not isinstance(base, str):
            raise SettingError(f"{path}: {BASE_KEY}: expected the path of a base file, got {base!r}")
        values = load_config_file(path.parent / base, (*_inside, path.resolve()))
    values.update(check_values(data, str(path)))
    return values


def absolute(path: str | None) -> str | None:
    return None if path is None else os.path.abspath(path)


def default_out(store: str, model: str) -> str:
    return str(Path("runs") / f"{Path(store).stem}-{model}")


def pretrained_file(choice: str, backbone: str) -> str:
    """What ``--pretrained`` stands for: the absolute path of the file used, or ``none``."""
    from reid.pretrained import resolve_pretrained

    found = resolve_pretrained(choice, backbone)
    return "none" if found is None else os.path.abspath(found)


def resolve(cfg: TrainConfig, device: str, *, weights: bool = True) -> TrainConfig:
    """The same run with nothing left to chance: absolute paths, the weight file, the worker count, the device.

    ``weights=False`` leaves ``pretrained`` as recorded (a resumed run takes its weights from the checkpoint).
    """
    from flowreid.options import default_workers

    return replace(
        cfg,
        store=absolute(cfg.store),
        out=absolute(cfg.out or default_out(cfg.store, cfg.model)),
        init_from=absolute(cfg.init_from),
        pretrained=pretrained_file(cfg.pretrained, cfg.backbone) if weights else cfg.pretrained,
        workers=default_workers() if cfg.workers is None else cfg.workers,
        device=device,
    )


def saved_settings(checkpoint: Path) -> dict[str, Any]:
    """The settings a checkpoint was trained with (older checkpoints: the keys they have, defaults for the rest)."""
    from reid.engine.checkpoint import load_checkpoint

    saved = load_checkpoint(checkpoint).get("config", {})
    known = {key: value for key, value in saved.items() if key in SETTINGS_BY_NAME}
    return check_values(known, str(checkpoint))


def _comparable(chosen: dict[str, Any], backbone: str) -> dict[str, Any]:
    """Asked-for values in the form the record keeps them, so ``auto`` and relative paths compare equal."""
    values = dict(chosen)
    for key, value in chosen.items():
        if key == "pretrained":
            values[key] = pretrained_file(value, backbone)
        elif SETTINGS_BY_NAME[key].path:
            values[key] = absolute(value)
    return values


def train_config(explicit: dict[str, Any], config_file: str | os.PathLike | None = None,
                 resume: bool = False) -> TrainConfig:
    """The settings of a ``reid train`` run: defaults < config file < flags; on resume, the saved run's.

    A resume keeps every saved value; an asked-for value that would change the result is refused
    in one line listing each difference (``epochs`` may grow; placement settings may change).
    """
    chosen = {**(load_config_file(config_file) if config_file else {}), **check_values(explicit, "command line")}
    if not chosen.get("store") and not (resume and chosen.get("out")):
        raise SettingError("no store: pass --store STORE (or a --config file that names one)")
    out = Path(chosen.get("out") or default_out(chosen["store"], chosen.get("model", SETTINGS_BY_NAME["model"].default)))
    checkpoint = out / "last.pt"
    if not (resume and checkpoint.is_file()):
        if not chosen.get("store"):
            raise SettingError(f"{out}: no checkpoint to resume and no --store to start a new run")
        return TrainConfig(**{**chosen, "out": str(out)})
    saved = saved_settings(checkpoint)
    asked = _comparable(chosen, chosen.get("backbone", saved.get("backbone", "resnet50")))
    changes = resume_differences(saved, {k: v for k, v in asked.items() if k != "out"})
    if changes:
        raise SettingError(f"{checkpoint}: --resume continues the recorded run, but these differ from it: {'; '.join(changes)} "
                           "(drop them, or start a new run with another --out)")
    placement = {k: v for k, v in chosen.items() if k != "out" and v != saved.get(k)}
    return TrainConfig(**{**saved, **placement, "out": str(out)})
