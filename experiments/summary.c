#include "experiments/summary.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "experiments/util.h"

static const char *const summary_fields[] = {
    "id", "variant", "task", "model", "seed", "status", "steps", "train_seconds", "final_train_loss",
    "dev_accuracy", "test_accuracy", "density", "density_per_layer_head", "flops_per_example",
    "peak_memory_bytes"};

/* A run's summary entry: its final.json when complete, else a stub with nulls. */
static cJSON *run_entry(const sb_run_spec *r, const char *out_dir, const char *status_override) {
    char path[4096], err[512];
    sb_path(path, sizeof path, "%s/%s/final.json", out_dir, r->id);
    cJSON *e = sb_file_exists(path) ? sb_read_json(path, err, sizeof err) : NULL;
    if (!e) {
        char ckpt[4096];
        sb_path(ckpt, sizeof ckpt, "%s/%s/checkpoint.bin", out_dir, r->id);
        e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "id", r->id);
        cJSON_AddStringToObject(e, "variant", r->variant);
        cJSON_AddStringToObject(e, "task", r->cfg.task);
        cJSON_AddStringToObject(e, "model", r->cfg.model);
        cJSON_AddNumberToObject(e, "seed", (double)r->cfg.seed);
        cJSON_AddStringToObject(e, "status", sb_file_exists(ckpt) ? "interrupted" : "not_run");
        cJSON_AddNumberToObject(e, "steps", r->cfg.steps);
    }
    if (status_override) cJSON_ReplaceItemInObjectCaseSensitive(e, "status", cJSON_CreateString(status_override));
    for (size_t i = 0; i < sizeof summary_fields / sizeof summary_fields[0]; i++)
        if (!cJSON_GetObjectItemCaseSensitive(e, summary_fields[i])) cJSON_AddNullToObject(e, summary_fields[i]);
    return e;
}

static double num(const cJSON *e, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

typedef struct {
    const char *variant, *task, *model;
    int n;
    double acc[256], dev_sum, loss_sum, secs_sum, dens_sum;
    int n_dens;
} group;

static void mean_std(const double *x, int n, double *mean, double *std) {
    double s = 0.0;
    for (int i = 0; i < n; i++) s += x[i];
    *mean = s / n;
    double v = 0.0;
    for (int i = 0; i < n; i++) v += (x[i] - *mean) * (x[i] - *mean);
    *std = n > 1 ? sqrt(v / (n - 1)) : NAN;
}

static int write_tables(const sb_manifest *m, cJSON *runs, const char *out_dir, char *err, size_t errlen) {
    group *g = calloc((size_t)m->n_runs, sizeof *g);
    int ng = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, runs) {
        const char *st = cJSON_GetObjectItemCaseSensitive(e, "status")->valuestring;
        if (!st || strcmp(st, "done") != 0) continue;
        const char *variant = cJSON_GetObjectItemCaseSensitive(e, "variant")->valuestring;
        int k = 0;
        while (k < ng && strcmp(g[k].variant, variant) != 0) k++;
        if (k == ng) {
            g[ng].variant = variant;
            g[ng].task = cJSON_GetObjectItemCaseSensitive(e, "task")->valuestring;
            g[ng].model = cJSON_GetObjectItemCaseSensitive(e, "model")->valuestring;
            ng++;
        }
        if (g[k].n < 256) {
            g[k].acc[g[k].n++] = 100.0 * num(e, "test_accuracy");
            g[k].dev_sum += 100.0 * num(e, "dev_accuracy");
            g[k].loss_sum += num(e, "final_train_loss");
            g[k].secs_sum += num(e, "train_seconds");
            double d = num(e, "density");
            if (!isnan(d)) g[k].dens_sum += 100.0 * d, g[k].n_dens++;
        }
    }
    size_t cap = 4096 + (size_t)ng * 512;
    char *md = malloc(cap), *csv = malloc(cap);
    int a = snprintf(md, cap,
                     "# %s: test accuracy\n\n%s%s"
                     "| run | task | model | seeds | test acc. (%%) | test density (%%) | dev acc. (%%) | final train loss | train s |\n"
                     "|---|---|---|---:|---:|---:|---:|---:|---:|\n",
                     m->experiment, m->description[0] ? m->description : "", m->description[0] ? "\n\n" : "");
    int b = snprintf(csv, cap, "run,task,model,seeds,test_accuracy_mean,test_accuracy_std,test_density_mean,dev_accuracy_mean,"
                               "final_train_loss_mean,train_seconds_mean\n");
    for (int k = 0; k < ng; k++) {
        double mean, std;
        mean_std(g[k].acc, g[k].n, &mean, &std);
        char pm[32] = "";
        if (g[k].n > 1) snprintf(pm, sizeof pm, " ± %.2f", std);
        char dens[32] = "—", dcsv[32] = "";
        if (g[k].n_dens) {
            snprintf(dens, sizeof dens, "%.2f", g[k].dens_sum / g[k].n_dens);
            snprintf(dcsv, sizeof dcsv, "%.4f", g[k].dens_sum / g[k].n_dens);
        }
        a += snprintf(md + a, cap - a, "| %s | %s | %s | %d | %.2f%s | %s | %.2f | %.4f | %.1f |\n", g[k].variant,
                      g[k].task, g[k].model, g[k].n, mean, pm, dens, g[k].dev_sum / g[k].n, g[k].loss_sum / g[k].n,
                      g[k].secs_sum / g[k].n);
        b += snprintf(csv + b, cap - b, "%s,%s,%s,%d,%.4f,%s,%s,%.4f,%.6f,%.2f\n", g[k].variant, g[k].task, g[k].model,
                      g[k].n, mean, g[k].n > 1 ? (snprintf(pm, sizeof pm, "%.4f", std), pm) : "", dcsv,
                      g[k].dev_sum / g[k].n, g[k].loss_sum / g[k].n, g[k].secs_sum / g[k].n);
    }
    if (ng == 0) snprintf(md + a, cap - a, "\n(no completed runs yet)\n");
    char dir[4096], p1[4096], p2[4096];
    sb_path(dir, sizeof dir, "%s/tables", out_dir);
    sb_path(p1, sizeof p1, "%s/accuracy.md", dir);
    sb_path(p2, sizeof p2, "%s/accuracy.csv", dir);
    int rc = sb_mkdir_p(dir, err, errlen) || sb_write_file_atomic(p1, md, err, errlen) ||
             sb_write_file_atomic(p2, csv, err, errlen);
    free(md), free(csv), free(g);
    return rc ? -1 : 0;
}

int sb_summary_write(const sb_manifest *m, const char *out_dir, const char *const *statuses, char *err,
                     size_t errlen) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "experiment", m->experiment);
    cJSON_AddStringToObject(root, "description", m->description);
    cJSON *runs = cJSON_AddArrayToObject(root, "runs");
    for (int i = 0; i < m->n_runs; i++)
        cJSON_AddItemToArray(runs, run_entry(&m->runs[i], out_dir, statuses ? statuses[i] : NULL));
    char path[4096];
    sb_path(path, sizeof path, "%s/summary.json", out_dir);
    int rc = sb_write_json_atomic(path, root, err, errlen) || write_tables(m, runs, out_dir, err, errlen);
    cJSON_Delete(root);
    return rc ? -1 : 0;
}
