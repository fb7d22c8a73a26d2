# Bad raw input: each error names the file (and line or record), exits 1,
# and leaves no HDF5 under the final name (nor its temporary).
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/fixtures.sh"
no_output() { if [ -e "$1" ] || [ -e "$1.tmp" ]; then fail "$1 left behind"; else pass "no $1 left"; fi; }
make_mnist m; gzip -dc m/train-images-idx3-ubyte.gz | head -c 1000 | gzip > m/t.gz && mv m/t.gz m/train-images-idx3-ubyte.gz
expect_error "truncated idx" 1 "train-images-idx3-ubyte.gz: record 15 of 40" -- "$SBM" prep image --mnist m --out a.h5
no_output a.h5
make_cifar c; head -c 5000 c/data_batch_3.bin > c/t && mv c/t c/data_batch_3.bin
expect_error "truncated cifar" 1 "data_batch_3.bin: record 1 is truncated" -- "$SBM" prep image --cifar c --out b.h5
no_output b.h5
# a folder where a batch file goes is a read error with its reason, not a truncation
make_cifar cd; rm cd/data_batch_2.bin; mkdir cd/data_batch_2.bin
expect_error "cifar batch that is a folder" 1 "cd/data_batch_2.bin: read error: Is a directory" -- "$SBM" prep image --cifar cd --out bd.h5
no_output bd.h5
# t10k images of another size than the training images, which sized the rows:
# smaller ones would be read past their end, larger ones cropped
n=0
for size in '7 7' '9 9' '8 7'; do
    n=$((n + 1))
    make_mnist ms$n; rm ms$n/t10k-*; idx_pair ms$n t10k 10 $size
    expect_error "mnist t10k images ${size/ /x}" 1 "ms$n/t10k-images-idx3-ubyte: images are ${size/ /x}, but the training images are 8x8" \
        -- "$SBM" prep image --mnist ms$n --out ms$n.h5
    no_output ms$n.h5
done
make_listops_tsv l; printf '( ( [MAX 1 ) ] )\n' >> l/basic_val.tsv
expect_error "malformed listops line" 1 "basic_val.tsv:5: expected 'Source<TAB>Target'" -- "$SBM" prep listops --in l --out c.h5
no_output c.h5
make_aan r; printf '1.0\tonly\tthree\n' >> r/new_aan_pairs.eval.tsv
expect_error "malformed aan line" 1 "new_aan_pairs.eval.tsv:5: expected 5 tab-separated columns" -- "$SBM" prep retrieval --in r --out d.h5
no_output d.h5
# every malformed Target is refused by file and line, in the last file (train
# and val already written to the temporary): empty (strtol reads no digit: not
# label 0), past 9, trailing junk, negative, and a second tab (strtol would skip
# it as leading whitespace and read '3')
# the same line with a good Target is taken, so the refusals below are the Target's
make_listops_tsv lt0; printf "( ( [MAX 1 ) ] )\t3\n" >> lt0/basic_test.tsv
"$SBM" prep listops --in lt0 --out lt0.h5 >/dev/null 2>&1 && [ -f lt0.h5 ] && pass "listops Target '3' taken" ||
    fail "listops Target '3' refused"
n=0
for t in '' 12 3x -1 '\t3'; do
    n=$((n + 1))
    make_listops_tsv lt$n; printf "( ( [MAX 1 ) ] )\t$t\n" >> lt$n/basic_test.tsv
    expect_error "listops Target '$t'" 1 "basic_test.tsv:5: expected 'Source<TAB>Target' with Target 0-9" \
        -- "$SBM" prep listops --in lt$n --out lt$n.h5
    no_output lt$n.h5
done
# AAN: exactly 5 columns (a 6th would cut text2 at its tab silently; 4 lack text2),
# and a label that is 0 or 1 (0.0/1.0 in the release), not 0.5, 2, a word or
# empty (strtod reads no digit: not label 0)
# a good fifth row is taken, so the refusals below are the rows'
make_aan rt0; printf '1.0\ta\tb\tx\ty\n' >> rt0/new_aan_pairs.test.tsv
"$SBM" prep retrieval --in rt0 --out rt0.h5 >/dev/null 2>&1 && [ -f rt0.h5 ] && pass "aan 5-column row taken" ||
    fail "aan 5-column row refused"
n=0
for row in '1.0\ta\tb\ttext one\ttext two\textra' '1.0\ta\tb\ttext one' '0.5\ta\tb\tx\ty' '2\ta\tb\tx\ty' 'yes\ta\tb\tx\ty' \
           '\ta\tb\tx\ty'; do
    n=$((n + 1))
    make_aan rt$n; printf "$row\n" >> rt$n/new_aan_pairs.test.tsv
    expect_error "aan line '$row'" 1 'new_aan_pairs\.test\.tsv:5: expected 5 tab-separated columns label\(0/1\)' \
        -- "$SBM" prep retrieval --in rt$n --out rt$n.h5
    no_output rt$n.h5
