#!/usr/bin/env bash
# The whole pipeline on the built-in synthetic dataset, on the CPU:
# synthesise MARS -> flowprep extract (DIS flow) -> reid train (configs/demo-cpu.yaml: mutual attention,
# tiny backbone), which evaluates its last epoch and prints the table once at the end.
# With eval_every 0 only the last epoch is evaluated, so that model is best.pt: the table is also what
# `reid evaluate --store demo-run/mars.h5 --checkpoint demo-run/run/best.pt` prints.
# Usage: bash pipelines/demo.sh [WORK_DIR]   (default ./demo-run; DEMO_EPOCHS overrides the epoch count,
# DEMO_IDENTITIES the number of synthetic identities, 80)
set -euo pipefail
work=${1:-demo-run}
epochs=${DEMO_EPOCHS:-150}
identities=${DEMO_IDENTITIES:-80}
config="$(dirname "$0")/../configs/demo-cpu.yaml"
mkdir -p "$work"
echo "== 1/3 synthesise a MARS-layout dataset into $work/data/mars"
rm -rf "$work/data/mars"
flowprep synth --layout mars --out "$work/data/mars" --seed 0 --identities "$identities"
echo "== 2/3 extract frames and DIS optical flow into $work/mars.h5"
flowprep extract --dataset mars --root "$work/data/mars" --out "$work/mars.h5" --flow dis --size 64x32 --overwrite --quiet
flowprep inspect "$work/mars.h5"
flowprep show "$work/mars.h5" --tracklet 0 --out "$work/tracklet0.png"
echo "== 3/3 train mutual attention ($config: tiny backbone, $epochs epochs, CPU; a line every 10 epochs), then evaluate it"
rm -rf "$work/run"
reid train --config "$config" --store "$work/mars.h5" --out "$work/run" --epochs "$epochs" \
  --milestones $((epochs * 3 / 4))
