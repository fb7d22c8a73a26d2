/* Training, evaluation and testing of one run, with resumable checkpoints.
 *
 * Files in the run directory:
 *   config.json      the resolved configuration (written first)
 *   checkpoint.bin   params + AdamW moments + progress; removed when the run ends
 *   best.bin         parameters at the best dev accuracy (the model that is tested)
 *   metrics.h5       per-step train metrics and per-evaluation dev metrics
 *   final.json       the run's results; its presence means the run is complete
 * Every file is written to NAME.tmp and renamed. */
#ifndef SB_TRAIN_H
#define SB_TRAIN_H

#include <signal.h>
#include <stddef.h>
#include "experiments/manifest.h"
#include "experiments/measure.h"

typedef enum { SB_RUN_DONE, SB_RUN_INTERRUPTED, SB_RUN_FAILED } sb_run_status;

typedef struct {
    int resume;          /* continue from checkpoint.bin if present */
    int index, total;    /* for the progress display */
    int progress_tty;    /* redraw one line (\r) instead of printing lines */
} sb_train_opts;

/* Set by SIGINT/SIGTERM; the training loop checkpoints and returns at the
 * next step boundary. */
extern volatile sig_atomic_t sb_interrupted;
void sb_install_signal_handlers(void);

/* The model a run trains, from its configuration and task. */
sb_model_config sb_run_model_config(const sb_run_config *c, const sb_task *t);
/* The test batches a run evaluates: a finite test split whole (its last
 * batch padded), else the config's test_batches. */
int sb_run_test_batches(const sb_run_config *c, const sb_task *task);
/* The inference cost pass of a run's tested parameters (experiments/measure.h)
 * over those batches, per example (a pair task's two sequences together). */
void sb_run_measure_cost(const sb_run_config *c, sb_task *task, const sb_model_config *mc, const float *params,
                         sb_inference_cost *out);

sb_run_status sb_train_run(const sb_run_spec *spec, const char *run_dir, const sb_train_opts *o,
                           char *err, size_t errlen);

#endif
