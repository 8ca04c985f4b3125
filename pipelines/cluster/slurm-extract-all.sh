#!/usr/bin/env bash
# Submit a sharded extraction: an array of N extract tasks, then the merge that waits for all of them.
# Usage: DATASET=mars [STORE_DIR=stores] bash pipelines/cluster/slurm-extract-all.sh N [extra flowprep extract flags]
# Run it from the repository root; the jobs inherit this environment (activate the project's venv first).
set -euo pipefail
: "${DATASET:?set DATASET (mars, duke, ilidsvid or prid)}"
shards=${1:?usage: DATASET=mars bash $0 N [flowprep extract flags]}
shift
here=$(dirname "$0")
array_job=$(sbatch --parsable --array="0-$((shards - 1))" --export=ALL "$here/slurm-extract.sbatch" "$@")
merge_job=$(sbatch --parsable --dependency="afterok:${array_job%%;*}" --export="ALL,SHARDS=${shards}" "$here/slurm-merge.sbatch")
echo "extract: job array ${array_job} (${shards} shards); merge: job ${merge_job} after all of them"
