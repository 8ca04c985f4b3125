"""The query of ``reid search``: which tracklet(s) a folder of frames holds, and which gallery tracklet
is that very tracklet (it would rank first at distance ~0 and say nothing).

A MARS person folder holds all of a person's tracklets (``bbox_test/0001/`` has C2 and C6 ones); read
as one query they would be one mixed tracklet, part of which is itself in the gallery. The frames are
grouped by the dataset naming rules (``flowprep.tracklet_groups``) and the user chooses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from flowprep import StoreReader, as_stored, load_tracklet, tracklet_groups
from reid.api import frame_files
from reid.errors import ReidError

ALL = "all"
# mean absolute difference (0..255) under which a query frame, encoded as the store encodes, is the stored
# frame itself (it is 0 when it is; another person's frame differs by tens)
SAME_PIXELS = 1.0
LISTED = 8  # tracklets named in the error before "..."


def query_tracklets(folder: Path, wanted: str | None) -> dict[str, list[Path]]:
    """The tracklets of ``folder`` to search, by name: all of them when there is one or ``wanted`` is
    ``all``, the one named ``wanted``; several without ``wanted`` is a one-line error listing them."""
    groups = tracklet_groups(frame_files(folder))
    if wanted == ALL or (wanted is None and len(groups) == 1):
        return groups
    listing = ", ".join(f"{name} ({len(frames)} frames)" for name, frames in list(groups.items())[:LISTED])
    listing += ", ..." if len(groups) > LISTED else ""
    if wanted is None:
        raise ReidError(f"{folder}: holds {len(groups)} tracklets by their frame names: {listing}; "
                        f"pass --tracklet NAME to search one, or --tracklet {ALL} to search each")
    if wanted not in groups:
        raise ReidError(f"{folder}: holds no tracklet {wanted!r}; it holds {listing}")
    return {wanted: groups[wanted]}


def query_itself(store: StoreReader, gallery: np.ndarray, frames: Sequence[Path]) -> np.ndarray:
    """Which of the ``gallery`` tracklets is the query itself: one whose stored frames include the query's
    frame files by name and, as PRID's and a tracker's names repeat across tracklets, whose frame of the
    query's first name is that file's frame as the store encodes it."""
    names = {Path(frame).name: Path(frame) for frame in frames}
    wanted = np.array([name.encode("utf-8") for name in names], dtype=bytes)
    stored = store.frame_name_column()
    t, meta = store.tracklets, store.meta
    itself = np.zeros(len(gallery), bool)
    for position, tracklet in enumerate(gallery):
        start, count = int(t.frame_start[tracklet]), int(t.frame_count[tracklet])
        own = stored[start:start + count]
        if not np.isin(wanted, own).all():
            continue
        name = next(iter(names))
        loaded = load_tracklet([names[name]], meta.height, meta.width)
        if len(loaded.frames) != 1:  # unreadable: the query's embedding leaves it out too
            continue
        mine, _ = as_stored(meta, loaded, np.zeros((1, 2, meta.height, meta.width), np.float32))
        theirs, _ = store.read_clip(int(tracklet), [int(np.flatnonzero(own == wanted[0])[0])])
        itself[position] = np.abs(mine[0].astype(np.float32) - theirs[0]).mean() < SAME_PIXELS
    return itself
