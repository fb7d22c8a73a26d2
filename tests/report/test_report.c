/* `report` on a fixture results directory made here: two tasks (synthetic,
 * and a 4x4 "image" task with density maps), full attention and SBM at three
 * sbm_lambda values, two seeds each, plus a run listed as done whose
 * directory is missing, one whose final.json is corrupt and one never run.
 * Checks that the tables' numbers equal the runs' (mean and std over seeds,
 * ratios to full attention), that the broken runs are named and left out
 * while everything else renders, and that every figure is a non-empty file.
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
                cJSON_AddNumberToObject(f, "train_seconds", 10.0 * (v + 1));
                cJSON_AddNumberToObject(f, "final_train_loss", 0.1 * (v + 1));
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

/* The numbers of the CSV line that starts with prefix: field col (0-based). */
static double csv_value(const char *path, const char *prefix, int col) {
    char *text = sb_read_file(path, NULL, NULL, 0);
    if (!text) return NAN;
    double v = NAN;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, prefix, strlen(prefix))) continue;
        char *p = line;
        for (int c = 0; c < col && p; c++) p = strchr(p, ','), p = p ? p + 1 : NULL;
        if (p && *p && *p != ',') v = strtod(p, NULL);
        break;
    }
    free(text);
    return v;
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
            worst = fmax(worst, fabs(csv_value(csv, prefix, 4) - 100 * m));
            worst = fmax(worst, fabs(csv_value(csv, prefix, 5) - 100 * s));
            tu_check(csv_value(csv, prefix, 3) == 2.0, "%s: 2 seeds (the broken third left out)", variant);
            if (sbm) {
                mean_std2(dens_of(t, li, 1), dens_of(t, li, 2), &dm, &ds);
                worst = fmax(worst, fabs(csv_value(csv, prefix, 6) - 100 * dm));
                worst = fmax(worst, fabs(csv_value(csv, prefix, 7) - 100 * ds));
                char cell[128];
                snprintf(cell, sizeof cell, "%.2f ± %.2f (%.2f ± %.2f%%)", 100 * m, 100 * s, 100 * dm, 100 * ds);
                cells += file_contains(md, cell);
            }
        }
    tu_report("accuracy.csv: means and stds equal the runs'", worst, 6e-5);
    tu_check(cells == 6, "accuracy.md shows accuracy ± std (density ± std%%) for each SBM cell (%d of 6)", cells);
    tu_check(file_contains(md, "Not included: run synthetic-full-s3") && file_contains(md, "image-sbm-sbm_lambda=0-s4 (not_run)"),
             "accuracy.md names the runs it leaves out");

    /* lambda: one row per lambda, same numbers */
    snprintf(csv, sizeof csv, "%s/tables/lambda.csv", root);
    worst = 0.0;
    for (int li = 0; li < 3; li++) {
        char prefix[128];
        snprintf(prefix, sizeof prefix, "%g,sbm-sbm_lambda=%g,image,", lambdas[li], lambdas[li]);
        double m, s;
        mean_std2(acc_of(1, 1, li, 1), acc_of(1, 1, li, 2), &m, &s);
        worst = fmax(worst, fabs(csv_value(csv, prefix, 4) - 100 * m));
        mean_std2(dens_of(1, li, 1), dens_of(1, li, 2), &m, &s);
        worst = fmax(worst, fabs(csv_value(csv, prefix, 6) - 100 * m));
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
        worst = fmax(worst, fabs(csv_value(csv, prefix, 6) - f) / f);
        worst = fmax(worst, fabs(csv_value(csv, prefix, 8) - peak_of(t, 1) / peak_of(t, 0)));
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
    return tu_finish();
}
