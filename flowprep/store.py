"""The HDF5 store of aligned image/flow clips: the one schema both stages share.

Layout (schema version 2)::

    /                      attrs: schema_version, dataset, split, split_source, flow_method, flow_params (JSON),
                                  height, width, jpeg_quality, flow_codec, flow_step, created,
                                  project_version, skipped_tracklets (JSON list of [name, reason]),
                                  shard ("i/N": which part of a sharded extraction; "0/1" whole),
                                  dataset_tracklets (the dataset's tracklet count, all shards; -1 unknown)
    /blob                  uint8 (B,)   every encoded frame: image JPEG then flow image, frame after frame
    /frames/image_offset   int64 (F,)   byte offset of frame f's JPEG in /blob
    /frames/image_size     int32 (F,)
    /frames/flow_offset    int64 (F,)   byte offset of frame f's flow image in /blob
    /frames/flow_size      int32 (F,)
    /frames/crc32          uint32 (F,)  CRC-32 of the image bytes followed by the flow bytes
    /frames/name           str (F,)     original frame file name
    /tracklets/name        str (N,)     unique tracklet name from the dataset adapter
    /tracklets/order       int64 (N,)   position in the adapter's full list (merge order)
    /tracklets/pid         int32 (N,)
    /tracklets/camid       int32 (N,)
    /tracklets/role        uint8 (N,)   0 train, 1 query, 2 gallery
    /tracklets/frame_start int64 (N,)   index of the tracklet's first frame in /frames
    /tracklets/frame_count int32 (N,)
    /tracklets/skipped     str (N,)     JSON list of [frame name, reason] dropped from this tracklet

A tracklet's frames are consecutive, so a clip of consecutive frames is one
contiguous byte range of /blob: one read per clip. /blob is chunked (1 MiB) but
unfiltered (the frames are compressed already), so HDF5 reads a clip's byte range
directly, and many worker processes can read at once. A store file only ever appears complete:
writers build it under a temporary name and rename it into place. Files are written in
the HDF5 1.10 format, whose metadata carries checksums, and every string is fixed-length
(see ``_fixed_text``), so damaged metadata is an error rather than a structure HDF5
misreads or loops on. Version 1 (no ``flow_codec``; flow is png16) is still read.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import zlib
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import h5py
import numpy as np

from flowprep import __version__
from flowprep.codec import CodecError, FrameCodec
from flowprep.datasets.base import ROLES
from flowprep.errors import StoreError
from flowprep.outputs import remove_quietly

SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)
HDF5_FORMAT = ("v110", "v110")  # checksummed metadata, readable by HDF5 >= 1.10
ROLE_CODE = {role: code for code, role in enumerate(ROLES)}
STR = "text"  # a column of strings, stored as fixed-length UTF-8 (see _fixed_text)
FRAME_FIELDS = ("image_offset", "image_size", "flow_offset", "flow_size", "crc32", "name")
TRACKLET_FIELDS = ("name", "order", "pid", "camid", "role", "frame_start", "frame_count", "skipped")
FRAME_DTYPES = {"image_offset": np.int64, "image_size": np.int32, "flow_offset": np.int64,
                "flow_size": np.int32, "crc32": np.uint32, "name": STR}
TRACKLET_DTYPES = {"name": STR, "order": np.int64, "pid": np.int32, "camid": np.int32, "role": np.uint8,
                   "frame_start": np.int64, "frame_count": np.int32, "skipped": STR}
# h5py reports a damaged file as any of these, depending on which HDF5 structure broke
DAMAGE_ERRORS = (OSError, KeyError, TypeError, ValueError, RuntimeError)
# and a failed write (a full disk) as OSError, or as RuntimeError when it surfaces while closing
WRITE_ERRORS = (OSError, RuntimeError)


@dataclass(frozen=True)
class StoreMeta:
    """Root attributes: where the store came from and how its frames are encoded."""

    dataset: str
    flow_method: str
    flow_params: dict = field(default_factory=dict)
    split: int = -1
    split_source: str = ""  # "<file> sha256:<hex>" or "default: <how>"; empty without splits or before it was kept
    height: int = FrameCodec.height
    width: int = FrameCodec.width
    jpeg_quality: int = FrameCodec.jpeg_quality
    flow_codec: str = FrameCodec.flow_codec
    flow_step: float = FrameCodec.flow_step
    created: str = ""
    project_version: str = __version__
    schema_version: int = SCHEMA_VERSION
    skipped_tracklets: tuple[tuple[str, str], ...] = ()
    shard: str = "0/1"
    dataset_tracklets: int = -1

    def __post_init__(self) -> None:
        self.codec  # an unknown flow codec is a CodecError here, not at the first decode

    @property
    def codec(self) -> FrameCodec:
        return FrameCodec(self.height, self.width, self.jpeg_quality, self.flow_codec, self.flow_step)

    def content_key(self, across_shards: bool = False) -> dict:
        """The attributes two stores must share for their tracklets to be joined: the parts of one run
        share all of them, the shards of one dataset all but ``shard``."""
        ignored = {"created", "project_version", "schema_version", "skipped_tracklets"} | ({"shard"} if across_shards else set())
        return {k: v for k, v in asdict(self).items() if k not in ignored}


@dataclass
class EncodedTracklet:
    """One tracklet's frames, already encoded, ready to be written."""

    name: str
    order: int
    pid: int
    camid: int
    role: str
    frame_names: list[str]
    images: list[bytes]
    flows: list[bytes]
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def nbytes(self) -> int:
        return sum(map(len, self.images)) + sum(map(len, self.flows))


