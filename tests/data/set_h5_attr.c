/* Sets one root attribute of an existing HDF5 file (replacing any of that
 * name) in the types h5py writes, so that the shell tests can make files
 * whose attributes a reader must refuse, or take, without h5py:
 *   int    int64, VALUE a whole number      uint   uint64
 *   float  double, VALUE as strtod reads it (nan, inf)
 *   vlen   variable-length UTF-8 string (h5py's str)
 *   fixed  fixed-length ASCII string, NUL-padded (numpy's bytes_)
 * With COUNT, an array of COUNT copies of VALUE (a numpy array); without, a
 * scalar. Usage: set_h5_attr FILE NAME int|uint|float|vlen|fixed VALUE [COUNT] */
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: %s FILE NAME int|uint|float|vlen|fixed VALUE [COUNT]\n", argv[0]);
        return 2;
    }
    const char *path = argv[1], *name = argv[2], *kind = argv[3], *value = argv[4];
    const hsize_t n = argc == 6 ? (hsize_t)strtoull(argv[5], NULL, 10) : 1;
    hid_t type;
    size_t size;
    if (!strcmp(kind, "int")) type = H5Tcopy(H5T_NATIVE_INT64), size = 8;
    else if (!strcmp(kind, "uint")) type = H5Tcopy(H5T_NATIVE_UINT64), size = 8;
    else if (!strcmp(kind, "float")) type = H5Tcopy(H5T_NATIVE_DOUBLE), size = 8;
    else if (!strcmp(kind, "vlen") || !strcmp(kind, "fixed")) {
        type = H5Tcopy(H5T_C_S1);
        const int vlen = kind[0] == 'v';
        H5Tset_size(type, vlen ? H5T_VARIABLE : strlen(value) ? strlen(value) : 1);
        H5Tset_cset(type, vlen ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
        if (!vlen) H5Tset_strpad(type, H5T_STR_NULLPAD);
        size = vlen ? sizeof(char *) : H5Tget_size(type);
    } else {
        fprintf(stderr, "%s: unknown kind '%s'\n", argv[0], kind);
        return 2;
    }
    unsigned char *buf = calloc(n ? n : 1, size);
    for (hsize_t i = 0; i < n; i++) {
        unsigned char *at = buf + i * size;
        if (!strcmp(kind, "int")) *(int64_t *)at = strtoll(value, NULL, 10);
        else if (!strcmp(kind, "uint")) *(uint64_t *)at = strtoull(value, NULL, 10);
        else if (!strcmp(kind, "float")) *(double *)at = strtod(value, NULL);
        else if (!strcmp(kind, "vlen")) *(const char **)at = value;
        else memcpy(at, value, strlen(value));
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    const hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    const hid_t sp = argc == 6 ? H5Screate_simple(1, &n, NULL) : H5Screate(H5S_SCALAR);
    if (f >= 0 && H5Aexists(f, name) > 0) H5Adelete(f, name);
    const hid_t a = f >= 0 ? H5Acreate2(f, name, type, sp, H5P_DEFAULT, H5P_DEFAULT) : -1;
    int bad = a < 0 || H5Awrite(a, type, buf) < 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(type);
    free(buf);
    if (f >= 0 && H5Fclose(f) < 0) bad = 1;
    if (f < 0 || bad) fprintf(stderr, "%s: cannot set attribute %s of %s\n", argv[0], name, path);
    return f < 0 || bad;
}
