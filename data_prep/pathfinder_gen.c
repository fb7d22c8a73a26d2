/* `sbmbench gen pathfinder`: LRA Pathfinder-32 images (data_prep/pathfinder.c)
 * -> the HDF5 schema, optionally the release's layout too
 * (DIR/imgs/<k>/sample_<j>.png and DIR/metadata/<k>.npy, which despite its
 * name holds space-separated text lines, as the LRA release is read; j counts
 * from 0 within each batch k, as snakes2.from_wrapper's iimg), and a
 * preview grid (--preview FILE.png: the first 32 samples, x4, framed green
 * when the markers are connected, red when not). Images are numbered in
 * generation order; the first --train go to train, then dev, then test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/atomic_file.h"
#include "data_prep/pathfinder.h"
#include "data_prep/png_io.h"
#include "data_prep/prep.h"
#include "data_prep/prep_args.h"
#include "experiments/util.h"

#define PREVIEW_N 32
#define PREVIEW_COLS 8
#define PREVIEW_ZOOM 4
#define PREVIEW_FRAME 2

static int write_preview(const char *path, const uint8_t *px, const int *labels, int n, int side) {
    const int cell = side * PREVIEW_ZOOM + 2 * PREVIEW_FRAME, cols = n < PREVIEW_COLS ? n : PREVIEW_COLS;
    const int rows = (n + cols - 1) / cols, W = cols * cell, H = rows * cell;
    uint8_t *rgb = calloc((size_t)W * H * 3, 1);
    for (int k = 0; k < n; k++) {
        int ox = (k % cols) * cell, oy = (k / cols) * cell;
        for (int y = 0; y < cell; y++)
            for (int x = 0; x < cell; x++) {
                uint8_t *o = rgb + ((size_t)(oy + y) * W + ox + x) * 3;
                int iy = y - PREVIEW_FRAME, ix = x - PREVIEW_FRAME;
                if (iy < 0 || ix < 0 || iy >= side * PREVIEW_ZOOM || ix >= side * PREVIEW_ZOOM) {
                    o[0] = labels[k] ? 0 : 220, o[1] = labels[k] ? 200 : 0, o[2] = 0;
                } else {
                    o[0] = o[1] = o[2] = px[(size_t)k * side * side + (iy / PREVIEW_ZOOM) * side + ix / PREVIEW_ZOOM];
                }
            }
    }
    char err[4400];
    int rc = sb_png_write(path, rgb, W, H, 3, err, sizeof err);
    if (rc) fprintf(stderr, "sbmbench gen pathfinder: %s\n", err);
    else printf("%s: %d samples, green frame = connected (label 1), red = not\n", path, n);
    free(rgb);
    return rc;
}

/* v as Python's str() of a float would write it, for the metadata row (the
 * reference's np.array of the row turns its floats into str: continuity 1.0
 * is '1.0', not '1'): the shortest %g that reads back as the same float, with
 * ".0" added when that looks like an integer. (Python writes exponents from
 * 1e16 and below 1e-4 where %g does from 10^digits and below 1e-4; no
 * parameter comes near either.) */
static void py_float_str(char *buf, size_t len, float v) {
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, len, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v) break;
    }
    if (!strpbrk(buf, ".eEn")) strncat(buf, ".0", len - strlen(buf) - 1); /* 'n': inf, nan */
}

/* The release's files for image i, number j = i % per_folder in batch k =
 * i / per_folder: imgs/<k>/sample_<j>.png plus a metadata line. The reference
 * runs one from_wrapper per batch, whose image counter iimg starts at 0, and
 * names and numbers the image by it. */
