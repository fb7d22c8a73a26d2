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
make_imdb imdb
expect_counts "imdb" text.h5 "train 4, dev 4, test 4" -- "$SBM" prep text --in imdb --out text.h5 --max-length 64
row=$(h5dump -d /train/input_ids -s 0,0 -c 1,2 text.h5 | sed -n 's/.*(0,0): //p')
[ "$row" = "66, 33" ] && pass "imdb bytes + 1 ($row)" || fail "imdb ids: $row"
make_aan aan
expect_counts "aan" ret.h5 "train 4, dev 4, test 4" -- "$SBM" prep retrieval --in aan --out ret.h5 --max-length 32
[ "$(attr ret.h5 n_seqs)" = 2 ] && h5dump -H ret.h5 | grep -q input_ids_1 && pass "aan: two sequences" || fail "aan: n_seqs"
"$SBM" gen pathfinder --out pf.h5 --release pf --train 40 --dev 5 --test 5 --per-folder 20 --contour-length 6 --preview pv.png >out.txt 2>&1 \
    && grep -q "pf.h5: train 40, dev 5, test 5" out.txt && [ -s pf/metadata/2.npy ] && [ -s pf/imgs/1/sample_20.png ] && [ -s pv.png ] \
    && pass "gen pathfinder: release layout + HDF5 + preview" || fail "gen pathfinder: $(cat out.txt)"
: > pf/imgs/0/sample_3.png
expect_counts "pathfinder release (1 empty PNG)" pf2.h5 "train 39, dev 4, test 6" -- "$SBM" prep pathfinder --in pf --out pf2.h5
grep -q "1 empty PNG file skipped" out.txt && pass "empty PNG counted" || fail "empty PNG count: $(cat out.txt)"
expect_counts "gen listops" gl.h5 "train 30, dev 5, test 5" -- "$SBM" gen listops --out gl.h5 --train 30 --dev 5 --test 5 --min-length 10 --max-length 50
finish
