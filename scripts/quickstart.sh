#!/usr/bin/env bash
# Quick start: set up, build, and run the built-in quickstart experiment
# (experiments/quickstart.json). Extra arguments go to `sbmbench run`.
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} # spinning OpenMP threads crawl on shared cores
"$BUILD/sbmbench" run experiments/quickstart.json "$@"
echo
cat "$ROOT/runs/quickstart/tables/accuracy.md" 2>/dev/null || true
