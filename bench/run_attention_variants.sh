#!/usr/bin/env bash
# Every attention variant against its PyTorch reference semantics, one call
# (issue #4's benchmark): bench_attention_variants (C) and
# torch_attention_variants.py (the modules under tests/reference/attention_ref/)
# on the same cores with the same thread count, then one table of times,
# C/PyTorch speed-ups and our tracked peak memory.
#
#   bench/run_attention_variants.sh [--threads N] [--n 1024,2048,4096] [--reps R]
#                                   [--bin PATH] [VARIANT ...]
# PyTorch runs under Debian's /usr/bin/python3 (python3-torch), or SBM_TORCH_PYTHON.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
threads="$(nproc)"; ns="1024,2048,4096"; reps=5; bin="$root/build/bench/bench_attention_variants"
python="${SBM_TORCH_PYTHON:-/usr/bin/python3}"
variants=()
while [ $# -gt 0 ]; do
    case "$1" in
        --threads) threads="$2"; shift 2 ;;
        --n) ns="$2"; shift 2 ;;
        --reps) reps="$2"; shift 2 ;;
        --bin) bin="$2"; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        -*) echo "run_attention_variants.sh: unknown option $1" >&2; exit 2 ;;
        *) variants+=("$1"); shift ;;
    esac
done
[ -x "$bin" ] || { echo "run_attention_variants.sh: $bin not found; build it (cmake --build build --target bench_attention_variants) or pass --bin" >&2; exit 1; }
"$python" -c 'import torch' 2>/dev/null || { echo "run_attention_variants.sh: torch is not importable by $python (install python3-torch or set SBM_TORCH_PYTHON)" >&2; exit 1; }
[ ${#variants[@]} -gt 0 ] || variants=(full linear linformer performer reformer nystrom)
pin=()
command -v taskset >/dev/null && [ "$threads" -le "$(nproc)" ] && pin=(taskset -c "0-$((threads - 1))")
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1); $threads threads, ${pin[*]:-unpinned}; medians of $reps calls"
"${pin[@]}" "$bin" --threads "$threads" --n "$ns" --reps "$reps" "${variants[@]}" > "$out/c.jsonl"
"${pin[@]}" "$python" "$here/torch_attention_variants.py" --threads "$threads" --n "$ns" --reps "$reps" "${variants[@]}" > "$out/torch.jsonl"
"$python" - "$out/c.jsonl" "$out/torch.jsonl" <<'PY'
import json, sys
c = {(r["variant"], r["n"]): r for r in map(json.loads, open(sys.argv[1])) if "train_ms" in r}
t = {(r["variant"], r["n"]): r for r in map(json.loads, open(sys.argv[2]))}
print("%-10s %5s | %10s %10s %7s | %10s %10s %7s | %11s %11s" % (
    "variant", "n", "C train", "torch", "speedup", "C infer", "torch", "speedup", "C peak MiB", "GFLOP train"))
worst = None
for key in sorted(c, key=lambda k: (list(dict.fromkeys(x[0] for x in c)).index(k[0]), k[1])):
    a, b = c[key], t.get(key)
    st = b["train_ms"] / a["train_ms"] if b else float("nan")
    si = b["infer_ms"] / a["infer_ms"] if b else float("nan")
    if b and (worst is None or st < worst[0]): worst = (st, key)
    print("%-10s %5d | %8.2fms %8.2fms %6.2fx | %8.2fms %8.2fms %6.2fx | %11.2f %11.3f" % (
        key[0], key[1], a["train_ms"], b["train_ms"] if b else float("nan"), st, a["infer_ms"],
        b["infer_ms"] if b else float("nan"), si, a["train_peak_bytes"] / 2**20, a["train_flops"] / 1e9))
if worst:
    print("lowest training speed-up: %.2fx (%s, n=%d)   [goal: every variant >= 2x]" % (worst[0], *worst[1]))
PY
