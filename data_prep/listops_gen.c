/* `sbmbench gen listops`: LRA's ListOps generator (lra_benchmarks/data/
 * listops.py), with Philox draws in place of Python's random module.
 *
 * generate_tree(depth): below max_depth draw r uniform, else r = 1; r > 0.25
 * gives a digit leaf; otherwise an operator node with randint(2, max_args)
 * children generated at depth + 1 and a uniformly chosen operator. A tree is
 * kept when min_length < length < max_length (length counts operators,
 * digits and ']'s: the tokens left once the parentheses are stripped), and
 * only if it was not seen before (the reference collects a set). Kept trees
 * fill train, then dev, then test, in the order drawn. A tree that outgrows
 * max_length is abandoned early: it would be rejected anyway. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/atomic_file.h"
#include "core/philox.h"
#include "data_prep/listops.h"
#include "data_prep/prep.h"
#include "data_prep/prep_args.h"
#include "experiments/util.h"

typedef struct {
    sb_rng_reader rng;
    int max_depth, max_args, max_length;
    int32_t *ids;
    int n;          /* tokens so far */
    int overflow;   /* the tree reached max_length tokens */
} gen_state;

static float uniform(gen_state *g) { return sb_rng_next_unit(&g->rng); }
static int below(gen_state *g, int n) { return (int)sb_u32_below(sb_rng_next_u32(&g->rng), (uint32_t)n); }

static void emit(gen_state *g, int32_t id) {
    if (g->n >= g->max_length) g->overflow = 1;
    else g->ids[g->n++] = id;
}

/* Appends the subtree's tokens; returns its value. */
static int generate_tree(gen_state *g, int depth) {
    float r = depth < g->max_depth ? uniform(g) : 1.0f;
    if (r > 0.25f || g->overflow) {
        int v = below(g, 10);
        emit(g, 1 + v);
        return v;
    }
    int n_children = 2 + below(g, g->max_args - 1), args[64];
    /* the reference draws the children, then the operator */
    int at = g->n;
    emit(g, 0); /* the operator's slot */
    for (int i = 0; i < n_children; i++) args[i] = generate_tree(g, depth + 1);
    int32_t op = SB_LISTOPS_MIN + below(g, 4);
    if (at < g->max_length) g->ids[at] = op;
    emit(g, SB_LISTOPS_CLOSE);
    return sb_listops_apply(op, args, n_children);
}

/* 128-bit fingerprints of the kept trees, open addressing. */
typedef struct {
    uint64_t *keys; /* [cap, 2]; (0, 0) = empty */
    size_t cap, n;
} fp_set;

static void fingerprint(const int32_t *ids, int n, uint64_t out[2]) {
    uint64_t a = 1469598103934665603ull, b = 0x9E3779B97F4A7C15ull ^ (uint64_t)n;
    for (int i = 0; i < n; i++) {
        a = (a ^ (uint64_t)ids[i]) * 1099511628211ull;
        b = (b + (uint64_t)ids[i] + 1) * 0xBF58476D1CE4E5B9ull;
        b ^= b >> 31;
    }
    out[0] = a | 1; /* never (0, 0) */
    out[1] = b;
}

/* 1 if inserted, 0 if already present. */
static int fp_insert(fp_set *s, const uint64_t k[2]) {
    if (2 * (s->n + 1) > s->cap) {
        fp_set t = {calloc(2 * (s->cap ? 2 * s->cap : 1024), sizeof(uint64_t)), s->cap ? 2 * s->cap : 1024, 0};
        for (size_t i = 0; i < s->cap; i++)
            if (s->keys[2 * i]) fp_insert(&t, s->keys + 2 * i);
        free(s->keys);
        *s = t;
    }
    size_t i = (size_t)(k[0] ^ k[1]) & (s->cap - 1);
    for (;; i = (i + 1) & (s->cap - 1)) {
        uint64_t *e = s->keys + 2 * i;
        if (!e[0]) {
            e[0] = k[0], e[1] = k[1];
            s->n++;
            return 1;
        }
        if (e[0] == k[0] && e[1] == k[1]) return 0;
    }
}

