"""The HDF5 store of aligned image/flow clips: the one thing both stages share.

``schema`` is the on-disk layout (its docstring draws it), ``records`` the values a store holds,
``reader`` opens and checks one, ``writer`` writes one that appears only when complete, ``merge``
joins stores in the dataset's order and ``verify`` checks a whole file.

Every public name is importable from here (``from flowprep.store import open_store``), each
module loaded on first use: the dataset adapters take ``ROLES`` from ``schema`` without loading
h5py, and opening a store loads no dataset adapter.
"""

from __future__ import annotations

import importlib

_HOMES = {
    "schema": ("FRAME_FIELDS", "READABLE_VERSIONS", "ROLES", "SCHEMA_VERSION", "TRACKLET_FIELDS", "frame_checksum"),
    "records": ("EncodedTracklet", "FrameIndex", "StoreMeta", "TrackletIndex"),
    "reader": ("DAMAGE_ERRORS", "StoreReader", "damaged", "open_store"),
    "writer": ("WRITE_ERRORS", "StoreWriter", "write_error", "write_store"),
    "merge": ("concatenate_stores",),
    "verify": ("check_before_use", "check_structure", "describe", "summarize"),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'flowprep.store' has no attribute {name!r}")
    return getattr(importlib.import_module(f"flowprep.store.{module}"), name)
