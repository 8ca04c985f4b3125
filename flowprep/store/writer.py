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
from flowreid.atomic import publish, remove_quietly, temporary_sibling
from flowreid.killpoints import kill_point

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
        self._tmp = temporary_sibling(self.path)
        self._frames: dict[str, list] = {key: [] for key in FRAME_FIELDS}
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
        self._append_bytes(np.frombuffer(bytes(chunk), np.uint8))
        kill_point("store.tracklet-written")

    def add_store(self, reader: StoreReader) -> None:
        """Append all of a store in store order (see ``StoreReader.in_store_order``) as it is stored.

        Its blob is copied in large blocks and its index shifted, with no per-frame work:
        assembling a run's parts this way is bound by the disk, not by Python.
        """
        f, t = reader.frames, reader.tracklets
        base = len(self._frames["image_offset"])
        for key, column in (("image_offset", f.image_offset + self._offset), ("image_size", f.image_size),
                            ("flow_offset", f.flow_offset + self._offset), ("flow_size", f.flow_size),
                            ("crc32", f.crc32)):
            self._frames[key].extend(column.tolist())
        self._frames["name"].extend(reader.all_frame_names())
        for key, column in (("name", t.name), ("order", t.order), ("pid", t.pid), ("camid", t.camid),
                            ("role", t.role), ("frame_start", t.frame_start + base), ("frame_count", t.frame_count),
                            ("skipped", t.skipped)):
            self._tracklets[key].extend(column.tolist())
        for block in reader.blob_blocks(self.COPY_BLOCK):
            self._append_bytes(block)
            kill_point("store.block-copied")

    def close(self) -> None:
        """Write the index and attributes, then publish the finished file at ``path``."""
        with self._failing_cleanly():
            strings = (*self._frames["name"], *self._tracklets["name"], *self._tracklets["skipped"])
            self._reserve(64 * len(strings) + sum(map(len, strings)))
            f = self._file
            for key, value in meta_attrs(self.meta).items():
                if isinstance(value, str):
                    data = fixed_text([value]).reshape(())  # a 0-d array keeps an empty string's width of 1
                    f.attrs.create(key, data, dtype=data.dtype)
                else:
                    f.attrs[key] = value
            for group, columns, dtypes in (
                ("frames", self._frames, FRAME_DTYPES),
                ("tracklets", self._tracklets, TRACKLET_DTYPES),
            ):
                g = f.create_group(group)
                for key, values in columns.items():
                    data = fixed_text(values) if dtypes[key] == STR else np.array(values, dtype=dtypes[key])
                    g.create_dataset(key, data=data, dtype=data.dtype)
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


def write_store(path: str | os.PathLike, meta: StoreMeta, tracklets: Iterable[EncodedTracklet]) -> None:
    """Write a complete store atomically from any iterable of encoded tracklets."""
    with StoreWriter(path, meta) as writer:
        for tracklet in tracklets:
            writer.add(tracklet)
