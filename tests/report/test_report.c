/* `report` on a fixture results directory made here: two tasks (synthetic,
 * and a 4x4 "image" task with density maps), full attention and SBM at three
 * sbm_lambda values, two seeds each, plus a run listed as done whose
 * directory is missing, one whose final.json is corrupt and one never run.
 * Checks that the tables' numbers equal the runs' (mean and std over seeds,
 * ratios to full attention), that the broken runs are named and left out
 * while everything else renders, and that every figure is a non-empty file.
 * A second fixture (costs only, tables only) checks the FLOPs std of a group
 * of seeds pooled over all their examples, the mark on costs measured by an
 * older cost pass (and on ratios over one), and that every table of an
 * experiment described as REDUCED says so.
 *
 * `test_report --make DIR` only writes the fixture (for report_cli);
 * `test_report --rank1-density FILE` rewrites FILE's /train/density as a
 * rank-1 dataset (a malformed metrics file, for report_cli). */
#include <cjson/cJSON.h>
#include <math.h>
#include <sys/stat.h>
#include "experiments/measure.h"
#include "experiments/metrics_h5.h"
#include "experiments/report.h"
#include "experiments/report_data.h"
#include "experiments/report_tables.h"
#include "experiments/util.h"
#include "tests/h5_replace.h"
#include "tests/test_util.h"

enum { STEPS = 120, X = 32, L = 2, H = 2, T = 16, MAPS = 4 };
static const char *tasks[2] = {"synthetic", "image"};
static const double lambdas[3] = {0.0, 0.01, 0.1};

/* The fixture's numbers: a pure function of (task, model, lambda, seed). */
static double acc_of(int t, int sbm, int li, int seed) { return 0.70 + 0.1 * t + 0.02 * sbm - 0.01 * li + 0.003 * seed; }
static double dens_of(int t, int li, int seed) { return 0.30 - 0.08 * li + 0.01 * t + 0.002 * seed * seed; }
static double flops_of(int t, int sbm, int li, int seed) { return sbm ? 4e5 + 1e5 * t - 5e4 * li + 100 * seed : 1e6 * (t + 1); }
static double peak_of(int t, int sbm) { return sbm ? 3e5 + t * 1e4 : 2e5 + t * 1e4; }
/* v = 0: full; 1..3: sbm at lambdas[v-1]. A loss below 1, seconds above 10: no column can pass for the other. */
static double loss_of(int t, int v, int seed) { return 0.1 * (v + 1) + 0.01 * t + 0.002 * seed; }
static double secs_of(int t, int v, int seed) { return 10.0 * (v + 1) + 2 * t + seed; }

static void variant_name(char *out, size_t cap, int t, int sbm, int li) {
    if (sbm) snprintf(out, cap, "%s-sbm-sbm_lambda=%g", tasks[t], lambdas[li]);
    else snprintf(out, cap, "%s-full", tasks[t]);
}

static void write_json(const char *dir, const char *file, cJSON *j) {
    char path[8200], err[256];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (sb_write_json_atomic(path, j, err, sizeof err)) fprintf(stderr, "%s\n", err), exit(3);
    cJSON_Delete(j);
}

/* metrics.h5 of a run: training curves, dev points, test densities and the
 * inference cost, with density maps for SBM on the image task. */
