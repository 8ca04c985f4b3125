"""The store: round trip, merge order, and every way a damaged file is caught."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import h5py
import numpy as np
import pytest

import flowprep.store
from flowprep.codec import CodecError, FrameCodec
from flowprep.errors import StoreError
from flowprep.store.verify import summarize, verify
from flowprep.store import (FRAME_FIELDS, SCHEMA_VERSION, TRACKLET_FIELDS, EncodedTracklet, StoreMeta, StoreWriter,
                            concatenate_stores, open_store, write_store)

CODEC = FrameCodec(height=32, width=16)
META = StoreMeta(dataset="mars", flow_method="dis", height=32, width=16)


def make_tracklet(order: int, frames: int, role: str = "train", pid: int | None = None) -> EncodedTracklet:
    rng = np.random.default_rng(order)
    images = [CODEC.encode_image(rng.integers(0, 255, (32, 16, 3), dtype=np.uint8)) for _ in range(frames)]
    flows = [CODEC.encode_flow(rng.normal(0, 3, (2, 32, 16)).astype(np.float32)) for _ in range(frames)]
    return EncodedTracklet(f"t{order:03d}", order, order if pid is None else pid, 1 + order % 2, role,
                           [f"f{k}.jpg" for k in range(frames)], images, flows)


def smooth_flow(height: int, width: int) -> np.ndarray:
    """A rotation plus a translation: the smooth kind of field estimators produce, up to ~21 px."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    return np.stack([0.3 * (y - height / 2) + 3.0, -0.3 * (x - width / 2) - 1.5])


def test_png16_flow_is_lossless_to_half_a_step():
    codec = FrameCodec.with_flow_codec("png16", 32, 16)
    flow = np.random.default_rng(0).normal(0, 50, (2, 32, 16)).astype(np.float32)
    decoded = codec.decode_flow(codec.encode_flow(flow))
    assert decoded.shape == (2, 32, 16) and codec.flow_step == 1 / 8
    assert np.abs(decoded - flow).max() <= codec.flow_step / 2 + 1e-3  # float32 arithmetic near code 32768


def test_jpeg_flow_is_close_within_range_and_clipped_beyond():
    codec = FrameCodec.with_flow_codec("jpeg", 64, 32)
    flow = smooth_flow(64, 32)
    error = np.abs(codec.decode_flow(codec.encode_flow(flow)) - flow)
    assert error.mean() < 0.1 and error.max() < 0.5  # step 1/4 px, so 1/8 px from rounding alone
    far = np.full((2, 64, 32), 100.0, np.float32)
    far[1] = -100.0
    clipped = codec.decode_flow(codec.encode_flow(far))
    assert np.allclose(clipped[0], 127 * codec.flow_step, atol=0.3) and np.allclose(clipped[1], -32.0, atol=0.3)


def test_jpeg_flow_is_smaller_than_png16():
    flow = smooth_flow(64, 32) + np.random.default_rng(1).normal(0, 0.3, (2, 64, 32)).astype(np.float32)
    sizes = {name: len(FrameCodec.with_flow_codec(name, 64, 32).encode_flow(flow)) for name in ("jpeg", "png16")}
    assert sizes["jpeg"] < sizes["png16"]


def test_unknown_flow_codec_is_refused():
    with pytest.raises(CodecError, match="unknown flow codec 'webp'"):
        FrameCodec.with_flow_codec("webp")
    with pytest.raises(CodecError, match="unknown flow codec"):
        StoreMeta(dataset="mars", flow_method="dis", flow_codec="webp")


def test_image_round_trip_returns_rgb():
    image = np.full((32, 16, 3), (10, 20, 200), np.uint8)  # BGR: red-ish
    rgb = CODEC.decode_image(CODEC.encode_image(image))
    assert abs(int(rgb[0, 0, 0]) - 200) < 4 and abs(int(rgb[0, 0, 2]) - 10) < 4


def test_version_1_store_reads_as_png16_and_is_rewritten_as_current(tmp_path):
    png = FrameCodec.with_flow_codec("png16", 32, 16)
    meta = replace(META, flow_codec="png16", flow_step=png.flow_step)
    flow = smooth_flow(32, 16)
    tracklet = replace(make_tracklet(0, 2), flows=[png.encode_flow(flow)] * 2)
    write_store(tmp_path / "v1.h5", meta, [tracklet])
    with h5py.File(tmp_path / "v1.h5", "r+") as f:  # what version 1 wrote: no flow_codec
        del f.attrs["flow_codec"]
        f.attrs["schema_version"] = 1
    with open_store(tmp_path / "v1.h5") as reader:
        assert reader.meta.flow_codec == "png16" and reader.meta.schema_version == 1
        np.testing.assert_allclose(reader.read_clip(0, [1])[1][0], flow, atol=png.flow_step / 2)
    concatenate_stores([tmp_path / "v1.h5"], tmp_path / "v2.h5")
    with open_store(tmp_path / "v2.h5") as reader:
        assert reader.meta.schema_version == SCHEMA_VERSION and reader.meta.flow_codec == "png16"