done
make_imdb i; rm -r i/test/neg
expect_error "missing imdb folder" 1 "i/test/neg: cannot open folder" -- "$SBM" prep text --in i --out e.h5
make_imdb id; mkdir id/test/pos/3_7.txt # a review that is a folder: its read fails, and says why
expect_error "imdb review that is a folder" 1 "id/test/pos/3_7.txt: read error: Is a directory" -- "$SBM" prep text --in id --out ed.h5
no_output ed.h5
no_output e.h5
"$SBM" gen pathfinder --out release-p.h5 --release p --train 6 --dev 1 --test 1 >/dev/null 2>&1
cp m/t10k-labels-idx1-ubyte.gz p/imgs/0/sample_2.png
expect_error "unreadable png" 1 "sample_2.png: cannot read PNG.*metadata/0.npy:3" -- "$SBM" prep pathfinder --in p --out f.h5
no_output f.h5
"$SBM" gen pathfinder --out release-p2.h5 --release p2 --train 6 --dev 1 --test 1 >/dev/null 2>&1
"$SBM" gen pathfinder --preview p2/imgs/0/sample_4.png >/dev/null 2>&1 # a PNG of the wrong size
expect_error "wrong-size png" 1 "sample_4.png: image is [0-9]+x[0-9]+, expected 32x32" -- "$SBM" prep pathfinder --in p2 --out g.h5
no_output g.h5
# a folder where an input file goes opens but cannot be read: refused by name,
# not read as an empty file (which --dev 0 would then accept)
make_aan rdir; rm rdir/new_aan_pairs.eval.tsv; mkdir rdir/new_aan_pairs.eval.tsv
for dev in '' '--dev 0'; do
    expect_error "aan file a folder${dev:+, $dev}" 1 "rdir/new_aan_pairs.eval.tsv: read error" \
        -- "$SBM" prep retrieval --in rdir --out rdir.h5 $dev
    no_output rdir.h5
