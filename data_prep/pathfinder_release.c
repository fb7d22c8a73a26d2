/* `sbmbench prep pathfinder`: one level folder of the LRA release
 * (lra_release/pathfinder32/<level>/: metadata/<k>.npy, read as
 * space-separated text lines "imgs/<k> sample_<i>.png <i> <label> ...", and
 * the PNGs they name) -> HDF5. As the NYS/SBM preparation: empty PNG files
 * are skipped (and counted), all examples are pooled, shuffled and split
 * 80/10/10 with NYS's split points (seeded here; theirs is unseeded). Only
 * metadata files named *.npy are read, as NYS's (and LRA's) readers. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "core/philox.h"
#include "data_prep/png_io.h"
#include "data_prep/prep.h"
#include "data_prep/prep_args.h"

typedef struct {
    char *path;     /* the PNG */
    char *where;    /* metadata file:line, for messages */
    int label;
} entry;

typedef struct {
    entry *e;
    int64_t n, cap, empty;
} entry_list;

static int by_number(const void *a, const void *b) {
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    long nx = strtol(x, NULL, 10), ny = strtol(y, NULL, 10);
    return nx < ny ? -1 : nx > ny ? 1 : strcmp(x, y);
}

/* Every line of one metadata file into the list; -1 after printing the file:line at fault. */
static int read_metadata(const char *dir, const char *meta_path, entry_list *l) {
    sb_prep_lines r;
    if (sb_prep_lines_open(&r, "prep pathfinder", meta_path)) return -1;
    int rc = 0, got;
    while ((got = sb_prep_lines_next(&r)) > 0) {
        char *line = r.line;
        const long long lineno = (long long)r.lineno;
        char *fields[4] = {0};
        int nf = 0;
        for (char *tok = strtok(line, " \t\r\n"); tok && nf < 4; tok = strtok(NULL, " \t\r\n")) fields[nf++] = tok;
        if (nf == 0) continue; /* the trailing empty line */
        char *end = NULL;
        long label = nf == 4 ? strtol(fields[3], &end, 10) : -1;
        if (nf < 4 || *end || (label != 0 && label != 1)) {
            fprintf(stderr, "sbmbench prep pathfinder: %s:%lld: expected 'imgs/<k> <file> <i> <label 0|1> ...'\n",
                    meta_path, lineno);
            rc = -1;
            break;
        }
        char path[8400], where[8500];
        snprintf(path, sizeof path, "%s/%s/%s", dir, fields[0], fields[1]);
        snprintf(where, sizeof where, "%s:%lld", meta_path, lineno);
        struct stat st;
        if (stat(path, &st) != 0) {
            fprintf(stderr, "sbmbench prep pathfinder: %s: %s named by %s\n", path, strerror(errno), where);
            rc = -1;
            break;
        }
        if (st.st_size == 0) { /* the release has a few empty PNGs; LRA and NYS skip them */
            l->empty++;
            continue;
        }
        if (l->n == l->cap) l->e = realloc(l->e, sizeof(entry) * (size_t)(l->cap = l->cap ? 2 * l->cap : 4096));
        l->e[l->n++] = (entry){strdup(path), strdup(where), (int)label};
    }
    if (got < 0) rc = -1;
    sb_prep_lines_close(&r);
    return rc;
}

/* NYS reads only the metadata files whose name ends in ".npy" (os.listdir +
 * endswith, so hidden ones too), so a README or an editor's backup beside
 * them is no metadata. */
static int is_metadata_name(const char *name) {
    const size_t n = strlen(name);
    return n >= 4 && strcmp(name + n - 4, ".npy") == 0;
}

/* NYS's split points over the shuffled pool of n: train = [0, bp80), dev =
 * [bp80, bp90), test = [bp90, n), with bp80 = int(0.8 n), bp90 = int(0.9 n)
 * in float64. Computed in integers as floor(8n/10) and floor(9n/10), which
 * equal those for every n below 2^49: the doubles 0.8 and 0.9 lie just above
 * their decimal values (so the product never falls below the integer part),
 * and 8n/10 and 9n/10 sit at least 0.2 and 0.1 below the next integer, more
 * than the product's error (about 1.6e-16 n). Dev is bp90 - bp80, not n/10:
 * 419 -> 335/42/42 (n/10 gave 335/41/43), 49 -> 39/5/5 (was 39/4/6). */
static void nys_split_points(int64_t n, int64_t *bp80, int64_t *bp90) {
    *bp80 = n * 8 / 10;
    *bp90 = n * 9 / 10;
}

