/* `sbmbench remeasure DIR [RUN ...]`: the inference cost pass again, with
 * this build's code, on complete runs' best-dev parameters.
 *
 * Why: a run's FLOPs and peak memory (the cost table, the paper's Table 3)
 * are measured once, when it ends; runs that ended before the cost pass last
 * changed carry numbers that are not comparable with newer ones (final.json's
 * cost_method, experiments/measure.h). Re-measuring needs no training: the
 * pass reads best.bin, config.json and the run's test data.
 *
 * What changes: final.json's cost fields (flops_per_example and _std,
 * peak_memory_bytes and _max, cost_examples, cost_method), metrics.h5's
 * /test/flops, /test/peak_bytes, /test/inference_density and /test/maps;
 * then summary.json's entries of those runs, and the tables and figures.
 * Accuracy, density and training curves are untouched. Every run's config,
 * files and named data file (a config's data_file; a task's default path is
 * only found when the run opens it) are checked before anything is written;
 * each file is replaced whole (metrics.h5 first, then final.json, so a run
 * interrupted between the two still reads as measured by the old pass), and
 * Ctrl-C removes the temporaries. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/atomic_file.h"
#include "core/backend.h"
#include "core/checkpoint.h"
#include "experiments/commands.h"
#include "experiments/config.h"
#include "experiments/metrics_h5.h"
#include "experiments/summary.h"
#include "experiments/train.h"
#include "experiments/util.h"
#include "tasks/task.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: sbmbench remeasure DIR [RUN ...]\n\n"
            "Runs the inference cost pass again, with this build, on the complete runs of the\n"
            "results folder DIR (or only the runs named): FLOPs and peak memory per test example\n"
            "and the density maps, from each run's best.bin, config.json and test data. Rewrites\n"
            "their cost fields in final.json (cost_method %d), the cost part of metrics.h5,\n"
            "summary.json, and the tables and figures. Accuracy, density and training curves are\n"
            "untouched. Data files are read from the paths in config.json, relative to the\n"
            "current directory (run it where the runs were trained). Use it on runs whose cost\n"
            "the tables mark as measured by an older pass.\n",
            SB_COST_METHOD);
}

/* One complete run to measure: its folder, configuration and task. */
typedef struct {
    char id[256], dir[4096];
    sb_run_config cfg;
} run_item;

/* The run folder DIR/id, checked: complete, with a readable config whose task
 * exists and whose data file (if any) is readable. 0 or a message in err. */
static int load_item(const char *dir, const char *id, run_item *it, char *err, size_t errlen) {
    char p[4400];
    snprintf(it->id, sizeof it->id, "%s", id);
    sb_path(it->dir, sizeof it->dir, "%s/%s", dir, id);
    sb_path(p, sizeof p, "%s/final.json", it->dir);
    if (!sb_file_exists(p)) {
        snprintf(err, errlen, "%.1024s: not a complete run (no final.json)", it->dir);
        return -1;
    }
    static const char *const needed[][2] = {{"best.bin", "the run's tested parameters"},
                                            {"metrics.h5", "the run's metrics, whose cost part is rewritten"}};
    for (int i = 0; i < 2; i++) {
        sb_path(p, sizeof p, "%s/%s", it->dir, needed[i][0]);
        if (!sb_file_exists(p)) {
            snprintf(err, errlen, "%.1024s: missing (%s)", p, needed[i][1]);
            return -1;
        }
    }
    sb_path(p, sizeof p, "%s/config.json", it->dir);
    cJSON *c = sb_read_json(p, err, errlen);
    if (!c) return -1;
    int rc = sb_config_from_json(c, p, &it->cfg, err, errlen);
    cJSON_Delete(c);
    if (rc) return -1;
    if (!sb_task_find(it->cfg.task)) {
        snprintf(err, errlen, "%.1024s: unknown task '%s'", p, it->cfg.task);
        return -1;
    }
    /* the file the run read: its data_file, or its task's default (as `run` checks) */
    const char *data = sb_task_data_file(sb_task_find(it->cfg.task), &it->cfg);
    const char *why = data ? sb_data_file_problem(data) : NULL;
    if (why) {
        snprintf(err, errlen, "%.1024s: data_file%s: %s: cannot read it: %s (run remeasure where the run was trained, "
                 "or make the data with 'sbmbench prep' or 'sbmbench gen')", p,
                 it->cfg.data_file[0] ? "" : " (the task's default)", data, why);
        return -1;
    }
    return 0;
}