static void write_metrics(const char *dir, const char *id, int t, int sbm, int li, int seed) {
    sb_metrics mt;
    sb_metrics_init(&mt, STEPS, 4, sbm ? L * H : 0);
    for (int s = 0; s < STEPS; s++, mt.n_train++) {
        mt.train_step[s] = s;
        mt.train_loss[s] = (float)(0.7 * exp(-s / (30.0 + 10 * li)) + 0.01 * seed);
        mt.train_acc[s] = 0.5f;
        for (int j = 0; sbm && j < L * H; j++) mt.train_density[s * L * H + j] = (float)(0.2 + 0.1 * sin(s / 20.0 + j) * (li + 1) / 3);
    }
    sb_inference_cost cost = {.n = X, .L = L, .H = H, .T = T};
    double flops[X], peak[X];
    for (int x = 0; x < X; x++) flops[x] = flops_of(t, sbm, li, seed) + (sbm ? 10 * (x - X / 2) : 0), peak[x] = peak_of(t, sbm);
    cost.flops = flops, cost.peak_bytes = peak;
    float test_density[X * L * H];
    int32_t ex[MAPS], lab[MAPS], ids[MAPS * T];
    float indeg[MAPS * L * H * T], md[MAPS * L * H];
    if (sbm) {
        mt.n_test = X;
        mt.test_density = malloc(sizeof test_density);
        for (int x = 0; x < X; x++)
            for (int j = 0; j < L * H; j++) mt.test_density[x * L * H + j] = (float)(dens_of(t, li, seed) + 0.02 * (j / H) + 0.001 * (x % 5));
        cost.density = mt.test_density;
        if (t == 1) { /* image: 4x4 inputs (a gradient) and in-degree maps (a diagonal band) */
            cost.n_maps = MAPS, cost.map_example = ex, cost.map_label = lab, cost.map_ids = ids;
            cost.map_indegree = indeg, cost.map_density = md;
            for (int k = 0; k < MAPS; k++) {
                ex[k] = 3 * k, lab[k] = k % 2;
                for (int p = 0; p < T; p++) ids[k * T + p] = 16 * p + k;
                for (int j = 0; j < L * H; j++) {
                    md[k * L * H + j] = (float)(0.05 * (k + 1) + 0.01 * j);
                    for (int p = 0; p < T; p++) indeg[(k * L * H + j) * T + p] = (float)(abs(p / 4 - p % 4) <= k ? j + 1 : 0);
                }
            }
        }
    }
    mt.cost = &cost;
    char path[4200], err[256];
    snprintf(path, sizeof path, "%s/metrics.h5", dir);
    if (sb_metrics_write(&mt, path, id, tasks[t], sbm ? "sbm" : "full", err, sizeof err)) fprintf(stderr, "%s\n", err), exit(3);
    sb_metrics_free(&mt);
}

static cJSON *summary_entry(const char *id, const char *variant, int t, const char *model, int seed, const char *status) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "id", id);
    cJSON_AddStringToObject(e, "variant", variant);
    cJSON_AddStringToObject(e, "task", tasks[t]);
    cJSON_AddStringToObject(e, "model", model);
    cJSON_AddNumberToObject(e, "seed", seed);
    cJSON_AddStringToObject(e, "status", status);
    return e;
}

static void make_fixture(const char *root) {
    char err[256];
    if (sb_mkdir_p(root, err, sizeof err)) fprintf(stderr, "%s\n", err), exit(3);
    cJSON *summary = cJSON_CreateObject();
    cJSON_AddStringToObject(summary, "experiment", "fixture");
    cJSON_AddStringToObject(summary, "description", "A fixture made by tests/report/test_report.c.");
    cJSON *runs = cJSON_AddArrayToObject(summary, "runs");
    for (int t = 0; t < 2; t++)
        for (int v = 0; v < 4; v++) /* v = 0: full; 1..3: sbm at lambdas[v-1] */
            for (int seed = 1; seed <= 2; seed++) {
                int sbm = v > 0, li = sbm ? v - 1 : 0;
                char variant[128], id[160], dir[4096];
                variant_name(variant, sizeof variant, t, sbm, li);
                snprintf(id, sizeof id, "%s-s%d", variant, seed);
                snprintf(dir, sizeof dir, "%s/%s", root, id);
                sb_mkdir_p(dir, err, sizeof err);
                cJSON *cfg = cJSON_CreateObject();
                cJSON_AddStringToObject(cfg, "task", tasks[t]);
                cJSON_AddStringToObject(cfg, "model", sbm ? "sbm" : "full");
                cJSON_AddNumberToObject(cfg, "seed", seed);
                cJSON_AddNumberToObject(cfg, "sbm_lambda", lambdas[li]);
                write_json(dir, "config.json", cfg);
                cJSON *f = summary_entry(id, variant, t, sbm ? "sbm" : "full", seed, "done");
                cJSON_AddNumberToObject(f, "steps", STEPS);
                cJSON_AddNumberToObject(f, "train_seconds", secs_of(t, v, seed));
                cJSON_AddNumberToObject(f, "final_train_loss", loss_of(t, v, seed));
                cJSON_AddNumberToObject(f, "dev_accuracy", acc_of(t, sbm, li, seed) + 0.01);
                cJSON_AddNumberToObject(f, "test_accuracy", acc_of(t, sbm, li, seed));
                if (sbm) {
                    cJSON *lh = cJSON_AddArrayToObject(f, "density_per_layer_head");
                    for (int l = 0; l < L; l++) {
                        double row[H];
                        for (int h = 0; h < H; h++) row[h] = dens_of(t, li, seed) + 0.02 * l;
                        cJSON_AddItemToArray(lh, cJSON_CreateDoubleArray(row, H));
                    }
                    cJSON_AddNumberToObject(f, "density", dens_of(t, li, seed));
                } else {
                    cJSON_AddNullToObject(f, "density");
                }
                cJSON_AddNumberToObject(f, "flops_per_example", flops_of(t, sbm, li, seed));
                cJSON_AddNumberToObject(f, "flops_per_example_std", sbm ? 95.0 : 0.0);
                cJSON_AddNumberToObject(f, "peak_memory_bytes", peak_of(t, sbm));
                cJSON_AddNumberToObject(f, "cost_examples", X);
                cJSON_AddNumberToObject(f, "cost_method", SB_COST_METHOD);
                cJSON_AddItemToArray(runs, cJSON_Duplicate(f, 1));
                write_json(dir, "final.json", f);
                write_metrics(dir, id, t, sbm, li, seed);
            }
    /* the broken and the unfinished runs */
    cJSON_AddItemToArray(runs, summary_entry("synthetic-full-s3", "synthetic-full", 0, "full", 3, "done"));
    cJSON_AddItemToArray(runs, summary_entry("image-full-s3", "image-full", 1, "full", 3, "done"));
    cJSON_AddItemToArray(runs, summary_entry("image-sbm-sbm_lambda=0-s4", "image-sbm-sbm_lambda=0", 1, "sbm", 4, "not_run"));
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/image-full-s3", root);
    sb_mkdir_p(dir, err, sizeof err);
    snprintf(path, sizeof path, "%s/final.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"id\": \"image-full-s3\", \"test_accuracy\": 0.9", f); /* cut off mid-write */
    fclose(f);
    write_json(root, "summary.json", summary);
}

