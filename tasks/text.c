/* LRA Text: IMDB sentiment from bytes (id = byte + 1); 3000 bytes + 72 padding, as the SBM code.
 * Batches come from the HDF5 dataset (tasks/h5_task.c); see docs/lra.md for
 * how to make it. */
#include "experiments/config.h"
#include "tasks/h5_task.h"

extern const sb_task_ops sb_task_text;

/* SBM paper Table 7 and SBM lra_config.py (text block) */
static void text_defaults(sb_run_config *c) {
    sb_h5_task_lra_defaults(c);
    c->seq_len = 3072;
    c->max_len = 3072; /* run_tasks.py sets max_seq_len = 3072 for text, not the rounding up to 4096 */
    c->batch_size = 128;
    c->lr = 5e-4;
    c->warmup_steps = 8000;
    c->steps = 20000;
    c->eval_every = 500;
    c->eval_batches = 781;
    c->checkpoint_every = 500;
}

static sb_task *text_open(const sb_run_config *c, char *err, size_t errlen) {
    return sb_h5_task_open(&sb_task_text, c, SB_TOKENS_TEXT, err, errlen);
}

const sb_task_ops sb_task_text = {
    .name = "text",
    .description = "LRA Text: IMDB sentiment from bytes (id = byte + 1); 3000 bytes + 72 padding, as the SBM code",
    .defaults = text_defaults,
    .open = text_open,
    .close = sb_h5_task_close,
};
