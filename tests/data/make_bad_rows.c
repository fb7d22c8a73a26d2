/* Writes a small HDF5 file in the project's schema (data_prep/h5_dataset.h)
 * that a run must refuse with a clear message, for test_data_bad_rows.sh:
 *   ids     a ListOps file whose train row 3 holds token id 17 with vocab_size 17
 *           (one past the table; the schema check cannot see it, the row read must)
 *   vocab   a ListOps file whose vocab_size attribute is 2e9
 *   pair    a retrieval file with one sequence per example (n_seqs 1)
 *   labels  a ListOps file whose /train/label holds doubles (HDF5 would truncate them)
 * Usage: make_bad_rows MODE OUT.h5 */
#include <hdf5.h>
#include <stdio.h>
#include <string.h>
#include "data_prep/h5_dataset.h"

enum { L = 16 };

/* /train/label of path replaced by n doubles */
static int float_labels(const char *path, int n) {
    const hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0 || H5Ldelete(f, "/train/label", H5P_DEFAULT) < 0) return 1;
    const hsize_t d[1] = {(hsize_t)n};
    double x[64];
    for (int i = 0; i < n; i++) x[i] = 0.6 + i % 10;
    const hid_t sp = H5Screate_simple(1, d, NULL);
    const hid_t ds = H5Dcreate2(f, "/train/label", H5T_NATIVE_DOUBLE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const int bad = ds < 0 || H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) < 0;
    H5Dclose(ds), H5Sclose(sp), H5Fclose(f);
    return bad;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s ids|vocab|pair|labels OUT.h5\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1], *path = argv[2];
    char err[512];
    sb_h5ds_writer *w = sb_h5ds_create(path, strcmp(mode, "pair") ? "listops" : "retrieval", 1, L, err, sizeof err);
    if (!w) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    sb_h5ds_attr_int(w, "vocab_size", strcmp(mode, "vocab") ? 17 : 2000000000);
    sb_h5ds_attr_int(w, "n_classes", 10);
    const int rows[3] = {8, 2, 2};
    int ok = 1;
    for (int s = 0; s < 3; s++)
        for (int r = 0; r < rows[s]; r++) {
            int32_t ids[L] = {0};
            for (int i = 0; i < 10; i++) ids[i] = 1 + (r + i) % 16;
            if (!strcmp(mode, "ids") && s == 0 && r == 3) ids[5] = 17;
            ok &= sb_h5ds_append(w, s, ids, NULL, r % 10) == 0;
        }
    if (sb_h5ds_finish(w, ok, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    return strcmp(mode, "labels") ? 0 : float_labels(path, rows[0]);
}