/* One run of the cost fixture; a NAN leaves its key out of final.json. */
typedef struct {
    int t, seed;
    const char *model;
    double lambda, flops, flops_std, n, method;
} cost_run;

/* The cost fixture: two tasks, two seeds a variant, final.json and config.json only.
 *   synthetic sbm λ=0: seeds of 2 and 3 examples, means 400000 and 405000,
 *     stds 2000 and 1000: over all 5 examples the mean is 403000 and
 *     SS = 1·2000² + 2·1000² + 2·3000² + 3·2000² = 36e6, so std = sqrt(36e6 / 4) = 3000
 *     (the mean of the seeds' stds, 1500, understates it);
 *   synthetic sbm λ=0.1: one seed by the current cost pass, one without cost_method;
 *   synthetic linear: cost_method 1, neither cost_examples nor std (one example
 *     a seed: std 1000·sqrt 2 over the two means);
 *   image full: no cost_method, so every image ratio is marked; image sbm λ=0: current. */
static const cost_run cost_runs[] = {
    {0, 1, "full", NAN, 1e6, 0, 32, SB_COST_METHOD},     {0, 2, "full", NAN, 1e6, 0, 32, SB_COST_METHOD},
    {0, 1, "sbm", 0, 4e5, 2000, 2, SB_COST_METHOD},      {0, 2, "sbm", 0, 4.05e5, 1000, 3, SB_COST_METHOD},
    {0, 1, "sbm", 0.1, 3e5, 500, 32, SB_COST_METHOD},    {0, 2, "sbm", 0.1, 3e5, 500, 32, NAN},
    {0, 1, "linear", NAN, 2e6, NAN, NAN, 1},             {0, 2, "linear", NAN, 2.002e6, NAN, NAN, 1},
    {1, 1, "full", NAN, 5e6, 0, 32, NAN},                {1, 2, "full", NAN, 5e6, 0, 32, NAN},
    {1, 1, "sbm", 0, 1e6, 100, 32, SB_COST_METHOD},      {1, 2, "sbm", 0, 1e6, 100, 32, SB_COST_METHOD},
};

static void add_num(cJSON *o, const char *key, double x) {
    if (!isnan(x)) cJSON_AddNumberToObject(o, key, x);
}

