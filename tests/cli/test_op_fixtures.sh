# `sbmbench op` against fixtures made by PyTorch implementations of the
# reference semantics (tests/reference/make_attention_fixtures.py), and its
# errors for bad input files.
# Usage: bash test_op_fixtures.sh PATH/TO/sbmbench PATH/TO/set_h5_attr
FIX=$(cd "$(dirname "$0")/../reference/fixtures" && pwd)
SET_ATTR=${2:?usage: $0 SBMBENCH SET_H5_ATTR}
. "$(dirname "$0")/lib.sh"
command -v h5diff >/dev/null || { fail "h5diff (hdf5-tools) is needed"; finish; exit; }
for fx in "$FIX"/*.h5; do
    m=$(basename "$fx" .h5)
    model=$(h5dump -a /expected/model "$fx" 2>/dev/null | sed -n 's/.*(0): *"\(.*\)".*/\1/p' | head -1)
    model=${model:-$m} # a fixture of one setting of a model names the model
    "$SBM" op $model --in "$fx" --out $m.out.h5 2>err.txt || { fail "$m: op failed: $(cat err.txt)"; continue; }
    tol=$(h5dump -a /expected/tolerance "$fx" 2>/dev/null | sed -n 's/.*(0): *//p' | head -1)
    tol=${tol:-2e-5}
    sets="out dq dk dv"
    for p in $(h5ls "$fx/expected/grads" 2>/dev/null | awk '/Dataset/ {print $1}'); do sets="$sets grads/$p"; done
    for d in $sets; do
        if h5diff -d $tol $m.out.h5 "$fx" /$d /expected/$d >diff.txt 2>&1; then
            pass "$m: /$d matches the PyTorch reference (|diff| <= $tol)"
        else
            fail "$m: /$d differs: $(head -5 diff.txt)"
        fi
    done
done
# Reformer's two forms each have their fixtures (the loop above runs whatever
# is there): HF's ("nys", reformer.h5; reformer_factored.h5: 3 hash rounds and
# a bucket count HF factorises, [4, 8]) and reformer_pytorch 1.4.4's ("sbm",
# made by the real library: its LSH path and, at N <= chunk, its full path);
# Performer's kernels: the reference's (performer.h5) and the paper's
# (performer_paper.h5, performer_kernel "paper")
for m in reformer reformer_factored reformer_sbm reformer_sbm_full performer performer_paper; do
    [ -e "$FIX/$m.h5" ] && pass "$m: fixture present" || fail "$m: fixture missing"
done
# a wrong answer is caught by the same comparison
h5diff -d 2e-5 linear.out.h5 "$FIX/full.h5" /out /expected/out >/dev/null 2>&1 &&
    fail "comparison cannot tell linear from full" || pass "comparison tells linear from full"
# the two Performer fixtures share inputs and omega: the kernels' outputs differ
h5diff "$FIX/performer.h5" "$FIX/performer_paper.h5" /params/omega /params/omega >/dev/null 2>&1 &&
    h5diff "$FIX/performer.h5" "$FIX/performer_paper.h5" /q /q >/dev/null 2>&1 &&
    pass "performer, performer_paper: the same q and omega" || fail "performer, performer_paper: inputs differ"
h5diff -d 2e-5 performer.out.h5 "$FIX/performer_paper.h5" /out /expected/out >/dev/null 2>&1 &&
    fail "comparison cannot tell performer_kernel reference from paper" ||
    pass "comparison tells performer_kernel reference from paper"

# bad input: missing dataset, wrong shape, unknown attribute, bad edges
h5copy -i "$FIX/full.h5" -o short.h5 -s /q -d /q >/dev/null 2>&1
expect_error "missing dataset" 2 'short.h5: dataset /k missing \(expected \[B,H,N,D\] = \[2,2,16,8\]\)' -- "$SBM" op full --in short.h5 --out o.h5
h5copy -i "$FIX/full.h5" -o shape.h5 -s /q -d /q >/dev/null 2>&1
h5copy -i "$FIX/full.h5" -o shape.h5 -s /q -d /k >/dev/null 2>&1
h5copy -i "$FIX/full.h5" -o shape.h5 -s /q -d /v >/dev/null 2>&1
h5copy -i "$FIX/full.h5" -o shape.h5 -s /mask -d /dout >/dev/null 2>&1
expect_error "mis-shaped dataset" 2 'shape.h5: dataset /dout is float \[2,16\], expected float32 \[B,H,N,D\]' -- "$SBM" op full --in shape.h5 --out o.h5
expect_error "missing parameters" 2 'dataset /params/C missing \(expected \[2,128,8\]\)' -- "$SBM" op sbm --in "$FIX/full.h5" --out o.h5
expect_error "not HDF5" 2 'cannot open as HDF5' -- "$SBM" op full --in "$FIX/../make_attention_fixtures.py" --out o.h5
expect_error "unknown model" 2 "unknown model 'nope'" -- "$SBM" op nope --in "$FIX/full.h5" --out o.h5
# root attributes as h5py writes them (set_h5_attr NAME KIND VALUE [COUNT]),
# each refused by name as the errors above: an array where one value goes
# (read into one value it overflowed the stack: a segfault); a density_weight
# that is not finite, or past float (every gradient came out NaN, exit 0); a
# seed that is no int64 (a fraction was cut, NaN and 1e30 cast undefined)
n=0
for c in "seed float 1 4000:seed: must be a single value \(it holds 4000\)" \
         "sbm_sampler vlen fastrg 3:sbm_sampler: must be a single value \(it holds 3\)" \
         "density_weight float nan:density_weight: must be a finite number" \
         "density_weight float -inf:density_weight: must be a finite number" \
         "density_weight float 1e300:density_weight: must be a finite number" \
         "density_weight vlen 0.5:density_weight: must be a finite number" \
         "seed float 1.5:seed: must be a whole number" "seed float 1e30:seed: must be a whole number" \
         "seed float nan:seed: must be a whole number" "seed uint 18446744073709551615:seed: must be an integer from"; do
    n=$((n + 1))
    # shellcheck disable=SC2086 # NAME KIND VALUE [COUNT]: split into words
    cp "$FIX/full.h5" attr$n.h5 && chmod u+w attr$n.h5 && "$SET_ATTR" attr$n.h5 ${c%%:*} || fail "set_h5_attr ${c%%:*}"
    expect_error "attribute ${c%%:*}" 2 "attr$n\.h5: attribute ${c#*:}" -- "$SBM" op full --in attr$n.h5 --out o.h5
done
# ...while one value of each kind h5py writes is taken: an int64 seed past
# 2^53, a density_weight, and strings
# variable-length UTF-8 (str) and fixed-length (numpy bytes_)
cp "$FIX/full.h5" attr_ok.h5 && chmod u+w attr_ok.h5 && "$SET_ATTR" attr_ok.h5 seed int 4611686018427387905 &&
    "$SET_ATTR" attr_ok.h5 density_weight float 0.5 && "$SET_ATTR" attr_ok.h5 sbm_sampler vlen bernoulli &&
    "$SET_ATTR" attr_ok.h5 sbm_reg fixed expected || fail "set_h5_attr attr_ok.h5"
"$SBM" op full --in attr_ok.h5 --out ok.h5 2>err.txt && h5diff -d 2e-5 ok.h5 "$FIX/full.h5" /out /expected/out >/dev/null 2>&1 &&
    pass "single-valued attributes of each kind are taken" || fail "single-valued attributes: $(cat err.txt)"
[ ! -e o.h5 ] && [ ! -e o.h5.tmp ] && pass "no output written on error" || fail "output left behind"
finish
