/* The five LRA tasks, one row each: what the task is, how its file is made,
 * and its paper setup (SBM paper Table 7 and the SBM code's lra_config.py;
 * the common model block is sb_h5_task_lra_defaults). Batches come from the
 * HDF5 dataset (tasks/h5_task.c); docs/lra.md says how to make each file. */
#include "experiments/config.h"
#include "tasks/h5_task.h"

/* One task's sb_task_ops from its row: defaults and open read the row. */
#define LRA_TASK(id, desc, ...)                                                                \
    static const sb_lra_setup id##_setup = {__VA_ARGS__};                                       \
    extern const sb_task_ops sb_task_##id;                                                      \
    static void id##_defaults(sb_run_config *c) { sb_h5_task_lra_defaults(c, &id##_setup); }    \
    static sb_task *id##_open(const sb_run_config *c, char *err, size_t errlen) {               \
        return sb_h5_task_open(&sb_task_##id, &id##_setup, c, err, errlen);                     \
    }                                                                                           \
    const sb_task_ops sb_task_##id = {.name = #id, .description = desc, .defaults = id##_defaults, \
                                      .open = id##_open, .close = sb_h5_task_close,             \
                                      .default_data_file = "data/lra/" #id ".h5"};

LRA_TASK(listops, "LRA ListOps: value (0-9) of a nested MIN/MAX/MED/SM expression; 2000 tokens + 48 padding",
         .kind = SB_TOKENS_TEXT, .n_seqs = 1, .generated = 1, .seq_len = 2048, .batch_size = 128, .lr = 5e-4,
         .warmup_steps = 1000, .steps = 5000, .eval_every = 50, .eval_batches = 62)

/* max_len 3072: run_tasks.py sets max_seq_len = 3072 for text, not the rounding up to 4096 */
LRA_TASK(text, "LRA Text: IMDB sentiment from bytes (id = byte + 1); 3000 bytes + 72 padding, as the SBM code",
         .kind = SB_TOKENS_TEXT, .n_seqs = 1, .seq_len = 3072, .max_len = 3072, .batch_size = 128, .lr = 5e-4,
         .warmup_steps = 8000, .steps = 20000, .eval_every = 500, .eval_batches = 781)

LRA_TASK(retrieval,
         "LRA Retrieval: does one AAN paper cite the other; shared-weight dual encoder over 2 x (4000 "
                        "bytes + 96 padding)",
         .kind = SB_TOKENS_TEXT, .n_seqs = 2, .seq_len = 4096, .batch_size = 32, .lr = 1e-4, .warmup_steps = 800,
         .steps = 30000, .eval_every = 300, .eval_batches = 565)

LRA_TASK(image,
         "LRA Image: 10-class images as grayscale pixel sequences (CIFAR-10 32x32 as LRA, or "
                        "Fashion-MNIST 28x28)",
         .kind = SB_TOKENS_PIXELS, .n_seqs = 1, .seq_len = 1024, .batch_size = 1024, .lr = 5e-4, .warmup_steps = 175,
         .steps = 35000, .eval_every = 175, .eval_batches = 20)

LRA_TASK(pathfinder,
         "LRA Pathfinder-32: are the two markers joined by one dashed contour (32x32 pixels)",
         .kind = SB_TOKENS_PIXELS, .n_seqs = 1, .generated = 1, .seq_len = 1024, .batch_size = 1024, .lr = 5e-4,
         .warmup_steps = 312, .steps = 62400, .eval_every = 312, .eval_batches = 312)
