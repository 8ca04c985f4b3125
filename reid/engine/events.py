"""Run logs: a metrics CSV and TensorBoard event files, without a TensorBoard dependency.

An event file is a TFRecord stream of ``Event`` protocol buffers. Scalars need only a few
fields, so they are encoded here by hand: varints, length-delimited fields and the
masked CRC-32C that TFRecord frames carry.
"""

from __future__ import annotations

import csv
import os
import socket
import struct
import time
from pathlib import Path


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        bits = value & 0x7F
        value >>= 7
        out.append(bits | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, wire_type: int, payload: bytes) -> bytes:
    return _varint(number << 3 | wire_type) + payload


def _bytes_field(number: int, data: bytes) -> bytes:
    return _field(number, 2, _varint(len(data)) + data)


def encode_event(wall_time: float, step: int, *, tag: str | None = None, value: float | None = None,
                 file_version: str | None = None) -> bytes:
    """One ``Event``: wall_time (1, double), step (2, int64), file_version (3) or summary (5)."""
    event = _field(1, 1, struct.pack("<d", wall_time)) + _field(2, 0, _varint(step))
    if file_version is not None:
        event += _bytes_field(3, file_version.encode())
    if tag is not None:
        summary_value = _bytes_field(1, tag.encode()) + _field(2, 5, struct.pack("<f", value))
        event += _bytes_field(5, _bytes_field(1, summary_value))
    return event


def tfrecord(data: bytes) -> bytes:
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", _masked(crc32c(header))) + data + struct.pack("<I", _masked(crc32c(data)))


class RunLog:
    """Appends scalars to ``metrics.csv`` and to a TensorBoard event file in the run folder."""

    def __init__(self, run_dir: Path, enabled: bool = True, resumed_step: int = 0):
        """``resumed_step``: the checkpoint's step; rows after it came from a run killed before its next checkpoint."""
        self.enabled = enabled
        self.csv_path = Path(run_dir) / "metrics.csv"
        if not enabled:
            return
        self._drop_rows_after(resumed_step)
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}"
        self._events = open(Path(run_dir) / name, "ab")
        self._events.write(tfrecord(encode_event(time.time(), 0, file_version="brain.Event:2")))
        self._events.flush()

    def log(self, step: int, scalars: dict[str, float]) -> None:
        if not self.enabled:
            return
        new = not self.csv_path.exists()
        with open(self.csv_path, "a", newline="") as handle:
            writer = csv.writer(handle)
            if new:
                writer.writerow(["step", "name", "value"])
            for name, value in scalars.items():
                writer.writerow([step, name, f"{value:.6g}"])
        now = time.time()
        for name, value in scalars.items():
            self._events.write(tfrecord(encode_event(now, step, tag=name, value=float(value))))
        self._events.flush()

    def _drop_rows_after(self, step: int) -> None:
        """Forget what a killed run logged after its last checkpoint, so each step appears once."""
        if not self.csv_path.exists():
            return
        with open(self.csv_path, newline="") as handle:
            rows = list(csv.reader(handle))
        kept = rows[:1] + [row for row in rows[1:] if row and row[0].isdigit() and int(row[0]) <= step]
        if len(kept) == len(rows):
            return
        tmp = self.csv_path.with_name(self.csv_path.name + ".tmp")
        with open(tmp, "w", newline="") as handle:
            csv.writer(handle).writerows(kept)
        os.replace(tmp, self.csv_path)

    def close(self) -> None:
        if self.enabled:
            self._events.close()
