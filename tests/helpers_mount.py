"""A folder seen read-only through a bind mount, as a container's ``:ro`` volume (where root's writes fail too)."""

from __future__ import annotations

import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def _succeeds(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True).returncode == 0
    except OSError:  # no mount program
        return False


@contextmanager
def read_only_bind(source: Path, view: Path) -> Iterator[bool]:
    """Show ``source`` read-only at ``view`` (created if missing) while inside; yields whether the mount was made.

    Mounting needs root or CAP_SYS_ADMIN: where it is refused, ``view`` is left an empty folder and the
    caller injects the OSError a read-only file system would give.
    """
    view.mkdir(exist_ok=True)
    bound = _succeeds(["mount", "--bind", str(source), str(view)])
    mounted = bound and _succeeds(["mount", "-o", "remount,ro,bind", str(view)])
    if bound and not mounted:
        subprocess.run(["umount", str(view)], check=False)
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(view)], check=False)