/* The complete runs of dir (folders with a final.json), sorted by name. */
static int list_complete(const char *dir, run_item **items, int *n, char *err, size_t errlen) {
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: not a readable folder", dir);
        return -1;
    }
    char **names = NULL;
    int count = 0;
    for (struct dirent *de; (de = readdir(d));) {
        char f[4400];
        snprintf(f, sizeof f, "%s/%s/final.json", dir, de->d_name);
        if (de->d_name[0] == '.' || !sb_file_exists(f)) continue;
        names = realloc(names, sizeof(char *) * (size_t)(count + 1));
        names[count++] = strdup(de->d_name);
    }
    closedir(d);
    if (count) qsort(names, (size_t)count, sizeof *names, sb_cmp_strings); /* names is NULL when empty */
    *items = calloc((size_t)(count ? count : 1), sizeof **items);
    int rc = 0;
    for (int i = 0; i < count; i++) {
        if (!rc && load_item(dir, names[i], &(*items)[i], err, errlen)) rc = -1;
        free(names[i]);
    }
    free(names);
    *n = count;
    return rc;
}

/* Measure one run and replace its cost in metrics.h5 and final.json. */
static int remeasure_run(const run_item *it, char *err, size_t errlen) {
    const sb_run_config *c = &it->cfg;
    sb_task *task = sb_task_find(c->task)->open(c, err, errlen);
    if (!task) return -1;
    sb_backend *be = sb_backend_cpu_create(0);
    const sb_model_config mc = sb_run_model_config(c, task);
    sb_model *m = sb_model_create(be, &mc, 1, 0);
    char p[4400], fpath[4400], mpath[4400], tmp[4500];
    sb_path(p, sizeof p, "%s/best.bin", it->dir);
    sb_path(fpath, sizeof fpath, "%s/final.json", it->dir);
    sb_path(mpath, sizeof mpath, "%s/metrics.h5", it->dir);
    sb_ckpt_section best[1] = {{"params", sb_model_params(m), sizeof(float) * sb_model_num_params(m)}};
    cJSON *f = NULL;
    int rc = sb_checkpoint_read(p, best, 1, err, errlen);
    if (!rc) f = sb_read_json(fpath, err, errlen), rc = f ? 0 : -1;
    if (!rc) {
        sb_inference_cost cost;
        sb_run_measure_cost(c, task, &mc, sb_model_params(m), &cost);
        if (task->error[0]) {
            snprintf(err, errlen, "%s", task->error);
            rc = -1;
        }
        int slot = -1;
        if (!rc) rc = sb_metrics_cost_replaced(mpath, &cost, tmp, sizeof tmp, &slot, err, errlen);
        if (!rc) {
            if (sb_commit_written(tmp, mpath, err, errlen)) unlink(tmp), rc = -1;
            sb_temp_release(slot);
        }
        if (!rc) {
            sb_cost_to_json(f, &cost);
            rc = sb_write_json_atomic(fpath, f, err, errlen);
        }
        sb_inference_cost_free(&cost);
    }
    cJSON_Delete(f);
    sb_model_destroy(m);
    task->ops->close(task);
    sb_backend_destroy(be);
    return rc;
}

int sb_cmd_remeasure(int argc, char **argv) {
    if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc < 1 || argv[0][0] == '-') {
        usage(stderr);
        return 2;
    }
    const char *dir = argv[0];
    char err[2048];
    if (sb_is_dir(dir) && sb_dir_lock(dir, err, sizeof err)) { /* a run or report writing the folder now */
        fprintf(stderr, "sbmbench remeasure: %s\n", err);
        return 2;
    }
    sb_temp_remove_on_signal(); /* Ctrl-C leaves no metrics, final.json or table temporary */
    run_item *items = NULL;
    int n = 0, rc = 0;
    if (argc == 1) {
        rc = list_complete(dir, &items, &n, err, sizeof err);
    } else {
        n = argc - 1;
        items = calloc((size_t)n, sizeof *items);
        for (int i = 0; i < n && !rc; i++) rc = load_item(dir, argv[1 + i], &items[i], err, sizeof err);
    }
    if (!rc && n == 0) snprintf(err, sizeof err, "%s: no complete runs to measure", dir), rc = -1;
    if (rc) {
        fprintf(stderr, "sbmbench remeasure: %s\n", err);
        free(items);
        return 2;
    }
    int failed = 0;
    for (int i = 0; i < n; i++) {
        fprintf(stderr, "[%d/%d] %s: measuring\n", i + 1, n, items[i].id);
        if (remeasure_run(&items[i], err, sizeof err)) {
            fprintf(stderr, "sbmbench remeasure: run %s: %s\n", items[i].id, err);
            failed++;
        }
    }
    free(items);
    const int tables_bad = sb_summary_refresh(dir, err, sizeof err) != 0;
    if (tables_bad) fprintf(stderr, "sbmbench remeasure: %s\n", err);
    fprintf(stderr, "sbmbench remeasure: %d of %d run%s re-measured; tables in %s/tables/cost.md\n", n - failed, n,
            n == 1 ? "" : "s", dir);
    return failed || tables_bad ? 1 : 0;
}