static void make_cost_fixture(const char *root, const char *description) {
    cJSON *summary = cJSON_CreateObject();
    cJSON_AddStringToObject(summary, "experiment", "costs");
    cJSON_AddStringToObject(summary, "description", description);
    cJSON *runs = cJSON_AddArrayToObject(summary, "runs");
    for (size_t i = 0; i < sizeof cost_runs / sizeof cost_runs[0]; i++) {
        const cost_run *c = &cost_runs[i];
        char variant[128], id[160], dir[4096], err[256];
        if (isnan(c->lambda)) snprintf(variant, sizeof variant, "%s-%s", tasks[c->t], c->model);
        else snprintf(variant, sizeof variant, "%s-sbm-sbm_lambda=%g", tasks[c->t], c->lambda);
        snprintf(id, sizeof id, "%s-s%d", variant, c->seed);
        snprintf(dir, sizeof dir, "%s/%s", root, id);
        if (sb_mkdir_p(dir, err, sizeof err)) fprintf(stderr, "%s\n", err), exit(3);
        cJSON *cfg = cJSON_CreateObject();
        cJSON_AddStringToObject(cfg, "task", tasks[c->t]);
        add_num(cfg, "sbm_lambda", c->lambda);
        write_json(dir, "config.json", cfg);
        cJSON *f = summary_entry(id, variant, c->t, c->model, c->seed, "done");
        cJSON_AddNumberToObject(f, "test_accuracy", 0.8);
        cJSON_AddNumberToObject(f, "flops_per_example", c->flops);
        add_num(f, "flops_per_example_std", c->flops_std);
        cJSON_AddNumberToObject(f, "peak_memory_bytes", 1e5 * (c->t + 2));
        add_num(f, "cost_examples", c->n);
        add_num(f, "cost_method", c->method);
        cJSON_AddItemToArray(runs, cJSON_Duplicate(f, 1));
        write_json(dir, "final.json", f);
    }
    write_json(root, "summary.json", summary);
}

/* Field col (0-based) of a row whose fields end at sep (or at the row's
 * end): its start, and its length in *len; NULL without one. */
static const char *row_field(const char *p, char sep, int col, int *len) {
    for (int c = 0; c < col && p; c++) p = strchr(p, sep), p = p ? p + 1 : NULL;
    if (!p) return NULL;
    const char *end = strchr(p, sep);
    *len = end ? (int)(end - p) : (int)strlen(p);
    return p;
}

/* The numbers of the CSV line that starts with prefix: field col (0-based);
 * NaN without such a line or field. */
static double csv_value(const char *path, const char *prefix, int col) {
    char *text = sb_read_file(path, NULL, NULL, 0);
    if (!text) return NAN;
    double v = NAN;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, prefix, strlen(prefix))) continue;
        int len;
        const char *f = row_field(line, ',', col, &len);
        if (f && len > 0) v = strtod(f, NULL);
        break;
    }
    free(text);
    return v;
}

/* The 0-based index of the CSV column named name in the header line; -1 without one. */
static int csv_column(const char *path, const char *name) {
    char *text = sb_read_file(path, NULL, NULL, 0);
    int col = -1, len;
    char *end = text ? strchr(text, '\n') : NULL;
    if (end) *end = 0;
    for (int c = 0; text && col < 0; c++) {
        const char *f = row_field(text, ',', c, &len);
        if (!f) break;
        if ((size_t)len == strlen(name) && !strncmp(f, name, (size_t)len)) col = c;
    }
    free(text);
    return col;
}

static int file_contains(const char *path, const char *needle) {
    char *text = sb_read_file(path, NULL, NULL, 0);
    int yes = text && strstr(text, needle);
    free(text);
    return yes;
}

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) ? -1 : (long)st.st_size;
}

/* Cell col (0-based) of a Markdown row (past its opening '|'), without its
 * padding spaces, into out ("" without one). */
static void md_row_cell(const char *row, int col, char *out, size_t cap) {
    int len;
    const char *f = row_field(row, '|', col, &len);
    *out = 0;
    if (f && f[len] == '|' && len > 2) snprintf(out, cap, "%.*s", len - 2, f + 1);
}

/* Cell col (0-based) of the Markdown row that starts with lead, into out ("" without one). */
static void md_cell(const char *path, const char *lead, int col, char *out, size_t cap) {
    char *text = sb_read_file(path, NULL, NULL, 0);
    *out = 0;
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        if (strncmp(line, lead, strlen(lead))) continue;
        md_row_cell(line + 1, col, out, cap);
        break;
    }
    free(text);
}

/* The 0-based cell index (as md_cell counts) of the column headed name in the
 * first Markdown table row (its header); -1 without one. */
