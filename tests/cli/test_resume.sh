# A run interrupted by SIGINT resumes with --resume and ends exactly as an
# uninterrupted run with the same seed: same parameters, metrics and results.
. "$(dirname "$0")/lib.sh"
RESIGN=${2:?usage: $0 PATH/TO/sbmbench PATH/TO/resign_checkpoint}

cat > m.json <<'J'
{"experiment": "resume", "tasks": ["synthetic"], "models": ["full"], "seeds": [7],
 "config": {"seq_len": 16, "batch_size": 16, "micro_batch": 8, "steps": 90, "warmup_steps": 10,
            "lr": 1e-3, "dropout": 0.1, "attn_dropout": 0.1, "eval_every": 20,
            "checkpoint_every": 30, "eval_batches": 2, "test_batches": 4}}
J
run=synthetic-full-s7
"$SBM" run m.json --out a --threads 2 >/dev/null 2>a.err || fail "uninterrupted run failed: $(cat a.err)"

# the test hook raises a real SIGINT after step 44, between checkpoints
SBMBENCH_INTERRUPT_AT_STEP=44 "$SBM" run m.json --out b --threads 2 >/dev/null 2>b.err
rc=$?
[ "$rc" -eq 130 ] && pass "interrupted run exits 130" || fail "interrupted run exited $rc: $(cat b.err)"
# the command it suggests runs as pasted: the program as invoked, the manifest and --out
grep -qF "Continue with: $SBM run m.json --out b --resume" b.err && pass "the suggested command names this program" ||
    fail "suggested command: $(grep Continue b.err)"
[ -f b/$run/checkpoint.bin ] && pass "checkpoint written on interrupt" || fail "no checkpoint after interrupt"
[ ! -f b/$run/final.json ] && pass "no final.json for an interrupted run" || fail "final.json after interrupt"
grep -q '"status":.*"interrupted"' b/summary.json && pass "summary marks the run interrupted" || fail "summary status: $(cat b/summary.json)"

expect_error "interrupted run needs --resume" 2 'pass --resume' -- "$SBM" run m.json --out b --threads 2

# a checkpoint whose sections have the right sizes but whose counters do not
# fit them (n_train = 1e8: it segfaulted) fails the run, naming the file
cp -r b bc
off=$(grep -obUaP 'state\x00{27}' bc/$run/checkpoint.bin | head -1 | cut -d: -f1)
# the section: name[32], size (8 bytes), then next_step, best_dev_step, n_train (int32 each)
printf '\x00\xe1\xf5\x05' | dd of=bc/$run/checkpoint.bin bs=1 seek=$((off + 48)) conv=notrunc 2>/dev/null
# changed bytes fail the section's checksum first, naming it
expect_error "changed bytes in a checkpoint" 1 "checkpoint.bin: section 'state' is corrupt \\(its bytes do not match its checksum\\)" \
    -- "$SBM" run m.json --out bc --threads 2 --resume
"$RESIGN" bc/$run/checkpoint.bin || fail "resign_checkpoint failed"
expect_error "corrupt checkpoint counters" 1 "checkpoint.bin: section 'state' is corrupt \\(next step 45, 100000000 training" \
    -- "$SBM" run m.json --out bc --threads 2 --resume
# counters within the arrays but not the ones 45 steps write: 6 dev points (the
# arrays hold 6) where evaluations every 20 steps made 2, so the next
# evaluation would write past them
rm -rf bc && cp -r b bc
printf '\x06\x00\x00\x00' | dd of=bc/$run/checkpoint.bin bs=1 seek=$((off + 52)) conv=notrunc 2>/dev/null
"$RESIGN" bc/$run/checkpoint.bin || fail "resign_checkpoint failed"
expect_error "checkpoint counters out of step" 1 "section 'state' is corrupt \\(next step 45, 45 training and 6 dev points" \
    -- "$SBM" run m.json --out bc --threads 2 --resume

