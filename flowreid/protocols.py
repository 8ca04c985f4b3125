"""The evaluation protocols: which tracklets a query is ranked against. Stores keep the standard
roles only; the protocol is chosen at evaluation time, here and nowhere else.

- ``standard``: the gallery role (queries held out), as torchreid and most papers evaluate.
- ``matlab``: the official MARS MATLAB code's gallery, every non-junk test tracklet, the queries
  included, each once (11,310 tracklets on MARS against the standard 9,330).

Stores extracted with the removed ``flowprep extract --protocol matlab`` hold a gallery copy of
each query named ``<query name>#gallery``; ``without_legacy_copies`` drops them, so such a store
reads as the standard store it contains.

Both stages use them: ``reid evaluate`` ranks under them, and ``flowprep extract --dry-run``
reports the size of the ``matlab`` gallery before anything is extracted.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

PROTOCOLS = ("standard", "matlab")
LEGACY_COPY_SUFFIX = "#gallery"


def protocol_gallery(query: np.ndarray, gallery: np.ndarray, protocol: str) -> np.ndarray:
    """The gallery indices under ``protocol``, from the standard roles' query and gallery indices."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r} (choose from {', '.join(PROTOCOLS)})")
    return np.concatenate([gallery, query]) if protocol == "matlab" else gallery


def without_legacy_copies(gallery: np.ndarray, names: Sequence[str], query: np.ndarray) -> np.ndarray:
    """``gallery`` minus the ``<query>#gallery`` copies that old ``--protocol matlab`` stores hold."""
    queries = {names[i] for i in query.tolist()}
    copies = [
        name.endswith(LEGACY_COPY_SUFFIX) and name[: -len(LEGACY_COPY_SUFFIX)] in queries
        for name in (names[i] for i in gallery.tolist())
    ]
    return gallery[~np.array(copies, dtype=bool)] if any(copies) else gallery
