/* Figure 5 of the paper: mask density per layer (mean over heads) and task,
 * mean ± std over the test examples, for the best unregularised (λ = 0) and
 * the best regularised (λ > 0) SBM variant of each task (best: highest mean
 * test accuracy), pooling the test examples of the variant's seeds
 * (metrics.h5 /test/density). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "experiments/metrics_h5.h"
#include "experiments/table.h"
#include "plots/plot_util.h"

#define MAX_LAYERS 64

/* Per layer mean and std over the group's test examples of the mean over heads. */
static int layer_stats(const sb_results *r, const sb_group *g, double *mean, double *std, FILE *log) {
    double s[MAX_LAYERS] = {0}, s2[MAX_LAYERS] = {0};
    long cnt = 0;
    int L = 0;
    for (int i = 0; i < r->n; i++) {
        const sb_report_run *a = &r->runs[i];
        if (!a->usable || strcmp(a->task, g->task) || strcmp(a->row, g->row) || a->L <= 0) continue;
        char path[4200], err[1024];
        snprintf(path, sizeof path, "%s/metrics.h5", a->dir);
        float *d;
        int rank;
        size_t dims[4];
        if (sb_h5_read_floats(path, "/test/density", &d, &rank, dims, err, sizeof err) || rank != 2 ||
            dims[1] != (size_t)a->L * a->H || a->L > MAX_LAYERS) {
            if (!d) fprintf(log, "sbmbench report: run %s: %s; left out of the layer-density figure\n", a->id, err);
            free(d);
            continue;
        }
        L = a->L;
        for (size_t x = 0; x < dims[0]; x++)
            for (int l = 0; l < L; l++) {
                double m = 0.0;
                for (int h = 0; h < a->H; h++) m += d[x * dims[1] + (size_t)l * a->H + h] / a->H;
                s[l] += m, s2[l] += m * m;
            }
        cnt += (long)dims[0];
        free(d);
    }
    for (int l = 0; l < L; l++) {
        mean[l] = s[l] / cnt;
        std[l] = cnt > 1 ? sqrt(fmax(0.0, (s2[l] - cnt * mean[l] * mean[l]) / (cnt - 1))) : 0.0;
    }
    return L;
}

int sb_fig_layer_density(const sb_results *r, const char *fig_dir, FILE *log) {
    sb_group *g;
    const char **tasks;
    int ng = sb_results_groups(r, &g), nt = sb_results_tasks(r, &tasks), rows = 0, have[2] = {0, 0};
    char err[1024], *names = NULL;
    FILE *f = NULL;
    for (int t = 0; t < nt; t++) {
        const sb_group *best[2] = {NULL, NULL}; /* [0]: λ = 0, [1]: λ > 0 */
        for (int i = 0; i < ng; i++) {
            if (strcmp(g[i].task, tasks[t]) || strcmp(g[i].model, "sbm") || isnan(g[i].dens_mean)) continue;
            int reg = g[i].sbm_lambda > 0;
            if (!best[reg] || g[i].acc_mean > best[reg]->acc_mean) best[reg] = &g[i];
        }
        double mean[2][MAX_LAYERS], std[2][MAX_LAYERS];
        int L[2] = {0, 0};
        for (int k = 0; k < 2; k++)
            if (best[k]) L[k] = layer_stats(r, best[k], mean[k], std[k], log);
        int Lmax = L[0] > L[1] ? L[0] : L[1];
        if (!Lmax) continue;
        if (!f && !(f = sb_plot_data_open(fig_dir, "layer-density.dat", err, sizeof err))) break;
        if (!rows) fprintf(f, "# task-layer  lambda0_mean lambda0_std  regularised_mean regularised_std (%%)\n");
        fprintf(f, "# %s: lambda = 0: %s; lambda > 0: %s\n", tasks[t], best[0] ? best[0]->row : "none",
                best[1] ? best[1]->row : "none");
        char safe[128];
        sb_plot_safe_name(safe, sizeof safe, tasks[t]);
        for (int l = 0; l < Lmax; l++) {
            fprintf(f, "%s:L%d", safe, l + 1);
            for (int k = 0; k < 2; k++) {
                if (l < L[k]) fprintf(f, " %.6g %.6g", 100 * mean[k][l], 100 * std[k][l]);
                else fprintf(f, " %s %s", SB_PLOT_NAN, SB_PLOT_NAN);
            }
            fprintf(f, "\n");
            rows++;
        }
        have[0] |= L[0] > 0, have[1] |= L[1] > 0;
        sb_strcatf(&names, "%s%s", names ? ", " : "", safe);
    }
    int rc = 0;
    if (f) fclose(f);
    if (rows) {
        char *vars = sb_strdupf("rows = %d\nhave0 = %d\nhave1 = %d\n", rows, have[0], have[1]);
        rc = sb_gnuplot_render(fig_dir, "layer-density", "layer_density", vars, 300 + 90 * (rows > 3 ? rows : 3), 500,
                               err, sizeof err);
        if (rc) fprintf(log, "sbmbench report: %s\n", err);
        free(vars);
    }
    free(names), free(g), free(tasks);
    return rc ? 1 : 0;
}
