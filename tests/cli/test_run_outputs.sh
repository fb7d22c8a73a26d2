# Where `run` writes and what it keeps: the default output folder is
# runs/<experiment>/, never the committed results/<experiment>/ (there a fresh
# clone's run "skipped" every run and handed back the committed tables); a
# manifest whose runs were all complete says that nothing was trained; a run
# that fails keeps its reason in error.txt and in summary.json; and the help
# texts name what they are asked about and list every output.
. "$(dirname "$0")/lib.sh"

cat > m.json <<'J'
{"experiment": "t", "tasks": ["synthetic"], "models": ["full"], "seeds": [1],
 "config": {"seq_len": 8, "batch_size": 8, "steps": 4, "warmup_steps": 1, "eval_every": 2,
            "eval_batches": 1, "test_batches": 1, "n_layers": 1, "d_model": 8, "d_head": 4, "n_heads": 2,
            "d_ffn": 8}}
J
run=synthetic-full-s1

# a "committed" result in results/t/, as in a fresh clone: the default run trains anyway
"$SBM" run m.json --out results/t --threads 1 >/dev/null 2>err.txt || fail "run into results/t: $(cat err.txt)"
"$SBM" run m.json --threads 1 >/dev/null 2>err.txt || fail "default run: $(cat err.txt)"
[ -f runs/t/$run/final.json ] && [ -f runs/t/summary.json ] && pass "default output is runs/<experiment>/" ||
    fail "no runs/t/$run/final.json: $(cat err.txt)"
! grep -q 'already complete' err.txt && pass "a committed results/<experiment>/ is not taken for this run's" ||
    fail "the default run skipped: $(cat err.txt)"
grep -q 'results in runs/t/' err.txt && pass "says where the results go" || fail "no output folder named: $(cat err.txt)"

# every run already complete: the last line says nothing was trained, and where the results are
"$SBM" run m.json --threads 1 >/dev/null 2>err.txt
rc=$?
[ $rc -eq 0 ] && tail -n 1 err.txt | grep -q "nothing was trained: the 1 run of 't' was already complete in runs/t/" &&
    pass "all runs complete: $(tail -n 1 err.txt)" || fail "all runs complete (exit $rc): $(cat err.txt)"
"$SBM" run m.json --out results/t --threads 1 >/dev/null 2>err.txt
tail -n 1 err.txt | grep -q "already complete in results/t/.*use another --out" &&
    pass "...with --out too, naming that folder" || fail "all complete with --out: $(cat err.txt)"

# a run that fails at start (its data file holds another task) keeps why, in its
# folder and in summary.json; the manifest's other runs still run
"$SBM" gen pathfinder --out d.h5 --train 8 --dev 2 --test 2 --contour-length 6 >/dev/null 2>&1 || fail "gen pathfinder"
cat > f.json <<'J'
{"experiment": "f", "tasks": ["listops", "synthetic"], "models": ["full"], "seeds": [1],
 "config": {"seq_len": 16, "batch_size": 8, "steps": 4, "warmup_steps": 1, "eval_every": 2,
            "eval_batches": 1, "test_batches": 1, "n_layers": 1, "d_model": 8, "d_head": 4, "n_heads": 2,
            "d_ffn": 8},
 "task_config": {"listops": {"data_file": "d.h5"}}}
J
bad=listops-full-s1
expect_error "a run that fails at start" 1 "holds task 'pathfinder', not 'listops'" -- "$SBM" run f.json --out f --threads 1
grep -q "d.h5: holds task 'pathfinder', not 'listops'" f/$bad/error.txt 2>/dev/null &&
    pass "the reason is kept in the run's error.txt" || fail "no error.txt: $(ls f/$bad)"
[ -z "$(ls f/$bad/*.tmp 2>/dev/null)" ] && pass "error.txt written whole (no temporary left)" || fail "temporary left: $(ls f/$bad)"
entry() { tr -d '\n' < "$1" | grep -o "{[^{}]*\"id\":[[:space:]]*\"$2\"[^{}]*}"; }
entry f/summary.json $bad | grep -q '"status":[[:space:]]*"failed".*"error":[[:space:]]*"d.h5: holds task' &&
    pass "summary.json: the failed run's entry has its error" || fail "summary.json lacks the error: $(cat f/summary.json)"
