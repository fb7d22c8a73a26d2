/* `sbmbench report DIR` and the rendering that `run` shares. */
#include "experiments/report.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/atomic_file.h"
#include "experiments/commands.h"
#include "experiments/report_data.h"
#include "experiments/report_tables.h"
#include "experiments/util.h"
#include "plots/figures.h"

/* Each run the tables leave out as not completed, one line each to log: a
 * failed run with the reason its error.txt kept. */
static void name_unfinished(const sb_results *r, FILE *log) {
    for (int i = 0; i < r->n; i++) {
        const sb_report_run *run = &r->runs[i];
        if (run->usable || !strcmp(run->status, "done")) continue; /* done but unreadable: a problem, named */
        char *why = sb_run_error(run->dir);
        if (why) fprintf(log, "sbmbench report: run %s failed: %s\n", run->id, why);
        else fprintf(log, "sbmbench report: run %s not completed (%s)\n", run->id, run->status);
        free(why);
    }
}

/* sb_report_render; name_left_out: also name each run not completed (the
 * report command; `run` renders after every run, with most runs still to come).
 * *figures_made (if not NULL): whether the figures were rendered. */
static int render(const char *dir, const struct cJSON *summary, FILE *log, int name_left_out, int *figures_made) {
    sb_results r;
    if (summary) sb_results_from_summary(dir, summary, &r);
    else sb_results_load(dir, &r);
    if (name_left_out && !r.from_summary && r.n == 0) {
        /* most likely a parent folder (results/ instead of results/synthetic/): write nothing into it */
        fprintf(log, "sbmbench report: %s holds no usable summary.json and no run directories, so it is not a "
                     "results directory (an experiment's folder, such as %s/<experiment>/); nothing written\n",
                dir, dir);
        for (int i = 0; i < r.n_problems; i++) fprintf(log, "sbmbench report: %s\n", r.problems[i]);
        sb_results_free(&r);
        return 2;
    }
    char tables[4096], figures[4096], err[2048];
    sb_path(tables, sizeof tables, "%s/tables", dir);
    sb_path(figures, sizeof figures, "%s/figures", dir);
    int rc = 0;
    if (sb_report_tables(&r, tables, err, sizeof err)) {
        fprintf(log, "sbmbench: %s\n", err);
        rc = -1;
    }
    int fig = sb_figures_render(&r, figures, log);
    if (figures_made) *figures_made = fig != 2;
    for (int i = 0; i < r.n_problems; i++) fprintf(log, "sbmbench report: %s\n", r.problems[i]);
    if (name_left_out) name_unfinished(&r, log);
    /* a run failed, interrupted or not yet run is left out of the tables as
     * surely as a broken one: the report is not the whole experiment's */
    if (rc == 0 && (r.n_problems || r.n_skipped || fig)) rc = 1;
    sb_results_free(&r);
    return rc;
}

int sb_report_render(const char *dir, const struct cJSON *summary, FILE *log) {
    return render(dir, summary, log, 0, NULL);
}

static void usage(FILE *f) {
    fprintf(f, "usage: sbmbench report RESULTS_DIR\n\n"
               "Regenerates the tables and figures of a results directory (what `sbmbench run`\n"
               "writes at its end) from its summary.json and each run's final.json, config.json\n"
               "and metrics.h5:\n"
               "  DIR/tables/{accuracy,runs,lambda,cost}.{md,csv,tex}   (lambda: sbm_lambda swept;\n"
               "                                                      cost: inference cost measured)\n"
               "  DIR/figures/NAME.{png,svg}   with the gnuplot script and data of each\n\n"
               "A run that is missing, unreadable, failed (with the reason it kept) or not\n"
               "completed is named on stderr and left out; the rest is still rendered (exit\n"
               "status 1). Without gnuplot the tables are still written (exit status 1).\n"
               "See docs/report.md.\n");
}

int sb_cmd_report(int argc, char **argv) {
    if (argc == 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc != 1 || argv[0][0] == '-') {
        usage(stderr);
        return 2;
    }
    if (!sb_is_dir(argv[0])) {
        fprintf(stderr, "sbmbench report: %s: %s\n", argv[0],
                sb_file_exists(argv[0]) ? "not a directory (pass a results directory)" : "no such directory");
        return 2;
    }
    char err[2048];
    if (sb_dir_lock(argv[0], err, sizeof err)) { /* a run or remeasure writing the folder now */
        fprintf(stderr, "sbmbench report: %s\n", err);
        return 2;
    }
    sb_temp_remove_on_signal(); /* Ctrl-C leaves no table or figure temporary */
    int figures_made = 0;
    int rc = render(argv[0], NULL, stderr, 1, &figures_made);
    if ((rc == 0 || rc == 1) && figures_made)
        fprintf(stderr, "sbmbench report: tables in %s/tables/, figures in %s/figures/\n", argv[0], argv[0]);
    else if (rc == 0 || rc == 1)
        fprintf(stderr, "sbmbench report: tables in %s/tables/, no figures\n", argv[0]);
    return rc < 0 ? 1 : rc;
}
