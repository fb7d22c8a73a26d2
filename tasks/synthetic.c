/* The paper's synthetic task (§5.1, "finding repeated tokens"): a sequence of
 * N integers drawn uniformly from 1..N; each token's label is 1 if its value
 * occurs elsewhere in the sequence, else 0. Token-level binary classification.
 *
 * Nothing is stored: example e of split s is a pure function of
 * (seed, split, batch index, e), so every step gets fresh sequences, dev and
 * test sets are fixed (keyed by data_seed: runs with the same micro_batch,
 * eval_batches and test_batches are compared on the same examples; batches
 * are micro-batches, so a different micro_batch draws other ones), and a
 * resumed run sees the same data. */
#include <stdlib.h>
#include <string.h>
#include "core/philox.h"
#include "experiments/config.h"
#include "tasks/task.h"

typedef struct {
    sb_task base;
    uint64_t train_seed, eval_seed;
} synthetic_task;

static void synthetic_defaults(sb_run_config *c) {
    /* paper Table 7, SYNTHETIC column */
    c->seq_len = 256;
    c->n_layers = 1;
    c->n_heads = 1;
    c->d_model = 32;
    c->d_head = 32;
    c->d_ffn = 32;
    c->dropout = 0.0;
    c->attn_dropout = 0.0;
    c->batch_size = 256;
    c->lr = 1e-3;
    c->steps = 2000;
    c->warmup_steps = 200;
    c->eval_every = 100;
    c->eval_batches = 4;
    c->test_batches = 16;
}

/* Draw one sequence of n values in 1..n and label repeats. counts: scratch [n+1]. */
static void synthetic_example(sb_rng_stream s, int n, int32_t *ids, int32_t *labels, int *counts) {
    memset(counts, 0, sizeof(int) * (size_t)(n + 1));
    for (int t = 0; t < n; t += 4) {
        sb_philox_ctr r = sb_rng_block(&s, (uint32_t)(t / 4));
        for (int j = 0; j < 4 && t + j < n; j++) {
            int v = 1 + (int)sb_u32_below(r.v[j], (uint32_t)n);
            ids[t + j] = v;
            counts[v]++;
        }
    }
    for (int t = 0; t < n; t++) labels[t] = counts[ids[t]] > 1;
}

static void synthetic_batch(sb_task *bt, sb_split split, uint64_t index, int B, int32_t *ids,
                            float *mask, int32_t *labels) {
    synthetic_task *t = (synthetic_task *)bt;
    const int n = bt->seq_len;
    static const uint32_t purpose[3] = {SB_RNG_DATA_TRAIN, SB_RNG_DATA_DEV, SB_RNG_DATA_TEST};
    uint64_t seed = split == SB_SPLIT_TRAIN ? t->train_seed : t->eval_seed;
#pragma omp parallel
    {
        int *counts = malloc(sizeof(int) * (size_t)(n + 1));
#pragma omp for schedule(static)
        for (int b = 0; b < B; b++) {
            sb_rng_stream s = sb_rng_make(seed, purpose[split], (uint32_t)index, 0, 0, (uint32_t)b);
            synthetic_example(s, n, ids + (size_t)b * n, labels + (size_t)b * n, counts);
            for (int i = 0; i < n; i++) mask[(size_t)b * n + i] = 1.0f;
        }
        free(counts);
    }
}

extern const sb_task_ops sb_task_synthetic;

static sb_task *synthetic_open(const sb_run_config *c, char *err, size_t errlen) {
    (void)err, (void)errlen;
    synthetic_task *t = calloc(1, sizeof *t);
    t->base.ops = &sb_task_synthetic;
    t->base.seq_len = c->seq_len;
    t->base.vocab_size = c->seq_len + 1; /* 0 is padding, values 1..N */
    t->base.n_classes = 2;
    t->base.token_level = 1;
    t->base.split_size[SB_SPLIT_TRAIN] = -1;
    t->base.split_size[SB_SPLIT_DEV] = (int64_t)c->eval_batches * c->micro_batch;
    t->base.split_size[SB_SPLIT_TEST] = (int64_t)c->test_batches * c->micro_batch;
    t->base.batch = synthetic_batch;
    t->train_seed = (uint64_t)c->seed;
    t->eval_seed = (uint64_t)c->data_seed;
    return &t->base;
}

static void synthetic_close(sb_task *t) { free(t); }

const sb_task_ops sb_task_synthetic = {
    .name = "synthetic",
    .description = "repeated-token detection (paper §5.1): N tokens from 1..N, label 1 if repeated",
    .defaults = synthetic_defaults,
    .open = synthetic_open,
    .close = synthetic_close,
};
