#!/usr/bin/env bash
# SBM attention against full attention, several whole runs of
# bench_sbm_attention, summarised as ranges over the runs: on a noisy machine
# one run's ratios can be off by a third, so the tables in bench/README.md give
# the range over runs and the quietest run (the one whose full-attention
# inference timings spread least) in brackets. This prints that table.
#
#   bench/run_sbm_attention.sh [--runs 4] [--threads N] [--reps 5] [--bin PATH] [--out DIR]
#                              [-- BENCH_ARGS...]
# Each run's own output is kept in DIR (default $TMPDIR/sbm_attention/run_N.txt);
# arguments after -- go to every run (e.g. -- --n 2048 --k 64).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
runs=4; threads="$(nproc)"; reps=5; bin="$root/build/bench/bench_sbm_attention"
out="${TMPDIR:-/tmp}/sbm_attention"
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --reps) reps="$2"; shift 2 ;;
        --bin) bin="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "run_sbm_attention.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -x "$bin" ] || { echo "run_sbm_attention.sh: $bin not found; build it (cmake --build build --target bench_sbm_attention) or pass --bin" >&2; exit 1; }
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "run_sbm_attention.sh: --runs must be a positive integer (got $runs)" >&2; exit 2; }
mkdir -p "$out"
for i in $(seq 1 "$runs"); do
    echo "== run $i of $runs: $bin --threads $threads --reps $reps --no-bernoulli ${extra[*]}" >&2
    "$bin" --threads "$threads" --reps "$reps" --no-bernoulli "${extra[@]}" > "$out/run_$i.txt.part" ||
        { rm -f "$out/run_$i.txt.part"; echo "run_sbm_attention.sh: run $i failed" >&2; exit 1; }
    mv "$out/run_$i.txt.part" "$out/run_$i.txt"
done

# One line per (run, density) from each run's tables, then ranges per density.
for i in $(seq 1 "$runs"); do
    awk -v run="$i" '
        /^full attention over its/ { split($0, a, /inference |-| ms/); lo = a[2]; hi = a[3]; spread = hi / lo }
        /^SBM \(fastRG/ { sbm = 1 }
        /^sampling alone/ { sbm = 0; samp = 1; next }
        sbm && $1 ~ /%$/ && $2 ~ /%$/ { inf[$1] = $5; trn[$1] = $6; mem[$1] = $7; tmem[$1] = $8; order[++n] = $1 }
        samp && $1 ~ /%$/ { ratio[$1] = $5 }
        /^training time vs edges/ { match($0, /R\^2 = [0-9.]+/); r2t = substr($0, RSTART + 6, RLENGTH - 6)
                                    match($0, /full: [0-9.-]+%/); bet = substr($0, RSTART + 6, RLENGTH - 7) }
        /^inference time vs edges/ { match($0, /R\^2 = [0-9.]+/); r2i = substr($0, RSTART + 6, RLENGTH - 6)
                                     match($0, /full: [0-9.-]+%/); bei = substr($0, RSTART + 6, RLENGTH - 7) }
        END {
            for (j = 1; j <= n; j++) { d = order[j]; print run, spread, d, inf[d], trn[d], mem[d], tmem[d], ratio[d] }
            print run, spread, "fit", bet, bei, r2t, r2i
        }' "$out/run_$i.txt"
done > "$out/summary.tsv"

awk '
    { if (!($1 in spread)) spread[$1] = $2 }
    $3 != "fit" { key = $3; if (!(key in seen)) { seen[key] = 1; order[++n] = key }
                  for (c = 4; c <= 8; c++) { range(key, c, $c); val[$1, key, c] = $c } }
    $3 == "fit" { for (c = 4; c <= 7; c++) range("fit", c, $c) }
    # the smallest and largest of a column, kept as the bench printed them
    function range(key, c, s,    k2) {
        k2 = key SUBSEP c
        if (!(k2 in lo) || s + 0 < lo[k2] + 0) lo[k2] = s
        if (!(k2 in hi) || s + 0 > hi[k2] + 0) hi[k2] = s
    }
    END {
        quiet = ""; for (r in spread) if (quiet == "" || spread[r] < spread[quiet]) quiet = r
        printf "ranges over %d runs; in brackets run %s, whose full-attention inference timings spread least (%.0f%%)\n\n",
               length(spread), quiet, 100 * (spread[quiet] - 1)
        print "| density | inference / full | training / full | memory / full, inference | memory / full, training | sampling / SDDMM |"
        print "|---:|---:|---:|---:|---:|---:|"
        for (j = 1; j <= n; j++) {
            d = order[j]; line = "| " d
            for (c = 4; c <= 8; c++) line = line sprintf(" | %s-%s (%s)", lo[d, c], hi[d, c], val[quiet, d, c])
            print line " |"
        }
        printf "\nbreak-even density: training %s to %s%%, inference %s to %s%%; R^2 training %s-%s, inference %s-%s\n",
               lo["fit", 4], hi["fit", 4], lo["fit", 5], hi["fit", 5], lo["fit", 6], hi["fit", 6], lo["fit", 7], hi["fit", 7]
    }' "$out/summary.tsv"
echo "(each run's output: $out/run_N.txt)"
