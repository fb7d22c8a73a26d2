#include "tasks/h5_task.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/philox.h"
#include "data_prep/h5_dataset.h"
#include "experiments/config.h"

typedef struct {
    sb_task base;
    sb_h5ds_reader r;
    int32_t *labels[SB_H5DS_SPLITS];
    int32_t *perm;          /* permutation of the train rows for epoch perm_epoch */
    int64_t perm_epoch;
    uint64_t seed;
    int shift;              /* add 1 to every stored token (pixel_shift) */
    int32_t *row;           /* [L] scratch */
    char path[512];
} h5_task;

void sb_h5_task_lra_defaults(sb_run_config *c, const sb_lra_setup *setup) {
    /* lra_config.py common block: 2 layers, 64 wide, 2 heads of 32, FFN 128 (built-in defaults) */
    c->n_layers = 2;
    c->n_heads = 2;
    c->d_model = 64;
    c->d_head = 32;
    c->d_ffn = 128;
    c->dropout = 0.1;
    c->attn_dropout = 0.1;
    c->sbm_k = 128;
    /* λ = 0: the paper's Table 1 and Table 8 (+O) SBM rows are Table 9's λ = 0
     * row (run_tasks.py's own default); the released run_tasks.sh passes
     * --sparsity_weight 1e-4, Table 9's second row */
    c->sbm_lambda = 0.0f;
    c->seq_len = setup->seq_len;
    c->max_len = setup->max_len;
    c->batch_size = setup->batch_size;
    c->lr = setup->lr;
    c->warmup_steps = setup->warmup_steps;
    c->steps = setup->steps;
    c->eval_every = setup->eval_every;
    c->eval_batches = setup->eval_batches;
    c->checkpoint_every = setup->eval_every;
}

/* Fisher-Yates over 0..n-1 from the (seed, epoch) stream. */
static void shuffle_epoch(h5_task *t, int64_t epoch) {
    int64_t n = t->r.n[0];
    for (int64_t i = 0; i < n; i++) t->perm[i] = (int32_t)i;
    sb_rng_reader rd;
    sb_rng_reader_init(&rd, sb_rng_make(t->seed, SB_RNG_DATA_TRAIN, (uint32_t)epoch, 0, 0, 0x5348u));
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)sb_u32_below(sb_rng_next_u32(&rd), (uint32_t)(i + 1));
        int32_t tmp = t->perm[i];
        t->perm[i] = t->perm[j];
        t->perm[j] = tmp;
    }
    t->perm_epoch = epoch;
}

/* One sequence of one row into ids/mask [T]; row < 0: all padding. A row
 * that cannot be read, or holds a token id outside 0..vocab_size-1 (which
 * would index past the embedding table), is padding and sets the task's
 * error. */
static void fill_row(h5_task *t, int split, int seq, int64_t row, int32_t *ids, float *mask) {
    const int T = t->base.seq_len, L = t->r.L, n = L < T ? L : T;
    memset(ids, 0, sizeof(int32_t) * (size_t)T);
    if (row >= 0) {
        if (sb_h5ds_read_row(&t->r, split, seq, row, t->row)) {
            if (!t->base.error[0])
                snprintf(t->base.error, sizeof t->base.error, "%s: cannot read row %lld of /%s", t->path,
                         (long long)row, sb_h5ds_split_names[split]);
        } else {
            int bad = -1;
            for (int i = 0; i < L && bad < 0; i++)
                if (t->row[i] < 0 || t->row[i] >= t->r.vocab_size) bad = i;
            if (bad < 0) {
                for (int i = 0; i < n; i++) ids[i] = t->row[i] + t->shift;
            } else if (!t->base.error[0]) {
                snprintf(t->base.error, sizeof t->base.error,
                         "%s: /%s row %lld, position %d: token id %d is outside the vocabulary 0..%d "
                         "(attribute vocab_size)", t->path, sb_h5ds_split_names[split], (long long)row, bad,
                         t->row[bad], t->r.vocab_size - 1);
            }
        }
    }
    for (int i = 0; i < T; i++) mask[i] = ids[i] != 0 ? 1.0f : 0.0f;
}

static void h5_batch(sb_task *bt, sb_split split, uint64_t index, int B, int32_t *ids, float *mask, int32_t *labels) {
    h5_task *t = (h5_task *)bt;
    const int T = bt->seq_len, S = bt->n_seqs ? bt->n_seqs : 1;
    const int64_t n = t->r.n[split];
    for (int b = 0; b < B; b++) {
        int64_t row;
        if (split == SB_SPLIT_TRAIN) {
            int64_t per_epoch = n / B, epoch = (int64_t)(index / (uint64_t)per_epoch);
            if (epoch != t->perm_epoch) shuffle_epoch(t, epoch);
            row = t->perm[(int64_t)(index % (uint64_t)per_epoch) * B + b];
        } else if (split == SB_SPLIT_DEV) {
            row = (int64_t)((index * (uint64_t)B + (uint64_t)b) % (uint64_t)n);
        } else {
            row = (int64_t)(index * (uint64_t)B + (uint64_t)b);
            if (row >= n) row = -1;
        }
        for (int q = 0; q < S; q++)
            fill_row(t, split, q, row, ids + ((size_t)q * B + b) * T, mask + ((size_t)q * B + b) * T);
        labels[b] = row >= 0 ? t->labels[split][row] : -1;
    }
}

