"""The interface every optical flow estimator implements, and the checks they share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from flowprep.errors import FlowprepError


class FlowEstimator(ABC):
    """Dense optical flow from ``first`` to ``second`` for a batch of frame pairs.

    ``params`` holds everything that determines the output (JSON-serialisable) so
    that a store can record how its flow was made. ``preferred_batch`` is how many
    pairs a caller should hand over at once; ``needs_process_pool`` tells the caller
    to parallelise with processes (single-threaded CPU code) rather than call in-process.
    Instances must be picklable: joblib sends them to worker processes.
    """

    name: str
    params: dict[str, Any]
    preferred_batch: int
    needs_process_pool: bool

    def supports_size(self, height: int, width: int) -> bool:
        """Whether frames of this size can be given flow; methods with a size limit override it."""
        return True

    @abstractmethod
    def __call__(self, first: np.ndarray, second: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Two uint8 BGR batches (N, H, W, 3) -> float32 flow (N, 2, H, W) in pixels.

        Channel 0 is horizontal (u), channel 1 vertical (v): a point at (x, y) in
        ``first`` is at (x + u, y + v) in ``second``. Given ``out`` (float32, that
        shape), the flow is written there and ``out`` returned, saving a copy.
        """


def output_for(first: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    """``out`` checked against the batch, or a new float32 (N, 2, H, W) array."""
    count, height, width, _ = first.shape
    if out is None:
        return np.empty((count, 2, height, width), dtype=np.float32)
    if out.shape != (count, 2, height, width) or out.dtype != np.float32:
        raise FlowprepError(f"flow output must be float32 {(count, 2, height, width)}, got {out.dtype} {out.shape}")
    return out


def check_pair_batch(first: np.ndarray, second: np.ndarray) -> None:
    """Reject anything but two equally shaped uint8 (N, H, W, 3) batches, in one line."""
    for label, batch in (("first", first), ("second", second)):
        if not isinstance(batch, np.ndarray) or batch.dtype != np.uint8 or batch.ndim != 4 or batch.shape[3] != 3:
            description = f"{batch.dtype} {batch.shape}" if isinstance(batch, np.ndarray) else type(batch).__name__
            raise FlowprepError(f"flow input '{label}' must be a uint8 BGR batch (N, H, W, 3), got {description}")
    if first.shape != second.shape:
        raise FlowprepError(f"flow inputs differ in shape: first {first.shape}, second {second.shape}")


def resolve_params(method: str, defaults: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """``defaults`` overridden by ``given``, each value converted to its default's type.

    Values may arrive as strings from the command line, so "3" becomes 3 for an
    integer parameter; anything that does not convert cleanly is a one-line error.
    """
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise FlowprepError(
            f"flow method '{method}' has no parameter {', '.join(unknown)}; "
            f"its parameters are: {', '.join(sorted(defaults)) or 'none'}"
        )
    resolved = dict(defaults)
    for key, value in given.items():
        resolved[key] = _convert(method, key, value, type(defaults[key]))
    return resolved


def _convert(method: str, key: str, value: Any, kind: type) -> Any:
    try:
        if kind is int:
            number = float(value)
            if not number.is_integer():
                raise ValueError
            return int(number)
        return kind(value)
    except (TypeError, ValueError):
        message = f"flow method '{method}': parameter {key}={value!r} is not a valid {kind.__name__}"
        raise FlowprepError(message) from None


def require(condition: bool, method: str, message: str) -> None:
    """A one-line error about a parameter value when ``condition`` does not hold."""
    if not condition:
        raise FlowprepError(f"flow method '{method}': {message}")
