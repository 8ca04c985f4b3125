#!/usr/bin/env bash
# The whole pipeline on the built-in synthetic dataset, on the CPU:
# synthesise MARS -> flowprep extract (DIS flow) -> reid train (configs/demo-cpu.yaml: mutual attention,
# tiny backbone) -> reid evaluate.
# Usage: bash pipelines/demo.sh [WORK_DIR]   (default ./demo-run; DEMO_EPOCHS overrides the epoch count)
set -euo pipefail
work=${1:-demo-run}
epochs=${DEMO_EPOCHS:-150}
config="$(dirname "$0")/../configs/demo-cpu.yaml"
mkdir -p "$work"
echo "== 1/4 synthesise a MARS-layout dataset into $work/data/mars"
rm -rf "$work/data/mars"
flowprep synth --layout mars --out "$work/data/mars" --seed 0
echo "== 2/4 extract frames and DIS optical flow into $work/mars.h5"
flowprep extract --dataset mars --root "$work/data/mars" --out "$work/mars.h5" --flow dis --size 64x32 --overwrite --quiet
flowprep inspect "$work/mars.h5"
flowprep show "$work/mars.h5" --tracklet 0 --out "$work/tracklet0.png"
echo "== 3/4 train mutual attention ($config: tiny backbone, $epochs epochs, CPU; a line every 10 epochs)"
rm -rf "$work/run"
reid train --config "$config" --store "$work/mars.h5" --out "$work/run" --epochs "$epochs" \
  --milestones $((epochs * 3 / 4))
echo "== 4/4 evaluate the best checkpoint"
reid evaluate --store "$work/mars.h5" --checkpoint "$work/run/best.pt" --device cpu --workers 2
