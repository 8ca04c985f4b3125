"""The journal of an extraction run: a folder of small complete stores ("parts").

Finished tracklets are flushed every few seconds into a new part file, each written
atomically, so a run killed at any moment loses at most the tracklets since the last
flush, and ``--resume`` knows exactly which tracklets are done. At the end the parts
are concatenated in the dataset's order into one file inside the journal, which is then
renamed into place: a resumed run's store is identical to an uninterrupted one.

The moments a crash test kills a run at (``flowreid.killpoints``): ``parts.part-written``,
``parts.before-rename`` and ``parts.after-rename`` of the final store, ``parts.part-removed``.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from dataclasses import replace
from pathlib import Path

from flowprep.errors import FlowprepError, StoreError
from flowprep.store import EncodedTracklet, StoreMeta, concatenate_stores, open_store, write_error, write_store
from flowreid.atomic import publish, remove_quietly
from flowreid.killpoints import kill_point


class RunLock:
    """An exclusive lock on ``<store>.lock``, so two runs never write the same store."""

    def __init__(self, store: Path):
        self.path = store.with_name(store.name + ".lock")
        self._fd: int | None = None

    def __enter__(self) -> "RunLock":
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise FlowprepError(f"{self.path}: cannot create the store's lock file ({exc.strerror or exc})") from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise FlowprepError(
                    f"{self.path.with_suffix('')}: another flowprep process is writing this store (lock {self.path} is held)"
                ) from None
            if self._names(fd):
                self._fd = fd
                return self
            os.close(fd)  # we locked a file that a finishing run had just removed: lock the current one

    def _names(self, fd: int) -> bool:
        """Whether ``self.path`` still names the file open as ``fd``."""
        try:
            named = os.stat(self.path)
        except FileNotFoundError:
            return False
        held = os.fstat(fd)
        return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            remove_quietly(self.path)
            os.close(self._fd)
            self._fd = None


def journal_folder(store: Path) -> Path:
    """Where an extraction into ``store`` keeps its finished parts until the store is assembled."""
    return store.with_name(store.name + ".parts")


class PartsJournal:
    """Writes parts and tells which tracklets an earlier, interrupted run already finished."""

    def __init__(self, store: Path, meta: StoreMeta, flush_bytes: int = 64 << 20, flush_seconds: float = 10.0):
        self.folder = journal_folder(store)
        self.meta = meta
        self.flush_bytes = flush_bytes
        self.flush_seconds = flush_seconds
        self._buffer: list[EncodedTracklet] = []
        self._skipped: list[tuple[str, str]] = []
        self._buffered_bytes = 0
        self._last_flush = time.monotonic()

    def exists(self) -> bool:
        return self.folder.exists()

    def reset(self) -> None:
        """Delete the journal, part by part: a kill meanwhile leaves complete parts with gaps, which resume fills."""
        for part in self.part_files():
            remove_quietly(part)
            kill_point("parts.part-removed")
        shutil.rmtree(self.folder, ignore_errors=True)

    def part_files(self) -> list[Path]:
        return sorted(self.folder.glob("part-*.h5")) if self.folder.exists() else []

    def done(self) -> set[str]:
        """Names of the tracklets (stored or skipped as unusable) in the parts written so far."""
        names: set[str] = set()
        for part in self.part_files():
            with open_store(part) as reader:
                if reader.meta.content_key() != self.meta.content_key():
                    raise StoreError(
                        f"{part}: the interrupted run used other settings (dataset, flow or size); "
                        "pass --overwrite to start again"
                    )
                names.update(reader.tracklets.name)
                names.update(name for name, _ in reader.meta.skipped_tracklets)
        return names

    def add(self, tracklet: EncodedTracklet) -> None:
        self._buffer.append(tracklet)
        self._buffered_bytes += tracklet.nbytes
        self._maybe_flush()

    def add_skipped(self, name: str, reason: str) -> None:
        self._skipped.append((name, reason))
        self._maybe_flush()

    def _maybe_flush(self) -> None:
        if self._buffered_bytes >= self.flush_bytes or time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        """Write the buffered tracklets as the next part file (atomically).

        The buffer is emptied first: a flush interrupted after its part landed (Ctrl-C) and flushed again
        must not write those tracklets twice; one interrupted before leaves them to the resumed run.
        """
        buffer, skipped = self._buffer, self._skipped
        self._buffer, self._skipped, self._buffered_bytes = [], [], 0
        self._last_flush = time.monotonic()
        if buffer or skipped:
            self.folder.mkdir(parents=True, exist_ok=True)
            parts = self.part_files()  # numbered after the last, not counted: a killed cleanup leaves gaps
            index = int(parts[-1].stem.split("-")[1]) + 1 if parts else 0
            meta = replace(self.meta, skipped_tracklets=tuple(skipped))
            write_store(self.folder / f"part-{index:06d}.h5", meta, buffer)
            kill_point("parts.part-written")

    def assemble(self, store: Path) -> StoreMeta:
        """Make the final store in the journal, rename it to ``store``, then drop the journal."""
        self.flush()
        final, merged = self._final_file()
        kill_point("parts.before-rename")
        try:
            publish(final, store)
        except OSError as exc:
            raise write_error(store, exc) from exc
        kill_point("parts.after-rename")
        self.reset()
        return merged

    def _final_file(self) -> tuple[Path, StoreMeta]:
        """The parts as one store in dataset order, inside the journal: a lone part already in final
        form as it is, else every part joined into a new file."""
        parts = self.part_files()
        final = _final_form_meta(parts[0]) if len(parts) == 1 else None
        if final is not None:
            return parts[0], final
        assembled = self.folder / "assembled.h5"
        if parts:
            return assembled, concatenate_stores(parts, assembled)
        write_store(assembled, self.meta, [])  # a shard that holds no tracklet
        return assembled, self.meta


def _final_form_meta(part: Path) -> StoreMeta | None:
    """The part's metadata if it already is what concatenating it alone would write, else None."""
    with open_store(part) as reader:
        skipped = list(reader.meta.skipped_tracklets)
        return reader.meta if skipped == sorted(set(skipped)) and reader.in_store_order() else None
