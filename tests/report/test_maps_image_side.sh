# Density maps end to end when seq_len pads past the image: 8x8 images
# (64 pixels) run in sequences of 100 tokens. metrics.h5 must record side 8
# and the figure must draw each map 8x8 from the image's own pixels; the old
# rule took the grid from seq_len and drew 10x10, each image row sheared
# across two grid rows.
HERE=$(cd "$(dirname "$0")" && pwd) # lib.sh moves to a temporary directory
. "$HERE/../cli/lib.sh"
. "$HERE/../data/fixtures.sh"
command -v gnuplot >/dev/null || { echo "skipped: no gnuplot, so no figures to check"; exit 77; }

# MNIST idx files whose labels are all 0, so a few steps make every test
# prediction correct and the run keeps maps (only correct ones are kept)
one_class() { # dir stem n side
    { printf '\x00\x00\x08\x03'; be32 "$3"; be32 "$4"; be32 "$4"; head -c $(($3 * $4 * $4)) /dev/urandom; } > "$1/$2-images-idx3-ubyte"
    { printf '\x00\x00\x08\x01'; be32 "$3"; head -c "$3" /dev/zero; } > "$1/$2-labels-idx1-ubyte"
}
mkdir m && one_class m train 40 8 && one_class m t10k 10 8
"$SBM" prep image --mnist m --out image.h5 >/dev/null || fail "prep image"
cat > m.json <<'J'
{"experiment": "maps", "tasks": ["image"], "models": ["sbm"], "seeds": [1],
 "config": {"data_file": "image.h5", "seq_len": 100, "pixel_shift": true, "steps": 12, "warmup_steps": 1,
            "lr": 0.01, "batch_size": 4, "eval_every": 6, "eval_batches": 1, "sbm_k": 4,
            "n_layers": 1, "d_model": 16, "d_head": 8, "n_heads": 2, "d_ffn": 16}}
J
"$SBM" run m.json --out r --threads 2 >out.txt 2>err.txt || fail "run: $(tail -5 err.txt)"

if command -v h5dump >/dev/null; then
    h5dump -a /test/maps/image_side r/image-sbm-s1/metrics.h5 2>/dev/null | grep -q '(0): 8$' &&
        pass "metrics.h5: /test/maps image_side 8" || fail "metrics.h5: no image_side 8 on /test/maps"
fi

# every kept example's input: 8 rows of 8 tokens, equal to one test image's pixels + 1 (pixel_shift)
od -An -v -tu1 -j16 m/t10k-images-idx3-ubyte | tr -s ' \n' '\n\n' | grep . |
    awk '{printf "%d%s", $1 + 1, NR % 64 ? " " : "\n"}' > images.txt
shape() { echo "$(wc -l < "$1") rows of $(awk '{print NF}' "$1" | sort -u | paste -sd/) values"; }
n=0 bad=$FAILED
for f in r/figures/data/maps-image-sbm-s1-*-input.dat; do
    [ -e "$f" ] || { fail "no maps drawn: $(cat err.txt)"; break; }
    n=$((n + 1))
    [ "$(shape "$f")" = "8 rows of 8 values" ] || { fail "$f: $(shape "$f"), not 8x8"; continue; }
    grep -qxF "$(tr '\n' ' ' < "$f" | sed 's/ *$//')" images.txt || fail "$f: not a test image's pixels in row order"
    deg=${f%-input.dat}-0.dat
    [ "$(shape "$deg")" = "8 rows of 8 values" ] || fail "$deg: in-degrees $(shape "$deg"), not 8x8"
done
[ "$n" -gt 0 ] && [ "$FAILED" -eq "$bad" ] && pass "$n maps: inputs and in-degrees drawn 8x8 from the image's own pixels"
grep -q "^side = 8$" r/figures/maps-image-sbm-s1.gp && pass "the figure's script draws an 8x8 grid" ||
    fail "maps-image-sbm-s1.gp: $(grep '^side' r/figures/maps-image-sbm-s1.gp)"
finish
