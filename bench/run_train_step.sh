#!/usr/bin/env bash
# One LRA Image training step (n=1024, d=64, 2 layers, 2 heads, batch 8, full
# attention): the C CPU backend (bench_train_step) against the same model in
# PyTorch (torch_train_step.py), on the same cores with the same thread count.
#
#   bench/run_train_step.sh [--threads N] [--steps S] [--bin PATH] [--out DIR]
#
# --bin: the bench_train_step binary (default: build/bench/bench_train_step,
#        else build/bench_train_step, else /tmp/bench_train_step).
# Both programs are pinned with taskset to cores 0..N-1 when taskset exists.
# PyTorch runs under Debian's /usr/bin/python3 (python3-torch); if torch is not
# importable there, the torch half is skipped with a message.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
threads="$(nproc)"
steps=10
bin=""
out="${TMPDIR:-/tmp}/sbm_train_step"
python="${SBM_TORCH_PYTHON:-/usr/bin/python3}"

while [ $# -gt 0 ]; do
    case "$1" in
        --threads) threads="$2"; shift 2 ;;
        --steps) steps="$2"; shift 2 ;;
        --bin) bin="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "run_train_step.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

if [ -z "$bin" ]; then
    for c in "$root/build/bench/bench_train_step" "$root/build/bench_train_step" /tmp/bench_train_step; do
        if [ -x "$c" ]; then bin="$c"; break; fi
    done
fi
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "run_train_step.sh: bench_train_step not found; build it (cmake --build build --target bench_train_step) or pass --bin" >&2
    exit 1
fi

mkdir -p "$out"
pin=()
if command -v taskset >/dev/null 2>&1 && [ "$threads" -le "$(nproc)" ]; then
    pin=(taskset -c "0-$((threads - 1))")
fi
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"

echo "== machine: $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1), $(nproc) CPUs online; $threads threads, ${pin[*]:-unpinned}"
echo "== C: $bin"
"${pin[@]}" "$bin" --threads "$threads" --steps "$steps" --json "$out/c.json"

have_torch=1
if ! "$python" -c 'import torch' >/dev/null 2>&1; then
    have_torch=0
fi
if [ "$have_torch" = 0 ]; then
    echo
    echo "== PyTorch: skipped (torch is not importable by $python; install Debian's python3-torch or set SBM_TORCH_PYTHON)"
    exit 0
fi
echo
echo "== PyTorch: $python $here/torch_train_step.py"
"${pin[@]}" "$python" "$here/torch_train_step.py" --threads "$threads" --steps "$steps" \
    --c-json "$out/c.json" --json "$out/torch.json"

echo
"$python" - "$out/c.json" "$out/torch.json" <<'EOF'
import json, sys
c, t = (json.load(open(p)) for p in sys.argv[1:3])
print("%-10s %8s %12s %12s %10s %10s" % ("impl", "threads", "ms/step med", "ms/step min", "GFLOP/s", "best"))
for name, r in (("C (sbm)", c), ("PyTorch", t)):
    print("%-10s %8d %12.2f %12.2f %10.2f %10.2f" % (name, r["threads"], r["ms_per_step_median"],
          r["ms_per_step_min"], r["gflops_median"], r["gflops_best"]))
print("ratio C/PyTorch throughput: %.2fx (median)  %.2fx (best)   [goal >= 3x]" % (
      t["ms_per_step_median"] / c["ms_per_step_median"], t["ms_per_step_min"] / c["ms_per_step_min"]))
print("FLOPs per step (both): %d (C exact count; GEMM %d)" % (c["flops_total"], c["flops_gemm"]))
EOF
