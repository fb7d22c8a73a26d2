# End to end: full attention clearly learns the synthetic task at N=32
# (majority label scores about 63%; the requirement is >= 80% test accuracy).
. "$(dirname "$0")/lib.sh"
cat > m.json <<'J'
{"experiment": "learn", "tasks": ["synthetic"], "models": ["full"], "seeds": [1],
 "config": {"seq_len": 32, "batch_size": 64, "steps": 800, "warmup_steps": 80, "lr": 1e-3,
            "eval_every": 100, "eval_batches": 4, "test_batches": 16}}
J
"$SBM" run m.json --out r >/dev/null 2>err.txt || fail "run failed: $(cat err.txt)"
acc=$(sed -n 's/.*"test_accuracy":[[:space:]]*\([0-9.e-]*\).*/\1/p' r/synthetic-full-s1/final.json)
echo "test accuracy: $acc"
awk -v a="$acc" 'BEGIN { exit !(a >= 0.80) }' && pass "test accuracy $acc >= 0.80" || fail "test accuracy $acc < 0.80"
for f in summary.json tables/accuracy.md tables/accuracy.csv synthetic-full-s1/metrics.h5 synthetic-full-s1/config.json; do
    [ -s r/$f ] && pass "$f written" || fail "$f missing"
done
grep -q '"density":[[:space:]]*null' r/summary.json && pass "density null for full attention" || fail "density field"
[ -z "$(find r -name '*.tmp')" ] && pass "no temporary files left" || fail "temporary files left: $(find r -name '*.tmp')"
finish
