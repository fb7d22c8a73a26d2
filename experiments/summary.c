#include "experiments/summary.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "experiments/report.h"
#include "experiments/util.h"

static const char *const summary_fields[] = {
    "id", "variant", "task", "model", "seed", "status", "steps", "train_seconds", "final_train_loss",
    "dev_accuracy", "test_accuracy", "density", "density_per_layer_head", "flops_per_example",
    "flops_per_example_std", "peak_memory_bytes", "peak_memory_bytes_max"};

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

/* The entries of the folder's earlier summary.json for runs this manifest
 * does not have (another manifest run into the same --out), appended to runs:
 * rewriting the summary must not drop them from the folder's results. An
 * unreadable earlier summary adds nothing (report falls back to the run
 * folders). Returns how many. */
static int keep_earlier_runs(cJSON *runs, const sb_manifest *m, const char *path) {
    char err[512];
    cJSON *old = sb_file_exists(path) ? sb_read_json(path, err, sizeof err) : NULL;
    const cJSON *list = old ? cJSON_GetObjectItemCaseSensitive(old, "runs") : NULL;
    int kept = 0;
    if (cJSON_IsArray(list))
        for (const cJSON *e = list->child; e; e = e->next) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
            if (!cJSON_IsString(id)) continue;
            int ours = 0;
            for (int i = 0; i < m->n_runs && !ours; i++) ours = !strcmp(m->runs[i].id, id->valuestring);
            if (!ours) cJSON_AddItemToArray(runs, cJSON_Duplicate(e, 1)), kept++;
        }
    cJSON_Delete(old);
    return kept;
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
    const int kept = keep_earlier_runs(runs, m, path);
    if (kept && statuses) /* once, at the end */
        fprintf(stderr, "sbmbench: %s keeps %d run%s of an earlier manifest in this folder\n", path, kept,
                kept == 1 ? "" : "s");
    int rc = sb_write_json_atomic(path, root, err, errlen);
    /* tables and figures: the same code as `sbmbench report` */
    if (!rc && sb_report_render(out_dir, root, stderr) < 0) {
        snprintf(err, errlen, "%s: writing the tables failed", out_dir);
        rc = -1;
    }
    cJSON_Delete(root);
    return rc ? -1 : 0;
}
