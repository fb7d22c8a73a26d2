# `sbmbench remeasure`: the cost pass again on complete runs. A run whose
# cost fields were written by an older pass (no cost_method, another peak)
# gets this build's numbers back, equal to what its own training measured (the
# pass is deterministic); its accuracy and training record are untouched;
# summary.json and the cost table follow. Bad input (no complete runs, a
# missing best.bin, an unknown config key, a missing data file) is refused
# before anything is written.
here="$(cd "$(dirname "$0")" && pwd)" # before lib.sh moves to a temporary directory
. "$here/lib.sh"
# the cost pass's version this build writes (experiments/measure.h)
method=$(sed -n 's/^#define SB_COST_METHOD \([0-9]*\).*/\1/p' "$here/../../experiments/measure.h")

cat > m.json <<'J'
{"experiment": "t", "tasks": ["synthetic"], "models": ["full", "sbm"], "seeds": [1],
 "config": {"seq_len": 16, "batch_size": 8, "steps": 4, "warmup_steps": 1, "eval_every": 2,
            "eval_batches": 1, "test_batches": 2, "n_layers": 1, "d_model": 8, "d_head": 4, "n_heads": 2,
            "d_ffn": 8, "sbm_k": 4}}
J
"$SBM" run m.json --out r --threads 1 >/dev/null 2>err.txt || fail "run: $(cat err.txt)"
sbm=r/synthetic-sbm-s1
cp $sbm/final.json fresh.json
grep -q "\"cost_method\":[[:space:]]*$method" fresh.json && pass "a run records its cost pass's version" ||
    fail "no cost_method in final.json: $(cat fresh.json)"
field() { grep "\"$1\":" "$2" | head -n 1 | sed 's/,$//'; } # the value, wherever the key sits

# as an older pass left it: no cost_method, another peak; metrics.h5 holding
# other costs (full attention's file: its /test/flops differ, its training
# record is what must survive)
dump() { h5dump -d "$1" "$2" 2>/dev/null | tail -n +2; } # without the file name line
HAVE_H5DUMP=$(command -v h5dump >/dev/null && echo 1 || echo 0)
if [ $HAVE_H5DUMP = 1 ]; then
    dump /test/flops $sbm/metrics.h5 > flops_fresh.txt
    dump /train/loss r/synthetic-full-s1/metrics.h5 > loss_other.txt
    cp r/synthetic-full-s1/metrics.h5 $sbm/metrics.h5
    ! cmp -s flops_fresh.txt <(dump /test/flops $sbm/metrics.h5) && pass "set-up: metrics.h5 holds other costs" ||
        fail "set-up: the two runs' /test/flops are equal"
fi
sed -i '/"cost_method"/d; s/"peak_memory_bytes":[[:space:]]*[0-9.e+]*/"peak_memory_bytes":\t12345/' $sbm/final.json
sed -i 's/"peak_memory_bytes":[[:space:]]*[0-9.e+]*/"peak_memory_bytes":\t12345/' r/summary.json
"$SBM" report r >/dev/null 2>&1
grep -q '12345' r/summary.json && pass "set-up: summary.json holds the old peak" || fail "set-up: $(cat r/summary.json)"
cp r/synthetic-full-s1/final.json full_before.json

"$SBM" remeasure r >out.txt 2>err.txt
rc=$?
[ $rc -eq 0 ] && grep -q "2 of 2 runs re-measured" err.txt && pass "remeasure: $(tail -n 1 err.txt)" ||
    fail "remeasure exit $rc: $(cat err.txt)"
bad=0
for k in flops_per_example flops_per_example_std peak_memory_bytes peak_memory_bytes_max cost_examples cost_method \
         test_accuracy dev_accuracy density train_seconds; do
    [ "$(field $k $sbm/final.json)" = "$(field $k fresh.json)" ] ||
        { bad=1; fail "$k after remeasure: $(field $k $sbm/final.json), the run measured $(field $k fresh.json)"; }
done
[ $bad -eq 0 ] && pass "the cost fields are the run's own again; accuracy and density untouched"
cmp -s r/synthetic-full-s1/final.json full_before.json && pass "a run already measured by this pass is unchanged" ||
    fail "full's final.json changed: $(diff r/synthetic-full-s1/final.json full_before.json)"
! grep -q '12345' r/summary.json && grep -q "\"cost_method\":[[:space:]]*$method" r/summary.json &&
    pass "summary.json follows" || fail "summary.json still old: $(cat r/summary.json)"
! grep -q '12345' r/tables/cost.csv && pass "the cost table follows" || fail "cost.csv: $(cat r/tables/cost.csv)"
if [ $HAVE_H5DUMP = 1 ]; then
    cmp -s flops_fresh.txt <(dump /test/flops $sbm/metrics.h5) && cmp -s loss_other.txt <(dump /train/loss $sbm/metrics.h5) &&
        pass "metrics.h5: the run's own per-example FLOPs again, its training record kept" ||
        fail "metrics.h5 after remeasure: $(h5dump -n $sbm/metrics.h5)"
fi
[ -z "$(find r -name '*.tmp')" ] && pass "no temporaries left" || fail "temporaries: $(find r -name '*.tmp')"

# one run by name; a folder without complete runs
"$SBM" remeasure r synthetic-sbm-s1 >/dev/null 2>err.txt && grep -q "1 of 1 run re-measured" err.txt &&
    pass "one run by name" || fail "by name: $(cat err.txt)"
# a stored max_len of 0 resolves as a manifest's (the next power of two >= seq_len, 16 here)
cp $sbm/config.json cfg0.keep
sed -i 's/"max_len":[[:space:]]*16/"max_len":\t0/' $sbm/config.json
"$SBM" remeasure r synthetic-sbm-s1 >/dev/null 2>err.txt && grep -q '"max_len":.0' $sbm/config.json &&
    pass "max_len 0 in config.json resolves as in a manifest" || fail "max_len 0: $(cat err.txt)"
cp cfg0.keep $sbm/config.json
mkdir empty
expect_error "a folder without complete runs" 2 "empty: no complete runs to measure" -- "$SBM" remeasure empty
expect_error "a run that is not complete" 2 "r/nope: not a complete run" -- "$SBM" remeasure r nope

# bad input is refused before anything is written
snap() { cat r/*/final.json r/summary.json | md5sum; }
before=$(snap)
mv $sbm/best.bin best.keep
expect_error "a missing best.bin" 2 "synthetic-sbm-s1/best.bin: missing" -- "$SBM" remeasure r
mv best.keep $sbm/best.bin
mv $sbm/metrics.h5 metrics.keep
expect_error "a missing metrics.h5" 2 "synthetic-sbm-s1/metrics.h5: missing" -- "$SBM" remeasure r
mv metrics.keep $sbm/metrics.h5
cp $sbm/config.json cfg.keep
sed -i 's/"sbm_k":/"sbm_kk":/' $sbm/config.json
expect_error "an unknown config key" 2 "synthetic-sbm-s1/config.json: unknown key 'sbm_kk'" -- "$SBM" remeasure r
sed -i 's/"sbm_kk":/"sbm_k":/' $sbm/config.json
# a seed past int64 (converting it was undefined behaviour)
sed -i 's/"seed":[[:space:]]*[0-9]*/"seed":\t1e300/' $sbm/config.json
expect_error "a seed out of range" 2 "synthetic-sbm-s1/config.json: key 'seed': expected an integer from 0 to 9e15" -- "$SBM" remeasure r
cp cfg.keep $sbm/config.json
sed -i 's/"data_file":[[:space:]]*""/"data_file":\t"gone.h5"/' $sbm/config.json
expect_error "a missing data file" 2 "config.json: data_file: gone.h5: cannot read it" -- "$SBM" remeasure r
cp cfg.keep $sbm/config.json
# a run that set no data_file read its task's default: checked the same way
sed -i 's/"task":[[:space:]]*"synthetic"/"task":	"listops"/' $sbm/config.json
expect_error "a missing default data file" 2 "config.json: data_file \\(the task's default\\): data/lra/listops.h5: cannot read it" \
    -- "$SBM" remeasure r
cp cfg.keep $sbm/config.json
[ "$(snap)" = "$before" ] && pass "nothing was written by the refused calls" || fail "files changed by refused calls"
finish
