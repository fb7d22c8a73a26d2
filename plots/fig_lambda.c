/* The accuracy/density trade-off of a sbm_lambda sweep: test accuracy against
 * test density (mean ± std over seeds), one line per task through its λ
 * values, each point labelled with λ; full attention's accuracy on the task
 * as a dashed line. Drawn when some task has SBM runs at two or more λ. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "experiments/table.h"
#include "plots/plot_util.h"

static int by_lambda(const void *a, const void *b) {
    const sb_group *x = *(const sb_group *const *)a, *y = *(const sb_group *const *)b;
    return (x->sbm_lambda > y->sbm_lambda) - (x->sbm_lambda < y->sbm_lambda);
}

int sb_fig_lambda(const sb_results *r, const char *fig_dir, FILE *log) {
    sb_group *g;
    const char **tasks;
    int ng = sb_results_groups(r, &g), nt = sb_results_tasks(r, &tasks), k = 0;
    const sb_group **sel = calloc((size_t)ng + 1, sizeof *sel);
    char *titles = NULL, *refs = NULL, err[1024];
    for (int t = 0; t < nt; t++) {
        int ns = 0;
        const sb_group *full = NULL;
        for (int i = 0; i < ng; i++) {
            if (strcmp(g[i].task, tasks[t])) continue;
            if (!strcmp(g[i].model, "sbm") && !isnan(g[i].sbm_lambda) && !isnan(g[i].dens_mean)) sel[ns++] = &g[i];
            if (!strcmp(g[i].model, "full") && !full) full = &g[i];
        }
        qsort(sel, (size_t)ns, sizeof *sel, by_lambda);
        if (ns < 2 || sel[0]->sbm_lambda == sel[ns - 1]->sbm_lambda) continue;
        char safe[128], file[256];
        sb_plot_safe_name(safe, sizeof safe, tasks[t]);
        snprintf(file, sizeof file, "lambda-tradeoff-%d.dat", k + 1);
        FILE *f = sb_plot_data_open(fig_dir, file, err, sizeof err);
        if (!f) break;
        fprintf(f, "# task %s: one line per SBM variant, by sbm_lambda; mean and std over seeds, in %%\n"
                   "# lambda density density_std accuracy accuracy_std variant\n", tasks[t]);
        for (int i = 0; i < ns; i++)
            fprintf(f, "%g %.6g %.6g %.6g %.6g %s\n", sel[i]->sbm_lambda, 100 * sel[i]->dens_mean,
                    isnan(sel[i]->dens_std) ? 0.0 : 100 * sel[i]->dens_std, 100 * sel[i]->acc_mean,
                    isnan(sel[i]->acc_std) ? 0.0 : 100 * sel[i]->acc_std, sel[i]->row);
        fclose(f);
        k++;
        sb_strcatf(&titles, "%s%s", k > 1 ? " " : "", safe);
        if (full) /* full attention's accuracy: a dashed line in the task's colour */
            sb_strcatf(&refs,
                       "set arrow from graph 0, first %.6g to graph 1, first %.6g nohead dt 2 lw 1.5 lc %d\n"
                       "set label \"full attention (%s)\" at graph 0.98, first %.6g right offset 0,0.6 tc lt %d "
                       "font \",10\" noenhanced\n",
                       100 * full->acc_mean, 100 * full->acc_mean, k, safe, 100 * full->acc_mean, k);
    }
    int rc = 0;
    if (k > 0) {
        char *vars = sb_strdupf("n = %d\ntitles = \"%s\"\n%s", k, titles, refs ? refs : "");
        rc = sb_gnuplot_render(fig_dir, "lambda-tradeoff", "lambda", vars, 900, 600, err, sizeof err);
        if (rc) fprintf(log, "sbmbench report: %s\n", err);
        free(vars);
    }
    free(titles), free(refs), free(sel), free(g), free(tasks);
    return rc ? 1 : 0;
}
