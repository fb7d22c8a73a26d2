#include "plots/figures.h"
#include "experiments/util.h"
#include "plots/plot_util.h"

int sb_figures_render(const sb_results *r, const char *fig_dir, FILE *log) {
    if (!sb_gnuplot_available()) {
        static int said; /* once per process: `run` renders after every run */
        if (!said++)
            fprintf(log, "sbmbench report: gnuplot (with the pngcairo and svg terminals) not found: figures skipped, "
                         "tables written. Install it (Debian: apt-get install gnuplot-nox) and run "
                         "`sbmbench report %s`\n", r->dir);
        return 2;
    }
    char err[1024];
    if (sb_mkdir_p(fig_dir, err, sizeof err)) {
        fprintf(log, "sbmbench report: %s\n", err);
        return 2;
    }
    int (*const figs[])(const sb_results *, const char *, FILE *) = {sb_fig_training, sb_fig_lambda,
                                                                     sb_fig_layer_density, sb_fig_maps};
    int skipped = 0;
    for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++) skipped |= figs[i](r, fig_dir, log);
    return skipped;
}
