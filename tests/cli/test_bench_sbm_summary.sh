# bench/run_sbm_attention.sh on the real bench at a tiny size: the summary
# table has every density with a range and the quietest run's value, that
# value is the one the named run printed, each run's output is kept, and a
# failing run or a bad argument gives a clear error and no partial file.
here="$(cd "$(dirname "$0")" && pwd)" # before lib.sh moves to a temporary directory
SCRIPT="$here/../../bench/run_sbm_attention.sh"
. "$here/lib.sh"
BENCH=$SBM
tiny=(-- --n 256 --k 16 --d 16)
bash "$SCRIPT" --runs 2 --threads 2 --reps 1 --bin "$BENCH" --out runs "${tiny[@]}" >table.txt 2>err.txt ||
    fail "summary run failed: $(cat err.txt)"
[ -s runs/run_1.txt ] && [ -s runs/run_2.txt ] && pass "each run's output kept" || fail "run outputs missing"
ls runs/*.part >/dev/null 2>&1 && fail "a partial file was left" || pass "no partial file left"
cell='[0-9.]+-[0-9.]+ \([0-9.]+\)'
rows=$(grep -Ec "^\| [0-9]+% \| $cell \| $cell \| $cell \| $cell \| $cell \|$" table.txt)
[ "$rows" -eq 6 ] && pass "6 density rows with 5 ranges each" || fail "$rows well-formed rows: $(cat table.txt)"
grep -Eq '^break-even density: training .*%, inference .*%; R\^2 training ' table.txt && pass "break-even and R^2 ranges" ||
    fail "no break-even line: $(cat table.txt)"
# the quietest run is the one whose full attention spread least, and the
# brackets hold its values: three real tiny runs replayed with their spreads
# set to 100%, 10% and 50%, so run 2 must be named and shown
for i in 1 2 3; do "$BENCH" --threads 2 --reps 1 --no-bernoulli "${tiny[@]:1}" >"real_$i.txt"; done
# (and their 5% inference ratios to 0.500, 0.900, 0.100, so the range's
# ends come from runs 3 and 2)
hi=(2.0 1.1 1.5) r5=(0.500 0.900 0.100)
for i in 1 2 3; do
    sed "s/^\(full attention over its [0-9]* timings: inference \)[0-9.]*-[0-9.]*/\11.0-${hi[$((i - 1))]}/" \
        "real_$i.txt" |
        awk -v r="${r5[$((i - 1))]}" '/^SBM \(fastRG/ { s = 1 } /^sampling alone/ { s = 0 }
                                       s && $1 == "5%" && $2 ~ /%$/ { $5 = r } { print }' >"canned_$i.txt"
done
printf '#!/bin/sh\nc=$(cat count 2>/dev/null || echo 0); c=$((c + 1)); echo $c >count; cat canned_$c.txt\n' >replay.sh
chmod +x replay.sh
bash "$SCRIPT" --runs 3 --bin ./replay.sh --out replayed >replay_table.txt 2>err.txt || fail "replay failed: $(cat err.txt)"
grep -q 'in brackets run 2, whose full-attention inference timings spread least (10%)' replay_table.txt &&
    pass "the quietest run named (run 2, spread 10%)" || fail "wrong quietest run: $(head -n 1 replay_table.txt)"
want=$(awk '/^SBM \(fastRG/ { s = 1 } /^sampling alone/ { s = 0; t = 1; next }
            s && $1 == "5%" && $2 ~ /%$/ { a = $5 " " $6 " " $7 " " $8 } t && $1 == "5%" { print a " " $5; exit }' canned_2.txt)
got=$(sed -n 's/^| 5% | [0-9.]*-[0-9.]* (\([0-9.]*\)) | [0-9.]*-[0-9.]* (\([0-9.]*\)) | [0-9.]*-[0-9.]* (\([0-9.]*\)) | [0-9.]*-[0-9.]* (\([0-9.]*\)) | [0-9.]*-[0-9.]* (\([0-9.]*\)) |$/\1 \2 \3 \4 \5/p' replay_table.txt)
[ -n "$want" ] && [ "$got" = "$want" ] && pass "run 2's own 5% ratios in brackets ($got)" ||
    fail "bracketed 5% values '$got', run 2 printed '$want'"
# the range is the smallest and the largest over the runs
range=$(for i in 1 2 3; do awk '/^SBM \(fastRG/ { s = 1 } s && $1 == "5%" && $2 ~ /%$/ { print $5; exit }' "canned_$i.txt"; done |
        sort -g | sed -n '1p;$p' | paste -sd-)
shown=$(sed -n 's/^| 5% | \([0-9.]*-[0-9.]*\) (.*/\1/p' replay_table.txt)
[ -n "$range" ] && [ "$shown" = "$range" ] && pass "5% inference range over the runs ($shown)" ||
    fail "5% inference range '$shown', the runs span '$range'"
# a run that fails part-way: an error naming it, no partial output
printf '#!/bin/sh\necho "one attention call: half a table"\nexit 3\n' >failing.sh
chmod +x failing.sh
expect_error "failing run" 1 'run 1 failed' -- bash "$SCRIPT" --runs 1 --bin ./failing.sh --out bad
[ -z "$(ls -A bad 2>/dev/null)" ] && pass "nothing left of the failed run" || fail "left: $(ls bad)"
expect_error "bad --runs" 2 'positive integer' -- bash "$SCRIPT" --runs 0 --bin "$BENCH"
expect_error "unknown option" 2 'unknown argument --bogus' -- bash "$SCRIPT" --bogus
finish
