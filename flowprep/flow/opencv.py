"""CPU optical flow from OpenCV: Farneback and DIS, one pair at a time on grayscale frames."""

from __future__ import annotations

import json
import subprocess
import sys
from abc import abstractmethod
from typing import Any

import cv2
import numpy as np

from flowprep.flow.base import FlowEstimator, check_pair_batch, output_for, require, resolve_params

FARNEBACK_DEFAULTS: dict[str, Any] = {
    "pyr_scale": 0.5,
    "levels": 3,
    "winsize": 15,
    "iterations": 3,
    "poly_n": 5,
    "poly_sigma": 1.2,
    "flags": 0,
}

DIS_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}
DIS_DEFAULTS: dict[str, Any] = {"preset": "medium"}
# OpenCV 4.14, every height and width from 8 to 40 px and 48..512 px: with the smaller side at least this
# many pixels DIS always worked (smaller ones work for some shapes, e.g. every 2:1 size from 16x8 up)
_DIS_SAFE_SIDE = {"medium": 16, "fast": 32, "ultrafast": 32}
_DIS_MEASURED_UP_TO = 512
# flow for one random pair of the given size, in a child process (``DISEstimator.supports_size``)
_SIZE_TRIAL = (
    "import json, sys; import numpy as np; from flowprep.flow import create_estimator; "
    "trial = json.loads(sys.argv[1]); estimator = create_estimator('dis', **trial['params']); "
    "frame = np.random.default_rng(0).integers(0, 256, (1, trial['height'], trial['width'], 3), dtype=np.uint8); "
    "estimator(frame, np.roll(frame, 1, axis=2))"
)


class OpenCVEstimator(FlowEstimator):
    """Loops over the pairs of a batch on one OpenCV thread.

    The caller runs these in a process pool, so OpenCV's own thread pool would only
    oversubscribe the cores; the previous thread count is restored afterwards.
    """

    preferred_batch = 8
    needs_process_pool = True

    def __init__(self, params: dict[str, Any]):
        self.params = params

    def __call__(self, first: np.ndarray, second: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        check_pair_batch(first, second)
        flow = output_for(first, out)
        threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        try:
            for index in range(len(first)):
                gray_first = cv2.cvtColor(first[index], cv2.COLOR_BGR2GRAY)
                gray_second = cv2.cvtColor(second[index], cv2.COLOR_BGR2GRAY)
                flow[index] = self.pair_flow(gray_first, gray_second).transpose(2, 0, 1)
        finally:
            cv2.setNumThreads(threads)
        return flow

    @abstractmethod
    def pair_flow(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """Flow (H, W, 2) from one grayscale frame to the next."""


class FarnebackEstimator(OpenCVEstimator):
    """``cv2.calcOpticalFlowFarneback`` with OpenCV's documented example settings as defaults."""

    name = "farneback"

    def pair_flow(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        return cv2.calcOpticalFlowFarneback(first, second, None, **self.params)


class DISEstimator(OpenCVEstimator):
    """``cv2.DISOpticalFlow``: the fast CPU choice; ``preset`` trades speed for accuracy."""

    name = "dis"

    def supports_size(self, height: int, width: int) -> bool:
        """OpenCV 4's DIS raises on frames whose sides are both under 12 px and crashes the process on some
        short, wide ones (e.g. 12x40), in a pattern that depends on the preset, so a size outside the
        measured safe range is tried on one pair in a fresh Python process (a forked child could hang on a
        lock another thread of this process held; a new process cannot)."""
        if min(height, width) >= _DIS_SAFE_SIDE[self.params["preset"]] and max(height, width) <= _DIS_MEASURED_UP_TO:
            return True
        trial = json.dumps({"params": self.params, "height": height, "width": width})
        try:
            done = subprocess.run([sys.executable, "-c", _SIZE_TRIAL, trial], capture_output=True, timeout=120)
        except subprocess.TimeoutExpired:
            return True  # undecided: let the run itself show
        return done.returncode == 0

    def pair_flow(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        # Built per pair because OpenCV objects cannot be pickled; creating one costs microseconds.
        solver = cv2.DISOpticalFlow_create(DIS_PRESETS[self.params["preset"]])
        return solver.calc(first, second, None)


def create_farneback(**params: Any) -> FarnebackEstimator:
    resolved = resolve_params("farneback", FARNEBACK_DEFAULTS, params)
    require(0.0 < resolved["pyr_scale"] < 1.0, "farneback", "pyr_scale must be between 0 and 1 (exclusive)")
    require(resolved["levels"] >= 1, "farneback", "levels must be at least 1")
    require(resolved["winsize"] >= 1, "farneback", "winsize must be at least 1")
    require(resolved["iterations"] >= 1, "farneback", "iterations must be at least 1")
    require(resolved["poly_n"] in (5, 7), "farneback", "poly_n must be 5 or 7")
    require(resolved["poly_sigma"] > 0.0, "farneback", "poly_sigma must be positive")
    require(
        resolved["flags"] in (0, cv2.OPTFLOW_FARNEBACK_GAUSSIAN),
        "farneback",
        f"flags must be 0 or {cv2.OPTFLOW_FARNEBACK_GAUSSIAN} (OPTFLOW_FARNEBACK_GAUSSIAN)",
    )
    return FarnebackEstimator(resolved)


def create_dis(**params: Any) -> DISEstimator:
    resolved = resolve_params("dis", DIS_DEFAULTS, params)
    require(resolved["preset"] in DIS_PRESETS, "dis", f"preset must be one of {', '.join(DIS_PRESETS)}")
    return DISEstimator(resolved)
