#!/usr/bin/env bash
# `reid train` on every GPU of this node, or of several nodes, under torchrun (DistributedDataParallel).
# Usage: bash pipelines/cluster/torchrun-train.sh OUT_DIR [reid train flags, e.g. --store stores/mars.h5]
#   one node:  NPROC_PER_NODE=4 bash pipelines/cluster/torchrun-train.sh runs/mars --store stores/mars.h5
#   several:   run it once per node with NNODES, RDZV_ENDPOINT=host:port and RDZV_ID set
#              (slurm-train-multinode.sbatch does that through srun).
# NPROC_PER_NODE defaults to "gpu" (one process per visible GPU). When OUT_DIR already holds
# last.pt the run continues from it (--resume), so the same command restarts a failed job.
set -euo pipefail
out=${1:?usage: bash $0 OUT_DIR [reid train flags]}
shift
nnodes=${NNODES:-1}
if [[ "$nnodes" == 1 && -z "${RDZV_ENDPOINT:-}" ]]; then
  rendezvous=(--standalone)
else
  rendezvous=(--nnodes "$nnodes" --rdzv-backend c10d
              --rdzv-endpoint "${RDZV_ENDPOINT:?set RDZV_ENDPOINT=host:port, the same on every node}"
              --rdzv-id "${RDZV_ID:?set RDZV_ID, a job id shared by every node}")
fi
resume=()
if [[ -f "$out/last.pt" ]]; then resume=(--resume); fi
set -x
exec torchrun "${rendezvous[@]}" --nproc-per-node "${NPROC_PER_NODE:-gpu}" \
  --no-python reid train --out "$out" "${resume[@]}" "$@"
