"""flowprep: offline preprocessing for video person re-identification.

Reads a dataset in its official layout, computes optical flow for every
tracklet and writes one HDF5 store of aligned image/flow clips that the
``reid`` stage trains and evaluates on. ``open_store(path)`` reads one::

    from flowprep import open_store
    with open_store("mars.h5") as store:
        images, flows = store.read_clip(0, range(4))   # RGB (4, H, W, 3), flow (4, 2, H, W) in pixels

The names below are flowprep's whole public interface, and the only names ``reid`` imports from
it: the store reader, the flow estimator interface that turns frames from outside any dataset
into what a store holds (``flowprep.encode``), and the synthetic renderer's person masks. Each is imported on first use, so ``import flowprep``
pulls in neither h5py, OpenCV nor torch and every command starts fast.
"""

import importlib

from flowreid import __version__

# public name -> the module that defines it
_PUBLIC = {
    # the store reader (and the check a trainer runs before it trusts a store)
    "open_store": "flowprep.store",
    "StoreReader": "flowprep.store",
    "StoreMeta": "flowprep.store",
    "TrackletIndex": "flowprep.store",
    "ROLES": "flowprep.store",
    "check_before_use": "flowprep.store",
    "StoreError": "flowprep.errors",
    # the flow estimator interface
    "load_tracklet": "flowprep.frames",
    "store_estimator": "flowprep.encode",
    "tracklet_flow": "flowprep.flow",
    "as_stored": "flowprep.encode",
    # which tracklet each frame of a folder is, by the datasets' naming rules (a MARS person folder holds several)
    "tracklet_groups": "flowprep.datasets.frame_groups",
    # the person masks a synthetic dataset was written with (flowprep synth --silhouettes)
    "silhouette_index": "flowprep.synth.silhouettes",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'flowprep' has no attribute {name!r}")
