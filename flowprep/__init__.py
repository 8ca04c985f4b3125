"""flowprep: offline preprocessing for video person re-identification.

Reads a dataset in its official layout, computes optical flow for every
tracklet and writes one HDF5 store of aligned image/flow clips that the
``reid`` stage trains and evaluates on.
"""

__version__ = "0.1.0"
