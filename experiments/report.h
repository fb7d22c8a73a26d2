/* Tables and figures of a results directory, from what its runs recorded.
 * `sbmbench run` calls sb_report_render after writing summary.json, and
 * `sbmbench report DIR` calls it on a directory on disk, so both produce the
 * same files:
 *   DIR/tables/{accuracy,runs,lambda,cost}.{md,csv,tex}, DIR/tables/README.md
 *   DIR/figures/NAME.{png,svg} and the gnuplot script + data of each
 * (experiments/report_tables.h, plots/figures.h). */
#ifndef SB_REPORT_H
#define SB_REPORT_H
#include <stdio.h>

struct cJSON;

/* summary: the summary.json object of dir, or NULL to read dir/summary.json
 * (or, failing that, the run directories). Problems (a run missing or
 * unreadable, gnuplot absent) are printed to log, one line each, and skipped.
 * Returns 0 when everything was rendered, 1 when something was left out, -1
 * when the tables could not be written (message printed). */
int sb_report_render(const char *dir, const struct cJSON *summary, FILE *log);

#endif
