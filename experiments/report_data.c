#include "experiments/report_data.h"
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stddef.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "experiments/table.h"
#include "experiments/util.h"

void sb_results_problem(sb_results *r, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->problems = realloc(r->problems, sizeof(char *) * (size_t)(r->n_problems + 1));
    r->problems[r->n_problems++] = sb_strdupf("%s", msg);
}

static const char *str(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void copy(char *dst, size_t cap, const char *src) { snprintf(dst, cap, "%s", src ? src : ""); }

/* Identity fields from a summary entry, final.json or config.json (whichever has them). */
static void take_identity(sb_report_run *run, const cJSON *o) {
    if (str(o, "id")) copy(run->id, sizeof run->id, str(o, "id"));
    if (str(o, "variant")) copy(run->variant, sizeof run->variant, str(o, "variant"));
    if (str(o, "task")) copy(run->task, sizeof run->task, str(o, "task"));
    if (str(o, "model")) copy(run->model, sizeof run->model, str(o, "model"));
    if (str(o, "status")) copy(run->status, sizeof run->status, str(o, "status"));
    if (!isnan(num(o, "seed"))) run->seed = (int)num(o, "seed");
}

static void take_numbers(sb_report_run *run, const cJSON *f) {
    run->test_acc = num(f, "test_accuracy");
    run->dev_acc = num(f, "dev_accuracy");
    run->final_loss = num(f, "final_train_loss");
    run->train_s = num(f, "train_seconds");
    run->density = num(f, "density");
    run->flops = num(f, "flops_per_example");
    run->flops_std = num(f, "flops_per_example_std");
    run->peak = num(f, "peak_memory_bytes");
    run->cost_n = num(f, "cost_examples");
    const double method = num(f, "cost_method");
    run->cost_method = isnan(method) ? 0 : (int)method; /* absent: a pass from before the key */
    const cJSON *lh = cJSON_GetObjectItemCaseSensitive(f, "density_per_layer_head");
    int L = cJSON_IsArray(lh) ? cJSON_GetArraySize(lh) : 0;
    int H = L ? cJSON_GetArraySize(cJSON_GetArrayItem(lh, 0)) : 0;
    if (L && H) {
        run->L = L, run->H = H;
        run->density_lh = malloc(sizeof(double) * (size_t)L * H);
        for (int l = 0; l < L; l++)
            for (int h = 0; h < H; h++)
                run->density_lh[l * H + h] = cJSON_GetArrayItem(cJSON_GetArrayItem(lh, l), h)
                                                 ? cJSON_GetArrayItem(cJSON_GetArrayItem(lh, l), h)->valuedouble
                                                 : NAN;
    }
}

/* Fill one run from its directory; entry (may be NULL) is its summary entry. */
static void load_run(sb_results *r, sb_report_run *run, const cJSON *entry) {
    char path[4096], err[1024];
    run->test_acc = run->dev_acc = run->final_loss = run->train_s = run->density = NAN;
    run->flops = run->flops_std = run->peak = run->cost_n = run->sbm_lambda = NAN;
    if (entry) take_identity(run, entry);
    sb_path(run->dir, sizeof run->dir, "%s/%s", r->dir, run->id);
    sb_path(path, sizeof path, "%s/config.json", run->dir);
    cJSON *cfg = sb_file_exists(path) ? sb_read_json(path, err, sizeof err) : NULL;
    if (cfg) {
        run->sbm_lambda = num(cfg, "sbm_lambda");
        if (!run->task[0]) take_identity(run, cfg);
        cJSON_Delete(cfg);
    }
    sb_path(path, sizeof path, "%s/final.json", run->dir);
    const int claimed_done = !strcmp(run->status, "done");
    if (!sb_file_exists(path)) {
        if (claimed_done)
            sb_results_problem(r, "run %s: listed as done but %s is missing", run->id,
                               sb_file_exists(run->dir) ? "final.json" : "its directory");
        else if (!run->status[0])
            copy(run->status, sizeof run->status, "not_run");
        return;
    }
    cJSON *f = sb_read_json(path, err, sizeof err);
    if (!f || !cJSON_IsObject(f) || isnan(num(f, "test_accuracy"))) {
        sb_results_problem(r, "run %s: final.json unreadable (%s)", run->id, f ? "no test_accuracy" : err);
        cJSON_Delete(f);
        return;
    }
    take_identity(run, f);
    take_numbers(run, f);
    cJSON_Delete(f);
    run->usable = !strcmp(run->status, "done");
}

/* The row label: the variant without its leading "task-". */
static void set_row(sb_report_run *run) {
    if (!run->variant[0]) { /* a run found on disk without a summary: its id without "-sSEED" */
        copy(run->variant, sizeof run->variant, run->id);
        char *s = strrchr(run->variant, '-');
        if (s && s[1] == 's') *s = 0;
    }
    size_t tl = strlen(run->task);
    const char *v = run->variant;
    if (tl && !strncmp(v, run->task, tl) && v[tl] == '-') v += tl + 1;
    copy(run->row, sizeof run->row, v);
}

static void finish(sb_results *r) {
    for (int i = 0; i < r->n; i++) {
        sb_report_run *run = &r->runs[i];
        set_row(run);
        if (!run->usable && strcmp(run->status, "done")) {
            r->skipped = realloc(r->skipped, sizeof(char *) * (size_t)(r->n_skipped + 1));
            r->skipped[r->n_skipped++] = sb_strdupf("%s (%s)", run->id, run->status[0] ? run->status : "unknown");
        }
    }
}

void sb_results_from_summary(const char *dir, const cJSON *summary, sb_results *out) {
    memset(out, 0, sizeof *out);
    copy(out->dir, sizeof out->dir, dir);
    copy(out->experiment, sizeof out->experiment, str(summary, "experiment"));
    out->description = sb_strdupf("%s", str(summary, "description") ? str(summary, "description") : "");
    out->from_summary = 1;
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(summary, "runs");
    int n = cJSON_IsArray(runs) ? cJSON_GetArraySize(runs) : 0;
    out->runs = calloc((size_t)n + 1, sizeof *out->runs);
    const cJSON *e;
    cJSON_ArrayForEach(e, runs) {
        if (!str(e, "id")) {
            sb_results_problem(out, "summary.json: a run without an id");
            continue;
        }
        load_run(out, &out->runs[out->n++], e);
    }
    finish(out);
}

void sb_results_load(const char *dir, sb_results *out) {
    char path[4096], err[1024];
    sb_path(path, sizeof path, "%s/summary.json", dir);
    cJSON *s = sb_file_exists(path) ? sb_read_json(path, err, sizeof err) : NULL;
    if (s && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(s, "runs"))) {
        sb_results_from_summary(dir, s, out);
        cJSON_Delete(s);
        return;
    }
    cJSON_Delete(s);
    /* no usable summary: every subdirectory holding a config.json or final.json is a run */
    memset(out, 0, sizeof *out);
    copy(out->dir, sizeof out->dir, dir);
    const char *base = strrchr(dir, '/');
    copy(out->experiment, sizeof out->experiment, base && base[1] ? base + 1 : dir);
    out->description = sb_strdupf("%s", "");
    DIR *d = opendir(dir);
    char **names = NULL;
    int n = 0;
    for (struct dirent *de; d && (de = readdir(d));) {
        char a[4096], b[4096];
        sb_path(a, sizeof a, "%s/%s/config.json", dir, de->d_name);
        sb_path(b, sizeof b, "%s/%s/final.json", dir, de->d_name);
        if (de->d_name[0] != '.' && (sb_file_exists(a) || sb_file_exists(b))) {
            names = realloc(names, sizeof(char *) * (size_t)(n + 1));
            names[n++] = sb_strdupf("%s", de->d_name);
        }
    }
    if (d) closedir(d);
    if (n) qsort(names, (size_t)n, sizeof *names, sb_cmp_strings); /* names is NULL when there are none */
    sb_results_problem(out, n ? "%s: %s; reporting the run directories found" : "%s: %s, and no run directories",
                       path, sb_file_exists(path) ? "unreadable" : "missing");
    out->runs = calloc((size_t)n + 1, sizeof *out->runs);
    for (int i = 0; i < n; i++) {
        sb_report_run *run = &out->runs[out->n++];
        copy(run->id, sizeof run->id, names[i]);
        load_run(out, run, NULL);
        free(names[i]);
    }
    free(names);
    finish(out);
}

