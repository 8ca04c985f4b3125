"""Ctrl-C during an extraction: the work in hand is kept, and no worker process speaks.

A terminal sends SIGINT to the whole process group. Worker processes start with it ignored
(``interrupts_ignored``), so none prints its own traceback; this process stops them. In this
process the first Ctrl-C only asks to stop (``StopRequest``): the loop journals the chunk in
hand and stops there, so no ``KeyboardInterrupt`` lands in the middle of a file write or a
garbage collection. A second Ctrl-C interrupts at once.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()  # the only thread that may set handlers


@contextmanager
def interrupts_ignored() -> Iterator[None]:
    """Ignore SIGINT while worker processes start: they inherit it (and keep it across exec)."""
    if not _in_main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class StopRequest:
    """While entered, the first SIGINT sets ``requested``; a second raises ``KeyboardInterrupt`` as usual."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def __enter__(self) -> StopRequest:
        if _in_main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _on_sigint(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
