/* LRA Image: 10-class images as grayscale pixel sequences (CIFAR-10 32x32 as LRA, or Fashion-MNIST 28x28).
 * Batches come from the HDF5 dataset (tasks/h5_task.c); see docs/lra.md for
 * how to make it. */
#include "experiments/config.h"
#include "tasks/h5_task.h"

extern const sb_task_ops sb_task_image;

/* SBM paper Table 7 and SBM lra_config.py (image block) */
static void image_defaults(sb_run_config *c) {
    sb_h5_task_lra_defaults(c);
    c->seq_len = 1024;
    c->batch_size = 1024;
    c->lr = 5e-4;
    c->warmup_steps = 175;
    c->steps = 35000;
    c->eval_every = 175;
    c->eval_batches = 20;
    c->checkpoint_every = 175;
}

static sb_task *image_open(const sb_run_config *c, char *err, size_t errlen) {
    return sb_h5_task_open(&sb_task_image, c, SB_TOKENS_PIXELS, err, errlen);
}

const sb_task_ops sb_task_image = {
    .name = "image",
    .description = "LRA Image: 10-class images as grayscale pixel sequences (CIFAR-10 32x32 as LRA, or Fashion-MNIST 28x28)",
    .defaults = image_defaults,
    .open = image_open,
    .close = sb_h5_task_close,
};
