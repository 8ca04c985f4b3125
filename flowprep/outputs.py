"""Checks on the files and folders a command will write, made before it does any work.

Users mount stores and outputs read-only in containers and run as root, where permission bits
stop nothing: what fails is the write itself (EROFS). ``access(2)`` reports a read-only mount
even to root, so a command asks it first and refuses in one line instead of failing after
minutes of work; cleanup code that runs after a failed write uses ``flowreid.atomic.remove_quietly``,
which never raises a second error over the first.
"""

from __future__ import annotations

import os
from pathlib import Path

from flowprep.errors import FlowprepError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def writable_folder(folder: str | os.PathLike, create: bool = False) -> Path:
    """Check that files can be written in ``folder`` (or that it can be made, in its nearest existing
    ancestor) and, with ``create``, make it; else a one-line error. Without ``create`` a refused command
    leaves no empty folder behind."""
    folder = Path(folder)
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise FlowprepError(f"{folder}: cannot create this folder ({existing} is a file)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise FlowprepError(f"{folder}: cannot write here ({existing} is on a read-only file system or not writable)")
    if create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FlowprepError(f"{folder}: cannot create this folder ({exc.strerror or exc})") from exc
    return folder


def writable_file(path: str | os.PathLike) -> Path:
    """``path`` as a file that can be created: its folder exists or can be made, and is writable."""
    path = Path(path)
    writable_folder(path.parent)
    return path


def image_file(path: str | os.PathLike) -> Path:
    """``path`` as a picture to write: an image extension OpenCV knows, in a writable folder."""
    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise FlowprepError(f"{path}: not an image file name (give --out a {' or '.join(IMAGE_SUFFIXES[:2])} name)")
    return writable_file(path)

