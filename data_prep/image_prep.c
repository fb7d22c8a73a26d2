/* `sbmbench prep image`: CIFAR-10 (LRA's Image task) or any MNIST-format
 * idx set (Fashion-MNIST, the embedded default) -> the HDF5 schema with raw
 * grayscale pixels 0..255 row-major (0 is padding to the reference's loader;
 * the task's pixel_shift option shifts instead). As LRA's CIFAR pipeline,
 * the last 10% of the training set (--holdout) becomes dev and the test set
 * is test. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "data_prep/cifar.h"
#include "data_prep/idx.h"
#include "data_prep/prep.h"
#include "data_prep/prep_args.h"

static void image_attrs(sb_h5ds_writer *w, const char *source, int side, int64_t holdout, int shrink) {
    sb_h5ds_attr_int(w, "vocab_size", 256);
    sb_h5ds_attr_int(w, "n_classes", 10);
    sb_h5ds_attr_int(w, "image_side", side / shrink);
    sb_h5ds_attr_int(w, "shrink", shrink); /* f x f block means; 1 = full resolution */
    sb_h5ds_attr_int(w, "dev_holdout", holdout);
    sb_h5ds_attr_str(w, "source", source);
    sb_h5ds_attr_str(w, "encoding", "grayscale pixel 0..255 row-major; 0 is padding to the reference's loader");
}


/* One train/test pair of idx files into the writer; train records at index
 * >= n_train - holdout go to dev. The rows were sized from the training
 * images (side x side, mnist_side), so images of any other size are refused. */
static int mnist_split(sb_h5ds_writer *w, const char *dir, const char *stem, int is_train, int64_t *holdout,
                       int side, int shrink) {
    char pi[4200], pl[4200], err[8600];
    snprintf(pi, sizeof pi, "%s/%s-images-idx3-ubyte", dir, stem);
    snprintf(pl, sizeof pl, "%s/%s-labels-idx1-ubyte", dir, stem);
    sb_idx im, lb;
    if (sb_idx_open(&im, pi, 3, err, sizeof err)) goto fail0;
    if (sb_idx_open(&lb, pl, 1, err, sizeof err)) goto fail1;
    if (im.n != lb.n) {
        snprintf(err, sizeof err, "%s holds %lld images but %s %lld labels", im.path, (long long)im.n, lb.path,
                 (long long)lb.n);
        goto fail2;
    }
    if (im.dims[1] != (uint32_t)side || im.dims[2] != (uint32_t)side) {
        snprintf(err, sizeof err, "%s: images are %ux%u, but the training images are %dx%d", im.path, im.dims[1],
                 im.dims[2], side, side);
        goto fail2;
    }
    if (*holdout < 0 && is_train) *holdout = im.n / 10;
    int n_px = side * side;
    uint8_t *px = malloc(im.record_bytes);
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)n_px);
    int rc = 0;
    for (int64_t i = 0; i < im.n && !rc; i++) {
        uint8_t y;
        if (sb_idx_next(&im, px, err, sizeof err) || sb_idx_next(&lb, &y, err, sizeof err)) {
            rc = -1;
        } else if (y > 9) {
            snprintf(err, sizeof err, "%s: record %lld: label %d is not 0..9", lb.path, (long long)i, y);
            rc = -1;
        } else {
            int split = !is_train ? 2 : i >= im.n - *holdout ? 1 : 0;
            sb_prep_shrink(px, side, shrink, SB_SHRINK_MEAN, ids);
            if (sb_h5ds_append(w, split, ids, NULL, y)) {
                snprintf(err, sizeof err, "HDF5 write failed");
                rc = -1;
            }
        }
    }
    free(px), free(ids);
    sb_idx_close(&lb);
    sb_idx_close(&im);
    if (rc) goto fail0;
    return 0;
fail2:
    sb_idx_close(&lb);
fail1:
    sb_idx_close(&im);
fail0:
    fprintf(stderr, "sbmbench prep image: %s\n", err);
    return -1;
}

/* Read the MNIST header only, to size the rows before creating the file. */
static int mnist_side(const char *dir, int *side) {
    char p[4200], err[8600];
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte", dir);
    sb_idx im;
    if (sb_idx_open(&im, p, 3, err, sizeof err)) {
        fprintf(stderr, "sbmbench prep image: %s\n", err);
        return -1;
    }
    *side = (int)im.dims[1];
    int square = im.dims[1] == im.dims[2] && im.dims[1] > 0 && im.dims[1] <= 1024;
    sb_idx_close(&im);
    if (!square) {
        fprintf(stderr, "sbmbench prep image: %s: images are %ux%u, expected square\n", p, im.dims[1], im.dims[2]);
        return -1;
    }
    return 0;
}

