"""The LiteFlowNet weight file used when no flag names one; nothing is ever downloaded."""

from __future__ import annotations

import os
from pathlib import Path

from flowreid.weights import find_weights


def default_liteflownet_weights() -> Path | None:
    """LiteFlowNet weights from ``$FLOWPREP_WEIGHTS`` or the weight folders."""
    explicit = os.environ.get("FLOWPREP_WEIGHTS")
    if explicit:
        return Path(explicit)
    return find_weights(("network-default.pytorch", "network-*.pytorch"))
