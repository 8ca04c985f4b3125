"""Reading a store: ``open_store`` and ``StoreReader``, every problem a one-line StoreError naming the file.

The reader owns the store's layout checks: bounds when it opens (``StoreReader._check_ranges``),
the CRC of every frame it reads (``read_encoded``, ``check_frames``), and whether the layout is
the one a merge writes (``in_store_order``); ``flowprep.store.verify`` runs them over a whole file.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

import h5py
import numpy as np

from flowprep.codec import CodecError
from flowprep.errors import StoreError
from flowprep.store.records import EncodedTracklet, FrameIndex, StoreMeta, TrackletIndex
from flowprep.store.schema import FRAME_FIELDS, LATER_ATTRS, LATER_TRACKLET_FIELDS, READABLE_VERSIONS, ROLES, TRACKLET_FIELDS, frame_checksum

# h5py reports a damaged file as any of these, depending on which HDF5 structure broke
DAMAGE_ERRORS = (OSError, KeyError, TypeError, ValueError, RuntimeError)
FramePair = tuple[np.ndarray, np.ndarray]  # a frame's encoded image and flow bytes


def text(value: object) -> str:
    """A string read back from either kind of HDF5 string (fixed-length bytes, or version 1's str)."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def damaged(path: Path, exc: Exception) -> StoreError:
    """The one-line error for a file whose HDF5 structures h5py cannot read."""
    detail = " ".join(str(exc).split()) or type(exc).__name__
    return StoreError(f"{path}: damaged store, HDF5 data is unreadable ({detail})")


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
        with self._reading():
            self.meta = _read_meta(f, self.path)
            self.codec = self.meta.codec
            self.tracklets = _read_index(f, self.path)
            self.frames = FrameIndex(**{key: f[f"frames/{key}"][:] for key in FRAME_FIELDS if key != "name"})
            self.blob_size = int(f["blob"].shape[0])
            self._check_ranges(len(f["frames/name"]))

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """Turn whatever h5py raises for a damaged file into the one-line StoreError."""
        try:
            yield
        except DAMAGE_ERRORS as exc:
            raise damaged(self.path, exc) from exc

    def _check_ranges(self, names: int) -> None:
        """Cheap bounds checks, so a damaged index fails here, not as a wild read later (``verify`` checks all)."""
        t, f = self.tracklets, self.frames
        if any(len(column) != len(f) for column in (f.image_size, f.flow_offset, f.flow_size, f.crc32, range(names))):
            raise StoreError(f"{self.path}: /frames columns have different lengths")
        if ((t.frame_start < 0) | (t.frame_count < 0) | (t.frame_start > len(f) - t.frame_count)).any():
            raise StoreError(f"{self.path}: tracklet frame ranges point outside /frames (damaged index)")
        for offset, size in ((f.image_offset, f.image_size), (f.flow_offset, f.flow_size)):
            if ((offset < 0) | (size < 0) | (offset > self.blob_size - size.astype(np.int64))).any():
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
        return len(self.frames)

    def in_store_order(self) -> bool:
        """Whether tracklets are in dataset order and they, their frames and bytes follow one another
        with no gap: the layout a merge writes, so such a store can be appended whole."""
        t = self.tracklets
        return bool((np.diff(t.order) > 0).all() and t.first_untiled() is None
                    and int(t.frame_count.sum()) == self.num_frames and self.frames.contiguous())

    def frame_name_column(self) -> np.ndarray:
        """Every frame's file name as stored (UTF-8 bytes, NumPy ``S``), with no Python object per name."""
        with self._reading():
            names = self._handle()["frames/name"][:]
        if names.dtype.kind == "O":  # variable-length strings, as some older writers stored them
            return np.array([text(name).encode("utf-8") for name in names], dtype=bytes)
        return names if len(names) else np.zeros(0, "S1")

    def blob_blocks(self, block_bytes: int) -> Iterator[np.ndarray]:
        """The whole /blob, in blocks of at most ``block_bytes``."""
        with self._reading():
            blob = self._handle()["blob"]
            for start in range(0, blob.shape[0], block_bytes):
                yield blob[start : start + block_bytes]

    def encoded_bytes(self) -> tuple[int, int]:
        """Bytes of all encoded images and of all encoded flow frames: what the codecs cost."""
        return int(self.frames.image_size.sum()), int(self.frames.flow_size.sum())

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
        with self._reading():
            return [text(n) for n in self._handle()["frames/name"][start : start + count]]

    def _span(self, tracklet: int) -> tuple[int, int]:
        return int(self.tracklets.frame_start[tracklet]), int(self.tracklets.frame_count[tracklet])

    def _read_frames(self, frames: np.ndarray, advice: str) -> list[FramePair]:
        """The (image, flow) bytes of frames (indices into /frames), in one read of /blob, each
        checked against its CRC; a damaged one is a StoreError naming it, ending with ``advice``."""
        f = self.frames
        lo, hi = int(f.image_offset[frames].min()), int(f.end[frames].max())
        with self._reading():
            data = self._handle()["blob"][lo:hi]
        pairs = []
        for i in frames:
            io, fo = int(f.image_offset[i]) - lo, int(f.flow_offset[i]) - lo
            image, flow = data[io : io + int(f.image_size[i])], data[fo : fo + int(f.flow_size[i])]
            if frame_checksum(image, flow) != int(f.crc32[i]):
                owner = int(np.searchsorted(self.tracklets.frame_start, i, side="right") - 1)
                position = int(i) - int(self.tracklets.frame_start[owner])
                raise StoreError(f"{self.path}: frame {position} ({self.frame_names(owner)[position]}) of tracklet "
                                 f"{self.tracklets.name[owner]} fails its CRC check (damaged data{advice})")
            pairs.append((image, flow))
        return pairs

    def check_frames(self, first: int, last: int) -> None:
        """Check the CRC of frames ``first`` to ``last - 1``, read as one range of /blob."""
        if last > first:
            self._read_frames(np.arange(first, last), "")

    def read_encoded(self, tracklet: int, positions: Sequence[int]) -> list[FramePair]:
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
        return self._read_frames(idx + start, f"; `flowprep verify {self.path}` locates all damage")

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
            outfit=int(t.outfit[tracklet]),
        )


