# Every converter on a fixture in its official format: counts per split,
# the schema's attributes, values read back.
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/fixtures.sh"
attr() { h5dump -a "/$2" "$1" 2>/dev/null | sed -n 's/.*(0): *//p' | tr -d '"'; }
expect_counts() { # name file "train N, dev N, test N" -- command
    local name=$1 file=$2 want=$3; shift 4
    if "$@" >out.txt 2>err.txt && grep -q "$file: $want" out.txt && [ -f "$file" ] && [ ! -e "$file.tmp" ]; then
        pass "$name: $(grep "$file:" out.txt | head -1)"
    else
        fail "$name: $(cat out.txt err.txt)"
    fi
}
make_mnist mnist
expect_counts "mnist idx (gzipped)" fm.h5 "train 36, dev 4, test 10" -- "$SBM" prep image --mnist mnist --out fm.h5
[ "$(attr fm.h5 max_len)" = 64 ] && [ "$(attr fm.h5 vocab_size)" = 256 ] && [ "$(attr fm.h5 task)" = image ] \
    && pass "mnist attributes" || fail "mnist attributes: max_len $(attr fm.h5 max_len)"
first=$(h5dump -d /test/input_ids -s 0,0 -c 1,3 fm.h5 | sed -n 's/.*(0,0): //p')
want=$(gzip -dc mnist/t10k-images-idx3-ubyte.gz | od -An -tu1 -j16 -N3 | awk '{print $1", "$2", "$3}')
[ "$first" = "$want" ] && pass "mnist pixels read back ($first)" || fail "mnist pixels: $first vs $want"
gzip -d mnist/*.gz
expect_counts "mnist idx (plain)" fm2.h5 "train 36, dev 4, test 10" -- "$SBM" prep image --mnist mnist --out fm2.h5
expect_counts "mnist --train cap" fm3.h5 "train 5, dev 4, test 10" -- "$SBM" prep image --mnist mnist --out fm3.h5 --train 5
make_cifar cifar
expect_counts "cifar binary" cifar.h5 "train 18, dev 2, test 6" -- "$SBM" prep image --cifar cifar --out cifar.h5
# grayscale as LRA: first pixel of the first test record
g=$(h5dump -d /test/input_ids -s 0,0 -c 1,1 cifar.h5 | sed -n 's/.*(0,0): //p')
rgb=$(for o in 1 1025 2049; do od -An -tu1 -j$o -N1 cifar/test_batch.bin; done | tr -s ' \n' ' ')
want=$(echo "$rgb" | awk '{v=(0.2989*$1/255+0.5870*$2/255+0.1140*$3/255)*255.5; if (v>255) v=255; printf "%d", v}')
[ "$g" = "$want" ] && pass "cifar grayscale ($rgb -> $g)" || fail "cifar grayscale: $g, expected $want from $rgb"
make_listops_tsv lo
expect_counts "listops tsv" lo.h5 "train 3, dev 3, test 3" -- "$SBM" prep listops --in lo --out lo.h5
row=$(h5dump -d /train/input_ids -s 0,0 -c 1,6 lo.h5 | sed -n 's/.*(0,0): //p')
[ "$row" = "12, 5, 6, 4, 15, 0" ] && pass "listops ids ($row)" || fail "listops ids: $row"
# a UTF-8 byte-order mark opening a TSV is dropped: the header is still one,
# and on a first line that is no header the mark is no (OOV) token
make_listops_tsv lobom; add_bom lobom/basic_train.tsv
expect_counts "listops tsv with a BOM" lobom.h5 "train 3, dev 3, test 3" -- "$SBM" prep listops --in lobom --out lobom.h5
make_listops_tsv lonh; sed -i 1d lonh/*.tsv; add_bom lonh/basic_train.tsv
expect_counts "listops tsv, no header, with a BOM" lonh.h5 "train 3, dev 3, test 3" -- "$SBM" prep listops --in lonh --out lonh.h5
row=$(h5dump -d /train/input_ids -s 0,0 -c 1,6 lonh.h5 | sed -n 's/.*(0,0): //p')
[ "$row" = "12, 5, 6, 4, 15, 0" ] && [ "$(attr lonh.h5 oov_tokens)" = 0 ] && pass "listops: the BOM is no token ($row)" ||
    fail "listops ids after a BOM: $row, oov_tokens $(attr lonh.h5 oov_tokens)"
make_imdb imdb
expect_counts "imdb" text.h5 "train 4, dev 4, test 4" -- "$SBM" prep text --in imdb --out text.h5 --max-length 64
row=$(h5dump -d /train/input_ids -s 0,0 -c 1,2 text.h5 | sed -n 's/.*(0,0): //p')
[ "$row" = "66, 33" ] && pass "imdb bytes + 1 ($row)" || fail "imdb ids: $row"
# whitespace around a review is stripped first, as TFDS imdb_reviews (imdb_f.read().strip())
make_imdb_ws imdbws
row_of() { h5dump -d "/$2/input_ids" -s 0,0 -c 1,"$3" "$1" | sed -n 's/.*(0,0): //p'; } # file split n
for L in 8 6 3; do
    "$SBM" prep text --in imdbws --out ws$L.h5 --max-length $L >/dev/null 2>&1 || fail "imdb stripped, max-length $L: prep failed"
done
r=$(row_of ws8.h5 train 8)
[ "$r" = "73, 102, 109, 109, 112, 0, 0, 0" ] && pass "imdb: ' Hello \\n' stripped ($r)" || fail "imdb ' Hello \\n': $r"
r=$(row_of ws6.h5 train 6)
[ "$r" = "73, 102, 109, 109, 112, 0" ] && pass "imdb: trailing whitespace stripped where the cut falls in it ($r)" ||
    fail "imdb ' Hello \\n', max-length 6: $r"
r=$(row_of ws8.h5 test 8)
[ "$r" = "73, 106, 33, 195, 161, 29, 0, 0" ] && pass "imdb: all six ASCII whitespace bytes stripped, NBSP and \\x1c kept ($r)" ||
    fail "imdb bytes.strip() set: $r"
r=$(row_of ws3.h5 test 3)
[ "$r" = "73, 106, 33" ] && pass "imdb: a space before more text is kept at the cut ($r)" || fail "imdb cut at 'Hi ': $r"
make_aan aan
expect_counts "aan" ret.h5 "train 4, dev 4, test 4" -- "$SBM" prep retrieval --in aan --out ret.h5 --max-length 32
[ "$(attr ret.h5 n_seqs)" = 2 ] && h5dump -H ret.h5 | grep -q input_ids_1 && pass "aan: two sequences" || fail "aan: n_seqs"
make_aan aanbom; add_bom aanbom/new_aan_pairs.train.tsv
expect_counts "aan with a BOM" retbom.h5 "train 4, dev 4, test 4" -- "$SBM" prep retrieval --in aanbom --out retbom.h5 --max-length 32
h5dump -g /train ret.h5 | tail -n +3 >a.txt && h5dump -g /train retbom.h5 | tail -n +3 >b.txt && cmp -s a.txt b.txt &&
    pass "aan with a BOM: /train as without it" || fail "aan with a BOM: /train differs"
"$SBM" gen pathfinder --out pf.h5 --release pf --train 40 --dev 5 --test 5 --per-folder 20 --contour-length 6 --preview pv.png >out.txt 2>&1 \
    && grep -q "pf.h5: train 40, dev 5, test 5" out.txt && [ -s pf/metadata/2.npy ] && [ -s pf/imgs/1/sample_0.png ] && [ -s pv.png ] \
    && pass "gen pathfinder: release layout + HDF5 + preview" || fail "gen pathfinder: $(cat out.txt)"
# as snakes2.from_wrapper: the image number restarts in each batch; continuity is written as a float
[ ! -e pf/imgs/1/sample_20.png ] && [ -s pf/imgs/2/sample_9.png ] && [ ! -e pf/imgs/2/sample_10.png ] &&
    pass "release: sample_<j>, j from 0 in each batch" || fail "release names: $(ls pf/imgs/1 | head -3)"
m=$(head -1 pf/metadata/1.npy)
echo "$m" | grep -Eq '^imgs/1 sample_0\.png 0 [01] 1\.0 6 2 2 0\.5 1 1$' && pass "release metadata row '$m'" ||
    fail "release metadata row '$m'"
# every example of FILE as a "label:ids" line, sorted: the multiset of (image, label)
examples() {
    for s in train dev test; do
        h5dump -y -w 0 -d /$s/input_ids -o ids.txt "$1" >/dev/null && h5dump -y -w 0 -d /$s/label -o lab.txt "$1" >/dev/null ||
            return 1
        paste -d: <(tr ',' '\n' <lab.txt | tr -d ' ' | sed '/^$/d') <(sed 's/[ ,]*$//; s/^ *//; /^$/d' ids.txt)
    done | sort
}
expect_counts "pathfinder release read back" pfr.h5 "train 40, dev 5, test 5" -- "$SBM" prep pathfinder --in pf --out pfr.h5
examples pf.h5 >a.txt && examples pfr.h5 >b.txt && [ "$(wc -l <a.txt)" = 50 ] && cmp -s a.txt b.txt &&
    pass "pathfinder release read back: the same 50 (image, label) pairs" || fail "pathfinder release read back: examples differ"