def test_round_trip_reads_back_every_field(tmp_path):
    tracklets = [make_tracklet(0, 3), make_tracklet(1, 5, "query"), make_tracklet(2, 1, "gallery")]
    write_store(tmp_path / "s.h5", META, tracklets)
    with open_store(tmp_path / "s.h5") as reader:
        assert list(reader.tracklets.name) == ["t000", "t001", "t002"]
        assert reader.tracklets.frame_count.tolist() == [3, 5, 1]
        assert reader.encoded_bytes() == (sum(len(i) for t in tracklets for i in t.images),
                                          sum(len(f) for t in tracklets for f in t.flows))
        assert reader.frame_names(1) == [f"f{k}.jpg" for k in range(5)]
        pairs = reader.read_encoded(1, [1, 2])
        assert bytes(pairs[1][0]) == tracklets[1].images[2]
        images, flows = reader.read_clip(1, [4, 0, 4])
        assert images.shape == (3, 32, 16, 3) and flows.shape == (3, 2, 32, 16)
        np.testing.assert_array_equal(images[0], images[2])
        counts = summarize(reader)["roles"]
    assert counts["query"] == {"tracklets": 1, "identities": 1, "frames": 5}
    assert verify(tmp_path / "s.h5")["frames"] == 9


def test_concatenate_orders_by_dataset_order_and_refuses_duplicates(tmp_path):
    a = [make_tracklet(2, 2), make_tracklet(0, 2)]
    b = [make_tracklet(1, 3)]
    write_store(tmp_path / "a.h5", META, a)
    write_store(tmp_path / "b.h5", META, b)
    concatenate_stores([tmp_path / "a.h5", tmp_path / "b.h5"], tmp_path / "m.h5")
    with open_store(tmp_path / "m.h5") as merged:
        assert list(merged.tracklets.name) == ["t000", "t001", "t002"]
        assert bytes(merged.read_encoded(2, [1])[0][1]) == a[0].flows[1]
    with pytest.raises(StoreError, match="also in"):
        concatenate_stores([tmp_path / "a.h5", tmp_path / "a.h5"], tmp_path / "dup.h5")


def test_merge_refuses_stores_made_with_other_settings(tmp_path):
    write_store(tmp_path / "a.h5", META, [make_tracklet(0, 1)])
    other = StoreMeta(dataset="mars", flow_method="farneback", height=32, width=16)
    write_store(tmp_path / "b.h5", other, [make_tracklet(1, 1)])
    with pytest.raises(StoreError, match="other settings"):
        concatenate_stores([tmp_path / "a.h5", tmp_path / "b.h5"], tmp_path / "m.h5")


