/* Shared by the figure files of plots/: running gnuplot on a template and
 * writing data files. Internal to plots/. */
#ifndef SB_PLOT_UTIL_H
#define SB_PLOT_UTIL_H
#include <stddef.h>
#include <stdio.h>
#include "experiments/report_data.h"

/* 1 if a `gnuplot` with the pngcairo and svg terminals runs (checked once). */
int sb_gnuplot_available(void);

/* Write fig_dir/NAME.gp (terminal, the shared style, vars, then plots/TEMPLATE.gp) and
 * run it for PNG and SVG in fig_dir. width, height: pixels of the PNG. 0 on
 * success, else a message (with gnuplot's last complaint) in err. */
int sb_gnuplot_render(const char *fig_dir, const char *name, const char *template_name, const char *vars,
                      int width, int height, char *err, size_t errlen);

/* fopen fig_dir/data/NAME for writing (creating data/); NULL + message in err. */
FILE *sb_plot_data_open(const char *fig_dir, const char *name, char *err, size_t errlen);

/* A name safe for files and gnuplot strings: [A-Za-z0-9._=-], others become '_'. */
void sb_plot_safe_name(char *out, size_t cap, const char *in);

/* gnuplot's missing value in data files */
#define SB_PLOT_NAN "NaN"

/* ---- the figures (one file each); each returns 0 when drawn or not
 * applicable, 1 when skipped for a reason printed to log ---- */
int sb_fig_training(const sb_results *r, const char *fig_dir, FILE *log);       /* plots/fig_training.c */
int sb_fig_lambda(const sb_results *r, const char *fig_dir, FILE *log);         /* plots/fig_lambda.c */
int sb_fig_layer_density(const sb_results *r, const char *fig_dir, FILE *log);  /* plots/fig_layer_density.c */
int sb_fig_maps(const sb_results *r, const char *fig_dir, FILE *log);           /* plots/fig_maps.c */

#endif