: > pf/imgs/0/sample_3.png
# 49 examples: NYS's int(0.8 n) = 39, int(0.9 n) = 44
expect_counts "pathfinder release (1 empty PNG)" pf2.h5 "train 39, dev 5, test 5" -- "$SBM" prep pathfinder --in pf --out pf2.h5
grep -q "1 empty PNG file skipped" out.txt && pass "empty PNG counted" || fail "empty PNG count: $(cat out.txt)"
# NYS's split points, where 80/10/10 rounds differently: 419 -> 335/42/42 (not dev n/10 = 41)
make_pf_pool pool 419 || fail "make_pf_pool"
expect_counts "pathfinder split as NYS (419)" pool419.h5 "train 335, dev 42, test 42" -- "$SBM" prep pathfinder --in pool --out pool419.h5
# only metadata/*.npy is metadata, as NYS and LRA read it: a README beside it is ignored
printf 'Pathfinder32, contour length 6.\nGenerated by sbmbench.\n' > pf/metadata/README.txt
expect_counts "pathfinder release with metadata/README.txt" pf3.h5 "train 39, dev 5, test 5" -- "$SBM" prep pathfinder --in pf --out pf3.h5
expect_counts "gen listops" gl.h5 "train 30, dev 5, test 5" -- "$SBM" gen listops --out gl.h5 --train 30 --dev 5 --test 5 --min-length 10 --max-length 50
finish
