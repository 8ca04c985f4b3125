"""Checks on the files and folders a command will write, made before it does any work.

Users mount stores and outputs read-only in containers and run as root, where permission bits
stop nothing: what fails is the write itself (EROFS). ``access(2)`` reports a read-only mount
even to root, so a command asks it first and refuses in one line instead of failing after
minutes of work; cleanup code that runs after a failed write uses ``remove_quietly``, which
never raises a second error over the first.
"""

from __future__ import annotations

import os
from pathlib import Path

from flowprep.errors import FlowprepError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def writable_folder(folder: str | os.PathLike) -> Path:
    """Create ``folder`` if needed and make sure files can be created in it; else a one-line error."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FlowprepError(f"{folder}: cannot create this folder ({exc.strerror or exc})") from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise FlowprepError(f"{folder}: cannot write here (read-only file system or no permission)")
    return folder


def writable_file(path: str | os.PathLike) -> Path:
    """``path`` as a file that can be created: its folder exists (or is made) and is writable."""
    path = Path(path)
    writable_folder(path.parent)
    return path


def image_file(path: str | os.PathLike) -> Path:
    """``path`` as a picture to write: an image extension OpenCV knows, in a writable folder."""
    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise FlowprepError(f"{path}: not an image file name (give --out a {' or '.join(IMAGE_SUFFIXES[:2])} name)")
    return writable_file(path)


def remove_quietly(path: Path) -> None:
    """Remove a temporary file after a failure; a read-only or vanished folder is no second error."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass
