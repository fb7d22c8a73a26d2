# `sbmbench report` from the command line on fixture results directories
# (made by test_report --make): without gnuplot the tables are still written
# and the message says why there are no figures; a missing or unreadable
# summary.json falls back to the run directories; usage errors exit 2; and
# `run` ends with the same tables and figures.
. "$(dirname "$0")/../cli/lib.sh"
FIX=${2:?usage: $0 SBMBENCH TEST_REPORT}

"$FIX" --make fx || fail "fixture"
PATH=/nonexistent "$SBM" report fx >out.txt 2>err.txt
rc=$?
[ $rc -eq 1 ] && pass "without gnuplot: exit 1 (something left out)" || fail "without gnuplot: exit $rc"
grep -q "gnuplot .*not found: figures skipped, tables written" err.txt && pass "without gnuplot: says so" ||
    fail "without gnuplot: no message: $(cat err.txt)"
grep -q 'run `sbmbench report fx`$' err.txt && tail -n 1 err.txt | grep -q "tables in fx/tables/, no figures$" &&
    pass "without gnuplot: the hint names the results folder, the last line no figures" ||
    fail "without gnuplot: hint or last line: $(cat err.txt)"
for t in accuracy runs lambda cost; do
    for e in md csv tex; do [ -s fx/tables/$t.$e ] || fail "without gnuplot: tables/$t.$e missing"; done
done
pass "without gnuplot: every table written"
[ ! -e fx/figures ] && pass "without gnuplot: no figures folder" || fail "without gnuplot: figures written anyway"
grep -q "synthetic-full-s3" err.txt && grep -q "image-full-s3" err.txt && pass "broken runs named on stderr" ||
    fail "broken runs not named: $(cat err.txt)"

if command -v gnuplot >/dev/null; then
    "$SBM" report fx >out.txt 2>err.txt
    [ -s fx/figures/training-synthetic.png ] && [ -s fx/figures/lambda-tradeoff.svg ] &&
        pass "with gnuplot: figures drawn" || fail "with gnuplot: figures missing: $(cat err.txt)"
    tail -n 1 err.txt | grep -q "tables in fx/tables/, figures in fx/figures/$" &&
        pass "with gnuplot: the last line names the figures folder" || fail "with gnuplot: last line: $(tail -n 1 err.txt)"
    (cd fx/figures && gnuplot -e 'term="png"' layer-density.gp) && pass "a figure's script reruns in its folder" ||
        fail "figure script does not rerun"
    [ -z "$(ls fx/figures/*.tmp 2>/dev/null)" ] && pass "figures drawn to temporaries and renamed: none left" ||
        fail "figure temporaries left: $(ls fx/figures/*.tmp)"
fi

printf '{"experiment": "fixture", "runs": [' >fx/summary.json # cut off mid-write
"$SBM" report fx >out.txt 2>err.txt
grep -q "summary.json: unreadable; reporting the run directories found" err.txt &&
    grep -q "sbm-sbm_lambda=0.1,image,sbm,2," fx/tables/accuracy.csv &&
    pass "corrupt summary.json: named, tables from the run directories" || fail "corrupt summary: $(cat err.txt)"

# a metrics file whose /train/density has the wrong rank: named, left out of its
# density curve, everything else drawn (it was read as [S, garbage]: a heap overrun)
if command -v gnuplot >/dev/null; then
    "$FIX" --make fr || fail "fixture fr"
    run1=$(ls -d fr/synthetic-sbm-*-s1 | head -1)
    "$FIX" --rank1-density "$run1/metrics.h5" || fail "rewrite $run1/metrics.h5"
    "$SBM" report fr >out.txt 2>err.txt
    grep -q "/train/density has rank 1, not 2" err.txt && [ -s fr/figures/training-synthetic.png ] &&
        pass "a rank-1 /train/density: named, the figure still drawn" || fail "rank-1 density: $(cat err.txt)"
fi

expect_error "no directory" 2 "no such directory" -- "$SBM" report does-not-exist
mkdir -p parent/some-experiment
expect_error "a folder without summary or runs (a parent folder)" 2 "not a results directory" -- "$SBM" report parent
! grep -q "reporting the run directories found" err.txt && grep -q "summary.json: missing, and no run directories" err.txt &&
    pass "a folder without runs: no claim of reporting its run directories" ||
    fail "a folder without runs: $(cat err.txt)"
[ ! -e parent/tables ] && [ ! -e parent/figures ] && pass "nothing written into a folder that is not a results directory" ||
    fail "tables or figures written into a parent folder: $(ls parent)"
expect_error "no argument" 2 "usage: sbmbench report" -- "$SBM" report
"$SBM" report --help | grep -q "tables/{accuracy,runs,lambda,cost}" && pass "report --help" || fail "report --help"

# run: the tables and figures come from the same code at the end of a run
cat > m.json <<'J'
{"experiment": "tiny", "tasks": ["synthetic"], "models": ["full", "sbm"], "seeds": [1],
 "config": {"seq_len": 16, "batch_size": 16, "steps": 20, "warmup_steps": 2, "eval_every": 10,
            "eval_batches": 1, "test_batches": 2, "n_layers": 1, "d_model": 16, "d_head": 8, "n_heads": 2,
            "d_ffn": 16, "sbm_k": 8}}
J
"$SBM" run m.json --out r --threads 1 >/dev/null 2>err.txt || fail "run: $(cat err.txt)"
grep -q "^| sbm |" r/tables/accuracy.md && [ -s r/tables/cost.tex ] && pass "run writes the report's tables" ||
    fail "run tables: $(ls r/tables)"
if command -v gnuplot >/dev/null; then
    [ -s r/figures/training-synthetic.png ] && pass "run draws the training figure" || fail "run figures: $(cat err.txt)"
fi
grep -q '"flops_per_example_std"' r/synthetic-sbm-s1/final.json && grep -q '"peak_memory_bytes_max"' r/synthetic-sbm-s1/final.json &&
    pass "final.json: FLOPs std and peak maximum" || fail "final.json lacks cost fields"
if command -v h5dump >/dev/null; then
    h5dump -H -d /test/flops r/synthetic-sbm-s1/metrics.h5 | grep -q 'DATASPACE  SIMPLE { ( 32 )' &&
        pass "metrics.h5: /test/flops per test example" || fail "metrics.h5 /test/flops"
fi
# another manifest run into the same folder adds its runs to the results, and keeps the first one's
sed -e 's/"models": \["full", "sbm"\]/"models": ["linear"]/' m.json > m_lin.json
"$SBM" run m_lin.json --out r --threads 1 >/dev/null 2>err.txt || fail "second manifest: $(cat err.txt)"
grep -q '"synthetic-full-s1"' r/summary.json && grep -q '"synthetic-sbm-s1"' r/summary.json &&
    grep -q '"synthetic-linear-s1"' r/summary.json && grep -q "^| linear |" r/tables/accuracy.md &&
    grep -q "^| sbm |" r/tables/accuracy.md && grep -q "keeps 2 runs of an earlier manifest" err.txt &&
    pass "a second manifest into the same folder keeps the first one's runs in summary and tables" ||
    fail "second manifest dropped earlier runs: $(cat err.txt) $(grep -o '"id":[^,]*' r/summary.json)"
[ "$(grep -c "keeps 2 runs" err.txt)" -eq 1 ] && pass "said once" || fail "said $(grep -c "keeps 2 runs" err.txt) times"
# with the folder's summary.json unreadable, the other manifest's runs come from their folders
sed -e 's/"models": \["full", "sbm"\]/"models": ["performer"]/' m.json > m_perf.json
printf '{"runs": [' > r/summary.json
mkdir -p r/synthetic-other-s9 && cp r/synthetic-full-s1/config.json r/synthetic-other-s9/ # a run never finished
"$SBM" run m_perf.json --out r --threads 1 >/dev/null 2>err.txt || fail "third manifest: $(cat err.txt)"
grep -q '"synthetic-full-s1"' r/summary.json && grep -q '"synthetic-linear-s1"' r/summary.json &&
    grep -q '"synthetic-performer-s1"' r/summary.json &&
    pass "an unreadable summary.json: the other runs are kept from their folders" ||
    fail "unreadable summary.json: $(grep -o '"id":[^,]*' r/summary.json)"
tr -d ' \n\t' < r/summary.json | grep -q '"status":"not_run","id":"synthetic-other-s9"' &&
    pass "...and an unfinished run's folder (config.json only) as not run" || fail "unfinished run folder: $(cat r/summary.json | head -50)"
rm -r r/synthetic-other-s9
cp -r r r2
"$SBM" report r2 >/dev/null 2>&1
cmp -s r/tables/accuracy.csv r2/tables/accuracy.csv && cmp -s r/tables/cost.md r2/tables/cost.md &&
    pass "report reproduces run's tables byte for byte" || fail "report and run tables differ"
finish