entry f/summary.json synthetic-full-s1 | grep -q '"error":[[:space:]]*null' &&
    pass "summary.json: a completed run's error is null" || fail "completed run's error: $(cat f/summary.json)"
[ -f f/synthetic-full-s1/final.json ] && pass "the manifest's other run still ran" || fail "the other run did not run"

# report on a folder where every run failed: exit 1, naming the run and why
sed 's/"tasks": \["listops", "synthetic"\]/"tasks": ["listops"]/' f.json > f1.json
"$SBM" run f1.json --out f1 --threads 1 >/dev/null 2>&1
"$SBM" report f1 >out.txt 2>err.txt
rc=$?
[ $rc -eq 1 ] && grep -q "run $bad failed: d.h5: holds task 'pathfinder'" err.txt &&
    pass "report on failed runs: exit 1, the run and its reason named" || fail "report on failed runs: exit $rc: $(cat err.txt)"

# another manifest's run into the folder, its summary.json unreadable: the failed
# run is rebuilt from its folder as failed, with its reason
cat > other.json <<'J'
{"experiment": "other", "tasks": ["synthetic"], "models": ["linear"], "seeds": [1],
 "config": {"seq_len": 16, "batch_size": 8, "steps": 4, "warmup_steps": 1, "eval_every": 2,
            "eval_batches": 1, "test_batches": 1, "n_layers": 1, "d_model": 8, "d_head": 4, "n_heads": 2,
            "d_ffn": 8}}
J
printf '{"runs": [' > f/summary.json
"$SBM" run other.json --out f --threads 1 >/dev/null 2>err.txt || fail "other manifest: $(cat err.txt)"
entry f/summary.json $bad | grep -q '"status":[[:space:]]*"failed".*"error":[[:space:]]*"d.h5: holds task' &&
    pass "a failed run kept from its folder: failed, with its error" || fail "folder entry: $(cat f/summary.json)"

# the data fixed, the run completes and its error.txt goes
"$SBM" gen listops --out d.h5 --train 8 --dev 2 --test 2 --min-length 8 --max-length 16 >/dev/null 2>&1 || fail "gen listops"
"$SBM" run f.json --out f --threads 1 >/dev/null 2>err.txt || fail "the fixed run: $(cat err.txt)"
[ -f f/$bad/final.json ] && [ ! -e f/$bad/error.txt ] && pass "once complete, the run has no error.txt" ||
    fail "fixed run: $(ls f/$bad)"
entry f/summary.json $bad | grep -q '"status":[[:space:]]*"done".*"error":[[:space:]]*null' &&
    pass "...nor an error in summary.json" || fail "fixed run's entry: $(entry f/summary.json $bad)"
# complete runs read nothing: rerunning them needs no data file (it rebuilds the summary)
mv d.h5 d-moved.h5
"$SBM" run f.json --out f --threads 1 >/dev/null 2>err.txt && grep -q "nothing was trained" err.txt &&
    pass "complete runs: the data file is not needed" || fail "complete runs without the data file: $(cat err.txt)"

# a run's configuration, later winning: the task's paper setup < config <
# task_config.TASK < model_config.MODEL (README, Manifests): the model with an
# override gets its value, the other model the task's, from one manifest
cat > order.json <<'J'
{"experiment": "order", "tasks": ["synthetic"], "models": ["full", "linear"], "seeds": [1],
 "config": {"seq_len": 8, "batch_size": 8, "steps": 2, "warmup_steps": 1, "eval_every": 2,
            "eval_batches": 1, "test_batches": 1, "n_layers": 1, "d_model": 8, "d_head": 4, "n_heads": 2,
            "d_ffn": 8, "lr": 0.011},
 "task_config": {"synthetic": {"lr": 0.022}},
 "model_config": {"full": {"lr": 0.033}}}
