/* Experiment manifests: JSON files that expand into runs.
 *
 *   {
 *     "experiment": "name",                    required; names the output directory
 *     "description": "free text",              optional
 *     "tasks":  ["synthetic", ...],            required
 *     "models": ["full", ...],                 required (attention variants)
 *     "seeds":  [1, 2, 3],                     optional, default [1]
 *     "config": {"lr": 1e-3, "steps": [500, 1000]},   overrides for every run
 *     "task_config":  {"synthetic": {...}},    overrides for one task's runs
 *     "model_config": {"full": {...}}          overrides for one model's runs
 *   }
 *
 * Precedence: built-in defaults < the task's paper setup < config <
 * task_config < model_config. A key whose value is a list is a sweep: the runs
 * are the product of tasks x models x every swept list x seeds. Every key is
 * checked against the table in config.c before anything is written. */
#ifndef SB_MANIFEST_H
#define SB_MANIFEST_H

#include <stddef.h>
#include "experiments/config.h"

typedef struct {
    char id[256];      /* task-model[-key=value...]-s<seed>, unique, a directory name */
    char variant[256]; /* id without the seed: what tables group seeds by */
    sb_run_config cfg;
} sb_run_spec;

typedef struct {
    char experiment[128];
    char description[1024];
    int n_runs;
    sb_run_spec *runs;
} sb_manifest;

/* Parse text (name is the file name used in messages). 0 on success; on error
 * err holds "NAME: key.path: what is wrong". */
int sb_manifest_parse(const char *name, const char *text, sb_manifest *m, char *err, size_t errlen);
void sb_manifest_free(sb_manifest *m);

/* Each task's paper setup: the keys its defaults change, for `run --help`. */
void sb_config_print_task_defaults(void);

#endif