static int md_column(const char *path, const char *name) {
    char *text = sb_read_file(path, NULL, NULL, 0), cell[256];
    int col = -1, len;
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        if (*line != '|') continue;
        for (int c = 0; col < 0; c++) {
            const char *f = row_field(line + 1, '|', c, &len);
            if (!f || f[len] != '|') break;
            md_row_cell(line + 1, c, cell, sizeof cell);
            if (!strcmp(cell, name)) col = c;
        }
        break;
    }
    free(text);
    return col;
}

/* Only the tables (no figures) of a fixture directory. */
static void write_tables(const char *dir) {
    sb_results r;
    char tables[4200], err[1024];
    sb_results_load(dir, &r);
    snprintf(tables, sizeof tables, "%s/tables", dir);
    if (sb_report_tables(&r, tables, err, sizeof err)) fprintf(stderr, "%s\n", err), exit(3);
    sb_results_free(&r);
}

#define OLD_MARK "†"
#define OLD_MARK_TEX "$^\\dagger$" /* the mark as experiments/table.c writes it in LaTeX */

static int marked(const char *cell) {
    size_t n = strlen(cell), m = strlen(OLD_MARK);
    return n > m && !strcmp(cell + n - m, OLD_MARK);
}

/* Seeds' FLOPs std pooled over all their examples, and the fallback for runs
 * without cost_examples (cost fixture above). */
static void check_pooled_std(const char *root) {
    char runs[4200], cost[4200], md[4200];
    snprintf(runs, sizeof runs, "%s/tables/runs.csv", root);
    snprintf(cost, sizeof cost, "%s/tables/cost.csv", root);
    snprintf(md, sizeof md, "%s/tables/runs.md", root);
    const char *sbm = "sbm-sbm_lambda=0,synthetic,";
    tu_check(csv_value(runs, sbm, 10) == 403000.0 && csv_value(runs, sbm, 11) == 3000.0,
             "runs.csv: FLOPs mean and std over all examples of both seeds: %.1f ± %.1f (403000 ± 3000)",
             csv_value(runs, sbm, 10), csv_value(runs, sbm, 11));
    tu_check(csv_value(cost, sbm, 4) == 3000.0 && fabs(csv_value(cost, sbm, 7) - 0.003) < 1e-12,
             "cost.csv: the pooled std, and over full attention's FLOPs (%.6f)", csv_value(cost, sbm, 7));
    tu_check(file_contains(md, "| 0.403 ± 0.003 |"), "runs.md: 0.403 ± 0.003 MFLOPs");
    tu_report("runs.csv: without cost_examples, each seed one example", fabs(csv_value(runs, "linear,synthetic,", 11) - 1000 * sqrt(2.0)), 0.05);
}