# a checkpoint whose sections are not the ones the run writes is refused
# before anything is used, naming the file and the section expected; the run's
# files are left as they were (the checkpoint too), no final.json appears and
# error.txt keeps the reason.
# Each section: name[32] (NUL-padded), its byte count (8 bytes little-endian),
# then its bytes.
ck=checkpoint.bin
sec_at() { grep -obUaP "$2\\x00{$((32 - ${#2}))}" "$1" | head -1 | cut -d: -f1; }
sec_bytes() { od -An -t u8 -j $(($(sec_at "$1" "$2") + 32)) -N 8 "$1" | tr -d ' '; }
le64() {
    local i s=
    for i in 0 1 2 3 4 5 6 7; do s="$s\\x$(printf %02x $((($1 >> (8 * i)) & 255)))"; done
    printf "$s"
}
# refused NAME PATTERN: bc (a copy of b with its checkpoint changed) fails to
# resume with PATTERN, and its run folder is as it was but for error.txt (no
# file changed or added; summary.json records the failure, as it should)
refused() {
    (cd bc/$run && md5sum ./*) > "$WORK/before.md5"
    ls -A bc/$run | grep -v '^error.txt$' > "$WORK/before.ls"
    expect_error "$1" 1 "$ck: $2" -- "$SBM" run m.json --out bc --threads 2 --resume
    ls -A bc/$run | grep -v '^error.txt$' | cmp -s - "$WORK/before.ls" &&
    (cd bc/$run && md5sum -c --quiet "$WORK/before.md5" >/dev/null 2>&1) && [ ! -f bc/$run/final.json ] &&
        grep -Eq "$ck: $2" bc/$run/error.txt && pass "$1: the run's files unchanged, error.txt says why" ||
        fail "$1: the run's files changed or error.txt lacks the reason: $(cd bc/$run && md5sum -c "$WORK/before.md5" 2>&1; ls; cat error.txt)"
}
n=$(sec_bytes b/$run/$ck adam_v)
[ "$n" -gt 8 ] && pass "adam_v holds $n bytes" || fail "adam_v's byte count: '$n'"
at=$(sec_at b/$run/$ck adam_v)
data=$((at + 40))
# a short adam_v, its byte count and the file made to agree (a reader that
# accepted a short section would read every later section in its place)
rm -rf bc && cp -r b bc
{ head -c $((at + 32)) b/$run/$ck; le64 $((n - 4)); tail -c +$((data + 1)) b/$run/$ck | head -c $((n - 4))
  tail -c +$((data + n + 1)) b/$run/$ck; } > bc/$run/$ck
refused "short section" "section 'adam_v' \\($((n - 4)) bytes\\) where 'adam_v' \\($n bytes\\) was expected"
# a long one, 4 bytes more
rm -rf bc && cp -r b bc
{ head -c $((at + 32)) b/$run/$ck; le64 $((n + 4)); tail -c +$((data + 1)) b/$run/$ck | head -c "$n"
  printf '\x00\x00\x80\x3f'; tail -c +$((data + n + 1)) b/$run/$ck; } > bc/$run/$ck
refused "long section" "section 'adam_v' \\($((n + 4)) bytes\\) where 'adam_v' \\($n bytes\\) was expected"
# a renamed one, of the right size
rm -rf bc && cp -r b bc
printf 'adam_w' | dd of=bc/$run/$ck bs=1 seek="$at" conv=notrunc 2>/dev/null
refused "renamed section" "section 'adam_w' \\($n bytes\\) where 'adam_v' \\($n bytes\\) was expected"
# bytes appended after the last section
rm -rf bc && cp -r b bc
printf 'junk' >> bc/$run/$ck
refused "bytes after the last section" "bytes after its last section"
# the file cut in the middle of adam_v
rm -rf bc && cp -r b bc
head -c $((data + n / 2)) b/$run/$ck > bc/$run/$ck
refused "file cut mid-section" "truncated in section 'adam_v'"
rm -rf bc

# the resume below reads b's checkpoint as version 1 (no checksums), the
# format earlier runs' best.bin files hold: it must still give the same result
"$RESIGN" --v1 b/$run/$ck b/$run/$ck.v1 && mv b/$run/$ck.v1 b/$run/$ck || fail "resign_checkpoint --v1 failed"
"$SBM" run m.json --out b --threads 2 --resume >/dev/null 2>b2.err || fail "resume failed: $(cat b2.err)"
grep -q 'resuming at step 45' b2.err && pass "resumed at step 45" || fail "resume message: $(cat b2.err)"
cmp -s a/$run/best.bin b/$run/best.bin && pass "best parameters identical" || fail "best.bin differs"
for k in test_accuracy dev_accuracy final_train_loss test_loss best_dev_step; do
    va=$(grep "\"$k\"" a/$run/final.json)
    vb=$(grep "\"$k\"" b/$run/final.json)
    [ -n "$va" ] && [ "$va" = "$vb" ] && pass "$k identical ($va)" || fail "$k: '$va' vs '$vb'"
done
if command -v h5dump >/dev/null; then
    h5dump -d /train/loss a/$run/metrics.h5 | tail -n +2 > la.txt
    h5dump -d /train/loss b/$run/metrics.h5 | tail -n +2 > lb.txt
    cmp -s la.txt lb.txt && pass "per-step training losses identical" || fail "metrics.h5 /train/loss differs"
fi
[ ! -f b/$run/checkpoint.bin ] && pass "checkpoint removed once complete" || fail "checkpoint left behind"

# a completed run is skipped, not overwritten
before=$(md5sum b/$run/final.json)
"$SBM" run m.json --out b --threads 2 >/dev/null 2>b3.err
grep -q 'already complete, skipped' b3.err && [ "$before" = "$(md5sum b/$run/final.json)" ] &&
    pass "completed run skipped" || fail "completed run not skipped: $(cat b3.err)"

# a run directory written for another configuration is refused, naming the key
sed 's/"lr": 1e-3/"lr": 2e-3/' m.json > m2.json
expect_error "different configuration" 2 "holds a different configuration for run $run \\(key 'lr'\\)" -- "$SBM" run m2.json --out b --threads 2
# a config.json from a version without a key (here nystrom_conv) still matches while the key keeps its default
grep -v '"nystrom_conv"' b/$run/config.json > old.json && mv old.json b/$run/config.json
"$SBM" run m.json --out b --threads 2 >/dev/null 2>b4.err && grep -q 'already complete, skipped' b4.err &&
    pass "config.json without a newer key at its default still matches" || fail "older config.json refused: $(cat b4.err)"
echo '{"experiment": "resume", "tasks": ["synthetic"], "models": ["full"], "seeds": [7], "config": {"seq_len": 16, "batch_size": 16, "micro_batch": 8, "steps": 90, "warmup_steps": 10, "lr": 1e-3, "dropout": 0.1, "attn_dropout": 0.1, "eval_every": 20, "checkpoint_every": 30, "eval_batches": 2, "test_batches": 4, "nystrom_conv": 5}}' > m3.json
expect_error "newer key changed from its default" 2 "key 'nystrom_conv'" -- "$SBM" run m3.json --out b --threads 2

# Ctrl-C in the last step (the hook at step 90 of 90): the run completes, and
# the command still says it was interrupted (exit 130) and how to redraw the
# tables and figures, which gnuplot may not have finished
SBMBENCH_INTERRUPT_AT_STEP=89 "$SBM" run m.json --out e --threads 2 >/dev/null 2>e.err
rc=$?
[ "$rc" -eq 130 ] && [ -f e/$run/final.json ] && grep -qF "interrupted at the end: the runs' results are saved; '$SBM report e'" e.err &&
    pass "interrupted at the end: exit 130, the run complete, report suggested" || fail "interrupted at the end: exit $rc, $(cat e.err)"

# a folder another process holds (here flock(1) on its lock file, as a live
# run holds it) is refused by run, report and remeasure, before anything is
# read or written; b's interrupted run then resumes as before once it is free
(exec 9>>b/.sbmbench.lock && flock 9 && exec sleep 60) & # the holder is the sleep itself: kill frees the lock
holder=$!
for _ in $(seq 50); do flock -n b/.sbmbench.lock true 2>/dev/null || break; sleep 0.1; done
before=$(find b -type f ! -name .sbmbench.lock -exec md5sum {} + | sort)
expect_error "run into a folder in use" 2 "b is in use by another sbmbench process" -- "$SBM" run m.json --out b --threads 2 --resume
expect_error "report of a folder in use" 2 "b is in use by another sbmbench process" -- "$SBM" report b
expect_error "remeasure of a folder in use" 2 "b is in use by another sbmbench process" -- "$SBM" remeasure b
[ "$before" = "$(find b -type f ! -name .sbmbench.lock -exec md5sum {} + | sort)" ] &&
    pass "a folder in use is left as it was" || fail "a folder in use was changed"
kill $holder; wait $holder 2>/dev/null
"$SBM" report b >/dev/null 2>b5.err; rc=$?
[ "$rc" -le 1 ] && [ ! -e b/.sbmbench.lock ] && pass "a freed folder reports again, its lock file removed at exit" ||
    fail "report after the holder left: exit $rc, $(cat b5.err); $(ls -a b)"
finish