J
"$SBM" run order.json --out order --threads 1 >/dev/null 2>err.txt || fail "the order manifest: $(cat err.txt)"
# KEY's value in RUN's resolved config.json
resolved() { sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*\([^,]*\),\{0,1\}\$/\1/p" order/$1/config.json 2>/dev/null; }
[ "$(resolved synthetic-full-s1 lr)" = 0.033 ] && pass "model_config.MODEL wins over task_config.TASK and config" ||
    fail "synthetic-full-s1: lr $(resolved synthetic-full-s1 lr), expected model_config's 0.033"
[ "$(resolved synthetic-linear-s1 lr)" = 0.022 ] && pass "...a model without one gets task_config.TASK's, over config's" ||
    fail "synthetic-linear-s1: lr $(resolved synthetic-linear-s1 lr), expected task_config's 0.022"
[ "$(resolved synthetic-linear-s1 steps)" = 2 ] && pass "...and config wins over the task's paper setup" ||
    fail "synthetic-linear-s1: steps $(resolved synthetic-linear-s1 steps), expected config's 2 (paper setup: 2000)"

# help texts
expect_error "help for an unknown command" 2 "sbmbench help: unknown command 'foo'" -- "$SBM" help foo
"$SBM" help report >out.txt 2>err.txt && grep -q "usage: sbmbench report" out.txt && pass "help report" ||
    fail "help report: $(cat out.txt err.txt)"
expect_error "prep: unknown task" 2 "sbmbench prep: unknown task 'foo'" -- "$SBM" prep foo
expect_error "gen: unknown task" 2 "sbmbench gen: unknown task 'bar'" -- "$SBM" gen bar
"$SBM" run --help >out.txt
for want in 'default runs/<experiment>' 'tables/{accuracy,runs,lambda,cost}.{md,csv,tex}' 'tables/README.md' \
            'figures/' 'error.txt' 'checkpoint.bin'; do
    grep -qF "$want" out.txt && pass "run --help lists $want" || fail "run --help lacks $want"
done

# a run whose parameters cannot be allocated (about 830 GB) stops the process
# with exit 3, but first records why where a failed run does (error.txt,
# summary.json's error) and names the run; the run after it is not started.
# The allocation must fail whatever the host's overcommit policy: a cap on
# address space (ulimit -v) makes it fail; under AddressSanitizer, whose
# shadow memory needs more address space than any cap, its own cap on one
# allocation does (returning NULL, as malloc does, when told to).
cat > oom.json <<'J'
{"experiment": "oom", "tasks": ["synthetic"], "models": ["full", "sbm", "linear"], "seeds": [1],
 "config": {"seq_len": 16, "batch_size": 8, "steps": 2, "warmup_steps": 1, "eval_every": 2,
            "eval_batches": 1, "test_batches": 1},
 "model_config": {"sbm": {"d_model": 8192, "d_ffn": 65536, "n_layers": 64, "n_heads": 64, "d_head": 1024}}}
J
cap=33554432 # KiB: 32 GiB of address space
ldd "$SBM" 2>/dev/null | grep -q libasan && cap=unlimited
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1:max_allocation_size_mb=65536 \
    expect_error "a run out of memory" 3 "run synthetic-sbm-s1 failed, and the process stops here \\(exit status 3\\)" \
    -- bash -c 'ulimit -v "$1" && shift && exec "$@"' cap "$cap" "$SBM" run oom.json --out oom --threads 2
grep -q "out of memory allocating" oom/synthetic-sbm-s1/error.txt 2>/dev/null &&
    pass "the run's error.txt says out of memory" || fail "error.txt: $(cat oom/synthetic-sbm-s1/error.txt 2>&1)"
statuses=$(grep -o '"status":[[:space:]]*"[a-z_]*"' oom/summary.json | sed 's/.*"\([a-z_]*\)"$/\1/' | tr '\n' ' ')
[ "$statuses" = "done failed not_run " ] && grep -q '"error":[[:space:]]*"out of memory allocating' oom/summary.json &&
    pass "summary: full done, sbm failed with its reason, linear not run" || fail "summary: $statuses; $(cat oom/summary.json)"
finish