int sb_prep_pathfinder(int argc, char **argv) {
    sb_prep_args a;
    if (sb_prep_args_parse(&a, "prep pathfinder", argc, argv, "in out seed size train dev test")) return 2;
    const char *in = sb_prep_arg_str(&a, "in", NULL), *out = sb_prep_arg_str(&a, "out", NULL);
    const int64_t seed = sb_prep_arg_int(&a, "seed", 1, 0, (int64_t)1 << 62);
    const int side = (int)sb_prep_arg_int(&a, "size", 32, 1, 1024);
    int64_t limits[3];
    sb_prep_arg_limits(&a, limits);
    if (a.bad) return 2;
    if (!in || !out) {
        fprintf(stderr, "sbmbench prep pathfinder: give --in DIR (a level folder with metadata/ and imgs/) and --out FILE.h5\n");
        return 2;
    }
    char mdir[4200];
    snprintf(mdir, sizeof mdir, "%s/metadata", in);
    DIR *d = opendir(mdir);
    if (!d) {
        fprintf(stderr, "sbmbench prep pathfinder: %s: cannot open folder: %s\n", mdir, strerror(errno));
        return 1;
    }
    char **names = NULL;
    int n_names = 0;
    for (struct dirent *de; (de = readdir(d));)
        if (is_metadata_name(de->d_name)) {
            names = realloc(names, sizeof(char *) * (size_t)(n_names + 1));
            names[n_names++] = strdup(de->d_name);
        }
    closedir(d);
    if (n_names) qsort(names, (size_t)n_names, sizeof(char *), by_number); /* names is NULL when there are none */
    entry_list l = {0};
    int ok = n_names > 0;
    if (!ok) fprintf(stderr, "sbmbench prep pathfinder: %s: no metadata files (*.npy)\n", mdir);
    for (int i = 0; i < n_names && ok; i++) {
        char p[8400];
        snprintf(p, sizeof p, "%s/%s", mdir, names[i]);
        ok = read_metadata(in, p, &l) == 0;
    }
    sb_h5ds_writer *w = ok ? sb_prep_create(out, "pathfinder", 1, side * side, limits) : NULL;
    if (ok && !w) ok = 0;
    if (ok) {
        /* pool, shuffle (Fisher-Yates), split 80/10/10 */
        sb_rng_reader rd;
        sb_rng_reader_init(&rd, sb_rng_make((uint64_t)seed, SB_RNG_DATA_TRAIN, 0, 0, 0, 0x5046u));
        for (int64_t i = l.n - 1; i > 0; i--) {
            int64_t j = (int64_t)sb_u32_below(sb_rng_next_u32(&rd), (uint32_t)(i + 1));
            entry t = l.e[i];
            l.e[i] = l.e[j];
            l.e[j] = t;
        }
        int64_t bp80, bp90;
        nys_split_points(l.n, &bp80, &bp90);
        uint8_t *px = malloc((size_t)side * side);
        int32_t *ids = malloc(sizeof(int32_t) * (size_t)side * side);
        for (int64_t i = 0; i < l.n && ok; i++) {
            char err[17000];
            if (sb_png_read_gray(l.e[i].path, side, side, px, err, sizeof err)) {
                fprintf(stderr, "sbmbench prep pathfinder: %s (listed at %s)\n", err, l.e[i].where);
                ok = 0;
                break;
            }
            for (int j = 0; j < side * side; j++) ids[j] = px[j];
            int split = i < bp80 ? 0 : i < bp90 ? 1 : 2;
            if (sb_h5ds_append(w, split, ids, NULL, l.e[i].label)) ok = 0;
        }
        free(px), free(ids);
        char src[4300];
        snprintf(src, sizeof src, "LRA release Pathfinder level folder %s (metadata/*.npy text + imgs PNGs)", in);
        sb_h5ds_attr_str(w, "source", src);
        sb_h5ds_attr_int(w, "vocab_size", 256);
        sb_h5ds_attr_int(w, "n_classes", 2);
        sb_h5ds_attr_int(w, "image_side", side);
        sb_h5ds_attr_int(w, "seed", seed);
        sb_h5ds_attr_int(w, "empty_pngs_skipped", l.empty);
        sb_h5ds_attr_str(w, "encoding", "grayscale pixel 0..255 row-major; 0 is padding to the reference's loader");
        printf("%s: %lld empty PNG file%s skipped\n", in, (long long)l.empty, l.empty == 1 ? "" : "s");
    }
    for (int64_t i = 0; i < l.n; i++) free(l.e[i].path), free(l.e[i].where);
    free(l.e);
    for (int i = 0; i < n_names; i++) free(names[i]);
    free(names);
    return w ? sb_prep_commit(w, ok, out) : 1;
}