/* How many draws in a row may give nothing new (a tree out of bounds, or one
 * kept before) before --min-length/--max-length are taken to allow too few
 * distinct expressions for the counts asked (the reference then draws
 * forever); the kept trees took drawn_to_last draws. At least 10^6: the
 * defaults keep a tree every ~12 draws and docs/lra.md's reduced bounds
 * (32..256) every ~32, so a run of 10^6 by chance has probability below
 * e^-30000, while 10^6 draws of up to 2000 tokens take about 2 s. Bounds
 * whose trees are rare but plentiful (a narrow window of long trees: 1990..2000
 * keeps one in ~5000) get 1000 times the mean draws per kept tree so far.
 * Collecting nearly every distinct tree is slower at the end (a coupon
 * collector: the last of all 400 trees of 4 tokens waits ~60 times the mean),
 * and still well within the bound. */
static int64_t fruitless_limit(int64_t drawn_to_last, int64_t kept) {
    const int64_t at_least = 1000000, scaled = kept ? 1000 * (drawn_to_last / kept) : 0;
    return scaled > at_least ? scaled : at_least;
}

int sb_gen_listops(int argc, char **argv) {
    sb_prep_args a;
    if (sb_prep_args_parse(&a, "gen listops", argc, argv,
                           "out tsv train dev test min-length max-length max-depth max-args seed"))
        return 2;
    const char *out = sb_prep_arg_str(&a, "out", NULL), *tsv = sb_prep_arg_str(&a, "tsv", NULL);
    /* any split may be asked to be empty (--dev 0), as for gen pathfinder: the
     * file is then valid but a run refuses it (tasks/h5_task.c wants dev and test) */
    int64_t sizes[3] = {sb_prep_arg_int(&a, "train", 96000, 0, 100000000), sb_prep_arg_int(&a, "dev", 2000, 0, 100000000),
                        sb_prep_arg_int(&a, "test", 2000, 0, 100000000)};
    const int min_len = (int)sb_prep_arg_int(&a, "min-length", 500, 0, 1000000);
    const int max_len = (int)sb_prep_arg_int(&a, "max-length", 2000, 2, 1000000);
    const int max_depth = (int)sb_prep_arg_int(&a, "max-depth", 10, 1, 64);
    const int max_args = (int)sb_prep_arg_int(&a, "max-args", 10, 2, 64);
    const int64_t seed = sb_prep_arg_int(&a, "seed", 1, 0, (int64_t)1 << 62);
    if (a.bad) return 2;
    if (!out || min_len + 1 >= max_len) {
        fprintf(stderr, "sbmbench gen listops: %s\n", !out ? "give --out FILE.h5" : "need min-length + 1 < max-length");
        return 2;
    }
    /* the sizes as limits too: a split asked to be empty (--train 0) is then no error at the commit */
    sb_h5ds_writer *w = sb_prep_create(out, "listops", 1, max_len, sizes);
    if (!w) return 1;
    sb_h5ds_attr_int(w, "vocab_size", SB_LISTOPS_VOCAB);
    sb_h5ds_attr_int(w, "n_classes", 10);
    sb_h5ds_attr_str(w, "source", "sbmbench gen listops (LRA lra_benchmarks/data/listops.py algorithm, Philox draws)");
    sb_h5ds_attr_int(w, "seed", seed);
    sb_h5ds_attr_int(w, "min_length", min_len);
    sb_h5ds_attr_int(w, "max_depth", max_depth);
    sb_h5ds_attr_int(w, "max_args", max_args);
    sb_h5ds_attr_str(w, "encoding", "0-9 -> 1..10, [MIN 11, [MAX 12, [MED 13, [SM 14, ] 15, OOV 16, 0 padding");

    sb_atomic_file tf[3];
    int n_tsv = 0, ok = 1;
    char err[4400], tsv_path[3][4200];
    static const char *tsv_names[3] = {"basic_train.tsv", "basic_val.tsv", "basic_test.tsv"};
    if (tsv) {
        if (sb_mkdir_p(tsv, err, sizeof err)) {
            fprintf(stderr, "sbmbench gen listops: %s\n", err);
            return sb_prep_commit(w, 0, out);
        }
        for (; n_tsv < 3; n_tsv++) {
            snprintf(tsv_path[n_tsv], sizeof tsv_path[n_tsv], "%s/%s", tsv, tsv_names[n_tsv]);
            if (sb_atomic_open(&tf[n_tsv], tsv_path[n_tsv], err, sizeof err)) {
                fprintf(stderr, "sbmbench gen listops: %s\n", err);
                ok = 0;
                break;
            }
            fputs("Source\tTarget\r\n", tf[n_tsv].f); /* csv.writer's line terminator */
        }
    }
    gen_state g = {.max_depth = max_depth, .max_args = max_args, .max_length = max_len};
    g.ids = calloc((size_t)max_len, sizeof(int32_t));
    sb_rng_reader_init(&g.rng, sb_rng_make((uint64_t)seed, SB_RNG_DATA_TRAIN, 0, 0, 0, 0x4C4Fu));
    fp_set seen = {0};
    const int src_cap = 8 * max_len + 64;
    char *src = malloc((size_t)src_cap);
    int64_t drawn = 0, duplicates = 0, drawn_to_last = 0;
    for (int split = 0; split < 3 && ok; split++)
        while (ok && sb_h5ds_count(w, split) < sizes[split]) {
            if (drawn - drawn_to_last >= fruitless_limit(drawn_to_last, (int64_t)seen.n)) {
                fprintf(stderr,
                        "sbmbench gen listops: %s: %s got %lld of %lld examples asked; %lld draws in a row gave "
                        "no new tree: --min-length %d --max-length %d allow too few distinct expressions "
                        "(widen them, or ask for fewer); nothing written\n",
                        out, sb_h5ds_split_names[split], (long long)sb_h5ds_count(w, split), (long long)sizes[split],
                        (long long)(drawn - drawn_to_last), min_len, max_len);
                ok = 0;
                break;
            }
            g.n = 0;
            g.overflow = 0;
            int value = generate_tree(&g, 1);
            drawn++;
            if (g.overflow || g.n <= min_len || g.n >= max_len) continue;
            uint64_t fp[2];
            fingerprint(g.ids, g.n, fp);
            if (!fp_insert(&seen, fp)) {
                duplicates++;
                continue;
            }
            drawn_to_last = drawn;
            if (n_tsv == 3) {
                if (sb_listops_to_source(g.ids, g.n, src, src_cap) < 0) {
                    fprintf(stderr, "sbmbench gen listops: internal error: tree does not serialise\n");
                    ok = 0;
                    break;
                }
                fprintf(tf[split].f, "%s\t%d\r\n", src, value);
            }
            for (int i = g.n; i < max_len; i++) g.ids[i] = 0;
            if (sb_h5ds_append(w, split, g.ids, NULL, value)) ok = 0;
        }
    sb_h5ds_attr_int(w, "trees_drawn", drawn);
    sb_h5ds_attr_int(w, "duplicates_dropped", duplicates);
    for (int i = 0; i < n_tsv; i++)
        if (sb_atomic_close(&tf[i], ok && !ferror(tf[i].f), err, sizeof err)) {
            if (ok) fprintf(stderr, "sbmbench gen listops: %s\n", err);
            ok = 0;
        }
    if (ok && n_tsv == 3) printf("%s/basic_{train,val,test}.tsv written\n", tsv);
    free(g.ids), free(src), free(seen.keys);
    return sb_prep_commit(w, ok, out);
}
