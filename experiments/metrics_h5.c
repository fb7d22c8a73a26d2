#include "experiments/metrics_h5.h"
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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
}

void sb_metrics_free(sb_metrics *m) {
    free(m->train_step), free(m->train_loss), free(m->train_acc), free(m->train_lr);
    free(m->train_beta1), free(m->train_density), free(m->dev_step), free(m->dev_loss), free(m->dev_acc);
    free(m->test_density);
}

static int write_ds(hid_t file, const char *name, hid_t type, const void *data, int rank, hsize_t d0, hsize_t d1) {
    hsize_t dims[2] = {d0, d1};
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t ds = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = ds < 0 ? -1 : (d0 ? H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : 0);
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(space);
    return ds < 0 || rc < 0 ? -1 : 0;
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
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
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
    if (m->density_width && m->test_density) {
        hid_t g3 = H5Gcreate2(f, "/test", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        bad |= g3 < 0;
        if (g3 >= 0) H5Gclose(g3);
        bad |= write_ds(f, "/test/density", H5T_NATIVE_FLOAT, m->test_density, 2, (hsize_t)m->n_test,
                        (hsize_t)m->density_width);
    }
    bad |= write_ds(f, "/dev/step", H5T_NATIVE_INT, m->dev_step, 1, E, 0);
    bad |= write_ds(f, "/dev/loss", H5T_NATIVE_FLOAT, m->dev_loss, 1, E, 0);
    bad |= write_ds(f, "/dev/accuracy", H5T_NATIVE_FLOAT, m->dev_acc, 1, E, 0);
    bad |= write_attr(f, "run_id", run_id);
    bad |= write_attr(f, "task", task);
    bad |= write_attr(f, "model", model);
    bad |= H5Fclose(f) < 0;
    if (bad || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: writing metrics failed", path);
        unlink(tmp);
        return -1;
    }
    return 0;
}
