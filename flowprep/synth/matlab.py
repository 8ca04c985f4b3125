"""MATLAB v5 metadata files with reproducible bytes."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

HEADER_TEXT_BYTES = 116  # the free-text part of a v5 header, where scipy stamps the creation time


def save_mat(path: Path, variables: dict[str, np.ndarray]) -> None:
    """scipy.io.savemat, with the timestamped header text replaced so equal inputs give equal bytes."""
    import scipy.io

    buffer = io.BytesIO()
    scipy.io.savemat(buffer, variables)
    data = bytearray(buffer.getvalue())
    data[:HEADER_TEXT_BYTES] = b"MATLAB 5.0 MAT-file, written by flowprep synth".ljust(HEADER_TEXT_BYTES, b" ")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(data))


USERBLOCK_BYTES = 512  # MATLAB v7.3 files are HDF5 behind a 512-byte text header


def save_mat73(path: Path, variables: dict[str, np.ndarray]) -> None:
    """A MATLAB v7.3 file as MATLAB writes one: HDF5 behind the text header, each variable a dataset
    stored transposed (MATLAB is column-major) and tagged with its MATLAB class."""
    import h5py

    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w", userblock_size=USERBLOCK_BYTES, libver="earliest") as f:
        for name, value in variables.items():
            dataset = f.create_dataset(name, data=np.ascontiguousarray(value.T))
            dataset.attrs["MATLAB_class"] = np.bytes_("double" if value.dtype == np.float64 else value.dtype.name)
    header = b"MATLAB 7.3 MAT-file, written by flowprep synth, HDF5 schema 1.00 ."
    with open(path, "r+b") as handle:
        handle.write(header.ljust(USERBLOCK_BYTES - 4, b" ") + b"\x00\x02IM")
