/* Writes a small ListOps-schema HDF5 file (data_prep/h5_dataset.h) whose
 * data the schema check accepts but a run cannot use: train row 3 holds token
 * id 17 with vocab_size 17 (one past the table). For
 * test_data_bad_rows.sh. Usage: make_bad_rows OUT.h5 */
#include <stdio.h>
#include "data_prep/h5_dataset.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT.h5\n", argv[0]);
        return 2;
    }
    enum { L = 16 };
    char err[512];
    sb_h5ds_writer *w = sb_h5ds_create(argv[1], "listops", 1, L, err, sizeof err);
    if (!w) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    sb_h5ds_attr_int(w, "vocab_size", 17);
    sb_h5ds_attr_int(w, "n_classes", 10);
    const int rows[3] = {8, 2, 2};
    int ok = 1;
    for (int s = 0; s < 3; s++)
        for (int r = 0; r < rows[s]; r++) {
            int32_t ids[L] = {0};
            for (int i = 0; i < 10; i++) ids[i] = 1 + (r + i) % 16;
            if (s == 0 && r == 3) ids[5] = 17;
            ok &= sb_h5ds_append(w, s, ids, NULL, r % 10) == 0;
        }
    if (sb_h5ds_finish(w, ok, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    return 0;
}
