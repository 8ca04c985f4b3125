"""Running a console entry point (`flowprep`, `reid`) in-process as a user would run it."""

from __future__ import annotations

import sys
from typing import Callable


def run_console(entry: Callable[[], None], args: list[str], capsys, monkeypatch) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``entry`` run with ``args``: one-line errors and exit 2 included."""
    monkeypatch.setattr(sys, "argv", ["prog", *args])
    try:
        entry()
        code = 0
    except SystemExit as exit:
        code = exit.code or 0
    captured = capsys.readouterr()
    return code, captured.out, captured.err
