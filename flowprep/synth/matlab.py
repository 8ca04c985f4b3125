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
