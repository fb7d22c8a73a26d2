# Data a run cannot use fails that run, with a message naming the file, split,
# row and value, and the manifest's other runs still run: a token id past the
# vocabulary (which indexed past the embedding table: a segfault) and a row
# HDF5 cannot read (which ended the whole process). The swept data_file is a
# path: its '/' must not nest the run's directory.
# Files whose attributes or types are wrong are refused when the run opens them.
# Usage: bash test_data_bad_rows.sh PATH/TO/sbmbench PATH/TO/make_bad_rows PATH/TO/set_h5_attr
MAKE_BAD=${2:?usage: $0 SBMBENCH MAKE_BAD_ROWS SET_H5_ATTR}
SET_ATTR=${3:?usage: $0 SBMBENCH MAKE_BAD_ROWS SET_H5_ATTR}
. "$(dirname "$0")/../cli/lib.sh"
"$MAKE_BAD" ids bad.h5 || fail "make_bad_rows"
mkdir -p sub && "$SBM" gen listops --out sub/good.h5 --train 16 --dev 4 --test 4 --min-length 8 --max-length 24 >/dev/null || fail "gen listops"
cat > m.json <<'J'
{"experiment": "bad-rows", "tasks": ["listops"], "models": ["full"],
 "config": {"data_file": ["bad.h5", "sub/good.h5"], "seq_len": 32, "steps": 3, "warmup_steps": 1, "batch_size": 4,
            "eval_every": 2, "eval_batches": 1, "d_model": 8, "d_head": 4, "n_heads": 2, "d_ffn": 8}}
J
expect_error "token id past the vocabulary" 1 'bad\.h5: /train row 3, position 5: token id 17 is outside the vocabulary 0\.\.16' \
    -- "$SBM" run m.json --out r --threads 1
good=r/listops-full-data_file=sub_good.h5-s1 # a swept path's '/' becomes '_' in the run id: no nesting
[ -f "$good/final.json" ] && pass "the manifest's next run completed ($good)" ||
    fail "the run after the failed one did not complete: $(ls r)"
[ ! -e r/listops-full-data_file=sub ] && pass "a swept path does not nest the run directory" ||
    fail "a swept path nested the run directory: $(ls r)"
grep -q '"failed"' r/summary.json && pass "summary.json marks the bad run failed" || fail "summary.json: $(cat r/summary.json)"
# a row HDF5 cannot read: overwrite the middle of a generated file's data
"$SBM" gen listops --out big.h5 --train 2000 --dev 4 --test 4 --min-length 400 --max-length 500 >/dev/null || fail "gen big"
size=$(stat -c %s big.h5)
dd if=/dev/urandom of=big.h5 bs=1 seek=$((size * 3 / 10)) count=4096 conv=notrunc 2>/dev/null
sed -e 's|"bad.h5", "sub/good.h5"|"big.h5", "sub/good.h5"|' -e 's/"seq_len": 32, "steps": 3/"seq_len": 512, "steps": 300/' m.json > m2.json
expect_error "unreadable row" 1 'big\.h5: cannot read row [0-9]+ of /train' -- "$SBM" run m2.json --out r2 --threads 1
good=$(ls -d r2/*good.h5* 2>/dev/null | head -1)
[ -n "$good" ] && [ -f "$good/final.json" ] && pass "after the unreadable row, the next run completed" ||
    fail "after the unreadable row the next run did not complete: $(ls r2)"
# files the schema check refuses when the run opens them: a vocab_size past
# 2^32 (read as 17 once narrowed to int; 2e9 asked for 64 GB), a pair task stored with one sequence, labels stored as
# doubles (HDF5 converted 0.6 to 0 silently)
for c in "vocab:attribute out of range: vocab_size 4294967313" "pair:attribute n_seqs is 1; task retrieval has 2 sequences" \
         "labels:dataset /train/label missing or not int32"; do
    mode=${c%%:*}
    "$MAKE_BAD" "$mode" "$mode.h5" || fail "make_bad_rows $mode"
    task=$([ "$mode" = pair ] && echo retrieval || echo listops)
    sed -e "s|\"bad.h5\", \"sub/good.h5\"|\"$mode.h5\"|" -e "s|\"listops\"|\"$task\"|" m.json > m_$mode.json
    expect_error "$mode" 1 "$mode\.h5: ${c#*:}" -- "$SBM" run m_$mode.json --out r_$mode --threads 1
done
# root attributes as h5py writes them (set_h5_attr NAME KIND VALUE [COUNT]):
# each bad one is refused by name, saying what is wrong, and the run is marked
# failed, as the bad attributes above are. A numpy array where one value goes
# (read into one value it overflowed the stack: a segfault); a float where an
# integer goes (it would be truncated); a task that is no string; a length 0.
for c in "varr:vocab_size int 17 16:attribute vocab_size must be a single value \(it holds 16\)" \
         "tarr:task vlen listops 2:attribute task must be a single value \(it holds 2\)" \
         "cflt:n_classes float 10:attribute n_classes must be an integer" \
         "tint:task int 3:attribute task must be a string" \
         "mlen:max_len int 0:attribute max_len is 0, must be at least 1"; do
    name=${c%%:*} rest=${c#*:}
    # shellcheck disable=SC2086 # NAME KIND VALUE [COUNT]: split into words
    cp sub/good.h5 $name.h5 && "$SET_ATTR" $name.h5 ${rest%%:*} || fail "set_h5_attr $name"
    sed -e "s|\"bad.h5\", \"sub/good.h5\"|\"$name.h5\"|" m.json > m_$name.json
    expect_error "attribute $name" 1 "$name\.h5: ${rest#*:}" -- "$SBM" run m_$name.json --out r_$name --threads 1
    grep -q '"failed"' r_$name/summary.json 2>/dev/null && pass "$name: summary.json marks the run failed" ||
        fail "$name: summary.json: $(cat r_$name/summary.json 2>&1)"
done
# ...and the task as h5py writes a str (variable-length UTF-8) or numpy bytes_
# (fixed-length) is taken: both were refused as "missing or bad attributes"
for kind in vlen fixed; do
    cp sub/good.h5 t_$kind.h5 && "$SET_ATTR" t_$kind.h5 task $kind listops || fail "set_h5_attr t_$kind"
    sed -e "s|\"bad.h5\", \"sub/good.h5\"|\"t_$kind.h5\"|" m.json > m_t_$kind.json
    "$SBM" run m_t_$kind.json --out r_t_$kind --threads 1 >/dev/null 2>err.txt && [ -f r_t_$kind/*/final.json ] &&
        pass "a $kind string task attribute is read" || fail "a $kind string task attribute: $(tail -2 err.txt)"
done
finish
