#!/usr/bin/env bash
# Quick start: set up, build, and run the built-in quickstart experiment
# (experiments/quickstart.json). Extra arguments go to `sbmbench run`.
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} # spinning OpenMP threads crawl on shared cores
"$BUILD/sbmbench" run experiments/quickstart.json "$@"
# the table of the folder the run wrote: runs/quickstart/ unless --out said otherwise
out="$ROOT/runs/quickstart"
while [ $# -gt 0 ]; do
    if [ "$1" = --out ] && [ $# -gt 1 ]; then out="$2"; shift; fi
    shift
done
echo
cat "$out/tables/accuracy.md" 2>/dev/null || true