static int write_release_image(const char *dir, int64_t i, int per_folder, const uint8_t *px, int side, int label,
                               const sb_pf_params *p, FILE **meta, sb_atomic_file *mf, char *meta_path,
                               int *meta_batch) {
    char err[4400], path[4200];
    int batch = (int)(i / per_folder);
    if (batch != *meta_batch) {
        if (*meta) { /* closed (committed or discarded) either way: the caller must not close it again */
            const int bad = sb_atomic_close(mf, !ferror(*meta), err, sizeof err);
            *meta = NULL;
            if (bad) goto fail;
        }
        snprintf(path, sizeof path, "%s/imgs/%d", dir, batch);
        if (sb_mkdir_p(path, err, sizeof err)) goto fail;
        snprintf(path, sizeof path, "%s/metadata", dir);
        if (sb_mkdir_p(path, err, sizeof err)) goto fail;
        snprintf(meta_path, 4200, "%s/metadata/%d.npy", dir, batch); /* the caller's: mf keeps a pointer to it */
        if (sb_atomic_open(mf, meta_path, err, sizeof err)) goto fail;
        *meta = mf->f;
        *meta_batch = batch;
    }
    const int j = (int)(i % per_folder);
    snprintf(path, sizeof path, "%s/imgs/%d/sample_%d.png", dir, batch, j);
    if (sb_png_write(path, px, side, side, 1, err, sizeof err)) goto fail;
    char continuity[32], thickness[32];
    py_float_str(continuity, sizeof continuity, p->continuity);
    py_float_str(thickness, sizeof thickness, p->paddle_thickness);
    /* [subpath, filename, nimg, label, continuity, contour_length, distractor_length,
     *  paddle_length, paddle_thickness, margin, n_contrasts] */
    fprintf(*meta, "imgs/%d sample_%d.png %d %d %s %d %d %d %s %d 1\n", batch, j, j, label, continuity,
            p->contour_length, p->distractor_length, p->paddle_length, thickness, p->margin);
    return 0;
fail:
    fprintf(stderr, "sbmbench gen pathfinder: %s\n", err);
    return -1;
}

