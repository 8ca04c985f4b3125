"""The flow registry, the OpenCV estimators and the per-tracklet flow rule."""

from __future__ import annotations

import json
import pickle

import cv2
import numpy as np
import pytest

from flowprep.errors import FlowprepError
from flowprep.flow import FLOW_METHODS, FlowEstimator, create_estimator, flows_for_tracklets, tracklet_flow
from flowprep.flow.base import output_for

SHIFT = 3


def textured_pair(height: int = 96, width: int = 128, shift: int = SHIFT) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed noise, and the same moved ``shift`` px to the right: true flow is (shift, 0)."""
    rng = np.random.default_rng(0)
    noise = rng.uniform(0, 255, size=(height, width + shift)).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), 2.0)
    smooth = (smooth - smooth.min()) / (smooth.max() - smooth.min()) * 255
    gray = smooth.astype(np.uint8)
    bgr = np.repeat(gray[:, :, None], 3, axis=2)
    first = bgr[:, shift : shift + width]
    second = bgr[:, :width]
    return np.ascontiguousarray(first)[None], np.ascontiguousarray(second)[None]


@pytest.mark.parametrize("method", ["farneback", "dis"])
def test_opencv_methods_recover_a_horizontal_shift(method):
    first, second = textured_pair()
    flow = create_estimator(method)(first, second)
    assert flow.shape == (1, 2, 96, 128) and flow.dtype == np.float32
    interior = flow[0, :, 16:-16, 16:-16]
    assert np.median(interior[0]) == pytest.approx(SHIFT, abs=0.25)
    assert np.median(interior[1]) == pytest.approx(0.0, abs=0.25)


@pytest.mark.parametrize("method", ["farneback", "dis"])
def test_opencv_estimators_survive_pickling_and_record_json_params(method):
    estimator = create_estimator(method)
    copy = pickle.loads(pickle.dumps(estimator))
    first, second = textured_pair(48, 64)
    np.testing.assert_array_equal(copy(first, second), estimator(first, second))
    assert json.loads(json.dumps(estimator.params)) == estimator.params
    assert estimator.needs_process_pool and estimator.preferred_batch >= 1
    assert estimator.name == method


def test_opencv_call_restores_the_thread_count():
    before = cv2.getNumThreads()
    create_estimator("dis")(*textured_pair(32, 32))
    assert cv2.getNumThreads() == before


def test_registry_names_and_unknown_method():
    assert set(FLOW_METHODS) == {"farneback", "dis", "liteflownet"}
    with pytest.raises(FlowprepError, match="known: dis, farneback, liteflownet"):
        create_estimator("raft")


def test_params_are_converted_from_strings_and_recorded():
    estimator = create_estimator("farneback", levels="2", pyr_scale="0.25")
    assert estimator.params["levels"] == 2 and isinstance(estimator.params["levels"], int)
    assert estimator.params["pyr_scale"] == 0.25
    assert create_estimator("dis", preset="ultrafast").params == {"preset": "ultrafast"}


@pytest.mark.parametrize(
    "method, params, message",
    [
        ("farneback", {"window": 5}, "no parameter window"),
        ("farneback", {"levels": "2.5"}, "levels='2.5' is not a valid int"),
        ("farneback", {"poly_n": 9}, "poly_n must be 5 or 7"),
        ("farneback", {"pyr_scale": 1.0}, "pyr_scale"),
        ("dis", {"preset": "slow"}, "ultrafast, fast, medium"),
    ],
)
def test_bad_params_are_one_line_errors(method, params, message):
    with pytest.raises(FlowprepError, match=message) as caught:
        create_estimator(method, **params)
    assert "\n" not in str(caught.value)


def test_weights_are_rejected_for_opencv_methods(tmp_path):
    with pytest.raises(FlowprepError, match="only liteflownet"):
        create_estimator("dis", weights=tmp_path / "network-default.pytorch")


def test_inputs_of_the_wrong_shape_or_type_are_rejected():
    estimator = create_estimator("dis")
    frames = np.zeros((1, 16, 16, 3), np.uint8)
    with pytest.raises(FlowprepError, match="uint8 BGR batch"):
        estimator(frames.astype(np.float32), frames)
    with pytest.raises(FlowprepError, match="differ in shape"):
        estimator(frames, np.zeros((1, 16, 17, 3), np.uint8))


class RecordingEstimator(FlowEstimator):
    """Flow that encodes which frames it came from: u = id(second), v = id(first)."""

    name = "recording"
    params: dict = {}
    preferred_batch = 2
    needs_process_pool = False

    def __init__(self):
        self.batch_sizes: list[int] = []

    def __call__(self, first, second, out=None):
        self.batch_sizes.append(len(first))
        flow = output_for(first, out)
        flow[:, 0] = second[:, :, :, 0].astype(np.float32)
        flow[:, 1] = first[:, :, :, 0].astype(np.float32)
        return flow


def numbered_frames(count: int) -> np.ndarray:
    return np.arange(count, dtype=np.uint8)[:, None, None, None] * np.ones((1, 4, 5, 3), np.uint8)


def test_tracklet_flow_pairs_each_frame_with_its_predecessor_in_batches():
    estimator = RecordingEstimator()
    flow = tracklet_flow(estimator, numbered_frames(6))
    assert flow.shape == (6, 2, 4, 5) and flow.dtype == np.float32
    for t in range(1, 6):
        assert (flow[t, 0] == t).all() and (flow[t, 1] == t - 1).all()
    assert estimator.batch_sizes == [2, 2, 1]


def test_tracklet_first_frame_copies_the_second_frames_flow():
    flow = tracklet_flow(RecordingEstimator(), numbered_frames(3))
    np.testing.assert_array_equal(flow[0], flow[1])


def test_one_frame_tracklet_gets_zero_flow_without_calling_the_estimator():
    estimator = RecordingEstimator()
    flow = tracklet_flow(estimator, numbered_frames(1))
    assert flow.shape == (1, 2, 4, 5) and not flow.any()
    assert estimator.batch_sizes == []


def test_tracklet_flow_with_a_real_estimator():
    first, second = textured_pair(48, 64)
    frames = np.concatenate([first, second, second])
    flow = tracklet_flow(create_estimator("dis"), frames)
    assert flow.shape == (3, 2, 48, 64)
    assert np.median(flow[1, 0, 8:-8, 8:-8]) == pytest.approx(SHIFT, abs=0.5)
    assert np.abs(np.median(flow[2, 0, 8:-8, 8:-8])) < 0.25


def test_pairs_of_many_tracklets_fill_every_batch_and_land_in_their_tracklet():
    estimator = RecordingEstimator()
    lengths = [1, 3, 0, 4, 2, 6]
    tracklets = [numbered_frames(n) + np.uint8(20 * k) for k, n in enumerate(lengths)]
    flows = flows_for_tracklets(estimator, tracklets)
    for k, (n, flow) in enumerate(zip(lengths, flows)):
        assert flow.shape == (n, 2, 4, 5)
        for t in range(1, n):
            assert (flow[t, 0] == 20 * k + t).all() and (flow[t, 1] == 20 * k + t - 1).all(), (k, t)
    pairs = sum(max(n - 1, 0) for n in lengths)
    assert sum(estimator.batch_sizes) == pairs and estimator.batch_sizes[:-1] == [2] * (len(estimator.batch_sizes) - 1)


def test_flow_output_of_the_wrong_shape_is_refused():
    first = numbered_frames(2)
    with pytest.raises(FlowprepError, match="flow output must be float32"):
        create_estimator("dis")(first, first, out=np.empty((2, 2, 4, 4), np.float32))