done
make_listops_tsv ldir; rm ldir/basic_test.tsv; mkdir ldir/basic_test.tsv
expect_error "listops file a folder" 1 "ldir/basic_test.tsv: read error" -- "$SBM" prep listops --in ldir --out ldir.h5
no_output ldir.h5
"$SBM" gen pathfinder --out release-pdir.h5 --release pdir --train 6 --dev 1 --test 1 >/dev/null 2>&1
mkdir pdir/metadata/9.npy
expect_error "pathfinder metadata file a folder" 1 "pdir/metadata/9.npy: read error" -- "$SBM" prep pathfinder --in pdir --out pdir.h5
no_output pdir.h5
expect_error "missing metadata folder" 1 "nowhere/metadata: cannot open folder" -- "$SBM" prep pathfinder --in nowhere --out h.h5
make_listops_tsv le; : > le/basic_train.tsv # empty: no training examples
expect_error "empty listops file" 1 "k.h5: the input gave no train examples" -- "$SBM" prep listops --in le --out k.h5
no_output k.h5
make_imdb ie; rm -f ie/test/pos/* ie/test/neg/* # empty folders: no test (nor dev) examples
expect_error "empty imdb folders" 1 "l.h5: the input gave no dev examples" -- "$SBM" prep text --in ie --out l.h5
no_output l.h5
"$SBM" prep listops --in le --out m0.h5 --train 0 >/dev/null 2>err.txt && [ -f m0.h5 ] &&
    pass "an empty split asked for (--train 0) is no error" || fail "--train 0 refused: $(cat err.txt)"
"$SBM" gen pathfinder --out pz.h5 --train 4 --dev 0 --test 1 >/dev/null 2>err.txt && [ -f pz.h5 ] &&
    pass "a generator asked for no dev examples (--dev 0) is no error" || fail "gen --dev 0 refused: $(cat err.txt)"
# gen listops too: empty dev and test datasets ([0, L] ids, [0] labels), which a run then refuses by name
"$SBM" gen listops --out lz.h5 --train 4 --dev 0 --test 0 --min-length 8 --max-length 40 >out.txt 2>err.txt &&
    grep -q "lz.h5: train 4, dev 0, test 0" out.txt && pass "gen listops --dev 0 --test 0 is no error" ||
    fail "gen listops --dev 0 --test 0 refused: $(cat err.txt)"
for s in dev test; do
    h5dump -H -d /$s/input_ids lz.h5 2>/dev/null | grep -q 'SIMPLE { ( 0, 40 )' &&
        h5dump -H -d /$s/label lz.h5 2>/dev/null | grep -q 'SIMPLE { ( 0 )' &&
        pass "gen listops: /$s is there and empty" || fail "gen listops: /$s not an empty [0, 40] dataset"
done
expect_error "a run on empty dev and test" 1 "lz.h5: splits train 4, dev 0, test 0: .*non-empty dev and test" -- "$SBM" run /dev/stdin \
    --out rz <<<'{"experiment":"z","tasks":["listops"],"models":["full"],"config":{"data_file":"lz.h5","seq_len":40,"steps":2,"warmup_steps":1,"batch_size":4}}'
# gen listops with length bounds that allow too few distinct trees for the
# counts asked (none at all of 2 tokens; 400 of 4 tokens, then dev wants more)
# stops after a bounded run of draws that give nothing new, instead of drawing
# forever (the timeout turns a hang into exit 124, a failure)
expect_error "gen listops: no tree fits the bounds" 1 \
    "x1.h5: train got 0 of 4 examples asked; [0-9]+ draws in a row gave no new tree: --min-length 1 --max-length 3 allow too few distinct expressions" \
    -- timeout 120 "$SBM" gen listops --out x1.h5 --train 4 --dev 2 --test 2 --min-length 1 --max-length 3
no_output x1.h5
mkdir -p tsv_few
expect_error "gen listops: too few distinct trees for a split" 1 \
    "x2.h5: dev got 100 of 2000 examples asked; .*--min-length 1 --max-length 5 allow too few distinct expressions" \
    -- timeout 120 "$SBM" gen listops --out x2.h5 --tsv tsv_few --train 300 --min-length 1 --max-length 5
no_output x2.h5
[ -z "$(ls tsv_few)" ] && pass "no TSV (nor temporary) left after too few trees" || fail "left in tsv_few: $(ls tsv_few)"
# ...while all 400 of them, asked for, are found
timeout 120 "$SBM" gen listops --out x3.h5 --train 400 --dev 0 --test 0 --min-length 1 --max-length 5 >out.txt 2>err.txt &&
    grep -q "x3.h5: train 400, dev 0, test 0" out.txt && pass "gen listops finds all 400 trees of 4 tokens" ||
    fail "gen listops --train 400 of 400 refused: $(cat err.txt)"
# Ctrl-C (SIGINT) or SIGTERM in the middle of writing: neither the file nor its
# temporary is left, nor the temporaries of the TSV copy (--tsv)
for sig in INT TERM; do
    mkdir -p tsv_$sig
    timeout -s $sig 2 "$SBM" gen listops --out int_$sig.h5 --tsv tsv_$sig --train 1000000 --dev 10 --test 10 >/dev/null 2>&1
    no_output int_$sig.h5
    [ -z "$(ls tsv_$sig)" ] && pass "no TSV temporary left after SIG$sig" || fail "left in tsv_$sig: $(ls tsv_$sig)"
done
# ...but a signal the command was started to ignore (nohup) stays ignored: once
# it is writing, SIGHUP leaves it running (then SIGTERM stops it, leaving nothing)
nohup "$SBM" gen listops --out hup.h5 --train 1000000 --dev 10 --test 10 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do [ -e hup.h5.tmp ] && break; sleep 0.1; done
kill -HUP $pid 2>/dev/null
sleep 0.5
if kill -0 $pid 2>/dev/null; then pass "under nohup, SIGHUP is ignored"; else fail "under nohup, SIGHUP ended the command"; fi
kill -TERM $pid 2>/dev/null
wait $pid 2>/dev/null
no_output hup.h5
# a release copy that cannot be written (a folder where a metadata file goes): refused, not a crash
mkdir -p relc/metadata/0.npy/x
expect_error "release copy onto a folder" 1 "relc/metadata/0.npy: exists and is not a regular file" \
    -- "$SBM" gen pathfinder --out pc.h5 --release relc --train 3 --dev 1 --test 1 --per-folder 1
no_output pc.h5
# one whose writes fail (its temporary leads to /dev/full: the flush gets ENOSPC):
# an error naming it, no double close, nothing left
if [ -c /dev/full ]; then
    mkdir -p reld/metadata && ln -s /dev/full reld/metadata/0.npy.tmp
    expect_error "unwritable release copy" 1 "reld/metadata/0.npy: write failed" \
        -- "$SBM" gen pathfinder --out pd.h5 --release reld --train 3 --dev 1 --test 1 --per-folder 1
    no_output pd.h5
    [ ! -e reld/metadata/0.npy ] && [ ! -L reld/metadata/0.npy.tmp ] && pass "no metadata file or temporary left" ||
        fail "reld/metadata left a file or its temporary"
fi
expect_error "unknown option" 2 "unknown option '--bogus'" -- "$SBM" prep image --bogus 1
expect_error "missing data file in a run" 2 "missing.h5: cannot read data file" -- "$SBM" run /dev/stdin <<<'{"experiment":"x","tasks":["image"],"models":["full"],"config":{"data_file":"missing.h5","steps":2,"warmup_steps":1}}'
# an output that exists but is not a regular file (as root, /dev/null would be
# replaced by a regular file): refused before any work, and left as it was
mkfifo fifo.h5
expect_error "output not a regular file" 1 "fifo.h5: exists and is not a regular file" -- "$SBM" gen listops --out fifo.h5 --train 4 --dev 2 --test 2
[ -p fifo.h5 ] && [ ! -e fifo.h5.tmp ] && pass "the fifo is left as it was" || fail "the fifo was replaced or a temporary left"
finish
