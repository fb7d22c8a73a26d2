/* LRA Pathfinder-32: are the two markers joined by one dashed contour (32x32 pixels).
 * Batches come from the HDF5 dataset (tasks/h5_task.c); see docs/lra.md for
 * how to make it. */
#include "experiments/config.h"
#include "tasks/h5_task.h"

extern const sb_task_ops sb_task_pathfinder;

/* SBM paper Table 7 and SBM lra_config.py (pathfinder block) */
static void pathfinder_defaults(sb_run_config *c) {
    sb_h5_task_lra_defaults(c);
    c->seq_len = 1024;
    c->batch_size = 1024;
    c->lr = 5e-4;
    c->warmup_steps = 312;
    c->steps = 62400;
    c->eval_every = 312;
    c->eval_batches = 312;
    c->checkpoint_every = 312;
}

static sb_task *pathfinder_open(const sb_run_config *c, char *err, size_t errlen) {
    return sb_h5_task_open(&sb_task_pathfinder, c, SB_TOKENS_PIXELS, err, errlen);
}

const sb_task_ops sb_task_pathfinder = {
    .name = "pathfinder",
    .description = "LRA Pathfinder-32: are the two markers joined by one dashed contour (32x32 pixels)",
    .defaults = pathfinder_defaults,
    .open = pathfinder_open,
    .close = sb_h5_task_close,
};
