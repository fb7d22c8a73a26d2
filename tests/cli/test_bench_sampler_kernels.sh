# bench_sampler_kernels at a small size: one row per round with a positive
# figure in every column (four with AVX2, Philox alone without), for a k and
# an nr that are powers of two and ones that are not (both forms of the
# loops' index split), and one bitmap read-back line per round with a
# positive figure for each form built (the AVX-512 one where the build has
# VBMI2); a bad option is a clear error.
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
BENCH=$SBM
for shape in "--k 128 --nr 4096" "--k 100 --nr 3000"; do
    # shellcheck disable=SC2086
    "$BENCH" $shape --reps 2 --rounds 2 >out.txt 2>err.txt || fail "$shape: exit $?: $(cat err.txt)"
    cols=$(awk '$1 ~ /^[0-9]+$/ { n = 0; for (i = 2; i <= NF; i++) if ($i + 0 > 0) n++; print n }' out.txt | sort -u)
    rows=$(grep -Ec '^ +[0-9]+ ' out.txt)
    if [ "$rows" -eq 2 ] && { [ "$cols" = 4 ] || { [ "$cols" = 1 ] && grep -q 'not an AVX2 build' out.txt; }; }; then
        pass "$shape: 2 rounds of positive figures"
    else
        fail "$shape: $rows rounds, columns '$cols': $(cat out.txt)"
    fi
    rb=$(awk '/^read-back round/ { n = 0; for (i = 4; i <= NF; i++) if ($i + 0 > 0) n++;
                                    print n (/not an AVX-512/ ? "p" : "v") }' out.txt | sort -u)
    if [ "$(grep -c '^read-back round' out.txt)" -eq 2 ] && { [ "$rb" = 2v ] || [ "$rb" = 1p ]; }; then
        pass "$shape: 2 rounds of positive read-back figures"
    else
        fail "$shape: read-back lines '$rb': $(cat out.txt)"
    fi
done
expect_error "bad --k" 2 "--k takes an integer" -- "$BENCH" --k x
expect_error "k out of range" 2 "need 1 <= k <= 4096" -- "$BENCH" --k 5000
expect_error "density out of range" 2 "0 < density <= 1" -- "$BENCH" --density 0
expect_error "unknown option" 2 "usage" -- "$BENCH" --frobnicate
finish