def _open_h5(path: Path) -> h5py.File:
    if not path.exists():
        raise StoreError(f"{path}: no such store")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise StoreError(f"{path}: not a readable HDF5 store (truncated or damaged?): {exc}") from exc


def _read_meta(f: h5py.File, path: Path) -> StoreMeta:
    version = f.attrs.get("schema_version")
    if version is None:
        raise StoreError(f"{path}: not a flowprep store (no schema_version attribute)")
    if int(version) not in READABLE_VERSIONS:
        raise StoreError(f"{path}: schema version {int(version)} is not supported "
                         f"(this flowprep reads versions {', '.join(map(str, READABLE_VERSIONS))})")
    try:
        attrs = {k: f.attrs[k] for k in StoreMeta.__dataclass_fields__ if k not in ("flow_codec", *LATER_ATTRS)}
        attrs["flow_codec"] = f.attrs["flow_codec"] if int(version) >= 2 else "png16"
        attrs.update({k: f.attrs.get(k, default) for k, default in LATER_ATTRS.items()})
        attrs = {k: text(v) if isinstance(v, (bytes, str)) else v for k, v in attrs.items()}
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
        group = f["tracklets"]
        columns = {key: group[key][:] for key in TRACKLET_FIELDS if key not in LATER_TRACKLET_FIELDS or key in group}
        if not isinstance(f["blob"], h5py.Dataset):
            raise KeyError("/blob is not a dataset")
    except (KeyError, OSError) as exc:
        raise StoreError(f"{path}: missing or unreadable dataset ({exc})") from exc
    for key in ("name", "skipped"):
        columns[key] = np.array([text(v) for v in columns[key]], dtype=object)
    lengths = {len(v) for v in columns.values()}
    if len(lengths) != 1:
        raise StoreError(f"{path}: /tracklets columns have different lengths {sorted(lengths)}")
    return TrackletIndex(**columns)


def open_store(path: str | os.PathLike) -> StoreReader:
    """Open a store for reading; every problem is a one-line StoreError naming the file."""
    return StoreReader(path)
