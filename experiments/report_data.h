/* What `report` and the end of `run` render from: every run of a results
 * directory with its numbers, read from each run's final.json (the record of
 * a completed run) and config.json, and the runs grouped over seeds.
 *
 * A run listed as done whose files are missing or unreadable is a problem:
 * it is named in `problems` and left out; everything else is still rendered. */
#ifndef SB_REPORT_DATA_H
#define SB_REPORT_DATA_H
#include <stddef.h>
#include "experiments/measure.h" /* SB_COST_METHOD, the cost pass's version */

struct cJSON;

typedef struct {
    char id[256], variant[256], task[64], model[64], status[32];
    char row[256];          /* table row: the variant without its task ("sbm-sbm_lambda=0.1") */
    char dir[4096];         /* the run's directory */
    int seed, usable;       /* usable: completed and its final.json read */
    double test_acc, dev_acc, final_loss, train_s; /* accuracies as fractions */
    double density;         /* test density, NAN without one */
    double flops, flops_std, peak; /* inference cost per example (NAN if absent) */
    double cost_n;          /* cost_examples: examples the cost was measured on, NAN if absent */
    int cost_method;        /* the cost pass that measured it (SB_COST_METHOD), 0 if unrecorded */
    double sbm_lambda;      /* from config.json, NAN if absent */
    int L, H;               /* shape of density_lh */
    double *density_lh;     /* [L*H] test density per layer x head, NULL without */
} sb_report_run;

typedef struct {
    char experiment[128], dir[4096];
    char *description;
    int n;
    sb_report_run *runs;
    int n_problems, n_skipped;
    int from_summary;       /* the runs came from a summary (else from the run directories found) */
    char **problems;        /* "run ID: what is wrong" */
    char **skipped;         /* "ID (status)" for runs not completed */
} sb_results;

/* Runs as listed in a summary object ({"experiment", "description", "runs"}). */
void sb_results_from_summary(const char *dir, const struct cJSON *summary, sb_results *out);
/* A results directory: its summary.json, or (missing or unreadable, which is
 * then a problem) the run directories found in it. */
void sb_results_load(const char *dir, sb_results *out);
void sb_results_free(sb_results *r);
void sb_results_problem(sb_results *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Usable runs grouped over seeds by (task, row), in order of appearance. */
typedef struct {
    const char *task, *row, *model;
    int n;                  /* seeds */
    double acc_mean, acc_std, dens_mean, dens_std, dev_mean, loss_mean, secs_mean;
    /* cost over all measured examples of all seeds: the mean, and the pooled
     * sample std of the per-example FLOPs (sb_pooled_mean_std) */
    double flops_mean, flops_std, peak_mean, sbm_lambda;
    int cost_method;        /* the oldest cost pass among its seeds with a cost, -1 without any */
    const sb_report_run *first;
} sb_group;

int sb_results_groups(const sb_results *r, sb_group **out);
/* Distinct tasks of the usable runs, in order of appearance; returns the count. */
int sb_results_tasks(const sb_results *r, const char ***out);
/* mean and sample std of x[0..n) skipping NaNs; std NAN with fewer than 2 values */
void sb_mean_std(const double *x, int n, double *mean, double *std);
/* Mean and sample std of the union of k samples given as each one's mean m,
 * sample std s and size n (s may be NULL: only the mean); samples with a NaN
 * mean are skipped; std NAN with fewer than 2 values in all. */
void sb_pooled_mean_std(const double *m, const double *s, const double *n, int k, double *mean, double *std);
/* Whether some of the group's costs were measured by a pass older than
 * SB_COST_METHOD (not comparable with the current pass's, peak memory above all). */
int sb_group_cost_old(const sb_group *g);

#endif
