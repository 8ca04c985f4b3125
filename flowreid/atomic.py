"""Files that appear whole or not at all.

A file another process may read (a store, a checkpoint, a feature cache, an exported model, a
metrics table) is written under a temporary name in its own folder, flushed to disk, and renamed
into place; the folder is flushed too, so the rename survives a power cut. A crash at any point
leaves either the old file or the new one, plus at most a temporary file that the next run's
cleanup or ``remove_quietly`` removes.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from flowreid.killpoints import kill_point


def temporary_sibling(path: Path) -> Path:
    """The temporary name ``path`` is built under: hidden, in the same folder (so the rename is
    atomic), and carrying the writer's pid (so two writers never share one)."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(tmp: Path, path: Path) -> None:
    """Flush the finished ``tmp`` to disk and rename it to ``path``, durably."""
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    kill_point("atomic.before-rename")
    os.replace(tmp, path)
    fsync_folder(path.parent)


def remove_quietly(path: Path) -> None:
    """Remove a temporary file after a failure; a read-only or vanished folder is no second error."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield the temporary path to write ``path``'s content to; on a clean exit it is published
    as ``path``, on an error it is removed and ``path`` is left as it was."""
    path = Path(path)
    tmp = temporary_sibling(path)
    try:
        yield tmp
        publish(tmp, path)
    except BaseException:
        remove_quietly(tmp)
        raise
