#include "experiments/summary.h"
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "experiments/report.h"
#include "experiments/util.h"

static const char *const summary_fields[] = {
    "id", "variant", "task", "model", "seed", "status", "steps", "train_seconds", "final_train_loss",
    "dev_accuracy", "test_accuracy", "density", "density_per_layer_head", "flops_per_example",
    "flops_per_example_std", "peak_memory_bytes", "peak_memory_bytes_max", "cost_examples", "cost_method", "error"};

/* e with every summary field, null where it has none. */
static cJSON *with_all_fields(cJSON *e) {
    for (size_t i = 0; i < sizeof summary_fields / sizeof summary_fields[0]; i++)
        if (!cJSON_GetObjectItemCaseSensitive(e, summary_fields[i])) cJSON_AddNullToObject(e, summary_fields[i]);
    return e;
}

/* The status of a run folder without final.json, into e: failed when its
 * last attempt left a reason (then also its "error"), else interrupted or
 * not run by its checkpoint. */
static void add_unfinished_status(cJSON *e, const char *run_dir) {
    char *why = sb_run_error(run_dir), ckpt[4096];
    sb_path(ckpt, sizeof ckpt, "%s/checkpoint.bin", run_dir);
    cJSON_AddStringToObject(e, "status", why ? "failed" : sb_file_exists(ckpt) ? "interrupted" : "not_run");
    if (why) cJSON_AddStringToObject(e, "error", why);
    free(why);
}

/* The entry of a run folder no manifest here describes (the folder scan
 * below): its final.json when complete, else a stub from its config.json;
 * NULL if it has neither. Its id is the folder's name, which names it. */
static cJSON *folder_entry(const char *out_dir, const char *name) {
    char f[4400], err[512];
    snprintf(f, sizeof f, "%s/%s/final.json", out_dir, name);
    cJSON *e = sb_file_exists(f) ? sb_read_json(f, err, sizeof err) : NULL;
    if (!e) {
        snprintf(f, sizeof f, "%s/%s/config.json", out_dir, name);
        cJSON *cfg = sb_file_exists(f) ? sb_read_json(f, err, sizeof err) : NULL;
        if (!cfg) return NULL;
        e = cJSON_CreateObject();
        const char *keys[] = {"task", "model", "seed", "steps"};
        for (int i = 0; i < 4; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, keys[i]);
            if (v) cJSON_AddItemToObject(e, keys[i], cJSON_Duplicate(v, 1));
        }
        cJSON_Delete(cfg);
        snprintf(f, sizeof f, "%s/%s", out_dir, name);
        add_unfinished_status(e, f);
    }
    if (cJSON_GetObjectItemCaseSensitive(e, "id")) cJSON_ReplaceItemInObjectCaseSensitive(e, "id", cJSON_CreateString(name));
    else cJSON_AddStringToObject(e, "id", name);
    return with_all_fields(e);
}

/* A run's summary entry: its final.json when complete, else a stub with nulls
 * (and why it failed, when it did). */
static cJSON *run_entry(const sb_run_spec *r, const char *out_dir, const char *status_override) {
    char path[4096], err[512];
    sb_path(path, sizeof path, "%s/%s/final.json", out_dir, r->id);
    cJSON *e = sb_file_exists(path) ? sb_read_json(path, err, sizeof err) : NULL;
    if (!e) {
        char dir[4096];
        sb_path(dir, sizeof dir, "%s/%s", out_dir, r->id);
        e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "id", r->id);
        cJSON_AddStringToObject(e, "variant", r->variant);
        cJSON_AddStringToObject(e, "task", r->cfg.task);
        cJSON_AddStringToObject(e, "model", r->cfg.model);
        cJSON_AddNumberToObject(e, "seed", (double)r->cfg.seed);
        add_unfinished_status(e, dir);
        cJSON_AddNumberToObject(e, "steps", r->cfg.steps);
    }
    if (status_override) cJSON_ReplaceItemInObjectCaseSensitive(e, "status", cJSON_CreateString(status_override));
    return with_all_fields(e);
}

