/* Figure 4 of the paper: training loss (left) and mask density (right)
 * against step, one line per variant (mean over its seeds), one figure per
 * task. Per-step values are noisy, so each line is a centred running mean over
 * about 1% of the steps (the window is in the axis label). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "experiments/metrics_h5.h"
#include "experiments/table.h"
#include "plots/plot_util.h"

typedef struct {
    int S;           /* steps */
    double *step, *loss, *dens; /* [S]; dens NULL without a density */
} curve;

/* Mean over the group's seeds of /train/{step,loss,density}; S = 0 if none readable. */
static curve group_curve(const sb_results *r, const sb_group *g, FILE *log, int *skipped) {
    curve c = {0};
    int n = 0, nd = 0;
    for (int i = 0; i < r->n; i++) {
        const sb_report_run *a = &r->runs[i];
        if (!a->usable || strcmp(a->task, g->task) || strcmp(a->row, g->row)) continue;
        char path[4200], err[1024];
        snprintf(path, sizeof path, "%s/metrics.h5", a->dir);
        float *step, *loss, *dens = NULL;
        int rank;
        size_t ds[4], dl[4], dd[4];
        if (sb_h5_read_floats(path, "/train/step", &step, &rank, ds, err, sizeof err) ||
            sb_h5_read_floats(path, "/train/loss", &loss, &rank, dl, err, sizeof err)) {
            fprintf(log, "sbmbench report: run %s: %s; left out of its training figure\n", a->id, err);
            free(step);
            *skipped = 1;
            continue;
        }
        int S = (int)(ds[0] < dl[0] ? ds[0] : dl[0]);
        if (sb_h5_read_floats(path, "/train/density", &dens, &rank, dd, err, sizeof err) == 0) {
            if (rank != 2) { /* [steps, layers x heads] */
                fprintf(log, "sbmbench report: run %s: %s: /train/density has rank %d, not 2; left out of its "
                             "density curve\n", a->id, path, rank);
                free(dens), dens = NULL;
                *skipped = 1;
            } else if ((int)dd[0] < S) {
                S = (int)dd[0];
            }
        }
        if (n == 0 || S < c.S) c.S = S; /* seeds of one variant share their steps */
        if (n == 0) {
            c.step = calloc((size_t)S + 1, sizeof(double));
            c.loss = calloc((size_t)S + 1, sizeof(double));
        }
        if (dens && !c.dens) c.dens = calloc((size_t)S + 1, sizeof(double));
        for (int s = 0; s < c.S; s++) {
            c.step[s] = step[s];
            c.loss[s] += loss[s];
            if (dens) {
                double m = 0.0;
                for (size_t j = 0; j < dd[1]; j++) m += dens[(size_t)s * dd[1] + j] / (double)dd[1];
                c.dens[s] += m;
            }
        }
        n++, nd += dens != NULL;
        free(step), free(loss), free(dens);
    }
    for (int s = 0; s < c.S; s++) {
        c.loss[s] /= n;
        if (c.dens) c.dens[s] /= nd;
    }
    return c;
}

/* centred running mean of x over w points, at s */
static double smooth(const double *x, int S, int s, int w) {
    int a = s - w / 2, b = a + w;
    if (a < 0) a = 0;
    if (b > S) b = S;
    double m = 0.0;
    for (int i = a; i < b; i++) m += x[i];
    return m / (b - a);
}

static int draw_task(const sb_results *r, const sb_group *g, int ng, const char *task, const char *fig_dir, FILE *log) {
    char safe[128], name[256], err[1024];
    sb_plot_safe_name(safe, sizeof safe, task);
    snprintf(name, sizeof name, "training-%s", safe);
    char *titles = NULL, *dens = NULL;
    int k = 0, window = 1, skipped = 0;
    for (int i = 0; i < ng; i++) {
        if (strcmp(g[i].task, task)) continue;
        curve c = group_curve(r, &g[i], log, &skipped);
        if (c.S == 0) continue;
        if (k == 0) window = c.S / 100 > 1 ? c.S / 100 : 1;
        char file[300];
        snprintf(file, sizeof file, "%s-%d.dat", name, k + 1);
        FILE *f = sb_plot_data_open(fig_dir, file, err, sizeof err);
        if (!f) {
            fprintf(log, "sbmbench report: %s\n", err);
            free(c.step), free(c.loss), free(c.dens);
            continue;
        }
        fprintf(f, "# %s, task %s, mean over %d seed(s), running mean over %d steps\n# step loss density(%%)\n",
                g[i].row, task, g[i].n, window);
        for (int s = 0; s < c.S; s++) {
            fprintf(f, "%g %.6g ", c.step[s] + 1, smooth(c.loss, c.S, s, window));
            if (c.dens) fprintf(f, "%.6g\n", 100 * smooth(c.dens, c.S, s, window));
            else fprintf(f, "%s\n", SB_PLOT_NAN);
        }
        fclose(f);
        char row[256];
        sb_plot_safe_name(row, sizeof row, g[i].row);
        sb_strcatf(&titles, "%s%s", k ? " " : "", row);
        k++;
        if (c.dens) sb_strcatf(&dens, "%s%d", dens ? " " : "", k);
        free(c.step), free(c.loss), free(c.dens);
    }
    if (k == 0) {
        free(titles), free(dens);
        return skipped;
    }
    char *vars = sb_strdupf("name = \"%s\"\ntask = \"%s\"\nn = %d\ntitles = \"%s\"\ndens = \"%s\"\nwindow = %d\n", name,
                            safe, k, titles, dens ? dens : "", window);
    int rc = sb_gnuplot_render(fig_dir, name, "training", vars, 1400, 450, err, sizeof err);
    if (rc) fprintf(log, "sbmbench report: %s\n", err);
    free(vars), free(titles), free(dens);
    return rc || skipped ? 1 : 0;
}

int sb_fig_training(const sb_results *r, const char *fig_dir, FILE *log) {
    sb_group *g;
    const char **tasks;
    int ng = sb_results_groups(r, &g), nt = sb_results_tasks(r, &tasks), skipped = 0;
    for (int t = 0; t < nt; t++) skipped |= draw_task(r, g, ng, tasks[t], fig_dir, log);
    free(g), free(tasks);
    return skipped;
}