int sb_gen_pathfinder(int argc, char **argv) {
    sb_prep_args a;
    if (sb_prep_args_parse(&a, "gen pathfinder", argc, argv,
                           "out release preview contour-length seed train dev test per-folder shrink"))
        return 2;
    const char *out = sb_prep_arg_str(&a, "out", NULL), *rel = sb_prep_arg_str(&a, "release", NULL);
    const char *preview = sb_prep_arg_str(&a, "preview", NULL);
    const int cl = (int)sb_prep_arg_int(&a, "contour-length", 14, 3, SB_PF_MAX_PADDLES);
    const int64_t seed = sb_prep_arg_int(&a, "seed", 1, 0, (int64_t)1 << 62);
    const int per_folder = (int)sb_prep_arg_int(&a, "per-folder", 1000, 1, 1 << 30);
    const int shrink = (int)sb_prep_arg_int(&a, "shrink", 1, 1, 16);
    int64_t sizes[3] = {sb_prep_arg_int(&a, "train", 160000, 0, (int64_t)1 << 32),
                        sb_prep_arg_int(&a, "dev", 20000, 0, (int64_t)1 << 32),
                        sb_prep_arg_int(&a, "test", 20000, 0, (int64_t)1 << 32)};
    if (a.bad) return 2;
    if (!out && !preview) {
        fprintf(stderr, "sbmbench gen pathfinder: give --out FILE.h5 and/or --preview FILE.png\n");
        return 2;
    }
    if (!out) sizes[0] = PREVIEW_N, sizes[1] = sizes[2] = 0;
    sb_pf_params p;
    sb_pf_params_lra32(&p, cl);
    const int side = p.size, npx = side * side, hside = side / shrink, hpx = hside * hside;
    if (side % shrink) {
        fprintf(stderr, "sbmbench gen pathfinder: --shrink %d does not divide the image side %d\n", shrink, side);
        return 2;
    }
    const int64_t total = sizes[0] + sizes[1] + sizes[2];
    sb_h5ds_writer *w = NULL;
    if (out) {
        /* the sizes as limits too: a split asked to be empty (--dev 0) is then no error at the commit */
        if (!(w = sb_prep_create(out, "pathfinder", 1, hpx, sizes))) return 1;
        sb_h5ds_attr_int(w, "vocab_size", 256);
        sb_h5ds_attr_int(w, "n_classes", 2);
        sb_h5ds_attr_int(w, "image_side", hside);
        sb_h5ds_attr_int(w, "shrink", shrink); /* f x f block maxima of the generated image; 1 = as LRA */
        sb_h5ds_attr_str(w, "source", "sbmbench gen pathfinder (drewlinsley/pathfinder snakes2.py algorithm, LRA "
                                      "Pathfinder32 parameters, Philox draws)");
        sb_h5ds_attr_int(w, "seed", seed);
        sb_h5ds_attr_int(w, "contour_length", cl);
        sb_h5ds_attr_int(w, "distractor_length", p.distractor_length);
        sb_h5ds_attr_int(w, "num_distractor_snakes", p.n_distractors);
        sb_h5ds_attr_str(w, "encoding", "grayscale pixel 0..255 row-major; 0 is padding to the reference's loader");
    }
    enum { BLOCK = 256 };
    uint8_t *px = malloc((size_t)BLOCK * npx), prev_px[PREVIEW_N * SB_PF_MAX_SIZE * SB_PF_MAX_SIZE];
    int labels[BLOCK], prev_labels[PREVIEW_N], n_prev = 0, ok = 1, meta_batch = -1;
    int32_t *ids = malloc(sizeof(int32_t) * npx);
    int64_t n_pos = 0;
    FILE *meta = NULL;
    sb_atomic_file mf;
    char meta_path[4200];
    for (int64_t b0 = 0; b0 < total && ok; b0 += BLOCK) {
        int nb = total - b0 < BLOCK ? (int)(total - b0) : BLOCK, bad = 0;
#pragma omp parallel for schedule(dynamic, 4) reduction(| : bad)
        for (int k = 0; k < nb; k++) {
            sb_pf_trace tr;
            bad |= sb_pf_generate(&p, (uint64_t)seed, (uint64_t)(b0 + k), px + (size_t)k * npx, &tr) != 0;
            labels[k] = tr.label;
        }
        if (bad) {
            fprintf(stderr, "sbmbench gen pathfinder: unsupported parameters\n");
            ok = 0;
            break;
        }
        for (int k = 0; k < nb && ok; k++) {
            int64_t i = b0 + k;
            int split = i < sizes[0] ? 0 : i < sizes[0] + sizes[1] ? 1 : 2;
            n_pos += labels[k];
            if (n_prev < PREVIEW_N) {
                memcpy(prev_px + (size_t)n_prev * npx, px + (size_t)k * npx, (size_t)npx);
                prev_labels[n_prev++] = labels[k];
            }
            if (rel && write_release_image(rel, i, per_folder, px + (size_t)k * npx, side, labels[k], &p, &meta, &mf,
                                           meta_path, &meta_batch))
                ok = 0;
            sb_prep_shrink(px + (size_t)k * npx, side, shrink, SB_SHRINK_MAX, ids);
            if (w && sb_h5ds_append(w, split, ids, NULL, labels[k])) ok = 0;
        }
    }
    if (meta) {
        char err[4400];
        if (sb_atomic_close(&mf, ok && !ferror(meta), err, sizeof err)) {
            if (ok) fprintf(stderr, "sbmbench gen pathfinder: %s\n", err);
            ok = 0;
        }
    }
    if (ok && rel) printf("%s: release layout (imgs/<k>/sample_<j>.png, j from 0 in each k; metadata/<k>.npy)\n", rel);
    if (ok && preview && write_preview(preview, prev_px, prev_labels, n_prev, side)) ok = 0;
    if (ok) printf("labels: %lld of %lld connected (%.1f%%)\n", (long long)n_pos, (long long)total,
                   total ? 100.0 * n_pos / total : 0.0);
    free(px), free(ids);
    if (!w) return ok ? 0 : 1;
    sb_h5ds_attr_int(w, "n_connected", n_pos);
    return sb_prep_commit(w, ok, out);
}
