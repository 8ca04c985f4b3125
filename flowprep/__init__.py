"""flowprep: offline preprocessing for video person re-identification.

Reads a dataset in its official layout, computes optical flow for every
tracklet and writes one HDF5 store of aligned image/flow clips that the
``reid`` stage trains and evaluates on. ``open_store(path)`` reads one::

    from flowprep import open_store
    with open_store("mars.h5") as store:
        images, flows = store.read_clip(0, range(4))   # RGB (4, H, W, 3), flow (4, 2, H, W) in pixels
"""

from flowreid import __version__

__all__ = ["__version__", "open_store"]


def __getattr__(name: str):
    if name == "open_store":  # imported on first use: h5py stays out of every command's start-up
        from flowprep.store import open_store

        return open_store
    raise AttributeError(f"module 'flowprep' has no attribute {name!r}")
