"""Giving freed memory back to the system, where the C library keeps it.

glibc serves a freed large block's successors from its heap once its adaptive mmap threshold has
risen, and keeps what they free in the process: after a million-frame column is built from
temporaries, RSS stays tens of megabytes above what is live (measured on the MARS adapter: 96 MB
held, 34 MB live). ``release_free_memory`` asks glibc to return it; elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache


@lru_cache(maxsize=1)
def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


def release_free_memory() -> None:
    """Return the C heap's free pages to the system (glibc ``malloc_trim``); a no-op without glibc."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
