"""Reading the integer matrices that MATLAB-era datasets ship as .mat metadata, with one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from flowprep.errors import DatasetError


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def load_integer_array(path: Path, variable: str) -> np.ndarray:
    """``variable`` from the .mat file at ``path`` as int64, refusing anything that is not whole numbers."""
    import scipy.io  # deferred: keeps `import flowprep.datasets` light for the CLI's --help

    try:
        contents = scipy.io.loadmat(str(path))
    except Exception as exc:  # scipy raises many types for a damaged file; all mean "unreadable"
        raise DatasetError(f"{path}: unreadable MATLAB file ({_one_line(exc)})") from None
    if variable not in contents:
        present = ", ".join(sorted(key for key in contents if not key.startswith("__"))) or "none"
        raise DatasetError(f"{path}: variable {variable!r} not found (variables in file: {present})")
    array = contents[variable]
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf" or array.size == 0:
        raise DatasetError(f"{path}: variable {variable!r} is not a non-empty numeric matrix")
    if array.dtype.kind == "f" and not (np.isfinite(array).all() and (array == np.round(array)).all()):
        raise DatasetError(f"{path}: variable {variable!r} holds non-integer values")
    return array.astype(np.int64)


def load_integer_matrix(
    path: Path, variable: str, *, rows: int | None = None, columns: int | None = None
) -> np.ndarray:
    """A 2-D integer matrix whose shape must match ``rows`` x ``columns`` where those are given."""
    array = load_integer_array(path, variable)
    wrong_rows = rows is not None and array.shape[0] != rows
    if array.ndim != 2 or wrong_rows or (columns is not None and array.shape[1] != columns):
        expected = f"({'N' if rows is None else rows}, {'N' if columns is None else columns})"
        raise DatasetError(f"{path}: variable {variable!r} has shape {array.shape}, expected {expected}")
    return array


def load_integer_vector(path: Path, variable: str) -> np.ndarray:
    """A vector stored either way round (MATLAB saves 1xN or Nx1)."""
    array = load_integer_array(path, variable)
    if array.ndim > 2 or (array.ndim == 2 and min(array.shape) != 1):
        raise DatasetError(f"{path}: variable {variable!r} has shape {array.shape}, expected a vector (1, N)")
    return array.reshape(-1)