/* Costs of an older pass marked, not dropped, in cost and runs tables (cost fixture above). */
static void check_old_cost_marks(const char *root) {
    char path[4200], cell[256];
    /* cost.md: row, then whether each of FLOPs synthetic, FLOPs image, Memory synthetic, Memory image is marked */
    const struct {
        const char *lead;
        int mark[4];
    } cost[] = {{"| full |", {0, 1, 0, 1}},
                {"| sbm-sbm_lambda=0 |", {0, 1, 0, 1}},   /* image: its reference is old */
                {"| sbm-sbm_lambda=0.1 |", {1, 0, 1, 0}}, /* a seed old; no image run (a bare dash) */
                {"| linear |", {1, 0, 1, 0}}};
    snprintf(path, sizeof path, "%s/tables/cost.md", root);
    for (size_t i = 0; i < sizeof cost / sizeof cost[0]; i++)
        for (int k = 0; k < 4; k++) {
            md_cell(path, cost[i].lead, 1 + k, cell, sizeof cell);
            tu_check(*cell && marked(cell) == cost[i].mark[k],
                     "cost.md %s column %d: '%s' %s", cost[i].lead, 1 + k, cell, cost[i].mark[k] ? "marked" : "unmarked");
        }
    md_cell(path, "| linear |", 2, cell, sizeof cell);
    tu_check(!strcmp(cell, "—"), "cost.md: no value, no mark ('%s')", cell);
    md_cell(path, "| linear |", 1, cell, sizeof cell);
    tu_check(!strcmp(cell, "2.00 ± 0.00" OLD_MARK), "cost.md: an old value is kept, marked ('%s')", cell);
    /* runs.md: the MFLOPs and peak MiB columns of each row */
    const struct {
        const char *lead;
        int mark;
    } runs[] = {{"| synthetic | full |", 0}, {"| synthetic | sbm-sbm_lambda=0 |", 0}, {"| synthetic | sbm-sbm_lambda=0.1 |", 1},
                {"| synthetic | linear |", 1}, {"| image | full |", 1}, {"| image | sbm-sbm_lambda=0 |", 0}};
    snprintf(path, sizeof path, "%s/tables/runs.md", root);
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++)
        for (int col = 8; col < 10; col++) {
            md_cell(path, runs[i].lead, col, cell, sizeof cell);
            tu_check(*cell && marked(cell) == runs[i].mark, "runs.md %s column %d: '%s' %s", runs[i].lead, col, cell,
                     runs[i].mark ? "marked" : "unmarked");
        }
    /* each file: a marked value (image full attention's), and the note */
    const char *files[4][3] = {{"cost.md", "1.00" OLD_MARK, OLD_MARK},
                               {"cost.tex", "1.00" OLD_MARK_TEX, OLD_MARK_TEX},
                               {"runs.md", "5.000" OLD_MARK, OLD_MARK},
                               {"runs.tex", "5.000" OLD_MARK_TEX, OLD_MARK_TEX}};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/tables/%s", root, files[i][0]);
        char lead[64];
        snprintf(lead, sizeof lead, "%s Measured by an older cost pass", files[i][2]);
        tu_check(file_contains(path, files[i][1]) && file_contains(path, lead) &&
                     file_contains(path, "sbmbench remeasure DIR re-measures"),
                 "%s: marked values, the note says what the mark means and how to re-measure", files[i][0]);
    }
    snprintf(path, sizeof path, "%s/tables/runs.csv", root);
    tu_check(csv_value(path, "sbm-sbm_lambda=0.1,synthetic,", 14) == 0.0 && csv_value(path, "linear,synthetic,", 14) == 1.0 &&
                 csv_value(path, "sbm-sbm_lambda=0,synthetic,", 14) == SB_COST_METHOD,
             "runs.csv: each row's oldest cost_method (0: unrecorded)");
}

/* A reduced experiment's every table carries its description's warning; a full-scale one's none. */
static void check_reduced_label(const char *reduced, const char *plain, const char *warning) {
    const char *kinds[4] = {"accuracy", "runs", "lambda", "cost"}, *exts[2] = {"md", "tex"};
    int with = 0, without = 0;
    for (int i = 0; i < 4; i++)
        for (int e = 0; e < 2; e++) {
            char a[4200], b[4200];
            snprintf(a, sizeof a, "%s/tables/%s.%s", reduced, kinds[i], exts[e]);
            snprintf(b, sizeof b, "%s/tables/%s.%s", plain, kinds[i], exts[e]);
            if (file_contains(a, warning)) with++;
            else printf("       %s lacks the warning\n", a);
            if (file_size(b) > 0 && !file_contains(b, "REDUCED")) without++;
            else printf("       %s has a warning or is missing\n", b);
        }
    tu_check(with == 8, "reduced experiment: every table (md, tex) carries the warning (%d of 8)", with);
    tu_check(without == 8, "full-scale experiment: no table says REDUCED (%d of 8)", without);
}

static void check_cost_fixtures(void) {
    const char *warning = "REDUCED-SCALE fixture, not the paper's setup";
    char reduced[] = "/tmp/sbm_costs_XXXXXX", plain[] = "/tmp/sbm_costs_XXXXXX", desc[256];
    if (!mkdtemp(reduced) || !mkdtemp(plain)) exit(3);
    snprintf(desc, sizeof desc, "%s: two tasks, two seeds, costs only.", warning);
    make_cost_fixture(reduced, desc);
    make_cost_fixture(plain, "A fixture at the paper's scale, made by tests/report/test_report.c.");
    write_tables(reduced), write_tables(plain);
    check_pooled_std(plain);
    check_old_cost_marks(plain);
    check_reduced_label(reduced, plain, warning);
    tu_remove_fixture(reduced), tu_remove_fixture(plain);
}

