"""The Dockerfile's CPU image, built with podman (pipelines/cluster/local-image.sh: a Debian base made
with debootstrap, the build's pip offline) and run as docs/cluster.md shows: as the image's user (uid
10001), datasets mounted read-only, stores and runs writable. The pipeline inside it must write what it
writes outside it; the same container must run as the LAUNCHER of the SLURM extraction templates.
The image is removed at the end; the base image is kept for the next run.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from cluster.conftest import CLUSTER, Slurm, log_text
from cluster.test_slurm_extract import FLOW, one_process_store, submit, verify
from storetools import store_content

pytestmark = pytest.mark.cluster

IMAGE = "localhost/flowreid:cpu-test"
SCRIPT = str(CLUSTER / "local-image.sh")
USER = 10001  # the Dockerfile's USER
TRAIN = ["--model", "mutual-attention", "--backbone", "resnet_tiny", "--pretrained", "none", "--feature-dim", "64",
         "--identities-per-batch", "3", "--instances", "2", "--epochs", "2", "--device", "cpu", "--workers", "0",
         "--amp", "off", "--quiet"]


def podman_prefix() -> list[str]:
    """`podman run` with the settings local-image.sh uses: the command line a SLURM LAUNCHER holds."""
    flags = subprocess.run(["bash", SCRIPT, "flags"], capture_output=True, text=True, check=True).stdout.split()
    limits = subprocess.run(["bash", SCRIPT, "run-flags"], capture_output=True, text=True, check=True).stdout.split()
    return ["podman", *flags, "run", "--rm", *limits]


def in_container(mounts: dict[Path, str], *command: str) -> str:
    """Run ``command`` in the image as its own user; ``mounts`` maps host folders to container paths (":ro")."""
    volumes = [arg for host, inside in mounts.items() for arg in ("-v", f"{host}:{inside}")]
    done = subprocess.run([*podman_prefix(), *volumes, IMAGE, *command], capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stderr}"
    return done.stdout


def owned_by_image_user(*folders: Path) -> None:
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        os.chown(folder, USER, USER)


@pytest.fixture(scope="module")
def image():
    started = time.monotonic()
    built = subprocess.run(["bash", SCRIPT, "build"], env={**os.environ, "IMAGE": IMAGE}, capture_output=True,
                           text=True)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    print(f"{IMAGE} built in {time.monotonic() - started:.0f} s")
    yield IMAGE
    subprocess.run(["bash", SCRIPT, "podman", "rmi", "--force", IMAGE], capture_output=True)
    subprocess.run(["bash", SCRIPT, "podman", "container", "prune", "--force"], capture_output=True)


@pytest.fixture(scope="module")
def reference(mars_root, tmp_path_factory) -> Path:
    return one_process_store(mars_root, tmp_path_factory.mktemp("reference") / "mars.h5")


def test_pipeline_runs_in_the_image_as_its_user(image, reference, tmp_path):
    data, stores, runs = tmp_path / "data", tmp_path / "stores", tmp_path / "runs"
    owned_by_image_user(data, stores, runs)
    in_container({data: "/data"}, "flowprep", "synth", "--layout", "mars", "--out", "/data/mars",
                 "--identities", "6", "--cameras", "3", "--seed", "1")  # the mars_root fixture's dataset
    in_container({data: "/data:ro", stores: "/stores"}, "flowprep", "extract", "--dataset", "mars",
                 "--out", "/stores/mars.h5", "--quiet", *FLOW)  # --root: $REID_DATA/mars
    store = stores / "mars.h5"
    assert store.stat().st_uid == USER
    assert store_content(store) == store_content(reference)
    verify(store)
    in_container({stores: "/stores:ro", runs: "/runs"}, "reid", "train", "--store", "/stores/mars.h5",
                 "--out", "/runs/tiny", *TRAIN)
    assert (runs / "tiny" / "best.pt").stat().st_uid == USER
    inside = in_container({stores: "/stores:ro", runs: "/runs:ro"}, "reid", "evaluate", "--store", "/stores/mars.h5",
                          "--checkpoint", "/runs/tiny/best.pt", "--device", "cpu", "--workers", "0")
    outside = subprocess.run(["reid", "evaluate", "--store", str(store), "--checkpoint", str(runs / "tiny" / "best.pt"),
                              "--device", "cpu", "--workers", "0"], capture_output=True, text=True)
    # the same table; the first line names the checkpoint and the store by their paths
    assert "mAP" in inside and inside.splitlines()[1:] == outside.stdout.splitlines()[1:], (inside, outside.stdout)


def test_image_runs_the_slurm_extraction_as_its_launcher(image, reference, slurm: Slurm, mars_root, tmp_path):
    owned_by_image_user(tmp_path, tmp_path / "stores")  # the template makes STORE_DIR outside the container
    launcher = [*podman_prefix(), "-v", f"{mars_root}:/data/mars:ro", "-v", f"{tmp_path}:/work", image]
    array_job, merge_job = submit(slurm, Path("/data/mars"), tmp_path, 2, LAUNCHER=" ".join(launcher))
    slurm.wait(array_job)
    assert set(slurm.states(array_job).values()) == {"COMPLETED"}, log_text(tmp_path, "*.log")
    slurm.wait(merge_job)
    states = {**slurm.states(array_job), **slurm.states(merge_job)}
    assert set(states.values()) == {"COMPLETED"} and len(states) == 3, (states, log_text(tmp_path, "*.log"))
    merged = tmp_path / "stores" / "mars.h5"
    assert merged.stat().st_uid == USER
    assert store_content(merged) == store_content(reference)
    verify(merged)
