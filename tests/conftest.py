"""Fixtures shared by several test folders."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from flowprep.synth import write_dataset


@pytest.fixture(scope="session")
def mars_root(tmp_path_factory) -> Path:
    """A small synthetic MARS (6 identities, 3 cameras), written once per test session."""
    root = tmp_path_factory.mktemp("mars") / "mars"
    write_dataset("mars", root, identities=6, cameras=3, seed=1)
    return root


@pytest.fixture(autouse=True)
def torch_determinism_left_as_found():
    """A training run in this process must put torch's process-wide determinism switch back when it ends."""
    before = torch.are_deterministic_algorithms_enabled()
    yield
    after = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(before)
    assert after == before, "a test left torch.use_deterministic_algorithms changed"
