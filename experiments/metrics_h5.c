#include "experiments/metrics_h5.h"
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/atomic_file.h"
#include "experiments/util.h"

void sb_metrics_init(sb_metrics *m, int cap_train, int cap_dev, int density_width) {
    m->n_train = m->n_dev = 0;
    m->cap_train = cap_train;
    m->cap_dev = cap_dev;
    m->density_width = density_width;
    m->train_step = calloc(cap_train, sizeof(int));
    m->train_loss = calloc(cap_train, sizeof(float));
    m->train_acc = calloc(cap_train, sizeof(float));
    m->train_lr = calloc(cap_train, sizeof(float));
    m->train_beta1 = calloc(cap_train, sizeof(float));
    m->train_density = density_width ? calloc((size_t)cap_train * density_width, sizeof(float)) : NULL;
    m->dev_step = calloc(cap_dev, sizeof(int));
    m->dev_loss = calloc(cap_dev, sizeof(float));
    m->dev_acc = calloc(cap_dev, sizeof(float));
    m->n_test = 0;
    m->test_density = NULL;
    m->cost = NULL;
}

void sb_metrics_free(sb_metrics *m) {
    free(m->train_step), free(m->train_loss), free(m->train_acc), free(m->train_lr);
    free(m->train_beta1), free(m->train_density), free(m->dev_step), free(m->dev_loss), free(m->dev_acc);
    free(m->test_density);
}

int sb_h5_write(hid_t file, const char *name, hid_t type, const void *data, int rank, const hsize_t *dims) {
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t ds = H5Dcreate2(file, name, type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = ds < 0 ? -1 : (H5Sget_simple_extent_npoints(space) ? H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : 0);
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(lcpl);
    H5Sclose(space);
    return ds < 0 || rc < 0 ? -1 : 0;
}

static int write_ds(hid_t file, const char *name, hid_t type, const void *data, int rank, hsize_t d0, hsize_t d1) {
    hsize_t dims[2] = {d0, d1};
    return sb_h5_write(file, name, type, data, rank, dims);
}

static int make_group(hid_t file, const char *name) {
    hid_t g = H5Gcreate2(file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g >= 0) H5Gclose(g);
    return g < 0 ? -1 : 0;
}

/* An integer attribute on the object at path `object` (a group or dataset). */
static int write_int_attr(hid_t file, const char *object, const char *name, int value) {
    hid_t obj = H5Oopen(file, object, H5P_DEFAULT);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = obj < 0 ? -1 : H5Acreate2(obj, name, H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_INT, &value);
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    if (obj >= 0) H5Oclose(obj);
    return a < 0 || rc < 0 ? -1 : 0;
}

/* /test/{flops,peak_bytes,inference_density} and /test/maps (see the header). */
static int write_cost(hid_t f, const sb_inference_cost *c, int have_test_group) {
    int bad = have_test_group ? 0 : make_group(f, "/test");
    const hsize_t M = (hsize_t)c->n, K = (hsize_t)c->n_maps, LH = (hsize_t)c->L * c->H;
    bad |= write_ds(f, "/test/flops", H5T_NATIVE_DOUBLE, c->flops, 1, M, 0);
    bad |= write_ds(f, "/test/peak_bytes", H5T_NATIVE_DOUBLE, c->peak_bytes, 1, M, 0);
    if (c->density) bad |= write_ds(f, "/test/inference_density", H5T_NATIVE_FLOAT, c->density, 2, M, LH);
    if (c->n_maps) {
        const hsize_t ids[2] = {K, (hsize_t)c->T}, indeg[4] = {K, (hsize_t)c->L, (hsize_t)c->H, (hsize_t)c->T};
        bad |= make_group(f, "/test/maps");
        bad |= write_ds(f, "/test/maps/example", H5T_NATIVE_INT32, c->map_example, 1, K, 0);
        bad |= write_ds(f, "/test/maps/label", H5T_NATIVE_INT32, c->map_label, 1, K, 0);
        bad |= sb_h5_write(f, "/test/maps/input_ids", H5T_NATIVE_INT32, c->map_ids, 2, ids);
        bad |= sb_h5_write(f, "/test/maps/indegree", H5T_NATIVE_FLOAT, c->map_indegree, 4, indeg);
        bad |= write_ds(f, "/test/maps/density", H5T_NATIVE_FLOAT, c->map_density, 2, K, LH);
        /* the grid to draw on: T is seq_len, which may pad past the image */
        if (c->map_side > 0) bad |= write_int_attr(f, "/test/maps", "image_side", c->map_side);
    }
    return bad;
}

static int write_attr(hid_t file, const char *name, const char *value) {
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, type, &value);
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
    return a < 0 || rc < 0 ? -1 : 0;
}