static void mean_std2(double a, double b, double *m, double *s) {
    *m = (a + b) / 2;
    *s = fabs(a - b) / sqrt(2.0);
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--make")) {
        make_fixture(argv[2]);
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "--rank1-density")) { /* [40] where [steps, L H] belongs */
        float d[40];
        for (int i = 0; i < 40; i++) d[i] = 0.1f;
        return tu_h5_replace_1d(argv[2], "/train/density", H5T_NATIVE_FLOAT, d, 40);
    }
    char root[] = "/tmp/sbm_report_XXXXXX", p[4200];
    if (!mkdtemp(root)) return 3;
    make_fixture(root);
    snprintf(p, sizeof p, "%s/report.log", root);
    FILE *log = fopen(p, "w");
    int rc = sb_report_render(root, NULL, log);
    fclose(log);
    tu_check(rc == 1, "report exits 1 with broken runs (%d)", rc);
    tu_check(file_contains(p, "synthetic-full-s3") && file_contains(p, "missing"), "the run without a directory is named");
    tu_check(file_contains(p, "image-full-s3") && file_contains(p, "unreadable"), "the run with a corrupt final.json is named");
    tu_check(!file_contains(p, "image-sbm-sbm_lambda=0-s4"), "a run not yet run is no problem");

    /* accuracy: every variant's mean and std over its two seeds (CSV: percent, 4 decimals) */
    char csv[4200], md[4200];
    snprintf(csv, sizeof csv, "%s/tables/accuracy.csv", root);
    snprintf(md, sizeof md, "%s/tables/accuracy.md", root);
    double worst = 0.0;
    int cells = 0;
    for (int t = 0; t < 2; t++)
        for (int v = 0; v < 4; v++) {
            int sbm = v > 0, li = sbm ? v - 1 : 0;
            char variant[128], prefix[200];
            variant_name(variant, sizeof variant, t, sbm, li);
            snprintf(prefix, sizeof prefix, "%s,%s,", variant + strlen(tasks[t]) + 1, tasks[t]);
            double m, s, dm, ds;
            mean_std2(acc_of(t, sbm, li, 1), acc_of(t, sbm, li, 2), &m, &s);
            worst = tu_worse(worst, fabs(csv_value(csv, prefix, 4) - 100 * m));
            worst = tu_worse(worst, fabs(csv_value(csv, prefix, 5) - 100 * s));
            tu_check(csv_value(csv, prefix, 3) == 2.0, "%s: 2 seeds (the broken third left out)", variant);
            if (sbm) {
                mean_std2(dens_of(t, li, 1), dens_of(t, li, 2), &dm, &ds);
                worst = tu_worse(worst, fabs(csv_value(csv, prefix, 6) - 100 * dm));
                worst = tu_worse(worst, fabs(csv_value(csv, prefix, 7) - 100 * ds));
                char cell[128];
                snprintf(cell, sizeof cell, "%.2f ± %.2f (%.2f ± %.2f%%)", 100 * m, 100 * s, 100 * dm, 100 * ds);
                cells += file_contains(md, cell);
            }
        }
    tu_report("accuracy.csv: means and stds equal the runs'", worst, 6e-5);
    tu_check(cells == 6, "accuracy.md shows accuracy ± std (density ± std%%) for each SBM cell (%d of 6)", cells);
    tu_check(file_contains(md, "Not included: run synthetic-full-s3") && file_contains(md, "image-sbm-sbm_lambda=0-s4 (not_run)"),
             "accuracy.md names the runs it leaves out");

    /* runs: each of dev accuracy, final train loss and training seconds (mean over
     * seeds) in its own column, found by its header, in the CSV and the Markdown */
    snprintf(csv, sizeof csv, "%s/tables/runs.csv", root);
    snprintf(md, sizeof md, "%s/tables/runs.md", root);
    const char *csv_names[3] = {"dev_accuracy_mean", "final_train_loss_mean", "train_seconds_mean"};
    const char *md_names[3] = {"Dev acc. (%)", "Final train loss", "Train s"};
    int csv_col[3], md_col[3];
    for (int k = 0; k < 3; k++) {
        csv_col[k] = csv_column(csv, csv_names[k]), md_col[k] = md_column(md, md_names[k]);
        tu_check(csv_col[k] >= 0 && md_col[k] >= 0, "runs.csv has a column %s (%d), runs.md one headed '%s' (%d)",
                 csv_names[k], csv_col[k], md_names[k], md_col[k]);
    }
    double worst_md = 0.0;
    worst = 0.0;
    for (int t = 0; t < 2; t++)
        for (int v = 0; v < 4; v++) {
            int sbm = v > 0, li = sbm ? v - 1 : 0;
            char variant[128], prefix[200], lead[200], cell[128];
            variant_name(variant, sizeof variant, t, sbm, li);
            snprintf(prefix, sizeof prefix, "%s,%s,", variant + strlen(tasks[t]) + 1, tasks[t]);
            snprintf(lead, sizeof lead, "| %s | %s |", tasks[t], variant + strlen(tasks[t]) + 1);
            const double want[3] = {100 * (acc_of(t, sbm, li, 1) + acc_of(t, sbm, li, 2) + 0.02) / 2,
                                    (loss_of(t, v, 1) + loss_of(t, v, 2)) / 2, (secs_of(t, v, 1) + secs_of(t, v, 2)) / 2};
            for (int k = 0; k < 3; k++) {
                worst = tu_worse(worst, fabs(csv_value(csv, prefix, csv_col[k]) - want[k]));
                md_cell(md, lead, md_col[k], cell, sizeof cell);
                worst_md = tu_worse(worst_md, *cell ? fabs(strtod(cell, NULL) - want[k]) : NAN);
            }
        }
    tu_report("runs.csv: dev acc., final train loss, train s", worst, 6e-5);
    tu_report("runs.md: dev acc., final train loss, train s", worst_md, 6e-5);

    /* lambda: one row per lambda, same numbers */
    snprintf(csv, sizeof csv, "%s/tables/lambda.csv", root);
    worst = 0.0;
    for (int li = 0; li < 3; li++) {
        char prefix[128];
        snprintf(prefix, sizeof prefix, "%g,sbm-sbm_lambda=%g,image,", lambdas[li], lambdas[li]);
        double m, s;
        mean_std2(acc_of(1, 1, li, 1), acc_of(1, 1, li, 2), &m, &s);
        worst = tu_worse(worst, fabs(csv_value(csv, prefix, 4) - 100 * m));
        mean_std2(dens_of(1, li, 1), dens_of(1, li, 2), &m, &s);
        worst = tu_worse(worst, fabs(csv_value(csv, prefix, 6) - 100 * m));
    }
    tu_report("lambda.csv: accuracy and density per lambda", worst, 6e-5);
    snprintf(md, sizeof md, "%s/tables/lambda.md", root);
    tu_check(file_contains(md, "| 0.01 |"), "lambda.md has a row per lambda");

    /* cost: ratios to full attention on the same task */
    snprintf(csv, sizeof csv, "%s/tables/cost.csv", root);
    worst = 0.0;
    for (int t = 0; t < 2; t++) {
        char prefix[128];
        snprintf(prefix, sizeof prefix, "sbm-sbm_lambda=0.1,%s,", tasks[t]);
        double f = (flops_of(t, 1, 2, 1) + flops_of(t, 1, 2, 2)) / 2 / flops_of(t, 0, 0, 1);
        worst = tu_worse(worst, fabs(csv_value(csv, prefix, 6) - f) / f);
        worst = tu_worse(worst, fabs(csv_value(csv, prefix, 8) - peak_of(t, 1) / peak_of(t, 0)));
    }
    tu_report("cost.csv: FLOPs and peak memory relative to full attention", worst, 1e-5);

    const char *kinds[4] = {"accuracy", "runs", "lambda", "cost"};
    int ok = 1;
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/tables/%s.tex", root, kinds[i]);
        ok &= file_contains(p, "\\toprule") && file_contains(p, "\\bottomrule");
        snprintf(p, sizeof p, "%s/tables/%s.md", root, kinds[i]);
        ok &= file_size(p) > 0;
    }
    tu_check(ok, "tables in Markdown, CSV and LaTeX (booktabs)");
    snprintf(md, sizeof md, "%s/tables/cost.md", root);
    tu_check(!file_contains(md, OLD_MARK) && !file_contains(md, "remeasure"), "costs of the current pass: no mark, no note");

    /* figures: every one drawn, PNG and SVG */
    const char *figs[] = {"training-synthetic", "training-image", "lambda-tradeoff", "layer-density",
                          "maps-image-sbm-sbm_lambda=0.1-s2"};
    for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++) {
        char png[4200], svg[4200];
        snprintf(png, sizeof png, "%s/figures/%s.png", root, figs[i]);
        snprintf(svg, sizeof svg, "%s/figures/%s.svg", root, figs[i]);
        tu_check(file_size(png) > 2000 && file_size(svg) > 2000, "figure %s: %ld bytes PNG, %ld bytes SVG", figs[i],
                 file_size(png), file_size(svg));
    }
    tu_remove_fixture(root);
    check_cost_fixtures();
    return tu_finish();
}
