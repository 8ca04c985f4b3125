"""Property-based fuzzing of the frame-name parsers and the store reader (hypothesis, reproducible).

Whatever the input, the only failure allowed is the documented one: DatasetError for names,
StoreError for stores. Each property runs a fixed number of derandomized examples, and each
test asserts that they all ran.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowprep.codec import CodecError, FrameCodec
from flowprep.datasets import duke, ilidsvid, mars
from flowprep.datasets.columns import FrameList
from flowprep.errors import DatasetError, StoreError
from flowprep.store.verify import describe, verify
from flowprep.store import StoreWriter, open_store
from helpers_store import write_tiny_store

EXAMPLES = 200
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def run_property(test) -> None:
    """Run a hypothesis test and check that every planned example ran."""
    calls = []
    test(calls)
    assert len(calls) >= EXAMPLES


def one_line(error: Exception, names: str, given: str | bytes = "") -> None:
    """The message names what is wrong in one line (unless the input itself holds a line break)."""
    message = str(error)
    assert names in message, message
    assert "\n" not in message or "\n" in str(given) or "\r" in str(given), message


# ------------------------------------------------------------------ frame names

# text that looks like frame names often enough to reach the parsers' deeper branches
NAME_PIECES = st.sampled_from(["0001", "00-1", "C", "c", "T", "F", "X", "cam", "person", "_", ".jpg", ".JPG", ".png",
                               "/", "\\", "..", " ", "\n", "\x00", "١٢", "-", "+", "9" * 30])
NAME_TEXT = st.one_of(st.text(max_size=40),
                      st.lists(st.one_of(NAME_PIECES, st.text(max_size=3)), max_size=12).map("".join))


def test_mars_name_lists(tmp_path):
    names_file = tmp_path / "train_name.txt"
    image_dir = tmp_path / "bbox_train"

    @FUZZ
    @given(st.one_of(st.lists(NAME_TEXT, max_size=6).map(lambda lines: "\n".join(lines).encode()),
                     st.binary(max_size=80)))
    def check(calls, contents):
        calls.append(contents)
        names_file.write_bytes(contents)
        try:
            column = mars.read_frame_names(names_file)
        except DatasetError as error:
            one_line(error, str(names_file))
            return
        for row, raw in enumerate(column.names.tolist()):
            name = raw.decode("utf-8")
            frame = FrameList(image_dir / mars.pid_folder(int(column.fields["pid"][row])), column.names[row:row + 1])[0]
            assert frame.parent.parent == image_dir and frame.name == name  # never outside the root
            assert column.fields["frame"][row] == int(re.search(r"F(\d+)\.jpg$", name)[1])

    run_property(check)


def test_mars_valid_names_round_trip(tmp_path):
    names_file = tmp_path / "test_name.txt"

    @FUZZ
    @given(st.integers(-1, 9999), st.integers(1, 9), st.integers(1, 9999), st.integers(0, 999))
    def check(calls, pid, camid, track, number):
        calls.append(pid)
        name = f"{'00-1' if pid == -1 else f'{pid:04d}'}C{camid}T{track:04d}F{number:03d}.jpg"
        names_file.write_text(name + "\n")
        column = mars.read_frame_names(names_file)
        assert column.names.tolist() == [name.encode()]
        assert [int(column.fields[key][0]) for key in ("pid", "cam", "frame")] == [pid, camid, number]

    run_property(check)


@pytest.mark.parametrize("module, make_name", [
    (duke, lambda pid, camid, number, extra: f"{pid:04d}_C{camid}_F{number:04d}_X{extra:05d}.jpg"),
    (duke, lambda pid, camid, number, extra: f"{pid:04d}C{camid}F{number:04d}X{extra:05d}.jpg"),
    (ilidsvid, lambda pid, camid, number, extra: f"cam{camid}_person{pid:03d}_{number:05d}.png"),
])
def test_frame_names_parse_or_raise_dataset_error(module, make_name):
    @FUZZ
    @given(st.one_of(NAME_TEXT, st.tuples(st.integers(0, 9999), st.integers(0, 99), st.integers(0, 99999),
                                          st.integers(0, 99999)).map(lambda t: make_name(*t))))
    def check(calls, name):
        calls.append(name)
        path = Path("/data") / name.replace("/", "_").replace("\x00", "_")
        try:
            frame = module._frame(path)
        except DatasetError as error:
            one_line(error, "frame name", name)
            return
        assert frame.path == path and frame.number >= 0 and frame.pid >= 0 and frame.camid >= 0

    run_property(check)


@pytest.mark.parametrize("module, make_name", [
    (duke, lambda pid, camid, number: f"{pid:04d}_C{camid}_F{number:04d}_X30823.jpg"),
    (duke, lambda pid, camid, number: f"{pid:04d}C{camid}F{number:04d}X30823.jpg"),
    (ilidsvid, lambda pid, camid, number: f"cam{camid}_person{pid:03d}_{number:05d}.png"),
])
def test_valid_frame_names_round_trip(module, make_name):
    @FUZZ
    @given(st.integers(0, 9999), st.integers(0, 99), st.integers(0, 99999))
    def check(calls, pid, camid, number):
        calls.append(pid)
        frame = module._frame(Path(make_name(pid, camid, number)))
        assert (frame.pid, frame.camid, frame.number) == (pid, camid, number)

    run_property(check)


# ------------------------------------------------------------------ the store reader

def test_frame_bytes_decode_or_raise_codec_error():
    codec = FrameCodec(height=16, width=8)
    valid = [codec.encode_image(np.zeros((16, 8, 3), np.uint8)), codec.encode_flow(np.zeros((2, 16, 8), np.float32))]

    @FUZZ
    @given(st.one_of(st.binary(max_size=600), st.sampled_from(valid).flatmap(
        lambda data: st.integers(0, len(data)).map(lambda size: data[:size]))))
    def check(calls, data):
        calls.append(data)
        for decode, shape in ((codec.decode_image, (16, 8, 3)), (codec.decode_flow, (2, 16, 8))):
            try:
                assert decode(data).shape == shape
            except CodecError:
                pass

    run_property(check)


@pytest.fixture(scope="module")
def small_store(tmp_path_factory) -> bytes:
    """A valid store of 10 tracklets, with small blob chunks so damage lands in real structures."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(StoreWriter, "BLOB_CHUNK", 4096)
        path = write_tiny_store(tmp_path_factory.mktemp("seed") / "seed.h5", identities=2, height=16, width=8)
    return path.read_bytes()


