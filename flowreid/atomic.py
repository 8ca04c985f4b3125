"""Files that appear whole or not at all.

A file another process may read (a store, a checkpoint, a feature cache, an exported model, a
metrics table) is written under a temporary name in its own folder, flushed to disk, and renamed
into place; the folder is flushed too, so the rename survives a power cut. A crash at any point
leaves either the old file or the new one, plus at most a temporary file, which the next writer
of the same file removes once the process that made it is gone (``claim_temporary``).
"""

from __future__ import annotations

import os
import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from flowreid.killpoints import kill_point


HOST = socket.gethostname().replace("/", "_")


def temporary_sibling(path: Path) -> Path:
    """The temporary name ``path`` is built under: hidden, in the same folder (so the rename is
    atomic), and carrying the writer's host and pid (so two writers never share one, even on a
    file system that several machines share)."""
    return path.with_name(f".{path.name}.tmp-{HOST}-{os.getpid()}")


def _process_is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove the temporary files of ``path`` left by killed writers of this machine: only those whose
    process no longer exists (a live writer's file, or another machine's, is left alone). Names
    without a host (``.NAME.tmp-PID``, as earlier versions wrote them) count as this machine's."""
    removed = []
    prefix = f".{path.name}.tmp-"
    try:
        candidates = [p for p in path.parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return removed
    for candidate in candidates:
        host, _, pid = candidate.name[len(prefix):].rpartition("-")
        if pid.isdigit() and host in ("", HOST) and int(pid) != os.getpid() and _process_is_gone(int(pid)):
            remove_quietly(candidate)
            removed.append(candidate)
    return removed


def claim_temporary(path: Path) -> Path:
    """This writer's temporary name for ``path``, after removing what killed writers left there."""
    remove_stale_temporaries(path)
    return temporary_sibling(path)


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
    tmp = claim_temporary(path)
    try:
        yield tmp
        publish(tmp, path)
    except BaseException:
        remove_quietly(tmp)
        raise
