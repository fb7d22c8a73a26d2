/* Figures 7/8 of the paper: for the lowest- and highest-density correctly
 * predicted test examples of an image-like task (metrics.h5 /test/maps, kept
 * by experiments/measure.c), the input image beside one map per layer and
 * head of how many queries attend to each pixel (key in-degree). One figure
 * per run that has maps. Only the image's own side x side pixels are drawn:
 * the maps hold seq_len positions, which may pad past the image. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include "experiments/metrics_h5.h"
#include "experiments/table.h"
#include "experiments/util.h"
#include "plots/plot_util.h"

/* A side x side matrix file of x's first side * side values, row 0 first
 * (gnuplot's `matrix` format); whatever follows in x is padding. */
static int write_matrix(const char *fig_dir, const char *file, const float *x, int side, char *err, size_t errlen) {
    FILE *f = sb_plot_data_open(fig_dir, file, err, errlen);
    if (!f) return -1;
    for (int i = 0; i < side; i++)
        for (int j = 0; j < side; j++) fprintf(f, "%g%c", x[(size_t)i * side + j], j + 1 < side ? ' ' : '\n');
    fclose(f);
    return 0;
}

/* A stored side is usable when its image fits in the T positions. */
static int side_fits(long long side, int T) { return side >= 1 && side * side <= T; }

/* The image_side of the data file named by the run's config.json (as the
 * run saw it: relative to the current directory); 0 when any of that is
 * missing. file receives the data file's name. */
static long long data_file_side(const sb_report_run *a, char *file, size_t cap) {
    char path[4200], err[256];
    sb_path(path, sizeof path, "%s/config.json", a->dir);
    cJSON *cfg = sb_file_exists(path) ? sb_read_json(path, err, sizeof err) : NULL;
    const cJSON *df = cJSON_GetObjectItemCaseSensitive(cfg, "data_file");
    long long side = 0;
    if (cJSON_IsString(df) && df->valuestring[0]) {
        snprintf(file, cap, "%s", df->valuestring);
        if (sb_h5_read_int_attr(file, "/", "image_side", &side)) side = 0;
    }
    cJSON_Delete(cfg);
    return side;
}

/* The side of the image grid for a run's maps of T positions, or 0 (the
 * reason printed to log) when none can be trusted. metrics.h5 stores it;
 * for files written before it did, the run's data file says, else a square
 * T does (the old rule: right only when the images fill the sequence). */
static int grid_side(const sb_report_run *a, const char *metrics, int T, FILE *log) {
    long long side;
    if (!sb_h5_read_int_attr(metrics, "/test/maps", "image_side", &side)) {
        if (side_fits(side, T)) return (int)side;
        fprintf(log, "sbmbench report: run %s: /test/maps image_side %lld does not fit its %d positions; "
                "density maps skipped\n", a->id, side, T);
        return 0;
    }
    char file[4096] = "";
    side = data_file_side(a, file, sizeof file);
    if (side_fits(side, T)) {
        fprintf(log, "sbmbench report: run %s: metrics.h5 stores no image side; maps drawn %lldx%lld as data file %s "
                "says\n", a->id, side, side, file);
        return (int)side;
    }
    side = sb_square_side(T);
    if (side) {
        fprintf(log, "sbmbench report: run %s: no image side stored or in a readable data file; maps drawn "
                "%lldx%lld from the sequence length %d (wrong if the images were padded)\n", a->id, side, side, T);
        return (int)side;
    }
    fprintf(log, "sbmbench report: run %s: no image side stored or in a readable data file, and the sequence "
            "length %d is no square; density maps skipped\n", a->id, T);
    return 0;
}

static int draw_run(const sb_report_run *a, const char *fig_dir, FILE *log) {
    char path[4200], err[1024];
    snprintf(path, sizeof path, "%s/metrics.h5", a->dir);
    float *ids = NULL, *indeg = NULL, *dens = NULL, *label = NULL, *example = NULL;
    int rank;
    size_t di[4], dd[4], dn[4], dl[4], de[4];
    int rc = 0;
    if (sb_h5_read_floats(path, "/test/maps/indegree", &indeg, &rank, dd, err, sizeof err) || rank != 4)
        goto out; /* no maps: not an image task or no graph, nothing to draw */
    if (sb_h5_read_floats(path, "/test/maps/input_ids", &ids, &rank, di, err, sizeof err) ||
        sb_h5_read_floats(path, "/test/maps/density", &dens, &rank, dn, err, sizeof err) ||
        sb_h5_read_floats(path, "/test/maps/label", &label, &rank, dl, err, sizeof err) ||
        sb_h5_read_floats(path, "/test/maps/example", &example, &rank, de, err, sizeof err)) {
        fprintf(log, "sbmbench report: run %s: %s; density maps skipped\n", a->id, err);
        rc = 1;
        goto out;
    }
    const int K = (int)dd[0], L = (int)dd[1], H = (int)dd[2], T = (int)dd[3];
    if ((int)di[1] != T) goto out;
    const int side = grid_side(a, path, T, log);
    if (!side) {
        rc = 1;
        goto out;
    }
    char safe[256], name[300], file[400];
    sb_plot_safe_name(safe, sizeof safe, a->id);
    snprintf(name, sizeof name, "maps-%s", safe);
    char *intitles = NULL, *maptitles = NULL;
    for (int k = 0; k < K && !rc; k++) {
        snprintf(file, sizeof file, "%s-%d-input.dat", name, k);
        rc |= write_matrix(fig_dir, file, ids + (size_t)k * T, side, err, sizeof err);
        double mean = 0.0;
        for (int j = 0; j < L * H; j++) mean += dens[(size_t)k * L * H + j] / (L * H);
        sb_strcatf(&intitles, "%s\"test #%d, label %d\\nmean density %.3f\"", k ? ", " : "", (int)example[k],
                   (int)label[k], mean);
        for (int j = 0; j < L * H; j++) {
            snprintf(file, sizeof file, "%s-%d-%d.dat", name, k, j);
            rc |= write_matrix(fig_dir, file, indeg + ((size_t)k * L * H + j) * T, side, err, sizeof err);
            sb_strcatf(&maptitles, "%s\"L%d H%d: %.3f\"", maptitles ? ", " : "", j / H + 1, j % H + 1,
                       dens[(size_t)k * L * H + j]);
        }
    }
    if (!rc) {
        char *vars = sb_strdupf("name = \"%s\"\nrun = \"%s\"\nK = %d\nLH = %d\nside = %d\n"
                                "array intitles[K] = [%s]\narray maptitles[K * LH] = [%s]\n",
                                name, safe, K, L * H, side, intitles, maptitles);
        rc = sb_gnuplot_render(fig_dir, name, "density_maps", vars, 190 * (1 + L * H) + 40, 200 * K + 70, err,
                               sizeof err);
        free(vars);
    }
    if (rc) fprintf(log, "sbmbench report: %s\n", err), rc = 1;
    free(intitles), free(maptitles);
out:
    free(ids), free(indeg), free(dens), free(label), free(example);
    return rc;
}

int sb_fig_maps(const sb_results *r, const char *fig_dir, FILE *log) {
    int skipped = 0;
    for (int i = 0; i < r->n; i++)
        if (r->runs[i].usable && r->runs[i].density_lh) skipped |= draw_run(&r->runs[i], fig_dir, log);
    return skipped;
}
