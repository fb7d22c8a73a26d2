# Small fixtures in each official raw format, written from scratch (no
# network, no Python): make_<format> DIR. Sourced by the data tests.
be32() { printf "\\x$(printf %02x $(($1 >> 24 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 & 255)))"; }
# MNIST idx: STEM-images-idx3-ubyte (N x S x S bytes, or N x S x W) and STEM-labels-idx1-ubyte
idx_pair() { # dir stem n side [width]
    local w=${5:-$4}
    { printf '\x00\x00\x08\x03'; be32 "$3"; be32 "$4"; be32 "$w"; head -c $(($3 * $4 * w)) /dev/urandom; } > "$1/$2-images-idx3-ubyte"
    { printf '\x00\x00\x08\x01'; be32 "$3"; for i in $(seq 1 "$3"); do printf "\\x0$((i % 10))"; done; } > "$1/$2-labels-idx1-ubyte"
}
make_mnist() { mkdir -p "$1"; idx_pair "$1" train 40 8; idx_pair "$1" t10k 10 8; gzip -f "$1"/*-ubyte; }
# CIFAR-10 binary: records of label byte + 3072 pixel bytes
cifar_file() { for i in $(seq 1 "$2"); do printf "\\x0$((i % 10))"; head -c 3072 /dev/urandom; done > "$1"; }
make_cifar() { mkdir -p "$1"; for b in 1 2 3 4 5; do cifar_file "$1/data_batch_$b.bin" 4; done; cifar_file "$1/test_batch.bin" 6; }
# A UTF-8 byte-order mark put before a file's first line (as some editors save it)
add_bom() { { printf '\xef\xbb\xbf'; cat "$1"; } > "$1.bom" && mv "$1.bom" "$1"; }
# ListOps release TSVs
make_listops_tsv() {
    mkdir -p "$1"
    for f in train val test; do
        printf 'Source\tTarget\r\n( ( ( ( [MAX 4 ) 5 ) 3 ) ] )\t5\r\n( ( ( [SM 9 ) 8 ) ] )\t7\r\n( ( ( ( [MED 1 ) 2 ) 9 ) ] )\t2\r\n' > "$1/basic_$f.tsv"
    done
}
# IMDB: aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt
make_imdb() {
    for s in train test; do for c in pos neg; do
        mkdir -p "$1/$s/$c"
        for i in 1 2; do printf 'A %s review %d of the %s set.<br /><br />Bytes: \xc3\xa9' "$c" "$i" "$s" > "$1/$s/$c/${i}_7.txt"; done
    done; done
}
# AAN pairs: no header; label, id1, id2, text1, text2
make_aan() {
    mkdir -p "$1"
    for f in train eval test; do
        printf '1.0\tP01-1001\tP02-2002\tWe study parsing.\tParsing is studied here.\n0.0\tP03-3003\tP04-4004\tA paper on speech.\tAn unrelated one.\n1.0\tP05\tP06\tx\ty\n0.0\tP07\tP08\tz\tw\n' > "$1/new_aan_pairs.$f.tsv"
    done
}
# IMDB reviews with whitespace around the text (TFDS strips it: bytes.strip()):
# train ' Hello \n'; test every ASCII whitespace byte around 'Hi ', NBSP
# (UTF-8 c2 a0) and \x1c, which bytes.strip() keeps (str.strip() would not)
make_imdb_ws() {
    make_imdb "$1"
    for f in "$1"/train/*/*.txt; do printf ' Hello \n' > "$f"; done
    for f in "$1"/test/*/*.txt; do printf ' \t\v\f\r\nHi \xc2\xa0\x1c\n\r\t\v\f ' > "$f"; done
}
# A Pathfinder level folder of N examples: one generated PNG named N times in
# metadata/0.npy (labels alternate), for split sizes without generating N images
make_pf_pool() { # dir n
    "$SBM" gen pathfinder --out "$1.h5" --release "$1" --train 1 --dev 0 --test 0 --contour-length 6 >/dev/null || return 1
    for i in $(seq 0 $(($2 - 1))); do echo "imgs/0 sample_0.png $i $((i % 2)) 1.0 6 2 2 0.5 1 1"; done > "$1/metadata/0.npy"
}