/* Whether id is among the sorted ids[n]. */
static int has_id(const char *const *ids, int n, const char *id) {
    return bsearch(&id, ids, (size_t)n, sizeof *ids, sb_cmp_strings) != NULL;
}

/* Runs another manifest left in this folder, appended to runs: rewriting the
 * summary must not drop them from the folder's results. They come from the
 * earlier summary.json (its entries for ids this manifest does not have) or,
 * when that is missing or unreadable, from the run folders (holding a
 * final.json or a config.json, as report's own fallback). Returns how many. */
static int keep_earlier_runs(cJSON *runs, const sb_manifest *m, const char *out_dir, const char *path) {
    const char **ids = malloc(sizeof(char *) * (size_t)(m->n_runs + 1));
    for (int i = 0; i < m->n_runs; i++) ids[i] = m->runs[i].id;
    qsort(ids, (size_t)m->n_runs, sizeof *ids, sb_cmp_strings);
    char err[512];
    cJSON *old = sb_file_exists(path) ? sb_read_json(path, err, sizeof err) : NULL;
    const cJSON *list = old ? cJSON_GetObjectItemCaseSensitive(old, "runs") : NULL;
    int kept = 0;
    if (cJSON_IsArray(list)) {
        for (const cJSON *e = list->child; e; e = e->next) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
            if (cJSON_IsString(id) && !has_id(ids, m->n_runs, id->valuestring))
                cJSON_AddItemToArray(runs, cJSON_Duplicate(e, 1)), kept++;
        }
    } else {
        DIR *d = opendir(out_dir);
        for (struct dirent *de; d && (de = readdir(d));) {
            if (de->d_name[0] == '.' || has_id(ids, m->n_runs, de->d_name)) continue;
            cJSON *e = folder_entry(out_dir, de->d_name);
            if (e) cJSON_AddItemToArray(runs, e), kept++;
        }
        if (d) closedir(d);
    }
    cJSON_Delete(old);
    free(ids);
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
    static int announced; /* the summary is rewritten after every run: say it once */
    const int kept = keep_earlier_runs(runs, m, out_dir, path);
    if (kept && !announced) {
        fprintf(stderr, "sbmbench: %s keeps %d run%s of an earlier manifest in this folder\n", path, kept,
                kept == 1 ? "" : "s");
        announced = 1;
    }
    int rc = sb_write_json_atomic(path, root, err, errlen);
    /* tables and figures: the same code as `sbmbench report` */
    if (!rc && sb_report_render(out_dir, root, stderr) < 0) {
        snprintf(err, errlen, "%s: writing the tables failed", out_dir);
        rc = -1;
    }
    cJSON_Delete(root);
    return rc ? -1 : 0;
}

int sb_summary_refresh(const char *out_dir, char *err, size_t errlen) {
    char path[4096];
    sb_path(path, sizeof path, "%s/summary.json", out_dir);
    cJSON *root = sb_file_exists(path) ? sb_read_json(path, err, errlen) : NULL;
    if (sb_file_exists(path) && !root) return -1;
    const cJSON *runs = root ? cJSON_GetObjectItemCaseSensitive(root, "runs") : NULL;
    int rc = 0;
    if (cJSON_IsArray(runs)) {
        for (cJSON *e = runs->child; e; e = e->next) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
            char f[4400];
            if (!cJSON_IsString(id)) continue;
            snprintf(f, sizeof f, "%s/%s/final.json", out_dir, id->valuestring);
            cJSON *fresh = sb_file_exists(f) ? folder_entry(out_dir, id->valuestring) : NULL;
            if (fresh) cJSON_ReplaceItemViaPointer((cJSON *)runs, e, fresh), e = fresh;
        }
        rc = sb_write_json_atomic(path, root, err, errlen);
    }
    if (!rc && sb_report_render(out_dir, root, stderr) < 0) {
        snprintf(err, errlen, "%s: writing the tables failed", out_dir);
        rc = -1;
    }
    cJSON_Delete(root);
    return rc ? -1 : 0;
}
