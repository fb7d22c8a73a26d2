#!/usr/bin/env bash
# The REDUCED LRA comparison on 2 CPU cores (experiments/lra-cpu.json): make
# its data (generated ListOps and Pathfinder, Fashion-MNIST from Debian's
# dataset-fashion-mnist, shortened and shrunk; docs/lra.md), then run all seven
# models on the three tasks into runs/lra-cpu/, or into $LRA_CPU_OUT when set.
# Not into results/lra-cpu/: that holds the committed results, whose completed
# runs would be skipped (to regenerate them, remove that folder and set
# LRA_CPU_OUT=results/lra-cpu). Existing data files and completed runs are
# kept; extra arguments go to `sbmbench run`. Not the paper's setup: see
# experiments/lra.json.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/scripts/setup.sh"
cd "$ROOT"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
SBM="$BUILD/sbmbench"
mkdir -p data/lra-cpu
[ -f data/lra-cpu/listops.h5 ] || "$SBM" gen listops --out data/lra-cpu/listops.h5 --train 5000 --dev 256 --test 256 \
    --min-length 32 --max-length 256
[ -f data/lra-cpu/pathfinder.h5 ] || "$SBM" gen pathfinder --out data/lra-cpu/pathfinder.h5 --contour-length 14 \
    --shrink 2 --train 3008 --dev 256 --test 256 --preview data/lra-cpu/pathfinder-preview.png
[ -f data/lra-cpu/image.h5 ] || "$SBM" prep image --mnist /usr/share/datasets/fashion-mnist --shrink 2 \
    --train 10016 --dev 256 --test 256 --out data/lra-cpu/image.h5
"$SBM" run experiments/lra-cpu.json --out "${LRA_CPU_OUT:-runs/lra-cpu}" --threads "$(nproc)" "$@"
