"""Cleanup after a failed write (the checks made before writing are ``flowreid.outputs``)."""

from __future__ import annotations

from pathlib import Path


def remove_quietly(path: Path) -> None:
    """Remove a temporary file after a failure; a read-only or vanished folder is no second error."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass
