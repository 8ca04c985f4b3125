"""Writing a store: ``StoreWriter`` streams tracklets into a file that appears only once complete."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import h5py
import numpy as np

from flowprep.errors import StoreError
from flowprep.store.reader import StoreReader
from flowprep.store.records import EncodedTracklet, StoreMeta
from flowprep.store.schema import (FRAME_DTYPES, FRAME_FIELDS, HDF5_FORMAT, ROLE_CODE, SCHEMA_VERSION, STR,
                                   TRACKLET_DTYPES, TRACKLET_FIELDS, frame_checksum)
from flowreid.atomic import claim_temporary, publish, remove_quietly
from flowreid.killpoints import kill_point
from flowreid.memory import release_free_memory

# h5py reports a failed write (a full disk) as OSError, or as RuntimeError when it surfaces while closing
WRITE_ERRORS = (OSError, RuntimeError)


def write_error(path: Path, exc: Exception) -> StoreError:
    """The one-line error for a store that could not be written; HDF5 buries the OS error in a
    multi-line message, and its errno names it in one line."""
    code = getattr(exc, "errno", None) or int((re.search(r"errno = (\d+)", str(exc)) or [0, 0])[1])
    reason = os.strerror(code) if code else " ".join(str(exc).split())
    return StoreError(f"{path}: could not write the store: {reason}")


def fixed_text(values: Sequence[str]) -> np.ndarray:
    """Strings as fixed-length UTF-8 bytes: they live inside the dataset or the checksummed
    attribute message, not in HDF5's global heap, whose damage makes HDF5 2.0 hang on read."""
    encoded = [value.encode("utf-8") for value in values]
    width = max(1, max(map(len, encoded), default=1))
    return np.array(encoded, dtype=h5py.string_dtype("utf-8", width))


def fixed_bytes(names: np.ndarray) -> np.ndarray:
    """A column of UTF-8 bytes (NumPy ``S``) as ``fixed_text`` would store it, with no Python object per entry."""
    if names.dtype.itemsize == 0:
        return names.astype(h5py.string_dtype("utf-8", 1))
    return names.view(h5py.string_dtype("utf-8", names.dtype.itemsize))  # a view: no copy of the column


def meta_attrs(meta: StoreMeta) -> dict:
    """The root attributes that record ``meta``, as this code writes them."""
    attrs = asdict(meta)
    attrs["flow_params"] = json.dumps(meta.flow_params, sort_keys=True)
    attrs["skipped_tracklets"] = json.dumps([list(item) for item in meta.skipped_tracklets])
    attrs["schema_version"] = SCHEMA_VERSION  # what this code writes, whatever version was read
    attrs["created"] = meta.created or datetime.now(timezone.utc).isoformat(timespec="seconds")
    return attrs


class StoreWriter:
    """Streams tracklets into a new store that appears at ``path`` only once it is complete.

    The file is built under a temporary name in the same folder and published (fsynced and
    renamed, ``flowreid.atomic``), so a crash or a full disk leaves any earlier file at ``path``
    untouched and never a half store. A full disk is detected before HDF5 writes: HDF5 cannot
    recover from a write that fails for lack of space (the file's handles then crash the process
    at exit, h5py issue 914).
    """

    BLOB_CHUNK = 1 << 20
    COPY_BLOCK = 64 << 20  # bytes per read when appending a whole store
    SPACE_MARGIN = 1 << 20  # room for HDF5's own structures

    def __init__(self, path: str | os.PathLike, meta: StoreMeta):
        self.path = Path(path)
        self.meta = meta
        self._tmp = claim_temporary(self.path)
        self._frames: dict[str, list[np.ndarray]] = {key: [] for key in FRAME_FIELDS}  # a block per tracklet or store
        self._frame_count = 0
        self._tracklets: dict[str, list] = {key: [] for key in TRACKLET_FIELDS}
        self._offset = 0
        with self._failing_cleanly():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = h5py.File(self._tmp, "w", libver=HDF5_FORMAT)
            self._blob = self._file.create_dataset(
                "blob", shape=(0,), maxshape=(None,), dtype=np.uint8, chunks=(self.BLOB_CHUNK,)
            )

    @contextmanager
    def _failing_cleanly(self) -> Iterator[None]:
        """A failed write discards the temporary file and becomes the one-line StoreError."""
        try:
            yield
        except WRITE_ERRORS as exc:
            self._discard()
            raise write_error(self.path, exc) from exc

    def _append_bytes(self, data: np.ndarray) -> None:
        with self._failing_cleanly():
            self._reserve(len(data) + self.BLOB_CHUNK)  # a new chunk takes its whole size on disk
            self._blob.resize((self._offset + len(data),))
            self._blob[self._offset :] = data
        self._offset += len(data)

    def add(self, tracklet: EncodedTracklet) -> None:
        frames = self._frames
        images, flows = tracklet.images, tracklet.flows
        if len(images) != len(flows):
            raise ValueError(f"tracklet {tracklet.name}: {len(images)} images but {len(flows)} flow images")
        chunk = b"".join(part for pair in zip(images, flows) for part in pair)
        image_size = np.fromiter(map(len, images), np.int64, len(images))
        flow_size = np.fromiter(map(len, flows), np.int64, len(flows))
        image_offset = self._offset + np.cumsum(image_size + flow_size) - image_size - flow_size
        frames["image_offset"].append(image_offset)
        frames["image_size"].append(image_size.astype(np.int32))
        frames["flow_offset"].append(image_offset + image_size)
        frames["flow_size"].append(flow_size.astype(np.int32))
        frames["crc32"].append(np.fromiter(map(frame_checksum, images, flows), np.uint32, len(images)))
        frames["name"].append(np.array([name.encode("utf-8") for name in tracklet.frame_names], dtype=bytes))
        record = self._tracklets
        record["frame_start"].append(self._frame_count)
        record["frame_count"].append(len(images))
        self._frame_count += len(images)
        record["name"].append(tracklet.name)
        record["order"].append(tracklet.order)
        record["pid"].append(tracklet.pid)
        record["camid"].append(tracklet.camid)
        record["role"].append(ROLE_CODE[tracklet.role])
        record["skipped"].append(json.dumps([list(s) for s in tracklet.skipped]))
        record["outfit"].append(tracklet.outfit)
        self._append_bytes(np.frombuffer(chunk, np.uint8))
        kill_point("store.tracklet-written")

    def add_store(self, reader: StoreReader) -> None:
        """Append all of a store in store order (see ``StoreReader.in_store_order``) as it is stored.

        Its blob is copied in large blocks and its index shifted, with no per-frame work:
        assembling a run's parts this way is bound by the disk, not by Python.
        """
        f, t = reader.frames, reader.tracklets
        base = self._frame_count
        for key, column in (("image_offset", f.image_offset + self._offset), ("image_size", f.image_size),
                            ("flow_offset", f.flow_offset + self._offset), ("flow_size", f.flow_size),
                            ("crc32", f.crc32), ("name", reader.frame_name_column())):
            self._frames[key].append(column)
        self._frame_count += len(f)
        for key, column in (("name", t.name), ("order", t.order), ("pid", t.pid), ("camid", t.camid),
                            ("role", t.role), ("frame_start", t.frame_start + base), ("frame_count", t.frame_count),
                            ("skipped", t.skipped), ("outfit", t.outfit)):
            self._tracklets[key].extend(column.tolist())
        for block in reader.blob_blocks(self.COPY_BLOCK):
            self._append_bytes(block)
            kill_point("store.block-copied")

    def close(self) -> None:
        """Write the index and attributes, then publish the finished file at ``path``."""
        with self._failing_cleanly():
            strings = (*self._tracklets["name"], *self._tracklets["skipped"])
            names = sum(block.nbytes for block in self._frames["name"])
            self._reserve(64 * (len(strings) + self._frame_count) + names + sum(map(len, strings)))
            f = self._file
            for key, value in meta_attrs(self.meta).items():
                if isinstance(value, str):
                    data = fixed_text([value]).reshape(())  # a 0-d array keeps an empty string's width of 1
                    f.attrs.create(key, data, dtype=data.dtype)
                else:
                    f.attrs[key] = value
            frames = f.create_group("frames")
            for key in FRAME_FIELDS:  # one column at a time, its blocks dropped once joined
                blocks = self._frames[key]
                self._frames[key] = []
                data = _joined(blocks, FRAME_DTYPES[key])
                del blocks
                frames.create_dataset(key, data=data, dtype=data.dtype)
                del data
                release_free_memory()
            tracklets = f.create_group("tracklets")
            for key, values in self._tracklets.items():
                dtype = TRACKLET_DTYPES[key]
                data = fixed_text(values) if dtype == STR else np.array(values, dtype=dtype)
                tracklets.create_dataset(key, data=data, dtype=data.dtype)
            f.close()
            publish(self._tmp, self.path)

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


def _joined(blocks: list[np.ndarray], dtype) -> np.ndarray:
    """One /frames column from its blocks, in the stored type (text as fixed-width UTF-8)."""
    if dtype == STR:
        return fixed_bytes(np.concatenate(blocks) if blocks else np.zeros(0, "S1"))
    return np.concatenate(blocks).astype(dtype, copy=False) if blocks else np.zeros(0, dtype)


def write_store(path: str | os.PathLike, meta: StoreMeta, tracklets: Iterable[EncodedTracklet]) -> None:
    """Write a complete store atomically from any iterable of encoded tracklets."""
    with StoreWriter(path, meta) as writer:
        for tracklet in tracklets:
            writer.add(tracklet)
