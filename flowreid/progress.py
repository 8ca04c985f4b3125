"""Progress on stderr that suits a terminal and a batch log alike.

On a terminal it is a tqdm bar. Anywhere else (SLURM, nohup, a pipe, a notebook) a bar's
carriage-return frames would fill the log, so it is one plain line at a steady interval of
time: every ``$FLOWREID_PROGRESS_SECONDS`` seconds (default 60) a line with the count, the
rate and the time left, and a last line when the step ends if it printed any. A step shorter
than the interval prints nothing, so quick commands leave clean logs; a long one prints a
line a minute whatever its size. Nothing at all is shown when ``enabled`` is False (``--quiet``).
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import IO, Any, Protocol

ENV_SECONDS = "FLOWREID_PROGRESS_SECONDS"
DEFAULT_SECONDS = 60.0


class Progress(Protocol):
    """What the commands call on a progress display: tqdm's names, so a bar and a log line are interchangeable."""

    def update(self, n: int = 1) -> None: ...
    def set_postfix_str(self, text: str) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Progress: ...
    def __exit__(self, *exc: object) -> None: ...


def log_interval() -> float:
    """Seconds between two plain lines: ``$FLOWREID_PROGRESS_SECONDS`` (0: a line at every step), else 60."""
    text = os.environ.get(ENV_SECONDS, "")
    try:
        seconds = float(text) if text.strip() else DEFAULT_SECONDS
    except ValueError:
        seconds = DEFAULT_SECONDS
    return seconds if math.isfinite(seconds) and seconds >= 0 else DEFAULT_SECONDS


def duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``2 h 07 min``: short enough for a log line, exact enough to plan by."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def is_terminal(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class Silent:
    """The display of ``--quiet``: every call does nothing."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LogLines:
    """Plain lines, one per ``every_seconds`` at most: ``desc: 40% 120/300 batch, 8.1 batch/s, 22 s left``."""

    def __init__(self, total: int | None, desc: str, unit: str, stream: IO[str], every_seconds: float):
        self.total, self.desc, self.unit, self.stream = total, desc, unit, stream
        self.every_seconds = every_seconds
        self.count, self.postfix, self.lines = 0, "", 0
        self.started = self.last_line = time.monotonic()

    def update(self, n: int = 1) -> None:
        self.count += n
        now = time.monotonic()
        if now - self.last_line >= self.every_seconds:
            self._write(self._status(now))
            self.last_line = now

    def set_postfix_str(self, text: str) -> None:
        self.postfix = text

    def close(self) -> None:
        if self.lines:  # a step long enough to have reported says when it ended
            elapsed = time.monotonic() - self.started
            self._write(f"{self.desc}: done, {self.count} {self.unit} in {duration(elapsed)}"
                        f" ({self._rate(elapsed):.3g} {self.unit}/s)")
            self.lines = 0

    def __enter__(self) -> LogLines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _rate(self, elapsed: float) -> float:
        return self.count / max(elapsed, 1e-9)

    def _status(self, now: float) -> str:
        rate = self._rate(now - self.started)
        if self.total:
            text = f"{self.desc}: {100 * self.count / self.total:3.0f}% {self.count}/{self.total} {self.unit}"
            left = f", {duration((self.total - self.count) / rate)} left" if rate > 0 else ""
        else:
            text, left = f"{self.desc}: {self.count} {self.unit}", ""
        return f"{text}, {rate:.3g} {self.unit}/s{left}" + (f"; {self.postfix}" if self.postfix else "")

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()
        self.lines += 1


def progress_display(total: int | None, desc: str, unit: str = "it", *, enabled: bool = True, leave: bool = True,
             stream: IO[str] | None = None, **tqdm_options: Any) -> Progress:
    """The progress display for a step of ``total`` units on ``stream`` (default: stderr as it is now):
    a tqdm bar on a terminal, plain timed lines elsewhere, nothing when not ``enabled``."""
    if not enabled:
        return Silent()
    stream = stream if stream is not None else sys.stderr
    if is_terminal(stream):
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit=unit, file=stream, leave=leave, **tqdm_options)
    return LogLines(total, desc, unit, stream, log_interval())
