"""Person silhouettes of a synthetic dataset, in a sidecar folder outside its official layout.

The renderer knows which pixels of each frame are the walker's; ``flowprep synth --silhouettes DIR``
writes them as PNG masks (255 = person) at ``DIR/<frame path relative to the dataset root>.png``,
so the dataset folder itself stays byte for byte what the adapters expect, and a frame's mask is
found from its file name alone (``silhouette_index``): the attention report
(``reid/visualize/silhouette.py``) compares a model's spatial attention with them.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Iterator

from flowprep.errors import FlowprepError

_TARGET: ContextVar[tuple[Path, Path] | None] = ContextVar("silhouette_target", default=None)


@contextmanager
def recording_silhouettes(dataset_root: Path, folder: Path | None) -> Iterator[None]:
    """While on (``folder`` not None), the studio writes each frame's mask under ``folder``."""
    token = _TARGET.set(None if folder is None else (Path(dataset_root), Path(folder)))
    try:
        yield
    finally:
        _TARGET.reset(token)


def silhouettes_on() -> bool:
    return _TARGET.get() is not None


def silhouette_path(frame: Path) -> Path:
    """Where the mask of the frame file ``frame`` (inside the dataset being written) goes."""
    root, folder = _TARGET.get()
    return (folder / frame.relative_to(root)).with_suffix(".png")


def silhouette_index(folder: Path) -> dict[str, Path]:
    """Frame file stem -> its mask, for every mask under ``folder`` (stores keep frame file names)."""
    masks = sorted(Path(folder).rglob("*.png"))
    if not masks:
        raise FlowprepError(f"{folder}: no silhouette masks (write them with flowprep synth --silhouettes {folder})")
    index: dict[str, Path] = {}
    for mask in masks:
        if mask.stem in index:
            raise FlowprepError(f"{folder}: two masks for frames named {mask.stem} ({index[mask.stem]}, {mask})")
        index[mask.stem] = mask
    return index