static int prep_mnist(const char *dir, const char *out, int64_t holdout, int shrink, const int64_t limits[3]) {
    int side;
    if (mnist_side(dir, &side)) return 1;
    if (side % shrink) {
        fprintf(stderr, "sbmbench prep image: --shrink %d does not divide the image side %d\n", shrink, side);
        return 2;
    }
    sb_h5ds_writer *w = sb_prep_create(out, "image", 1, (side / shrink) * (side / shrink), limits);
    if (!w) return 1;
    char src[4300];
    snprintf(src, sizeof src, "MNIST-format idx files in %s ({train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz])", dir);
    int ok = mnist_split(w, dir, "train", 1, &holdout, side, shrink) == 0 &&
             mnist_split(w, dir, "t10k", 0, &holdout, side, shrink) == 0;
    image_attrs(w, src, side, holdout, shrink);
    return sb_prep_commit(w, ok, out);
}

/* One CIFAR batch file; records at global train index >= n_train - holdout go to dev. */
static int cifar_file(sb_h5ds_writer *w, const char *path, int is_train, int64_t *train_index, int64_t n_train,
                      int64_t holdout, int shrink) {
    char err[4400];
    sb_cifar_file c;
    if (sb_cifar_open(&c, path, err, sizeof err)) goto fail;
    uint8_t rec[SB_CIFAR_RECORD], gray[1024];
    int32_t ids[1024];
    int rc;
    while ((rc = sb_cifar_next(&c, rec, err, sizeof err)) == 1) {
        sb_cifar_gray(rec, gray);
        sb_prep_shrink(gray, 32, shrink, SB_SHRINK_MEAN, ids);
        int split = !is_train ? 2 : *train_index >= n_train - holdout ? 1 : 0;
        if (is_train) (*train_index)++;
        if (sb_h5ds_append(w, split, ids, NULL, rec[0])) {
            snprintf(err, sizeof err, "%s: HDF5 write failed", path);
            rc = -1;
            break;
        }
    }
    sb_cifar_close(&c);
    if (rc < 0) goto fail;
    return 0;
fail:
    fprintf(stderr, "sbmbench prep image: %s\n", err);
    return -1;
}

static int prep_cifar(const char *dir, const char *out, int64_t holdout, int shrink, const int64_t limits[3]) {
    if (32 % shrink) {
        fprintf(stderr, "sbmbench prep image: --shrink %d does not divide the image side 32\n", shrink);
        return 2;
    }
    /* the training records, from the file sizes (a partial record is reported while reading) */
    int64_t n_train = 0;
    char p[4200];
    for (int b = 1; b <= 5; b++) {
        struct stat st;
        snprintf(p, sizeof p, "%s/data_batch_%d.bin", dir, b);
        if (stat(p, &st) != 0) {
            fprintf(stderr, "sbmbench prep image: %s: %s\n", p, strerror(errno));
            return 1;
        }
        n_train += (int64_t)st.st_size / SB_CIFAR_RECORD;
    }
    if (holdout < 0) holdout = n_train / 10; /* LRA: train[:90%] / train[90%:] = 45000 / 5000 */
    sb_h5ds_writer *w = sb_prep_create(out, "image", 1, (32 / shrink) * (32 / shrink), limits);
    if (!w) return 1;
    int64_t train_index = 0;
    int ok = 1;
    for (int b = 1; b <= 5 && ok; b++) {
        snprintf(p, sizeof p, "%s/data_batch_%d.bin", dir, b);
        ok = cifar_file(w, p, 1, &train_index, n_train, holdout, shrink) == 0;
    }
    snprintf(p, sizeof p, "%s/test_batch.bin", dir);
    ok = ok && cifar_file(w, p, 0, &train_index, n_train, holdout, shrink) == 0;
    char src[4300];
    snprintf(src, sizeof src, "CIFAR-10 binary batches in %s, grayscale as LRA (tf.image.rgb_to_grayscale)", dir);
    image_attrs(w, src, 32, holdout, shrink);
    return sb_prep_commit(w, ok, out);
}

int sb_prep_image(int argc, char **argv) {
    sb_prep_args a;
    if (sb_prep_args_parse(&a, "prep image", argc, argv, "mnist cifar out holdout shrink train dev test")) return 2;
    const char *mnist = sb_prep_arg_str(&a, "mnist", NULL), *cifar = sb_prep_arg_str(&a, "cifar", NULL);
    const char *out = sb_prep_arg_str(&a, "out", NULL);
    int64_t holdout = sb_prep_arg_int(&a, "holdout", -1, 0, 1 << 30), limits[3];
    const int shrink = (int)sb_prep_arg_int(&a, "shrink", 1, 1, 16);
    sb_prep_arg_limits(&a, limits);
    if (a.bad) return 2;
    if (!out || !!mnist == !!cifar) {
        fprintf(stderr, "sbmbench prep image: give --out FILE.h5 and one of --mnist DIR, --cifar DIR\n");
        return 2;
    }
    return mnist ? prep_mnist(mnist, out, holdout, shrink, limits) : prep_cifar(cifar, out, holdout, shrink, limits);
}
