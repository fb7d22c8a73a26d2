/* summary.json and the accuracy tables, rebuilt from the run directories on
 * disk (each run's final.json), so they always agree with what was measured.
 *
 * summary.json: {"experiment", "description", "runs": [{"id", "variant", "task",
 * "model", "seed", "status", "steps", "train_seconds", "final_train_loss",
 * "dev_accuracy", "test_accuracy", "density", "density_per_layer_head",
 * "flops_per_example", "peak_memory_bytes", ..., "error"}]}; fields a run
 * does not have are null. "error" is why a failed run failed (its
 * error.txt, experiments/util.h), so the reason outlives the run's stderr. Then the tables and figures (experiments/report.h), the
 * same code `sbmbench report` runs. */
#ifndef SB_SUMMARY_H
#define SB_SUMMARY_H
#include <stddef.h>
#include "experiments/manifest.h"

/* statuses[i] overrides run i's status when non-NULL (e.g. "failed"). */
int sb_summary_write(const sb_manifest *m, const char *out_dir, const char *const *statuses, char *err,
                     size_t errlen);

/* After runs' final.json changed on disk (sbmbench remeasure): their entries
 * in out_dir/summary.json, when it exists, are read again from final.json,
 * and the tables and figures rendered again. 0 on success; else a message in
 * err (tables that could not all be rendered are reported on stderr, as run
 * does). */
int sb_summary_refresh(const char *out_dir, char *err, size_t errlen);

#endif