def test_truncated_store_is_reported_in_one_line(tmp_path):
    path = tmp_path / "s.h5"
    write_store(path, META, [make_tracklet(i, 4) for i in range(4)])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreError) as info:
        verify(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_flipped_byte_fails_the_crc(tmp_path):
    path = tmp_path / "s.h5"
    write_store(path, META, [make_tracklet(0, 3), make_tracklet(1, 3)])
    with h5py.File(path, "r+") as f:
        offset = int(f["frames/flow_offset"][4]) + 20
        f["blob"][offset] = (int(f["blob"][offset]) + 1) % 256
    # global frame 4 is the second frame of the second tracklet: named by its place in the tracklet
    with pytest.raises(StoreError, match=r"frame 1 \(\S+\) of tracklet t001 fails its CRC"):
        verify(path)


def test_unknown_schema_version_and_missing_dataset(tmp_path):
    path = tmp_path / "s.h5"
    write_store(path, META, [make_tracklet(0, 2)])
    with h5py.File(path, "r+") as f:
        f.attrs["schema_version"] = 99
    with pytest.raises(StoreError, match="schema version 99 is not supported"):
        open_store(path)
    write_store(path, META, [make_tracklet(0, 2)])
    with h5py.File(path, "r+") as f:
        del f["tracklets/pid"]
    with pytest.raises(StoreError, match="missing or unreadable dataset"):
        open_store(path)
    (tmp_path / "junk.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(StoreError, match="not a readable HDF5 store"):
        open_store(tmp_path / "junk.h5")


def test_failed_write_keeps_the_previous_store(tmp_path, monkeypatch):
    path = tmp_path / "s.h5"
    write_store(path, META, [make_tracklet(0, 2)])
    before = path.read_bytes()

    def broken():
        yield make_tracklet(1, 2)
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_store(path, META, broken())
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.h5"]


def test_no_string_lives_in_the_global_heap(tmp_path):
    """Variable-length strings sit in HDF5's unchecksummed global heap; damage there made reads hang."""
    write_store(tmp_path / "s.h5", META, [make_tracklet(0, 2), make_tracklet(1, 1, "query")])
    with h5py.File(tmp_path / "s.h5", "r") as f:
        types = {f"attr {k}": f.attrs.get_id(k).dtype for k in f.attrs}
        f.visititems(lambda name, item: types.update({name: item.dtype}) if isinstance(item, h5py.Dataset) else None)
    strings = {name: h5py.check_string_dtype(dtype) for name, dtype in types.items()}
    assert "frames/name" in types and "attr dataset" in types
    variable = [name for name, info in strings.items() if info is not None and info.length is None]
    assert not variable and not any(h5py.check_vlen_dtype(dtype) for dtype in types.values())
    assert (tmp_path / "s.h5").read_bytes().find(b"GCOL") == -1  # no global heap collection at all


def test_parts_in_order_are_appended_whole_and_equal_one_written_store(tmp_path, monkeypatch):
    tracklets = [make_tracklet(k, 1 + k % 3, ("train", "query", "gallery")[k % 3]) for k in range(7)]
    write_store(tmp_path / "one.h5", META, tracklets)
    for name, part in (("p0.h5", tracklets[:3]), ("p1.h5", tracklets[3:4]), ("p2.h5", tracklets[4:])):
        write_store(tmp_path / name, META, part)
    appended, original = [], StoreWriter.add_store
    monkeypatch.setattr(StoreWriter, "add_store", lambda self, reader: (appended.append(reader.path.name),
                                                                        original(self, reader)))
    monkeypatch.setattr(StoreWriter, "COPY_BLOCK", 1000)  # several blocks per part
    concatenate_stores([tmp_path / "p2.h5", tmp_path / "p0.h5", tmp_path / "p1.h5"], tmp_path / "joined.h5")
    assert appended == ["p0.h5", "p1.h5", "p2.h5"]  # the whole-store path, in dataset order
    with h5py.File(tmp_path / "one.h5", "r") as a, h5py.File(tmp_path / "joined.h5", "r") as b:
        for key in ("blob", *(f"frames/{k}" for k in FRAME_FIELDS), *(f"tracklets/{k}" for k in TRACKLET_FIELDS)):
            np.testing.assert_array_equal(a[key][:], b[key][:], err_msg=key)
    assert verify(tmp_path / "joined.h5")["frames"] == sum(len(t.images) for t in tracklets)


def test_interleaved_parts_take_the_per_tracklet_path(tmp_path, monkeypatch):
    tracklets = [make_tracklet(k, 2) for k in range(4)]
    write_store(tmp_path / "one.h5", META, tracklets)
    write_store(tmp_path / "even.h5", META, tracklets[::2])
    write_store(tmp_path / "odd.h5", META, tracklets[1::2])
    monkeypatch.setattr(StoreWriter, "add_store", lambda *args: pytest.fail("interleaved parts appended whole"))
    concatenate_stores([tmp_path / "even.h5", tmp_path / "odd.h5"], tmp_path / "joined.h5")
    with h5py.File(tmp_path / "one.h5", "r") as a, h5py.File(tmp_path / "joined.h5", "r") as b:
        np.testing.assert_array_equal(a["blob"][:], b["blob"][:])


def test_a_flipped_bit_in_a_frame_is_a_store_error_on_read_not_wrong_pixels(tmp_path):
    write_store(tmp_path / "s.h5", META, [make_tracklet(0, 3), make_tracklet(1, 2)])
    with open_store(tmp_path / "s.h5") as reader:
        target = int(reader.frames.image_offset[1]) + 40  # inside frame 1's JPEG data
    with h5py.File(tmp_path / "s.h5", "r+") as f:
        f["blob"][target] ^= 0x10
    with open_store(tmp_path / "s.h5") as reader:
        with pytest.raises(StoreError, match=r"frame 1 \(f1.jpg\) of tracklet t000 fails its CRC check"):
            reader.read_clip(0, [0, 1])
        images, _ = reader.read_clip(0, [0, 2])  # the other frames still read
        assert images.shape == (2, 32, 16, 3)
        assert reader.read_clip(1, [0, 1])[0].shape == (2, 32, 16, 3)


def test_opening_a_store_loads_no_dataset_adapter(tmp_path):
    """The store is the one thing both stages share: reading it must not pull in the dataset adapters."""
    write_store(tmp_path / "s.h5", META, [make_tracklet(0, 2)])
    script = ("import sys\nfrom flowprep.store import open_store\n"
              f"with open_store({str(tmp_path / 's.h5')!r}) as reader:\n    reader.read_clip(0, [0, 1])\n"
              "print(sorted(name for name in sys.modules if name.startswith('flowprep.datasets')))")
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == "[]"


def test_every_public_name_imports_from_the_package():
    """``from flowprep.store import X`` for every name the package lists (each loaded from its module on use)."""
    assert not [name for name in flowprep.store.__all__ if not hasattr(flowprep.store, name)]
    assert not hasattr(flowprep.store, "no_such_name")
