# A short training run on each LRA task's fixture, end to end: the runs
# complete and test accuracy covers the whole test split.
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/fixtures.sh"
make_mnist m && "$SBM" prep image --mnist m --out image.h5 >/dev/null || fail "prep image"
make_aan a && "$SBM" prep retrieval --in a --out retrieval.h5 --max-length 32 >/dev/null || fail "prep retrieval"
make_imdb i && "$SBM" prep text --in i --out text.h5 --max-length 48 >/dev/null || fail "prep text"
"$SBM" gen listops --out listops.h5 --train 24 --dev 6 --test 5 --min-length 8 --max-length 40 >/dev/null || fail "gen listops"
"$SBM" gen pathfinder --out pathfinder.h5 --train 16 --dev 4 --test 5 --contour-length 6 >/dev/null || fail "gen pathfinder"
cat > m.json <<'J'
{"experiment": "data-train", "tasks": ["listops", "text", "retrieval", "image", "pathfinder"], "models": ["full", "sbm"],
 "config": {"steps": 3, "warmup_steps": 1, "batch_size": 4, "eval_every": 2, "eval_batches": 1, "sbm_k": 4,
            "d_model": 16, "d_head": 8, "d_ffn": 16},
 "task_config": {"listops": {"data_file": "listops.h5", "seq_len": 48},
                 "text": {"data_file": "text.h5", "seq_len": 48},
                 "retrieval": {"data_file": "retrieval.h5", "seq_len": 32},
                 "image": {"data_file": "image.h5", "seq_len": 64, "pixel_shift": true},
                 "pathfinder": {"data_file": "pathfinder.h5", "seq_len": 1024}}}
J
"$SBM" run m.json --out r --threads 2 >out.txt 2>err.txt || fail "run failed: $(tail -5 err.txt)"
for t in listops:5 text:4 retrieval:4 image:10 pathfinder:5; do
    for model in full sbm; do
        f=r/${t%%:*}-$model-s1/final.json
        n=$(sed -n 's/.*"test_examples":[[:space:]]*\([0-9]*\).*/\1/p' "$f" 2>/dev/null)
        [ "$n" = "${t##*:}" ] && pass "${t%%:*}/$model: done, test over all $n examples" || fail "${t%%:*}/$model: test_examples '$n' (want ${t##*:})"
    done
done
grep -Eq '"pixel_shift":[[:space:]]*true' r/image-full-s1/config.json && pass "pixel_shift recorded" || fail "pixel_shift not in config.json"
finish
