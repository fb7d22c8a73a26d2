/* The density maps' image grid: a run's maps hold seq_len (T) positions, of
 * which only the first side x side are the image when seq_len pads past it
 * (the reduced Image task: 14x14 = 196 pixels in 256). Checks that the side
 * measure.c records comes from the task's data file, that metrics.h5 keeps
 * it, and that the figure draws that grid and nothing of the padding; and
 * for metrics files written before the side was stored: the run's data
 * file's side, else a square T (the old rule), else the maps skipped with a
 * message. */
#include <cjson/cJSON.h>
#include <hdf5.h>
#include <sys/stat.h>
#include "experiments/measure.h"
#include "experiments/metrics_h5.h"
#include "experiments/report_data.h"
#include "experiments/util.h"
#include "plots/plot_util.h"
#include "tests/test_util.h"

enum { L = 1, H = 1, PIX = 9 }; /* a 3x3 image; pixel p has token p + 1 and in-degree 10 + p */

/* metrics.h5 of a run with one map of T positions; side 0: no side stored (an older file). */
static void write_run(const char *dir, const char *id, int T, int side) {
    int32_t ex = 0, lab = 1, ids[16] = {0};
    float indeg[16] = {0}, dens = 0.25f, test_density = 0.25f;
    for (int p = 0; p < PIX; p++) ids[p] = p + 1, indeg[p] = (float)(10 + p);
    sb_inference_cost cost = {.n = 0, .L = L, .H = H, .T = T, .n_maps = 1, .map_side = side};
    cost.map_example = &ex, cost.map_label = &lab, cost.map_ids = ids, cost.map_indegree = indeg;
    cost.map_density = &dens;
    sb_metrics m;
    sb_metrics_init(&m, 1, 1, L * H);
    m.n_test = 1;
    m.test_density = malloc(sizeof test_density);
    m.test_density[0] = test_density;
    m.cost = &cost;
    char path[4200], err[256];
    snprintf(path, sizeof path, "%s/metrics.h5", dir);
    if (sb_metrics_write(&m, path, id, "image", "sbm", err, sizeof err)) fprintf(stderr, "%s\n", err), exit(3);
    sb_metrics_free(&m);
}

/* config.json naming a data file (NULL: none). */
static void write_config(const char *dir, const char *data_file) {
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "task", "image");
    if (data_file) cJSON_AddStringToObject(c, "data_file", data_file);
    char path[4200], err[256];
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (sb_write_json_atomic(path, c, err, sizeof err)) fprintf(stderr, "%s\n", err), exit(3);
    cJSON_Delete(c);
}

/* An HDF5 file with only the root attribute image_side, all that the report reads of a data file. */
static void write_data_file(const char *path, int side) {
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, "image_side", H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    int64_t v = side;
    H5Awrite(a, H5T_NATIVE_INT64, &v);
    H5Aclose(a), H5Sclose(s), H5Fclose(f);
}

/* The figure's data file for map 0 (`which`: "input" or "0"), as rows of numbers: 0 on success. */
static int read_grid(const char *fig_dir, const char *id, const char *which, int *rows, int *cols, double *v, int cap) {
    char path[4400], line[4096];
    snprintf(path, sizeof path, "%s/data/maps-%s-0-%s.dat", fig_dir, id, which);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int n = 0;
    *rows = *cols = 0;
    while (fgets(line, sizeof line, f)) {
        int c = 0, used;
        for (char *p = line; n < cap && sscanf(p, "%lf%n", &v[n], &used) == 1; p += used) c++, n++;
        if (*rows == 0) *cols = c;
        else if (c != *cols) *cols = -1; /* ragged */
        (*rows)++;
    }
    fclose(f);
    return 0;
}

/* Whether map 0 of a run is drawn side x side from the image's pixels (tokens and in-degrees). */
static int drawn_as(const char *fig_dir, const char *id, int side) {
    int rows, cols, ok = 1;
    double v[64];
    if (read_grid(fig_dir, id, "input", &rows, &cols, v, 64) || rows != side || cols != side) return 0;
    for (int p = 0; p < side * side; p++) ok &= v[p] == (p < PIX ? p + 1 : 0);
    if (read_grid(fig_dir, id, "0", &rows, &cols, v, 64) || rows != side || cols != side) return 0;
    for (int p = 0; p < side * side; p++) ok &= v[p] == (p < PIX ? 10 + p : 0);
    return ok;
}

static int drawn_at_all(const char *fig_dir, const char *id) {
    char path[4400];
    struct stat st;
    snprintf(path, sizeof path, "%s/data/maps-%s-0-input.dat", fig_dir, id);
    return stat(path, &st) == 0;
}

