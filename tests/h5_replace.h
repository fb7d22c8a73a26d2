/* Test-fixture helper: replace one dataset of an existing HDF5 file by a
 * rank-1 dataset of another type or shape, to make a file a reader must
 * refuse (or survive). Header-only, for the test programs. */
#ifndef SB_TESTS_H5_REPLACE_H
#define SB_TESTS_H5_REPLACE_H
#include <hdf5.h>

/* Dataset `name` of file `path` becomes n elements of `type` from data; 0 on success. */
static inline int tu_h5_replace_1d(const char *path, const char *name, hid_t type, const void *data, hsize_t n) {
    const hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return 1;
    if (H5Ldelete(f, name, H5P_DEFAULT) < 0) {
        H5Fclose(f);
        return 1;
    }
    const hid_t sp = H5Screate_simple(1, &n, NULL);
    const hid_t ds = H5Dcreate2(f, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const int bad = ds < 0 || H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0;
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(sp);
    return (H5Fclose(f) < 0) | bad;
}

#endif
