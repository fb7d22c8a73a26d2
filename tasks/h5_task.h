/* A sequence-classification task backed by an HDF5 dataset in the project's
 * schema (data_prep/h5_dataset.h): the five LRA tasks share it and differ
 * only in their paper setup (defaults) and whether tokens are pixels.
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

/* Open cfg->data_file (default data/lra/<task>.h5) for task `ops`. */
sb_task *sb_h5_task_open(const sb_task_ops *ops, const struct sb_run_config *cfg, sb_token_kind kind, char *err,
                         size_t errlen);
void sb_h5_task_close(sb_task *t);
/* The LRA reference model and loop settings every LRA task starts from. */
void sb_h5_task_lra_defaults(struct sb_run_config *c);

#endif
