/* The report's tables, each as tables/NAME.{md,csv,tex}:
 *   accuracy  test accuracy per model x task, mean ± std over seeds, with the
 *             test density in parentheses (paper Tables 1 and 8)
 *   runs      every variant's numbers: seeds, accuracies, density, loss,
 *             training time, inference FLOPs and peak memory
 *   lambda    accuracy (density) per sbm_lambda x task, when sbm_lambda was
 *             swept (paper Tables 2 and 9)
 *   cost      inference FLOPs and peak memory per example relative to full
 *             attention on the same task (paper Table 3), when measured
 * Markdown tables of one report also go, in that order, into tables/README.md. */
#ifndef SB_REPORT_TABLES_H
#define SB_REPORT_TABLES_H
#include <stddef.h>
#include "experiments/report_data.h"

int sb_report_tables(const sb_results *r, const char *tables_dir, char *err, size_t errlen);

#endif