static void check_measure_side(void) {
    sb_task t = {.seq_len = 256, .image_side = 14};
    tu_check(sb_measure_image_side(&t, "image") == 14, "measure: 14x14 images padded to 256 give side 14");
    t.image_side = 0;
    tu_check(sb_measure_image_side(&t, "image") == 16, "measure: an older data file without image_side: side of a square seq_len");
    tu_check(sb_measure_image_side(&t, "listops") == 0, "measure: no side for a task that is not an image");
    t.seq_len = 200;
    tu_check(sb_measure_image_side(&t, "pathfinder") == 0, "measure: no side from a seq_len that is no square");
    t.image_side = 16;
    tu_check(sb_measure_image_side(&t, "pathfinder") == 0, "measure: no maps when the image does not fit in seq_len");
}

static int log_has(const char *path, const char *a, const char *b) {
    char err[256];
    char *text = sb_read_file(path, NULL, err, sizeof err);
    int ok = text && strstr(text, a) && strstr(text, b);
    free(text);
    return ok;
}

int main(void) {
    check_measure_side();
    char root[] = "/tmp/sbm_maps_XXXXXX", fig_dir[4200], data[4200], logp[4200];
    if (!mkdtemp(root)) return 3;
    /* id, T, stored side, data file's side (-1: no data file) */
    struct { const char *id; int T, side, data_side; } runs[] = {
        {"stored", 16, 3, -1},   /* what measure.c writes now: drawn 3x3, the 7 padding positions left out */
        {"datafile", 16, 0, 3},  /* older file: the data file says 3 */
        {"square", 16, 0, -1},   /* older file, nothing else known: 4x4 from T = 16 */
        {"nosquare", 12, 0, -1}, /* older file, T not a square: skipped */
        {"toobig", 16, 5, -1},   /* a stored side that does not fit: skipped */
    };
    enum { N = sizeof runs / sizeof runs[0] };
    sb_results r = {.n = N};
    r.runs = calloc(N, sizeof *r.runs);
    double lh[L * H] = {0.25};
    char err[256];
    for (int i = 0; i < N; i++) {
        sb_report_run *a = &r.runs[i];
        snprintf(a->id, sizeof a->id, "%s", runs[i].id);
        snprintf(a->dir, sizeof a->dir, "%s/%s", root, runs[i].id);
        a->usable = 1, a->L = L, a->H = H, a->density_lh = lh;
        if (sb_mkdir_p(a->dir, err, sizeof err)) fprintf(stderr, "%s\n", err), exit(3);
        write_run(a->dir, a->id, runs[i].T, runs[i].side);
        snprintf(data, sizeof data, "%s/data-%s.h5", root, runs[i].id);
        if (runs[i].data_side >= 0) write_data_file(data, runs[i].data_side);
        write_config(a->dir, runs[i].data_side >= 0 ? data : NULL);
    }
    snprintf(data, sizeof data, "%s/stored/metrics.h5", root);
    long long side = 0;
    const int found = !sb_h5_read_int_attr(data, "/test/maps", "image_side", &side);
    tu_check(found && side == 3, "metrics.h5: /test/maps image_side %lld (want 3)", side);

    snprintf(fig_dir, sizeof fig_dir, "%s/figures", root);
    snprintf(logp, sizeof logp, "%s/report.log", root);
    FILE *log = fopen(logp, "w");
    int rc = sb_fig_maps(&r, fig_dir, log);
    fclose(log);
    tu_check(rc == 1, "some maps skipped: returns 1 (%d)", rc);
    tu_check(drawn_as(fig_dir, "stored", 3), "stored side 3 of T = 16: drawn 3x3, inputs and in-degrees, no padding");
    tu_check(drawn_as(fig_dir, "datafile", 3) && log_has(logp, "run datafile:", "as data file"),
             "no stored side: the data file's side 3, and the log says so");
    tu_check(drawn_as(fig_dir, "square", 4) && log_has(logp, "run square:", "wrong if the images were padded"),
             "no stored side nor data file: 4x4 from T = 16 (the old rule), with a warning");
    tu_check(!drawn_at_all(fig_dir, "nosquare") && log_has(logp, "run nosquare:", "is no square; density maps skipped"),
             "no side and T = 12: skipped, with a message");
    tu_check(!drawn_at_all(fig_dir, "toobig") && log_has(logp, "run toobig:", "image_side 5 does not fit"),
             "a stored side whose square exceeds T: skipped, with a message");
    free(r.runs);
    tu_remove_fixture(root);
    return tu_finish();
}
