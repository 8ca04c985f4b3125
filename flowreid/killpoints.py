"""Named points where a crash test kills the process, the same point on every machine.

Code that must survive a crash calls ``kill_point("writer.part-written")`` at the moments worth
testing. Nothing happens unless the environment names that point::

    FLOWREID_KILL_AT=writer.part-written        # SIGKILL at the first time the point is reached
    FLOWREID_KILL_AT=writer.part-written:3      # ... at the third time

so a test starts the real command with this variable and knows where it died, instead of
guessing a moment from the outside.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

ENV_VAR = "FLOWREID_KILL_AT"
_reached: Counter[str] = Counter()


def kill_point(name: str) -> None:
    """SIGKILL this process here if ``$FLOWREID_KILL_AT`` names this point (and this is its n-th visit)."""
    target = os.environ.get(ENV_VAR)
    if not target:
        return
    wanted, _, visit = target.partition(":")
    if wanted != name:
        return
    _reached[name] += 1
    if _reached[name] == int(visit or 1):
        os.kill(os.getpid(), signal.SIGKILL)