def _meta_attrs(meta: StoreMeta) -> dict:
    attrs = asdict(meta)
    attrs["flow_params"] = json.dumps(meta.flow_params, sort_keys=True)
    attrs["skipped_tracklets"] = json.dumps([list(item) for item in meta.skipped_tracklets])
    attrs["schema_version"] = SCHEMA_VERSION  # what this code writes, whatever version was read
    attrs["created"] = meta.created or datetime.now(timezone.utc).isoformat(timespec="seconds")
    return attrs


def frame_checksum(image: bytes | np.ndarray, flow: bytes | np.ndarray) -> int:
    """CRC-32 of a frame's image bytes followed by its flow bytes, as /frames/crc32 holds it."""
    return zlib.crc32(flow, zlib.crc32(image))


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class StoreWriter:
    """Streams tracklets into a new store that appears at ``path`` only once it is complete.

    The file is built under a temporary name in the same folder, fsynced and renamed, so a
    crash or a full disk leaves any earlier file at ``path`` untouched and never a half store.
    A full disk is detected before HDF5 writes: HDF5 cannot recover from a write that fails for
    lack of space (the file's handles then crash the process at exit, h5py issue 914).
    """

    BLOB_CHUNK = 1 << 20
    COPY_BLOCK = 64 << 20  # bytes per read when appending a whole store
    SPACE_MARGIN = 1 << 20  # room for HDF5's own structures

    def __init__(self, path: str | os.PathLike, meta: StoreMeta):
        self.path = Path(path)
        self.meta = meta
        self._tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        self._frames: dict[str, list] = {key: [] for key in FRAME_FIELDS}
        self._tracklets: dict[str, list] = {key: [] for key in TRACKLET_FIELDS}
        self._offset = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = h5py.File(self._tmp, "w", libver=HDF5_FORMAT)
            self._blob = self._file.create_dataset(
                "blob", shape=(0,), maxshape=(None,), dtype=np.uint8, chunks=(self.BLOB_CHUNK,)
            )
        except WRITE_ERRORS as exc:
            self._discard()
            raise self._write_error(exc) from exc

    def _write_error(self, exc: Exception) -> StoreError:
        # HDF5 buries the OS error in a multi-line message; its errno names it in one line
        code = getattr(exc, "errno", None) or int((re.search(r"errno = (\d+)", str(exc)) or [0, 0])[1])
        reason = os.strerror(code) if code else " ".join(str(exc).split())
        return StoreError(f"{self.path}: could not write the store: {reason}")

    def add(self, tracklet: EncodedTracklet) -> None:
        frames = self._frames
        chunk = bytearray()
        for image, flow in zip(tracklet.images, tracklet.flows, strict=True):
            frames["image_offset"].append(self._offset + len(chunk))
            frames["image_size"].append(len(image))
            chunk += image
            frames["flow_offset"].append(self._offset + len(chunk))
            frames["flow_size"].append(len(flow))
            chunk += flow
            frames["crc32"].append(frame_checksum(image, flow))
        frames["name"].extend(tracklet.frame_names)
        record = self._tracklets
        record["frame_start"].append(len(frames["image_offset"]) - len(tracklet.images))
        record["frame_count"].append(len(tracklet.images))
        record["name"].append(tracklet.name)
        record["order"].append(tracklet.order)
        record["pid"].append(tracklet.pid)
        record["camid"].append(tracklet.camid)
        record["role"].append(ROLE_CODE[tracklet.role])
        record["skipped"].append(json.dumps([list(s) for s in tracklet.skipped]))
        try:
            self._reserve(len(chunk) + self.BLOB_CHUNK)  # a new chunk takes its whole size on disk
            self._blob.resize((self._offset + len(chunk),))
            self._blob[self._offset :] = np.frombuffer(bytes(chunk), np.uint8)
        except WRITE_ERRORS as exc:
            self._discard()
            raise self._write_error(exc) from exc
        self._offset += len(chunk)

    def add_store(self, reader: "StoreReader") -> None:
        """Append all of a store in store order (see ``StoreReader.in_store_order``) as it is stored.

        Its blob is copied in large blocks and its index shifted, with no per-frame work:
        assembling a run's parts this way is bound by the disk, not by Python.
        """
        crc, names = reader.frame_checksums_and_names()
        base = len(self._frames["image_offset"])
        for key, column in (("image_offset", reader._image_offset + self._offset), ("image_size", reader._image_size),
                            ("flow_offset", reader._flow_offset + self._offset), ("flow_size", reader._flow_size),
                            ("crc32", crc)):
            self._frames[key].extend(column.tolist())
        self._frames["name"].extend(names)
        t = reader.tracklets
        for key, column in (("name", t.name), ("order", t.order), ("pid", t.pid), ("camid", t.camid),
                            ("role", t.role), ("frame_start", t.frame_start + base), ("frame_count", t.frame_count),
                            ("skipped", t.skipped)):
            self._tracklets[key].extend(column.tolist())
        for block in reader.blob_blocks(self.COPY_BLOCK):
            try:
                self._reserve(len(block) + self.BLOB_CHUNK)
                self._blob.resize((self._offset + len(block),))
                self._blob[self._offset :] = block
            except WRITE_ERRORS as exc:
                self._discard()
                raise self._write_error(exc) from exc
            self._offset += len(block)

    def close(self) -> None:
        """Write the index and attributes, then move the finished file into place."""
        try:
            strings = (*self._frames["name"], *self._tracklets["name"], *self._tracklets["skipped"])
            self._reserve(64 * len(strings) + sum(map(len, strings)))
            f = self._file
            for key, value in _meta_attrs(self.meta).items():
                if isinstance(value, str):
                    data = _fixed_text([value]).reshape(())  # a 0-d array keeps an empty string's width of 1
                    f.attrs.create(key, data, dtype=data.dtype)
                else:
                    f.attrs[key] = value
            for group, columns, dtypes in (
                ("frames", self._frames, FRAME_DTYPES),
                ("tracklets", self._tracklets, TRACKLET_DTYPES),
            ):
                g = f.create_group(group)
                for key, values in columns.items():
                    data = _fixed_text(values) if dtypes[key] == STR else np.array(values, dtype=dtypes[key])
                    g.create_dataset(key, data=data, dtype=data.dtype)
            f.close()
            with open(self._tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(self._tmp, self.path)
            fsync_dir(self.path.parent)
        except WRITE_ERRORS as exc:
            self._discard()
            raise self._write_error(exc) from exc

    def _reserve(self, nbytes: int) -> None:
        if shutil.disk_usage(self._tmp.parent).free < nbytes + self.SPACE_MARGIN:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def _discard(self) -> None:
        try:
            if getattr(self, "_file", None) is not None and self._file.id.valid:
                self._file.close()
        except Exception:  # closing a file whose disk is full can fail again; the file goes anyway
            pass
        remove_quietly(self._tmp)

    def __enter__(self) -> "StoreWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self._discard()


def _fixed_text(values: Sequence[str]) -> np.ndarray:
    """Strings as fixed-length UTF-8 bytes: they live inside the dataset or the checksummed
    attribute message, not in HDF5's global heap, whose damage makes HDF5 2.0 hang on read."""
    encoded = [value.encode("utf-8") for value in values]
    width = max(1, max(map(len, encoded), default=1))
    return np.array(encoded, dtype=h5py.string_dtype("utf-8", width))


def _text(value: object) -> str:
    """A string read back from either kind of HDF5 string (fixed-length bytes, or version 1's str)."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def write_store(path: str | os.PathLike, meta: StoreMeta, tracklets: Iterable[EncodedTracklet]) -> None:
    """Write a complete store atomically from any iterable of encoded tracklets."""
    with StoreWriter(path, meta) as writer:
        for tracklet in tracklets:
            writer.add(tracklet)


@dataclass(frozen=True)
class TrackletIndex:
    """Per-tracklet metadata of a store, as numpy arrays (loaded once, cheap to pickle)."""

    name: np.ndarray
    order: np.ndarray
    pid: np.ndarray
    camid: np.ndarray
    role: np.ndarray
    frame_start: np.ndarray
    frame_count: np.ndarray
    skipped: np.ndarray

    def __len__(self) -> int:
        return len(self.name)

    def of_role(self, role: str) -> np.ndarray:
        """Indices of the tracklets with this role, in store order."""
        return np.flatnonzero(self.role == ROLE_CODE[role])


class StoreReader:
    """Read access to a store, safe to hand to DataLoader workers.

    The HDF5 handle is opened lazily and re-opened in each process (h5py handles must not
    cross a fork), so each worker reads through its own handle.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._file: h5py.File | None = None
        self._pid: int | None = None
        f = self._handle()
        try:
            self.meta = _read_meta(f, self.path)
            self.codec = self.meta.codec
            self.tracklets = _read_index(f, self.path)
            frames = f["frames"]
            self._image_offset = frames["image_offset"][:]
            self._image_size = frames["image_size"][:]
            self._flow_offset = frames["flow_offset"][:]
            self._flow_size = frames["flow_size"][:]
            self._crc32 = frames["crc32"][:]
            self._check_ranges(f["blob"].shape[0])
        except DAMAGE_ERRORS as exc:
            raise damaged(self.path, exc) from exc

    def _check_ranges(self, blob_size: int) -> None:
        """Cheap bounds checks, so a damaged index fails here, not as a wild read later (``verify`` checks all)."""
        t, frames = self.tracklets, len(self._image_offset)
        if any(len(column) != frames for column in (self._image_size, self._flow_offset, self._flow_size, self._crc32)):
            raise StoreError(f"{self.path}: /frames columns have different lengths")
        if ((t.frame_start < 0) | (t.frame_count < 0) | (t.frame_start > frames - t.frame_count)).any():
            raise StoreError(f"{self.path}: tracklet frame ranges point outside /frames (damaged index)")
        for offset, size in ((self._image_offset, self._image_size), (self._flow_offset, self._flow_size)):
            if ((offset < 0) | (size < 0) | (offset > blob_size - size.astype(np.int64))).any():
                raise StoreError(f"{self.path}: frame byte ranges point outside /blob (damaged index)")

    def _handle(self) -> h5py.File:
        if self._file is None or self._pid != os.getpid():
            self._file = _open_h5(self.path)
            self._pid = os.getpid()
        return self._file

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_file"], state["_pid"] = None, None
        return state

    def close(self) -> None:
        if self._file is not None and self._pid == os.getpid():
            self._file.close()
        self._file = None

    def __enter__(self) -> "StoreReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def num_frames(self) -> int:
        return len(self._image_offset)

    def in_store_order(self) -> bool:
        """Whether tracklets are in dataset order and they, their frames and bytes follow one another
        with no gap: the layout a merge writes, so such a store can be appended whole."""
        t = self.tracklets
        starts = np.concatenate([[0], np.cumsum(t.frame_count)[:-1]]).astype(np.int64)
        image_end = self._image_offset + self._image_size
        frame_end = self._flow_offset + self._flow_size
        return bool(
            (np.diff(t.order) > 0).all()
            and np.array_equal(t.frame_start, starts)
            and int(t.frame_count.sum()) == self.num_frames
            and (self.num_frames == 0 or self._image_offset[0] == 0)
            and np.array_equal(self._flow_offset, image_end)
            and np.array_equal(self._image_offset[1:], frame_end[:-1])
        )

    def frame_checksums_and_names(self) -> tuple[np.ndarray, list[str]]:
        """Every frame's CRC-32 and file name, in store order."""
        try:
            handle = self._handle()
            return handle["frames/crc32"][:], [_text(n) for n in handle["frames/name"][:]]
        except DAMAGE_ERRORS as exc:
            raise damaged(self.path, exc) from exc

    def blob_blocks(self, block_bytes: int) -> Iterator[np.ndarray]:
        """The whole /blob, in blocks of at most ``block_bytes``."""
        try:
            blob = self._handle()["blob"]
            for start in range(0, blob.shape[0], block_bytes):
                yield blob[start : start + block_bytes]
        except DAMAGE_ERRORS as exc:
            raise damaged(self.path, exc) from exc

    def encoded_bytes(self) -> tuple[int, int]:
        """Bytes of all encoded images and of all encoded flow frames: what the codecs cost."""
        return int(self._image_size.sum()), int(self._flow_size.sum())

    def tracklet_index(self, key: str) -> int:
        """A tracklet given by name, or by index (negative counts from the end), as users type it."""
        names = list(self.tracklets.name)
        if key in names:
            return names.index(key)
        if key.lstrip("-").isdigit() and -len(names) <= int(key) < len(names):
            return int(key) % len(names)
        raise StoreError(f"{self.path}: no tracklet {key!r} (give a name or an index 0..{len(names) - 1})")

    def frame_names(self, tracklet: int) -> list[str]:
        start, count = self._span(tracklet)
        try:
            return [_text(n) for n in self._handle()["frames/name"][start : start + count]]
        except DAMAGE_ERRORS as exc:
            raise damaged(self.path, exc) from exc

    def _span(self, tracklet: int) -> tuple[int, int]:
        return int(self.tracklets.frame_start[tracklet]), int(self.tracklets.frame_count[tracklet])

    def read_encoded(self, tracklet: int, positions: Sequence[int]) -> list[tuple[bytes, bytes]]:
        """The raw (image, flow) bytes of some frames of a tracklet, in one read of /blob.

        Each frame's CRC is checked (a few microseconds against a millisecond of decoding), so
        damaged bytes are a StoreError naming the frame, never wrong pixels fed to a model.
        """
        start, count = self._span(tracklet)
        idx = np.asarray(positions, dtype=np.int64)
        if idx.size == 0:
            return []
        if idx.min() < 0 or idx.max() >= count:
            raise IndexError(f"tracklet {tracklet} has {count} frames, asked for {idx.tolist()}")
        idx = idx + start
        lo = int(self._image_offset[idx].min())
        hi = int((self._flow_offset[idx] + self._flow_size[idx]).max())
        try:
            data = self._handle()["blob"][lo:hi]
        except DAMAGE_ERRORS as exc:
            raise damaged(self.path, exc) from exc
        out = []
        for position, i in zip(positions, idx):
            io, isz = self._image_offset[i] - lo, self._image_size[i]
            fo, fsz = self._flow_offset[i] - lo, self._flow_size[i]
            image, flow = data[io : io + isz], data[fo : fo + fsz]
            if frame_checksum(image, flow) != int(self._crc32[i]):
                raise StoreError(f"{self.path}: frame {position} of tracklet {self.tracklets.name[tracklet]} fails its "
                                 f"CRC check (damaged data; `flowprep verify {self.path}` locates all damage)")
            out.append((image, flow))
        return out

    def read_clip(self, tracklet: int, positions: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Decoded frames: RGB uint8 images (T, H, W, 3) and float32 flow (T, 2, H, W) in pixels."""
        pairs = self.read_encoded(tracklet, positions)
        try:
            images = np.stack([self.codec.decode_image(image) for image, _ in pairs])
            flows = np.stack([self.codec.decode_flow(flow) for _, flow in pairs])
        except CodecError as exc:
            name = self.tracklets.name[tracklet]
            raise StoreError(f"{self.path}: tracklet {name}: {exc}") from exc
        return images, flows

    def encoded_tracklet(self, tracklet: int) -> EncodedTracklet:
        """A whole tracklet as written, for merging stores without re-encoding."""
        t = self.tracklets
        pairs = self.read_encoded(tracklet, range(int(t.frame_count[tracklet])))
        return EncodedTracklet(
            name=str(t.name[tracklet]),
            order=int(t.order[tracklet]),
            pid=int(t.pid[tracklet]),
            camid=int(t.camid[tracklet]),
            role=ROLES[int(t.role[tracklet])],
            frame_names=self.frame_names(tracklet),
            images=[bytes(image) for image, _ in pairs],
            flows=[bytes(flow) for _, flow in pairs],
            skipped=[tuple(s) for s in json.loads(t.skipped[tracklet])],
        )


def damaged(path: Path, exc: Exception) -> StoreError:
    """The one-line error for a file whose HDF5 structures h5py cannot read."""
    detail = " ".join(str(exc).split()) or type(exc).__name__
    return StoreError(f"{path}: damaged store, HDF5 data is unreadable ({detail})")


def _open_h5(path: Path) -> h5py.File:
    if not path.exists():
        raise StoreError(f"{path}: no such store")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise StoreError(f"{path}: not a readable HDF5 store (truncated or damaged?): {exc}") from exc


# attributes added after schema version 2 was released, with what a store written before them reads as
_LATER_ATTRS = {"split_source": "", "shard": "0/1", "dataset_tracklets": -1}


def _read_meta(f: h5py.File, path: Path) -> StoreMeta:
    version = f.attrs.get("schema_version")
    if version is None:
        raise StoreError(f"{path}: not a flowprep store (no schema_version attribute)")
    if int(version) not in READABLE_VERSIONS:
        raise StoreError(f"{path}: schema version {int(version)} is not supported "
                         f"(this flowprep reads versions {', '.join(map(str, READABLE_VERSIONS))})")
    try:
        attrs = {k: f.attrs[k] for k in StoreMeta.__dataclass_fields__ if k not in ("flow_codec", *_LATER_ATTRS)}
        attrs["flow_codec"] = f.attrs["flow_codec"] if int(version) >= 2 else "png16"
        attrs.update({k: f.attrs.get(k, default) for k, default in _LATER_ATTRS.items()})
        attrs = {k: _text(v) if isinstance(v, (bytes, str)) else v for k, v in attrs.items()}
        return StoreMeta(
            dataset=attrs["dataset"],
            flow_method=attrs["flow_method"],
            flow_params=json.loads(attrs["flow_params"]),
            split=int(attrs["split"]),
            split_source=attrs["split_source"],
            height=int(attrs["height"]),
            width=int(attrs["width"]),
            jpeg_quality=int(attrs["jpeg_quality"]),
            flow_codec=attrs["flow_codec"],
            flow_step=float(attrs["flow_step"]),
            created=attrs["created"],
            project_version=attrs["project_version"],
            schema_version=int(attrs["schema_version"]),
            skipped_tracklets=tuple(tuple(s) for s in json.loads(attrs["skipped_tracklets"])),
            shard=attrs["shard"],
            dataset_tracklets=int(attrs["dataset_tracklets"]),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise StoreError(f"{path}: root attributes are missing or malformed ({exc})") from exc


def _read_index(f: h5py.File, path: Path) -> TrackletIndex:
    try:
        for key in FRAME_FIELDS:
            f[f"frames/{key}"]
        columns = {key: f[f"tracklets/{key}"][:] for key in TRACKLET_FIELDS}
        if not isinstance(f["blob"], h5py.Dataset):
            raise KeyError("/blob is not a dataset")
    except (KeyError, OSError) as exc:
        raise StoreError(f"{path}: missing or unreadable dataset ({exc})") from exc
    for key in ("name", "skipped"):
        columns[key] = np.array([_text(v) for v in columns[key]], dtype=object)
    lengths = {len(v) for v in columns.values()}
    if len(lengths) != 1:
        raise StoreError(f"{path}: /tracklets columns have different lengths {sorted(lengths)}")
    return TrackletIndex(**columns)


def open_store(path: str | os.PathLike) -> StoreReader:
    """Open a store for reading; every problem is a one-line StoreError naming the file."""
    return StoreReader(path)


def _appendable_whole(readers: Sequence[StoreReader]) -> list[StoreReader] | None:
    """The non-empty readers in dataset order, if each is in store order and their tracklets do
    not interleave (the parts of one run), else None."""
    stores = sorted((r for r in readers if len(r.tracklets)), key=lambda r: int(r.tracklets.order[0]))
    if not all(r.in_store_order() for r in stores):
        return None
    if any(a.tracklets.order[-1] >= b.tracklets.order[0] for a, b in zip(stores, stores[1:])):
        return None
    return stores


def concatenate_stores(inputs: Sequence[Path], out: Path, meta: StoreMeta | None = None) -> StoreMeta:
    """Join stores of the same dataset and encoding into one, ordered by the adapter's order.

    Used both to merge shards and to assemble the parts of an extraction run, so that a
    resumed, a sharded and an uninterrupted run all give the same file content.
    """
    readers = [open_store(p) for p in inputs]
    try:
        base = meta or (readers[0].meta if readers else None)
        if base is None:
            raise StoreError(f"{out}: nothing to merge")
        for reader in readers:
            if reader.meta.content_key(across_shards=True) != base.content_key(across_shards=True):
                raise StoreError(f"{reader.path}: made with other settings than {readers[0].path} (dataset, split, flow or size differ)")
        entries = []
        seen: dict[str, Path] = {}
        for reader in readers:
            for i, name in enumerate(reader.tracklets.name):
                if name in seen:
                    raise StoreError(f"{reader.path}: tracklet {name} is also in {seen[name]}")
                seen[name] = reader.path
                entries.append((int(reader.tracklets.order[i]), reader, i))
        entries.sort(key=lambda e: e[0])
        skipped = sorted({tuple(s) for r in readers for s in r.meta.skipped_tracklets} | set(base.skipped_tracklets))
        merged = replace(base, skipped_tracklets=tuple(skipped), created="")
        whole = _appendable_whole(readers)
        if whole is None:
            write_store(out, merged, (reader.encoded_tracklet(i) for _, reader, i in entries))
        else:  # the parts of one run: already in order, so append each one as it is
            with StoreWriter(out, merged) as writer:
                for reader in whole:
                    writer.add_store(reader)
        return merged
    finally:
        for reader in readers:
            reader.close()
