# Bad manifests exit 2 with the file and the key path, and write nothing.
. "$(dirname "$0")/lib.sh"

good='"experiment": "t", "tasks": ["synthetic"], "models": ["full"], "seeds": [1]'
write() { printf '%s\n' "$2" > "$1"; }

write syntax.json '{"experiment": "t",
  "tasks": ["synthetic"]
  "models": ["full"]}'
expect_error "syntax error" 2 'syntax.json:3:[0-9]+: JSON syntax error' -- "$SBM" run syntax.json --out o1

write top.json "{$good, \"confg\": {}}"
expect_error "unknown top-level key" 2 'top.json: confg: unknown key' -- "$SBM" run top.json --out o2

write key.json "{$good, \"config\": {\"lrr\": 0.1}}"
expect_error "unknown config key" 2 'key.json: config.lrr: unknown key' -- "$SBM" run key.json --out o3

write tkey.json "{$good, \"task_config\": {\"synthetic\": {\"step\": 3}}}"
expect_error "unknown key in task_config" 2 'tkey.json: task_config.synthetic.step: unknown key' -- "$SBM" run tkey.json --out o4

write type.json "{$good, \"config\": {\"lr\": \"fast\"}}"
expect_error "wrong type" 2 'type.json: config.lr: expected a number' -- "$SBM" run type.json --out o5

write int.json "{$good, \"config\": {\"steps\": 10.5}}"
expect_error "non-integer" 2 'int.json: config.steps: expected an integer' -- "$SBM" run int.json --out o6

write listtype.json "{$good, \"config\": {\"lr\": [0.001, \"x\"]}}"
expect_error "wrong type in a sweep list" 2 'listtype.json: config.lr\[1\]: expected a number' -- "$SBM" run listtype.json --out o7

write range.json "{$good, \"config\": {\"dropout\": 1.5}}"
expect_error "out of range" 2 'range.json: config.dropout: 1.5 is out of range' -- "$SBM" run range.json --out o8

write cross.json "{$good, \"config\": {\"batch_size\": 10, \"micro_batch\": 4}}"
expect_error "impossible combination" 2 'cross.json: run synthetic-full-s1: batch_size 10 is not a multiple of micro_batch 4' -- "$SBM" run cross.json --out o9

write warm.json "{$good, \"config\": {\"steps\": 10, \"warmup_steps\": 10}}"
expect_error "warmup not below steps" 2 'warm.json: run synthetic-full-s1: warmup_steps 10 must be below steps 10' -- "$SBM" run warm.json --out o10

write task.json '{"experiment": "t", "tasks": ["synthetic", "nosuch"], "models": ["full"]}'
expect_error "unknown task" 2 'task.json: tasks\[1\]: unknown task .nosuch.' -- "$SBM" run task.json --out o11

write model.json '{"experiment": "t", "tasks": ["synthetic"], "models": ["fulll"]}'
expect_error "unknown model" 2 "model.json: models\[0\]: unknown model 'fulll'" -- "$SBM" run model.json --out o12

write seeds.json '{"experiment": "t", "tasks": ["synthetic"], "models": ["full"], "seeds": [1, -2]}'
expect_error "bad seed" 2 'seeds.json: seeds\[1\]: expected a non-negative integer' -- "$SBM" run seeds.json --out o13

write dup.json '{"experiment": "t", "tasks": ["synthetic"], "models": ["full"], "seeds": [1, 1]}'
expect_error "duplicate run" 2 'dup.json: run synthetic-full-s1 appears twice' -- "$SBM" run dup.json --out o14

write noexp.json '{"tasks": ["synthetic"], "models": ["full"]}'
expect_error "missing experiment" 2 'noexp.json: experiment: missing' -- "$SBM" run noexp.json --out o15

write other.json "{$good, \"model_config\": {\"sbm\": {\"lr\": 1}}}"
expect_error "override for an unlisted model" 2 'other.json: model_config.sbm: not in the manifest' -- "$SBM" run other.json --out o16

expect_error "missing file" 2 'nosuch.json: cannot open' -- "$SBM" run nosuch.json --out o17
expect_error "unknown option" 2 "unknown option '--frobnicate'" -- "$SBM" run --frobnicate
expect_error "bad --threads" 2 'threads: expected a positive integer' -- "$SBM" run --threads zero
expect_error "--out without a value" 2 'run: --out needs a value' -- "$SBM" run m.json --out

write dots.json '{"experiment": "..", "tasks": ["synthetic"], "models": ["full"]}'
expect_error "experiment name '..'" 2 "dots.json: experiment: '..' may not start with '.'" -- "$SBM" run dots.json --out o18

write nys.json '{"experiment": "t", "tasks": ["synthetic"], "models": ["nystrom"], "seeds": [1], "config": {"seq_len": 48, "nystrom_landmarks": 32}}'
expect_error "variant setting that does not fit the length" 2 'nys.json: run .*nystrom.*: nystrom: the sequence length 48 must be a multiple of nystrom_landmarks 32' -- "$SBM" run nys.json --out o9n
# reformer_pytorch (reformer_form "sbm", the default) needs an even number of
# buckets of reformer_chunk tokens: 192 = 3 x 64 is refused (HF's "nys" form takes it)
write rfsbm.json '{"experiment": "t", "tasks": ["synthetic"], "models": ["reformer"], "seeds": [1], "config": {"seq_len": 192}}'
expect_error "reformer sbm form at a length of an odd number of buckets" 2 'rfsbm.json: run .*reformer.*: reformer_form "sbm": seq_len 192 is not a multiple of 2 x reformer_chunk = 128' -- "$SBM" run rfsbm.json --out o9r
write rfform.json '{"experiment": "t", "tasks": ["synthetic"], "models": ["reformer"], "config": {"reformer_form": "hf"}}'
expect_error "unknown reformer_form" 2 'rfform.json: config.reformer_form: expected one of "nys\|sbm"' -- "$SBM" run rfform.json --out o9f

