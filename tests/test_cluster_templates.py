"""The deployment templates: the SLURM scripts run here against stand-ins for sbatch/srun/scontrol/
flowprep/torchrun that record their arguments, so what a real cluster would be asked to run is
checked without one; the Kubernetes manifests and the Dockerfile get text checks (no YAML parser
is among the test dependencies; pipelines/lint.sh runs yamllint and hadolint on them).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CLUSTER = REPO / "pipelines" / "cluster"
SCRIPTS = sorted(CLUSTER.glob("*.sh")) + sorted(CLUSTER.glob("*.sbatch")) + [REPO / "pipelines" / "lint.sh"]

RECORDER = """#!/usr/bin/env bash
{ printf '%s\\0' "$(basename "$0")" "$@"; printf '\\n'; } >> "$STUB_LOG"
"""
STUBS = {
    "flowprep": RECORDER,
    "torchrun": RECORDER,
    "sbatch": RECORDER + 'echo "$((4241 + $(wc -l < "$STUB_LOG")))"\n',  # --parsable: the job id
    "srun": RECORDER + 'while [[ "$1" == -* ]]; do shift; done\nexec "$@"\n',
    "scontrol": "#!/usr/bin/env bash\nprintf 'node-a\\nnode-b\\n'\n",
}


class Cluster:
    """Runs a template with the cluster's commands replaced by recorders; returns what was called."""

    def __init__(self, tmp_path: Path):
        self.bin, self.log = tmp_path / "bin", tmp_path / "calls.log"
        self.bin.mkdir()
        for name, text in STUBS.items():
            (self.bin / name).write_text(text)
            (self.bin / name).chmod(0o755)

    def run(self, script: Path, *args: str, cwd: Path, **env: str) -> list[list[str]]:
        self.log.write_text("")
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "NNODES", "RDZV_", "LAUNCHER"))}
        environment = {**clean, **env, "PATH": f"{self.bin}:{os.environ['PATH']}", "STUB_LOG": str(self.log)}
        done = subprocess.run(["bash", str(script), *args], cwd=cwd, env=environment, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return [line.split("\0")[:-1] for line in self.log.read_text().splitlines()]


@pytest.fixture
def cluster(tmp_path) -> Cluster:
    return Cluster(tmp_path)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_parse(script):
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0


def test_array_task_extracts_its_shard_and_resumes(cluster, tmp_path):
    env = dict(DATASET="mars", STORE_DIR="stores", SLURM_ARRAY_TASK_ID="3", SLURM_ARRAY_TASK_COUNT="8",
               SLURM_CPUS_PER_TASK="4")
    calls = cluster.run(CLUSTER / "slurm-extract.sbatch", "--size", "128x64", cwd=tmp_path, **env)
    assert calls == [["flowprep", "extract", "--dataset", "mars", "--out", "stores/mars.shard3of8.h5",
                      "--shard", "3/8", "--workers", "4", "--resume", "--quiet", "--size", "128x64"]]
    # a requeued task runs the same command: --resume continues a journal or accepts a finished store
    assert cluster.run(CLUSTER / "slurm-extract.sbatch", "--size", "128x64", cwd=tmp_path, **env) == calls


def test_merge_joins_every_shard_through_the_launcher(cluster, tmp_path):
    calls = cluster.run(CLUSTER / "slurm-merge.sbatch", cwd=tmp_path, DATASET="prid", SHARDS="3", STORE_DIR="s",
                        LAUNCHER="srun --exclusive")  # stands for e.g. "apptainer exec --nv flowreid.sif"
    merge = ["flowprep", "merge", "s/prid.h5", "s/prid.shard0of3.h5", "s/prid.shard1of3.h5", "s/prid.shard2of3.h5"]
    assert calls == [["srun", "--exclusive", *merge], merge]


def test_submission_chains_the_merge_after_the_whole_array(cluster, tmp_path):
    calls = cluster.run(CLUSTER / "slurm-extract-all.sh", "8", "--flow", "dis", cwd=tmp_path, DATASET="mars")
    extract, merge = calls
    assert extract[:4] == ["sbatch", "--parsable", "--array=0-7", "--export=ALL"]
    assert extract[4].endswith("slurm-extract.sbatch") and extract[5:] == ["--flow", "dis"]
    assert merge[1:4] == ["--parsable", "--dependency=afterok:4242", "--export=ALL,SHARDS=8"]
    assert merge[4].endswith("slurm-merge.sbatch")


def test_single_node_launcher_is_standalone_and_resumes_a_run(cluster, tmp_path):
    launcher = CLUSTER / "torchrun-train.sh"
    calls = cluster.run(launcher, "runs/a", "--store", "m.h5", cwd=tmp_path)
    assert calls == [["torchrun", "--standalone", "--nproc-per-node", "gpu", "--no-python",
                      "reid", "train", "--out", "runs/a", "--store", "m.h5"]]
    (tmp_path / "runs" / "a").mkdir(parents=True)
    (tmp_path / "runs" / "a" / "last.pt").write_bytes(b"")
    [call] = cluster.run(launcher, "runs/a", "--store", "m.h5", cwd=tmp_path, NPROC_PER_NODE="2")
    assert call[3] == "2" and call[-5:] == ["--out", "runs/a", "--resume", "--store", "m.h5"]


def test_multinode_job_meets_at_the_first_node(cluster, tmp_path):
    env = dict(STORE="stores/mars.h5", OUT="runs/ma", SLURM_JOB_NODELIST="node-[a-b]", SLURM_NNODES="2",
               SLURM_JOB_ID="77", SLURM_SUBMIT_DIR=str(REPO), SLURM_CPUS_PER_TASK="32", GPUS_PER_NODE="4")
    srun, torchrun = cluster.run(CLUSTER / "slurm-train-multinode.sbatch", "--epochs", "5", cwd=tmp_path, **env)
    assert srun[:2] == ["srun", "--kill-on-bad-exit=1"]
    assert torchrun == ["torchrun", "--nnodes", "2", "--rdzv-backend", "c10d", "--rdzv-endpoint", "node-a:29500",
                        "--rdzv-id", "77", "--nproc-per-node", "4", "--no-python", "reid", "train", "--out", "runs/ma",
                        "--store", "stores/mars.h5", "--workers", "8", "--quiet", "--epochs", "5"]


def _value(text: str, key: str) -> str:
    return re.search(rf"^\s*{key}:\s*\"?([^\"\s]+)", text, re.MULTILINE).group(1)


def test_kubernetes_indexed_job_extracts_one_shard_per_index():
    job = (CLUSTER / "k8s-extract-job.yaml").read_text()
    assert _value(job, "completionMode") == "Indexed"
    shards = job.split("name: SHARDS", 1)[1].split("value:", 1)[1].split()[0].strip('"')
    assert _value(job, "completions") == _value(job, "parallelism") == shards
    assert "--shard=$(JOB_COMPLETION_INDEX)/$(SHARDS)" in job
    assert "--out=/stores/mars.shard$(JOB_COMPLETION_INDEX)of$(SHARDS).h5" in job
    merge = (CLUSTER / "k8s-merge-job.yaml").read_text()
    assert merge.split("name: SHARDS", 1)[1].split("value:", 1)[1].split()[0].strip('"') == shards
    assert "flowprep merge" in merge and "shard${i}of${SHARDS}.h5" in merge
    assert "\t" not in job + merge  # YAML forbids tabs for indentation


def test_dockerfile_runs_either_command_as_a_non_root_user():
    dockerfile = (REPO / "Dockerfile").read_text()
    bases = re.findall(r"^ARG \w+_BASE=(\S+)$", dockerfile, re.MULTILINE)
    assert bases and all(":" in b and not b.endswith(":latest") for b in bases)  # pinned tags
    assert "ENTRYPOINT" not in dockerfile  # `docker run IMAGE flowprep ...` and `... reid ...` both work
    uid = re.search(r"^USER ([1-9]\d*):\d+$", dockerfile, re.MULTILINE).group(1)
    for manifest in CLUSTER.glob("k8s-*.yaml"):
        assert _value(manifest.read_text(), "runAsUser") == uid, manifest.name
    assert 'VOLUME ["/data", "/stores", "/runs", "/weights"]' in dockerfile
    assert "REID_DATA=/data" in dockerfile and "REID_WEIGHTS=/weights" in dockerfile
    kept = (REPO / ".dockerignore").read_text().split()
    assert {"!pyproject.toml", "!setup.cfg", "!README.md", "!flowprep/", "!reid/"} <= set(kept)  # what pip install . reads