def read_everything(path: Path) -> None:
    """What inspect, verify, show and the data loaders do with a store."""
    describe(path)
    with open_store(path) as reader:
        for index, count in enumerate(reader.tracklets.frame_count.tolist()):
            reader.frame_names(index)
            reader.read_clip(index, np.arange(min(count, 64)))
    verify(path)


def outcome(path: Path, data: bytes) -> str:
    """"ok" or "StoreError"; any other exception fails the property."""
    path.write_bytes(data)
    try:
        read_everything(path)
    except StoreError as error:
        one_line(error, str(path))
        return "StoreError"
    return "ok"


def test_random_bytes_are_never_a_store(tmp_path):
    path = tmp_path / "random.h5"

    @FUZZ
    @given(st.one_of(st.binary(max_size=4096), st.binary(max_size=4096).map(lambda tail: HDF5_SIGNATURE + tail)))
    def check(calls, data):
        calls.append(data)
        assert outcome(path, data) == "StoreError"

    run_property(check)


def test_truncated_store_is_always_refused(small_store, tmp_path):
    path = tmp_path / "truncated.h5"

    @FUZZ
    @given(st.integers(0, len(small_store) - 1))
    def check(calls, size):
        calls.append(size)
        assert outcome(path, small_store[:size]) == "StoreError"

    run_property(check)


def test_damaged_store_reads_or_raises_store_error(small_store, tmp_path):
    path = tmp_path / "damaged.h5"
    positions = st.integers(0, len(small_store) - 1)
    damage = st.one_of(st.lists(st.tuples(positions, st.integers(0, 7)), min_size=1, max_size=8),  # bit flips
                       st.tuples(positions, st.binary(min_size=1, max_size=64)))  # an overwritten run

    @FUZZ
    @given(damage)
    def check(calls, change):
        calls.append(change)
        data = bytearray(small_store)
        if isinstance(change, tuple):
            start, run = change
            data[start : start + len(run)] = run
            data = data[: len(small_store)]
        else:
            for position, bit in change:
                data[position] ^= 1 << bit
        outcome(path, bytes(data))

    run_property(check)
