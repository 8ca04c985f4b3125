"""Fixtures shared by several test folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowprep.synth import write_dataset


@pytest.fixture(scope="session")
def mars_root(tmp_path_factory) -> Path:
    """A small synthetic MARS (6 identities, 3 cameras), written once per test session."""
    root = tmp_path_factory.mktemp("mars") / "mars"
    write_dataset("mars", root, identities=6, cameras=3, seed=1)
    return root