/* The root attribute image_side (written by the image and pathfinder
 * converters and generator): 0 when absent (files made before it), -1 when
 * present but not a side whose square fits the stored rows. */
static int read_image_side(h5_task *t) {
    int64_t v = -1;
    const int got = sb_h5ds_read_attr_int(&t->r, "image_side", &v);
    if (got == 0) return 0;
    return got == 1 && v >= 1 && v * v <= t->r.L ? (int)v : -1;
}

sb_task *sb_h5_task_open(const sb_task_ops *ops, const sb_lra_setup *setup, const sb_run_config *c, char *err,
                         size_t errlen) {
    h5_task *t = calloc(1, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s", sb_task_data_file(ops, c));
    if (sb_h5ds_open(&t->r, t->path, err, errlen)) {
        size_t n = strlen(err);
        snprintf(err + n, errlen - n, " (task %s: make it with 'sbmbench %s %s ...' and point data_file at it; see docs/lra.md)",
                 ops->name, setup->generated ? "gen" : "prep", ops->name);
        free(t);
        return NULL;
    }
    const int B = c->micro_batch;
    const int pair = setup->n_seqs == 2; /* two documents per example */
    const int image_side = read_image_side(t);
    if (strcmp(t->r.task, ops->name) != 0) {
        snprintf(err, errlen, "%s: holds task '%s', not '%s'", t->path, t->r.task, ops->name);
    } else if (t->r.n_seqs != (pair ? 2 : 1)) {
        snprintf(err, errlen, "%s: attribute n_seqs is %d; task %s has %d sequence%s per example", t->path,
                 t->r.n_seqs, ops->name, pair ? 2 : 1, pair ? "s" : "");
    } else if (image_side < 0) {
        snprintf(err, errlen, "%s: attribute image_side must be at least 1, its square at most max_len (%d)", t->path,
                 t->r.L);
    } else if (t->r.n[SB_SPLIT_TRAIN] < B || t->r.n[SB_SPLIT_DEV] < 1 || t->r.n[SB_SPLIT_TEST] < 1) {
        snprintf(err, errlen, "%s: splits train %lld, dev %lld, test %lld: need train >= micro_batch (%d) and "
                 "non-empty dev and test", t->path, (long long)t->r.n[0], (long long)t->r.n[1], (long long)t->r.n[2], B);
    } else {
        err[0] = 0;
    }
    if (err[0]) {
        sb_h5ds_close(&t->r);
        free(t);
        return NULL;
    }
    for (int s = 0; s < SB_H5DS_SPLITS; s++) {
        t->labels[s] = malloc(sizeof(int32_t) * (size_t)(t->r.n[s] + 1));
        if (sb_h5ds_read_labels(&t->r, s, t->labels[s])) {
            snprintf(err, errlen, "%s: cannot read /%s/label", t->path, sb_h5ds_split_names[s]);
            sb_h5_task_close(&t->base);
            return NULL;
        }
        for (int64_t i = 0; i < t->r.n[s]; i++)
            if (t->labels[s][i] < 0 || t->labels[s][i] >= t->r.n_classes) {
                snprintf(err, errlen, "%s: /%s/label[%lld] = %d is outside 0..%d", t->path, sb_h5ds_split_names[s],
                         (long long)i, t->labels[s][i], t->r.n_classes - 1);
                t->base.ops = ops;
                sb_h5_task_close(&t->base);
                return NULL;
            }
    }
    t->base.ops = ops;
    t->shift = setup->kind == SB_TOKENS_PIXELS && c->pixel_shift;
    t->base.vocab_size = t->r.vocab_size + t->shift;
    t->base.seq_len = c->seq_len;
    t->base.n_classes = t->r.n_classes;
    t->base.token_level = 0;
    t->base.n_seqs = t->r.n_seqs;
    t->base.image_side = image_side;
    for (int s = 0; s < SB_H5DS_SPLITS; s++) t->base.split_size[s] = t->r.n[s];
    t->base.batch = h5_batch;
    t->seed = (uint64_t)c->seed;
    t->perm = malloc(sizeof(int32_t) * (size_t)t->r.n[SB_SPLIT_TRAIN]);
    t->perm_epoch = -1;
    t->row = malloc(sizeof(int32_t) * (size_t)t->r.L);
    return &t->base;
}

void sb_h5_task_close(sb_task *bt) {
    h5_task *t = (h5_task *)bt;
    sb_h5ds_close(&t->r);
    for (int s = 0; s < SB_H5DS_SPLITS; s++) free(t->labels[s]);
    free(t->perm);
    free(t->row);
    free(t);
}