int sb_metrics_write(const sb_metrics *m, const char *path, const char *run_id, const char *task,
                     const char *model, char *err, size_t errlen) {
    char tmp[4096];
    if (sb_tmp_name(tmp, sizeof tmp, path, err, errlen)) return -1;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        snprintf(err, errlen, "%s: cannot create HDF5 file", tmp);
        return -1;
    }
    int bad = 0;
    hid_t g1 = H5Gcreate2(f, "/train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g2 = H5Gcreate2(f, "/dev", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    bad |= g1 < 0 || g2 < 0;
    if (g1 >= 0) H5Gclose(g1);
    if (g2 >= 0) H5Gclose(g2);
    hsize_t S = (hsize_t)m->n_train, E = (hsize_t)m->n_dev;
    bad |= write_ds(f, "/train/step", H5T_NATIVE_INT, m->train_step, 1, S, 0);
    bad |= write_ds(f, "/train/loss", H5T_NATIVE_FLOAT, m->train_loss, 1, S, 0);
    bad |= write_ds(f, "/train/accuracy", H5T_NATIVE_FLOAT, m->train_acc, 1, S, 0);
    bad |= write_ds(f, "/train/lr", H5T_NATIVE_FLOAT, m->train_lr, 1, S, 0);
    bad |= write_ds(f, "/train/beta1", H5T_NATIVE_FLOAT, m->train_beta1, 1, S, 0);
    if (m->density_width)
        bad |= write_ds(f, "/train/density", H5T_NATIVE_FLOAT, m->train_density, 2, S, (hsize_t)m->density_width);
    const int test_group = m->density_width && m->test_density;
    if (test_group) {
        bad |= make_group(f, "/test");
        bad |= write_ds(f, "/test/density", H5T_NATIVE_FLOAT, m->test_density, 2, (hsize_t)m->n_test,
                        (hsize_t)m->density_width);
    }
    if (m->cost) bad |= write_cost(f, m->cost, test_group);
    bad |= write_ds(f, "/dev/step", H5T_NATIVE_INT, m->dev_step, 1, E, 0);
    bad |= write_ds(f, "/dev/loss", H5T_NATIVE_FLOAT, m->dev_loss, 1, E, 0);
    bad |= write_ds(f, "/dev/accuracy", H5T_NATIVE_FLOAT, m->dev_acc, 1, E, 0);
    bad |= write_attr(f, "run_id", run_id);
    bad |= write_attr(f, "task", task);
    bad |= write_attr(f, "model", model);
    bad |= H5Fclose(f) < 0;
    if (bad) {
        snprintf(err, errlen, "%s: writing metrics failed", path);
        unlink(tmp);
        return -1;
    }
    /* on disk before final.json (written next) can mark the run complete */
    if (sb_commit_written(tmp, path, err, errlen)) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* The cost part of write_cost, unlinked where present (the space it held is
 * not reclaimed, see the header). */
static int unlink_cost(hid_t f) {
    static const char *const parts[] = {"/test/flops", "/test/peak_bytes", "/test/inference_density", "/test/maps"};
    if (H5Lexists(f, "/test", H5P_DEFAULT) <= 0) return 0;
    int bad = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (H5Lexists(f, parts[i], H5P_DEFAULT) > 0) bad |= H5Ldelete(f, parts[i], H5P_DEFAULT) < 0;
    return bad ? -1 : 0;
}

int sb_metrics_cost_replaced(const char *path, const sb_inference_cost *c, char *tmp, size_t tmplen, int *slot,
                             char *err, size_t errlen) {
    size_t len;
    *slot = -1;
    if (sb_tmp_name(tmp, tmplen, path, err, errlen)) return -1;
    char *bytes = sb_read_file(path, &len, err, errlen);
    if (!bytes) return -1;
    *slot = sb_temp_register(tmp);
    FILE *o = fopen(tmp, "wb");
    int bad = !o || fwrite(bytes, 1, len, o) != len;
    bad |= o && fclose(o) != 0;
    free(bytes);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = bad ? -1 : H5Fopen(tmp, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f >= 0) {
        bad |= unlink_cost(f);
        bad |= write_cost(f, c, H5Lexists(f, "/test", H5P_DEFAULT) > 0);
        bad |= H5Fclose(f) < 0;
    }
    if (bad || f < 0) {
        snprintf(err, errlen, "%s: %s", path, f < 0 && !bad ? "not a readable HDF5 file" : "rewriting its cost failed");
        unlink(tmp);
        sb_temp_release(*slot);
        return -1;
    }
    return 0;
}

int sb_h5_read_floats(const char *path, const char *name, float **data, int *rank, size_t dims[4], char *err,
                      size_t errlen) {
    *data = NULL;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        snprintf(err, errlen, "%s: not a readable HDF5 file", path);
        return -1;
    }
    int rc = -1;
    hid_t ds = H5Lexists(f, name, H5P_DEFAULT) > 0 ? H5Dopen2(f, name, H5P_DEFAULT) : -1;
    hid_t space = ds >= 0 ? H5Dget_space(ds) : -1;
    int r = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (r >= 1 && r <= 4) {
        hsize_t d[4];
        H5Sget_simple_extent_dims(space, d, NULL);
        size_t count = 1;
        for (int i = 0; i < 4; i++) dims[i] = 1; /* dimensions past the rank read as 1 */
        for (int i = 0; i < r; i++) dims[i] = (size_t)d[i], count *= (size_t)d[i];
        *data = malloc(sizeof(float) * (count ? count : 1));
        if (!count || H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, *data) >= 0) {
            *rank = r;
            rc = 0;
        }
    }
    if (rc) {
        snprintf(err, errlen, "%s: dataset %s %s", path, name, ds < 0 ? "missing" : "unreadable");
        free(*data);
        *data = NULL;
    }
    if (space >= 0) H5Sclose(space);
    if (ds >= 0) H5Dclose(ds);
    H5Fclose(f);
    return rc;
}

int sb_h5_read_int_attr(const char *path, const char *object, const char *name, long long *value) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return -1;
    int rc = 1;
    hid_t obj = H5Lexists(f, object, H5P_DEFAULT) > 0 || !strcmp(object, "/") ? H5Oopen(f, object, H5P_DEFAULT) : -1;
    if (obj >= 0 && H5Aexists(obj, name) > 0) {
        hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
        int64_t v;
        if (a >= 0 && H5Aread(a, H5T_NATIVE_INT64, &v) >= 0) *value = (long long)v, rc = 0;
        if (a >= 0) H5Aclose(a);
    }
    if (obj >= 0) H5Oclose(obj);
    H5Fclose(f);
    return rc;
}
