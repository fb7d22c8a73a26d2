/* LRA ListOps: value (0-9) of a nested MIN/MAX/MED/SM expression; 2000 tokens + 48 padding.
 * Batches come from the HDF5 dataset (tasks/h5_task.c); see docs/lra.md for
 * how to make it. */
#include "experiments/config.h"
#include "tasks/h5_task.h"

extern const sb_task_ops sb_task_listops;

/* SBM paper Table 7 and SBM lra_config.py (listops block) */
static void listops_defaults(sb_run_config *c) {
    sb_h5_task_lra_defaults(c);
    c->seq_len = 2048;
    c->batch_size = 128;
    c->lr = 5e-4;
    c->warmup_steps = 1000;
    c->steps = 5000;
    c->eval_every = 50;
    c->eval_batches = 62;
    c->checkpoint_every = 50;
}

static sb_task *listops_open(const sb_run_config *c, char *err, size_t errlen) {
    return sb_h5_task_open(&sb_task_listops, c, SB_TOKENS_TEXT, err, errlen);
}

const sb_task_ops sb_task_listops = {
    .name = "listops",
    .description = "LRA ListOps: value (0-9) of a nested MIN/MAX/MED/SM expression; 2000 tokens + 48 padding",
    .defaults = listops_defaults,
    .open = listops_open,
    .close = sb_h5_task_close,
};
