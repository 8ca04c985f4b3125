"""The run record: ``config.yaml`` in the run folder, every resolved setting plus the facts around the run.

Its settings part is a config file (``reid train --config runs/X/config.yaml --out runs/Y``
repeats the run); its ``run:`` part says what those settings met: the store (path, schema,
split source, creation stamp), the weight files and their SHA-256, the device, the world
size, the versions of Python, torch, CUDA and this project, and the command line.
"""

from __future__ import annotations

import hashlib
import platform
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from flowprep import StoreReader
from flowreid import __version__
from reid.config import RECORD_KEY
from reid.data.store_record import describe_store
from reid.settings import TRAIN_SETTINGS

RECORD_NAME = "config.yaml"


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def versions() -> dict[str, str]:
    return {"python": platform.python_version(), "torch": str(torch.__version__),
            "cuda": torch.version.cuda or "none", "flowreid": __version__}


def device_facts(device: torch.device) -> dict[str, Any]:
    facts: dict[str, Any] = {"name": str(device), "host": socket.gethostname()}
    if device.type == "cuda":
        facts["gpu"] = torch.cuda.get_device_name(device)
    else:
        facts["threads"] = torch.get_num_threads()
    return facts


def run_facts(cfg, store: StoreReader, device: torch.device, world_size: int, command: str) -> dict[str, Any]:
    """The ``run:`` part of the record: what the resolved settings ``cfg`` met when this run started."""
    weights = {key: {"path": getattr(cfg, key), "sha256": file_sha256(getattr(cfg, key))}
               for key in ("pretrained", "init_from") if getattr(cfg, key) not in (None, "none")}
    return {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "command": command,
            "world_size": world_size, "device": device_facts(device), "store": describe_store(store),
            "weights": weights, "versions": versions()}


def record_dict(cfg, facts: dict[str, Any]) -> dict[str, Any]:
    """Settings in their definition order (lists for tuples, so YAML stays plain), then the facts."""
    settings = {}
    for setting in TRAIN_SETTINGS:
        value = getattr(cfg, setting.name)
        settings[setting.name] = list(value) if isinstance(value, tuple) else value
    return {**settings, RECORD_KEY: facts}


def write_record(folder: Path, cfg, facts: dict[str, Any]) -> Path:
    import yaml

    path = Path(folder) / RECORD_NAME
    header = (f"# reid train run record: every setting as it was resolved, then (under {RECORD_KEY}:) the facts\n"
              f"# about the run, which are not read back. Repeat the run: reid train --config {path} --out NEW_FOLDER\n")
    path.write_text(header + yaml.safe_dump(record_dict(cfg, facts), sort_keys=False, default_flow_style=None))
    return path