void sb_results_free(sb_results *r) {
    for (int i = 0; i < r->n; i++) free(r->runs[i].density_lh);
    for (int i = 0; i < r->n_problems; i++) free(r->problems[i]);
    for (int i = 0; i < r->n_skipped; i++) free(r->skipped[i]);
    free(r->runs), free(r->problems), free(r->skipped), free(r->description);
    memset(r, 0, sizeof *r);
}

void sb_mean_std(const double *x, int n, double *mean, double *std) {
    double s = 0.0, v = 0.0;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(x[i])) s += x[i], k++;
    *mean = k ? s / k : NAN;
    for (int i = 0; i < n; i++)
        if (!isnan(x[i])) v += (x[i] - *mean) * (x[i] - *mean);
    *std = k > 1 ? sqrt(v / (k - 1)) : NAN;
}

void sb_pooled_mean_std(const double *m, const double *s, const double *n, int k, double *mean, double *std) {
    double total = 0.0, sum = 0.0, ss = 0.0;
    for (int r = 0; r < k; r++)
        if (!isnan(m[r])) total += n[r], sum += n[r] * m[r];
    *mean = total > 0 ? sum / total : NAN;
    for (int r = 0; r < k && s; r++) /* within each sample, then between the samples' means */
        if (!isnan(m[r])) ss += (n[r] - 1) * s[r] * s[r] + n[r] * (m[r] - *mean) * (m[r] - *mean);
    if (std) *std = s && total > 1 ? sqrt(ss / (total - 1)) : NAN;
}

