"""The store's on-disk layout, schema version 2: names, dtypes and versions, in one place.

Layout::

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
    /tracklets/outfit      int32 (N,)   the person's outfit (MEVID), -1 where the dataset does not say;
                                        added within version 2: a store without it reads as all -1

A tracklet's frames are consecutive, so a clip of consecutive frames is one contiguous byte
range of /blob: one read per clip. /blob is chunked (1 MiB) but unfiltered (the frames are
compressed already), so HDF5 reads a clip's byte range directly, and many worker processes can
read at once. Files are written in the HDF5 1.10 format, whose metadata carries checksums, and
every string is fixed-length (``writer.fixed_text``), so damaged metadata is an error rather than a
structure HDF5 misreads or loops on. Version 1 (no ``flow_codec``; flow is png16) is still read.

This module imports nothing else of the project: the dataset adapters, the reader and the
writer all take the layout from here.
"""

from __future__ import annotations

import zlib

import numpy as np

SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)
HDF5_FORMAT = ("v110", "v110")  # checksummed metadata, readable by HDF5 >= 1.10
ROLES = ("train", "query", "gallery")
ROLE_CODE = {role: code for code, role in enumerate(ROLES)}
STR = "text"  # a column of strings, stored as fixed-length UTF-8 (see writer.fixed_text)
FRAME_FIELDS = ("image_offset", "image_size", "flow_offset", "flow_size", "crc32", "name")
TRACKLET_FIELDS = ("name", "order", "pid", "camid", "role", "frame_start", "frame_count", "skipped", "outfit")
FRAME_DTYPES = {"image_offset": np.int64, "image_size": np.int32, "flow_offset": np.int64,
                "flow_size": np.int32, "crc32": np.uint32, "name": STR}
TRACKLET_DTYPES = {"name": STR, "order": np.int64, "pid": np.int32, "camid": np.int32, "role": np.uint8,
                   "frame_start": np.int64, "frame_count": np.int32, "skipped": STR, "outfit": np.int32}
# /tracklets columns added after schema version 2 was released, with what a store written before them holds
LATER_TRACKLET_FIELDS = {"outfit": -1}
NO_OUTFIT = -1
# root attributes added after schema version 2 was released, with what a store written before them reads as
LATER_ATTRS = {"split_source": "", "shard": "0/1", "dataset_tracklets": -1}


def frame_checksum(image: bytes | np.ndarray, flow: bytes | np.ndarray) -> int:
    """CRC-32 of a frame's image bytes followed by its flow bytes, as /frames/crc32 holds it."""
    return zlib.crc32(flow, zlib.crc32(image))