write dupkey.json '{"experiment": "t", "tasks": ["synthetic"], "models": ["full"], "config": {"lr": 0.1, "steps": 5, "lr": 0.2}}'
expect_error "repeated key" 2 'dupkey.json: config.lr: the key appears more than once' -- "$SBM" run dupkey.json --out o19
write dupkey2.json '{"experiment": "t", "models": ["full"], "tasks": ["synthetic"], "models": ["sbm"]}'
expect_error "repeated top-level key" 2 'dupkey2.json: models: the key appears more than once' -- "$SBM" run dupkey2.json --out o20

echo hi > afile
write okm.json '{"experiment": "t", "tasks": ["synthetic"], "models": ["full"]}'
expect_error "--out is a file" 2 'afile: exists and is not a directory' -- "$SBM" run okm.json --out afile
expect_error "report on a file" 2 'okm.json: not a directory' -- "$SBM" report okm.json

# data files are checked for every run up front (not days in, as a run opens
# them), naming the key path that set the file
: > here.h5 && mkdir -p adir
write nodata.json '{"experiment": "t", "tasks": ["listops"], "models": ["full"], "task_config": {"listops": {"data_file": "missing.h5"}}}'
expect_error "missing data file" 2 "nodata.json: task_config.listops.data_file: missing.h5: cannot read data file: No such file or directory \\(run listops-full-s1" \
    -- "$SBM" run nodata.json --out o21
write nodata2.json '{"experiment": "t", "tasks": ["listops"], "models": ["full"], "config": {"data_file": ["here.h5", "gone.h5"]}}'
expect_error "missing data file in a sweep" 2 'nodata2.json: config.data_file\[1\]: gone.h5: cannot read data file' -- "$SBM" run nodata2.json --out o22
write nodata3.json '{"experiment": "t", "tasks": ["listops"], "models": ["full", "sbm"], "config": {"data_file": "here.h5"}, "model_config": {"sbm": {"data_file": "gone.h5"}}}'
expect_error "missing data file for one model" 2 'nodata3.json: model_config.sbm.data_file: gone.h5: cannot read data file' -- "$SBM" run nodata3.json --out o23
write nodata4.json '{"experiment": "t", "tasks": ["listops"], "models": ["full"], "config": {"data_file": "adir"}}'
expect_error "a folder as data file" 2 'nodata4.json: config.data_file: adir: cannot read data file: not a regular file' -- "$SBM" run nodata4.json --out o24
# a run that sets no data_file reads its task's default (data/lra/TASK.h5):
# checked up front too, naming the run and the path; with the file there the
# check passes and the run itself opens it (an empty file: not HDF5, the run fails)
write nodata5.json '{"experiment": "t", "tasks": ["synthetic", "pathfinder"], "models": ["full"], "config": {"steps": 2, "warmup_steps": 1}}'
expect_error "missing default data file" 2 "nodata5.json: run pathfinder-full-s1 reads task pathfinder's default data file data/lra/pathfinder.h5 \\(no data_file set\\): cannot read data file" \
    -- "$SBM" run nodata5.json --out o27
mkdir -p data/lra && : > data/lra/pathfinder.h5
expect_error "default data file present: the run opens it" 1 "pathfinder-full-s1.*data/lra/pathfinder.h5" -- "$SBM" run nodata5.json --out present
rm -rf data present

# a manifest whose path alone fills the error buffer (2048 bytes): the message
# is cut short, never written past the buffer (the sanitizer build checks)
deep=$(printf 'd%.0s' $(seq 1 200))
long="$deep/$deep/$deep/$deep/$deep/$deep/$deep/$deep/$deep/$deep/$deep"
mkdir -p "$long" && cp key.json "$long/key.json"
expect_error "manifest path longer than the error buffer" 2 'dddd' -- "$SBM" run "$long/key.json" --out o25

write keys.json '{"experiment": "t", "tasks": ["synthetic"], "models": ["full"], "config": {"steps": 100000000, "batch_size": 64, "micro_batch": 2}}'
expect_error "more training forwards than random keys" 2 'keys.json: .*more than 2\^31 forwards' -- "$SBM" run keys.json --out o26

# none of the failures above created its output directory
made=$(ls -d o[0-9]* 2>/dev/null | wc -l)
if [ "$made" -eq 0 ]; then pass "no output directory created by a rejected manifest"; else fail "rejected manifests created: $(ls -d o[0-9]*)"; fi

# an existing results directory is left byte-for-byte untouched by a rejected manifest
mkdir -p keep/run && echo precious > keep/run/final.json && echo '{}' > keep/summary.json
before=$(cd keep && find . -type f -exec md5sum {} + | sort)
"$SBM" run key.json --out keep >/dev/null 2>&1
after=$(cd keep && find . -type f -exec md5sum {} + | sort)
if [ "$before" = "$after" ]; then pass "existing output untouched"; else fail "existing output changed"; fi

finish