int sb_group_cost_old(const sb_group *g) { return g->cost_method >= 0 && g->cost_method < SB_COST_METHOD; }

static int same_group(const sb_report_run *a, const sb_report_run *b) {
    return b->usable && !strcmp(b->task, a->task) && !strcmp(b->row, a->row);
}

/* The group's cost from its seeds from runs[first] on: FLOPs and peak memory
 * over all their measured examples, and the oldest pass that measured them.
 * A run without cost_examples (measured before the count was recorded, and
 * before flops_per_example_std and /test/flops, so nothing else tells its
 * spread) counts as one example at its mean: n 1, std 0. */
static void group_cost(const sb_results *r, int first, sb_group *g) {
    const sb_report_run *a = &r->runs[first];
    double *buf = malloc(sizeof(double) * 4 * ((size_t)r->n + 1));
    double *flops = buf, *sd = flops + r->n + 1, *n = sd + r->n + 1, *peak = n + r->n + 1;
    int k = 0;
    g->cost_method = -1;
    for (int j = first; j < r->n; j++) {
        const sb_report_run *b = &r->runs[j];
        if (!same_group(a, b) || (isnan(b->flops) && isnan(b->peak))) continue;
        const int counted = b->cost_n >= 1;
        flops[k] = b->flops, peak[k] = b->peak;
        n[k] = counted ? b->cost_n : 1;
        sd[k] = counted && !isnan(b->flops_std) ? b->flops_std : 0.0;
        k++;
        if (g->cost_method < 0 || b->cost_method < g->cost_method) g->cost_method = b->cost_method;
    }
    sb_pooled_mean_std(flops, sd, n, k, &g->flops_mean, &g->flops_std);
    sb_pooled_mean_std(peak, NULL, n, k, &g->peak_mean, NULL);
    free(buf);
}

int sb_results_groups(const sb_results *r, sb_group **out) {
    sb_group *g = calloc((size_t)r->n + 1, sizeof *g);
    double *x = malloc(sizeof(double) * ((size_t)r->n + 1));
    int ng = 0;
    for (int i = 0; i < r->n; i++) {
        const sb_report_run *a = &r->runs[i];
        if (!a->usable) continue;
        int k = 0;
        while (k < ng && (strcmp(g[k].task, a->task) || strcmp(g[k].row, a->row))) k++;
        if (k < ng) continue; /* filled when its first run was met */
        g[ng] = (sb_group){.task = a->task, .row = a->row, .model = a->model, .first = a, .sbm_lambda = a->sbm_lambda};
        /* one statistic over the group's seeds at a time */
        const size_t offs[] = {offsetof(sb_report_run, test_acc), offsetof(sb_report_run, density),
                               offsetof(sb_report_run, dev_acc), offsetof(sb_report_run, final_loss),
                               offsetof(sb_report_run, train_s)};
        double *mean[] = {&g[ng].acc_mean, &g[ng].dens_mean, &g[ng].dev_mean, &g[ng].loss_mean, &g[ng].secs_mean};
        double *sd[] = {&g[ng].acc_std, &g[ng].dens_std, NULL, NULL, NULL};
        for (size_t s = 0; s < sizeof offs / sizeof offs[0]; s++) {
            int n = 0;
            for (int j = i; j < r->n; j++)
                if (same_group(a, &r->runs[j])) x[n++] = *(const double *)((const char *)&r->runs[j] + offs[s]);
            double unused;
            sb_mean_std(x, n, mean[s], sd[s] ? sd[s] : &unused);
            g[ng].n = n;
        }
        group_cost(r, i, &g[ng]);
        ng++;
    }
    free(x);
    *out = g;
    return ng;
}

int sb_results_tasks(const sb_results *r, const char ***out) {
    const char **t = calloc((size_t)r->n + 1, sizeof *t);
    int n = 0;
    for (int i = 0; i < r->n; i++) {
        if (!r->runs[i].usable) continue;
        int k = 0;
        while (k < n && strcmp(t[k], r->runs[i].task)) k++;
        if (k == n) t[n++] = r->runs[i].task;
    }
    *out = t;
    return n;
}
