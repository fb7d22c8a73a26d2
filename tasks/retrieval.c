/* LRA Retrieval: does one AAN paper cite the other; shared-weight dual encoder over 2 x (4000 bytes + 96 padding).
 * Batches come from the HDF5 dataset (tasks/h5_task.c); see docs/lra.md for
 * how to make it. */
#include "experiments/config.h"
#include "tasks/h5_task.h"

extern const sb_task_ops sb_task_retrieval;

/* SBM paper Table 7 and SBM lra_config.py (retrieval block) */
static void retrieval_defaults(sb_run_config *c) {
    sb_h5_task_lra_defaults(c);
    c->seq_len = 4096;
    c->batch_size = 32;
    c->lr = 1e-4;
    c->warmup_steps = 800;
    c->steps = 30000;
    c->eval_every = 300;
    c->eval_batches = 565;
    c->checkpoint_every = 300;
}

static sb_task *retrieval_open(const sb_run_config *c, char *err, size_t errlen) {
    return sb_h5_task_open(&sb_task_retrieval, c, SB_TOKENS_TEXT, err, errlen);
}

const sb_task_ops sb_task_retrieval = {
    .name = "retrieval",
    .description = "LRA Retrieval: does one AAN paper cite the other; shared-weight dual encoder over 2 x (4000 bytes + 96 padding)",
    .defaults = retrieval_defaults,
    .open = retrieval_open,
    .close = sb_h5_task_close,
};
