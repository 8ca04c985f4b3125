"""Fixtures shared by several test folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from flowprep.synth import write_dataset


@pytest.fixture(scope="session")
def store(tmp_path_factory) -> Path:
    """The tiny store of tests/helpers_store.py (6 identities), shared read-only by the training tests
    (a test file that needs another defines its own ``store``)."""
    from helpers_store import write_tiny_store

    return write_tiny_store(tmp_path_factory.mktemp("tiny") / "tiny.h5", identities=6)


@pytest.fixture(scope="session")
def shards(mars_root, tmp_path_factory) -> list[Path]:
    """The two shards of the synthetic MARS, extracted in this process (--workers 0)."""
    from flowprep.cli import main as flowprep_main
    from helpers_store import FAST_DIS
    from reliability.conftest import run_cli

    folder = tmp_path_factory.mktemp("shards")
    paths = []
    for i in range(2):
        out = folder / f"mars.shard{i}of2.h5"
        result = run_cli(flowprep_main, ["extract", "--dataset", "mars", "--root", mars_root, "--out", out,
                                         "--shard", f"{i}/2", "--workers", "0", *FAST_DIS])
        assert result.code == 0, result.err
        paths.append(out)
    return paths


@pytest.fixture(scope="session")
def mars_root(tmp_path_factory) -> Path:
    """A small synthetic MARS (6 identities, 3 cameras), written once per test session."""
    root = tmp_path_factory.mktemp("mars") / "mars"
    write_dataset("mars", root, identities=6, cameras=3, seed=1)
    return root


@pytest.fixture(scope="session")
def small_stores(tmp_path_factory, mars_root) -> dict[str, Path]:
    """32x16 DIS stores (the tiny checkpoint's size) of three datasets: ``mars`` (from ``mars_root``), and
    ``prid`` and ``ilidsvid`` (split 0, 3 training people each), with their roots as ``<name>_root``."""
    from flowprep.cli import main as flowprep_main
    from reliability.conftest import run_cli

    folder = tmp_path_factory.mktemp("small-stores")
    paths = {"mars_root": mars_root}
    for layout in ("prid", "ilidsvid"):
        paths[f"{layout}_root"] = folder / layout
        write_dataset(layout, folder / layout, identities=6, cameras=2, seed=2)
    for dataset in ("mars", "prid", "ilidsvid"):
        paths[dataset] = folder / f"{dataset}.h5"
        result = run_cli(flowprep_main, ["extract", "--dataset", dataset, "--root", paths[f"{dataset}_root"],
                                         "--out", paths[dataset], "--size", "32x16", "--flow", "dis",
                                         "--flow-param", "preset=ultrafast", "--quiet", "--workers", "0"])
        assert result.code == 0, result.err
    return paths


def torch_global_state() -> dict[str, object]:
    """Every process-wide torch setting a run or a test might change, by name."""
    return {
        "deterministic algorithms": torch.are_deterministic_algorithms_enabled(),
        "deterministic warn only": torch.is_deterministic_algorithms_warn_only_enabled(),
        "cudnn.benchmark": torch.backends.cudnn.benchmark,
        "cudnn.deterministic": torch.backends.cudnn.deterministic,
        "cudnn.enabled": torch.backends.cudnn.enabled,
        "threads": torch.get_num_threads(),
        "default dtype": torch.get_default_dtype(),
        "float32 matmul precision": torch.get_float32_matmul_precision(),
        "grad enabled": torch.is_grad_enabled(),
        "$CUBLAS_WORKSPACE_CONFIG": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
    }


def restore_torch_global_state(state: dict[str, object]) -> None:
    torch.use_deterministic_algorithms(state["deterministic algorithms"],
                                       warn_only=state["deterministic warn only"])
    torch.backends.cudnn.benchmark = state["cudnn.benchmark"]
    torch.backends.cudnn.deterministic = state["cudnn.deterministic"]
    torch.backends.cudnn.enabled = state["cudnn.enabled"]
    torch.set_num_threads(state["threads"])
    torch.set_default_dtype(state["default dtype"])
    torch.set_float32_matmul_precision(state["float32 matmul precision"])
    torch.set_grad_enabled(state["grad enabled"])
    if state["$CUBLAS_WORKSPACE_CONFIG"] is None:
        os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
    else:
        os.environ["CUBLAS_WORKSPACE_CONFIG"] = state["$CUBLAS_WORKSPACE_CONFIG"]


@pytest.fixture(autouse=True)
def torch_global_state_left_as_found():
    """A training run (or anything else) in this process must put torch's process-wide settings back when it
    ends: each test fails if it left one changed, and the next test starts from the settings as they were."""
    before = torch_global_state()
    yield
    after = torch_global_state()
    restore_torch_global_state(before)
    changed = {name: (before[name], after[name]) for name in before if after[name] != before[name]}
    assert not changed, f"the test left torch's global settings changed (before, after): {changed}"


def pytest_addoption(parser) -> None:
    parser.addoption("--cluster", action="store_true",
                     help="also run the tests marked cluster: they start SLURM daemons and build a container image "
                          "as root, installing Debian packages if needed (.ci/run passes it)")


def pytest_collection_modifyitems(config, items) -> None:
    """Tests marked ``cluster`` run only with --cluster, and only as root: elsewhere they skip, saying why."""
    if config.getoption("--cluster") and os.geteuid() == 0:
        return
    reason = ("needs --cluster (starts SLURM daemons and podman as root: .ci/run passes it)"
              if not config.getoption("--cluster") else "--cluster needs root (it starts daemons and installs packages)")
    for item in items:
        if "cluster" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))
