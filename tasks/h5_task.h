/* A sequence-classification task backed by an HDF5 dataset in the project's
 * schema (data_prep/h5_dataset.h): the five LRA tasks share it and differ
 * only in their row of tasks/lra.c (sb_lra_setup): paper setup, whether
 * tokens are pixels, sequences per example, and which command makes the file.
 *
 * Batches: training walks a fresh permutation of the train split each epoch
 * (Philox-keyed by (seed, epoch), so a resumed run sees the same batches) in
 * whole micro-batches, skipping the last n mod B rows of each epoch's
 * permutation (the reference's per-example stream skips none: docs/lra.md); dev
 * batch i holds rows i*B.. (wrapping); test batch i holds rows i*B.. and is
 * padded past the end with unlabelled rows, so a test pass of
 * ceil(N/B) batches covers the whole split. Rows are read one hyperslab
 * each, truncated or zero-padded to seq_len; mask = (id != 0), as the
 * reference's loader. */
#ifndef SB_H5_TASK_H
#define SB_H5_TASK_H

#include "tasks/task.h"

struct sb_run_config;

typedef enum { SB_TOKENS_TEXT = 0, SB_TOKENS_PIXELS = 1 } sb_token_kind;

/* One LRA task (tasks/lra.c): its file's shape and its paper setup. */
typedef struct {
    sb_token_kind kind;
    int n_seqs;      /* sequences per example (Retrieval: 2 documents) */
    int generated;   /* its file comes from `sbmbench gen` (else `sbmbench prep`) */
    int seq_len, max_len; /* max_len 0: seq_len rounded up to a power of two */
    int batch_size, warmup_steps, steps, eval_every, eval_batches;
    double lr;
} sb_lra_setup;

/* Open cfg->data_file (default data/lra/<task>.h5) for task `ops`, whose row is `setup`. */
sb_task *sb_h5_task_open(const sb_task_ops *ops, const sb_lra_setup *setup, const struct sb_run_config *cfg,
                         char *err, size_t errlen);
void sb_h5_task_close(sb_task *t);
/* The LRA reference model every LRA task starts from, then the task's row
 * (checkpoints at each evaluation). */
void sb_h5_task_lra_defaults(struct sb_run_config *c, const sb_lra_setup *setup);

#endif
