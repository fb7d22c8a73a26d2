/* The report's figures, drawn with gnuplot from the results of a directory.
 * Each figure is figures/NAME.png (pngcairo) and NAME.svg, next to the
 * script that drew it (NAME.gp, rerunnable: `cd figures && gnuplot NAME.gp`)
 * and its data (data/NAME*.dat). The scripts are the templates in plots/NAME.gp
 * with the figure's variables prepended.
 *   training-TASK      loss and mask density against step (paper Figure 4)
 *   lambda-tradeoff    test accuracy against test density over sbm_lambda
 *   layer-density      mean ± std density per layer and task (Figure 5)
 *   maps-RUN           input image beside each head's key in-degree for the
 *                      lowest- and highest-density test examples (Figures 7/8) */
#ifndef SB_FIGURES_H
#define SB_FIGURES_H
#include <stdio.h>
#include "experiments/report_data.h"

/* Draws every figure the results support. Returns 0 when all were drawn, 1
 * when some were skipped, 2 when gnuplot is missing or the figures folder
 * could not be made (nothing drawn); each reason is printed to log. */
int sb_figures_render(const sb_results *r, const char *fig_dir, FILE *log);

#endif
