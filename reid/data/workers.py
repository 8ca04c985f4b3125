"""What every ``DataLoader`` worker of ours does first."""

from __future__ import annotations

import signal


def ignore_ctrl_c(worker_id: int) -> None:
    """Leave Ctrl-C to the main process: a terminal sends SIGINT to the whole process group, and a
    worker that died of it mid-transfer made the main process print a traceback beside its one-line
    "interrupted" message; the main process shuts its workers down itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
