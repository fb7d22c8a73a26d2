/* Writes a small HDF5 file in the project's schema (data_prep/h5_dataset.h)
 * that a run must refuse with a clear message, for test_data_bad_rows.sh:
 *   ids     a ListOps file whose train row 3 holds token id 17 with vocab_size 17
 *           (one past the table; the schema check cannot see it, the row read must)
 *   vocab   a ListOps file whose vocab_size attribute is 2^32 + 17 (17 if narrowed to int first)
 *   pair    a retrieval file with one sequence per example (n_seqs 1)
 *   labels  a ListOps file whose /train/label holds doubles (HDF5 would truncate them)
 * Usage: make_bad_rows MODE OUT.h5 */
#include <stdio.h>
#include <string.h>
#include "data_prep/h5_dataset.h"
#include "tests/h5_replace.h"

enum { L = 16 };

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
    sb_h5ds_attr_int(w, "vocab_size", strcmp(mode, "vocab") ? 17 : ((int64_t)1 << 32) + 17);
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
    if (strcmp(mode, "labels")) return 0;
    double labels[8];
    for (int i = 0; i < rows[0]; i++) labels[i] = 0.6 + i % 10; /* HDF5 would truncate them to ints */
    return tu_h5_replace_1d(path, "/train/label", H5T_NATIVE_DOUBLE, labels, (hsize_t)rows[0]);
}
