#include "data_prep/h5_dataset.h"
#include "core/atomic_file.h"
#include "experiments/util.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const sb_h5ds_split_names[SB_H5DS_SPLITS] = {"train", "dev", "test"};

/* About 64 KiB of int32 per chunk: small enough that reading one random row
 * inflates little, large enough to compress well. */
static hsize_t rows_per_chunk(int L) {
    hsize_t r = (hsize_t)(16384 / (L > 0 ? L : 1));
    return r < 1 ? 1 : r;
}

struct sb_h5ds_writer {
    hid_t file;
    hid_t ids[SB_H5DS_SPLITS][2], label[SB_H5DS_SPLITS];
    int n_seqs, L, failed;
    hsize_t chunk;
    int64_t n[SB_H5DS_SPLITS], limit[SB_H5DS_SPLITS];
    /* rows appended but not yet written: [chunk, L] per sequence, [chunk] labels */
    int32_t *buf_ids[SB_H5DS_SPLITS][2], *buf_label[SB_H5DS_SPLITS];
    int64_t buffered[SB_H5DS_SPLITS];
    char path[4096], tmp[4200];
    int temp_slot;
};

static hid_t create_extendible(hid_t group, const char *name, int rank, hsize_t L, hsize_t chunk) {
    hsize_t dims[2] = {0, L}, maxdims[2] = {H5S_UNLIMITED, L}, cdims[2] = {chunk, L};
    hid_t space = H5Screate_simple(rank, dims, maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, rank, cdims);
    H5Pset_shuffle(dcpl); /* byte-shuffle: small int32 values then deflate well */
    H5Pset_deflate(dcpl, 4);
    hid_t ds = H5Dcreate2(group, name, H5T_STD_I32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(space);
    return ds;
}

sb_h5ds_writer *sb_h5ds_create(const char *path, const char *task, int n_seqs, int L, char *err, size_t errlen) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    sb_h5ds_writer *w = calloc(1, sizeof *w);
    snprintf(w->path, sizeof w->path, "%s", path);
    if (strlen(path) >= sizeof w->path || sb_tmp_name(w->tmp, sizeof w->tmp, path, err, errlen)) {
        if (strlen(path) >= sizeof w->path) snprintf(err, errlen, "%.200s...: path too long", path);
        free(w);
        return NULL;
    }
    w->n_seqs = n_seqs;
    w->L = L;
    w->chunk = rows_per_chunk(L);
    /* the output's folder is made if missing (like `run --out`) */
    char dir[sizeof w->path];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        if (sb_mkdir_p(dir, err, errlen)) {
            free(w);
            return NULL;
        }
    }
    if (sb_check_replaceable(path, err, errlen)) { /* before any work: --out /dev/null */
        free(w);
        return NULL;
    }
    /* registered before it exists and released once renamed or removed, so an
     * interrupted command removes it whenever the signal comes */
    w->temp_slot = sb_temp_register(w->tmp);
    w->file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (w->file < 0) {
        snprintf(err, errlen, "%s: cannot create HDF5 file", w->tmp);
        sb_temp_release(w->temp_slot);
        free(w);
        return NULL;
    }
    for (int s = 0; s < SB_H5DS_SPLITS; s++) {
        hid_t g = H5Gcreate2(w->file, sb_h5ds_split_names[s], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        for (int q = 0; q < n_seqs; q++) {
            w->ids[s][q] = create_extendible(g, q ? "input_ids_1" : "input_ids", 2, (hsize_t)L, w->chunk);
            w->buf_ids[s][q] = malloc(sizeof(int32_t) * w->chunk * (size_t)L);
            if (w->ids[s][q] < 0) w->failed = 1;
        }
        w->label[s] = create_extendible(g, "label", 1, 0, w->chunk * 16);
        w->buf_label[s] = malloc(sizeof(int32_t) * w->chunk);
        if (g < 0 || w->label[s] < 0) w->failed = 1;
        if (g >= 0) H5Gclose(g);
        w->limit[s] = -1;
    }
    sb_h5ds_attr_str(w, "task", task);
    sb_h5ds_attr_int(w, "max_len", L);
    sb_h5ds_attr_int(w, "n_seqs", n_seqs);
    sb_h5ds_attr_str(w, "schema", "sbmbench-dataset-1");
    return w;
}

void sb_h5ds_set_limit(sb_h5ds_writer *w, int split, int64_t limit) { w->limit[split] = limit; }
int64_t sb_h5ds_limit(const sb_h5ds_writer *w, int split) { return w->limit[split]; }

static int append_rows(hid_t ds, int rank, hsize_t at, hsize_t rows, hsize_t L, const int32_t *data) {
    hsize_t dims[2] = {at + rows, L}, start[2] = {at, 0}, count[2] = {rows, L};
    if (H5Dset_extent(ds, dims) < 0) return -1;
    hid_t fs = H5Dget_space(ds);
    hid_t ms = H5Screate_simple(rank, count, NULL);
    herr_t rc = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
    if (rc >= 0) rc = H5Dwrite(ds, H5T_NATIVE_INT32, ms, fs, H5P_DEFAULT, data);
    H5Sclose(ms);
    H5Sclose(fs);
    return rc < 0 ? -1 : 0;
}

static void flush_split(sb_h5ds_writer *w, int s) {
    hsize_t rows = (hsize_t)w->buffered[s], at = (hsize_t)(w->n[s] - w->buffered[s]);
    if (!rows) return;
    for (int q = 0; q < w->n_seqs; q++)
        if (append_rows(w->ids[s][q], 2, at, rows, (hsize_t)w->L, w->buf_ids[s][q])) w->failed = 1;
    if (append_rows(w->label[s], 1, at, rows, 0, w->buf_label[s])) w->failed = 1;
    w->buffered[s] = 0;
}

int sb_h5ds_append(sb_h5ds_writer *w, int split, const int32_t *ids0, const int32_t *ids1, int32_t label) {
    if (w->limit[split] >= 0 && w->n[split] >= w->limit[split]) return 0;
    int64_t b = w->buffered[split];
    memcpy(w->buf_ids[split][0] + b * w->L, ids0, sizeof(int32_t) * (size_t)w->L);
    if (w->n_seqs > 1) memcpy(w->buf_ids[split][1] + b * w->L, ids1, sizeof(int32_t) * (size_t)w->L);
    w->buf_label[split][b] = label;
    w->buffered[split]++;
    w->n[split]++;
    if ((hsize_t)w->buffered[split] == w->chunk) flush_split(w, split);
    return w->failed ? -1 : 0;
}

int64_t sb_h5ds_count(const sb_h5ds_writer *w, int split) { return w->n[split]; }

static void write_attr(sb_h5ds_writer *w, const char *name, hid_t type, const void *value) {
    hid_t space = H5Screate(H5S_SCALAR);
    if (H5Aexists(w->file, name) > 0) H5Adelete(w->file, name);
    hid_t a = H5Acreate2(w->file, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, type, value) < 0) w->failed = 1;
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
}

void sb_h5ds_attr_str(sb_h5ds_writer *w, const char *name, const char *value) {
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    write_attr(w, name, type, &value);
    H5Tclose(type);
}

void sb_h5ds_attr_int(sb_h5ds_writer *w, const char *name, int64_t value) {
    write_attr(w, name, H5T_NATIVE_INT64, &value);
}

void sb_h5ds_attr_double(sb_h5ds_writer *w, const char *name, double value) {
    write_attr(w, name, H5T_NATIVE_DOUBLE, &value);
}

int sb_h5ds_finish(sb_h5ds_writer *w, int ok, char *err, size_t errlen) {
    for (int s = 0; s < SB_H5DS_SPLITS && ok; s++) {
        flush_split(w, s);
        char name[32];
        snprintf(name, sizeof name, "n_%s", sb_h5ds_split_names[s]);
        sb_h5ds_attr_int(w, name, w->n[s]);
    }
    for (int s = 0; s < SB_H5DS_SPLITS; s++) {
        for (int q = 0; q < w->n_seqs; q++) {
            if (w->ids[s][q] >= 0) H5Dclose(w->ids[s][q]);
            free(w->buf_ids[s][q]);
        }
        if (w->label[s] >= 0) H5Dclose(w->label[s]);
        free(w->buf_label[s]);
    }
    int good = ok && !w->failed;
    if (H5Fclose(w->file) < 0) good = 0;
    int rc = 0;
    if (good && sb_commit_written(w->tmp, w->path, err, errlen)) {
        rc = -1;
    } else if (!good) {
        if (ok) snprintf(err, errlen, "%s: HDF5 write failed", w->tmp);
        rc = -1;
    }
    if (rc) unlink(w->tmp);
    sb_temp_release(w->temp_slot);
    free(w);
    return rc;
}

/* ---- reader ---- */

H5T_class_t sb_h5_attr_one_class(hid_t a, char *why, size_t whylen) {
    const hid_t t = a >= 0 ? H5Aget_type(a) : -1, sp = a >= 0 ? H5Aget_space(a) : -1;
    const H5T_class_t cls = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    const hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    if (n < 0 || cls == H5T_NO_CLASS) snprintf(why, whylen, "cannot be read");
    else if (n != 1) snprintf(why, whylen, "must be a single value (it holds %lld)", (long long)n);
    else return cls;
    return H5T_NO_CLASS;
}

int sb_h5_attr_read_str(hid_t a, char *buf, size_t len) {
    buf[0] = 0;
    const hid_t ft = H5Aget_type(a), mt = H5Tcopy(H5T_C_S1);
    int ok = ft >= 0 && mt >= 0 && H5Tset_cset(mt, H5Tget_cset(ft)) >= 0;
    if (ok && H5Tis_variable_str(ft) > 0) {
        char *s = NULL;
        ok = H5Tset_size(mt, H5T_VARIABLE) >= 0 && H5Aread(a, mt, &s) >= 0;
        if (ok && s) snprintf(buf, len, "%s", s);
        /* one string: H5free_memory frees it as H5Dvlen_reclaim (1.10) or
         * H5Treclaim (1.12+) would, and is in both */
        if (s) H5free_memory(s);
    } else if (ok) {
        /* HDF5 cuts a longer string to len - 1 bytes and ends it with a NUL */
        ok = H5Tset_size(mt, len) >= 0 && H5Tset_strpad(mt, H5T_STR_NULLTERM) >= 0 && H5Aread(a, mt, buf) >= 0;
        buf[ok ? len - 1 : 0] = 0;
    }
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    return ok ? 0 : -1;
}

/* Root attribute `name`, open, when it holds one value of class cls: 1 and
 * *a (the caller closes it), 0 when there is none, -1 with what is wrong in
 * why. */
static int open_attr(hid_t f, const char *name, H5T_class_t cls, hid_t *a, char *why, size_t whylen) {
    *a = -1;
    if (H5Aexists(f, name) <= 0) return 0;
    *a = H5Aopen(f, name, H5P_DEFAULT);
    const H5T_class_t got = sb_h5_attr_one_class(*a, why, whylen);
    if (got == cls) return 1;
    if (got != H5T_NO_CLASS) snprintf(why, whylen, "must be %s", cls == H5T_STRING ? "a string" : "an integer");
    if (*a >= 0) H5Aclose(*a);
    *a = -1;
    return -1;
}

/* A root integer attribute into *v: 1, or 0 when there is none, -1 (what is
 * wrong in why) when it is not one integer. A float is refused, not
 * truncated, as the datasets' are (is_integer). */
static int get_int_attr(hid_t f, const char *name, int64_t *v, char *why, size_t whylen) {
    hid_t a;
    const int got = open_attr(f, name, H5T_INTEGER, &a, why, whylen);
    if (got != 1) return got;
    const int ok = H5Aread(a, H5T_NATIVE_INT64, v) >= 0;
    H5Aclose(a);
    if (!ok) snprintf(why, whylen, "cannot be read");
    return ok ? 1 : -1;
}

/* A root string attribute into buf (cut to len - 1 bytes): 1, or 0 when
 * there is none, -1 (what is wrong in why) when it is not one string. */
static int get_str_attr(hid_t f, const char *name, char *buf, size_t len, char *why, size_t whylen) {
    buf[0] = 0;
    hid_t a;
    const int got = open_attr(f, name, H5T_STRING, &a, why, whylen);
    if (got != 1) return got;
    const int ok = sb_h5_attr_read_str(a, buf, len) == 0;
    H5Aclose(a);
    if (!ok) snprintf(why, whylen, "cannot be read");
    return ok ? 1 : -1;
}

int sb_h5ds_read_attr_int(sb_h5ds_reader *r, const char *name, int64_t *v) {
    char why[96];
    return get_int_attr(r->file, name, v, why, sizeof why);
}

void sb_h5ds_read_attr_str(sb_h5ds_reader *r, const char *name, char *buf, size_t len) {
    char why[96];
    get_str_attr(r->file, name, buf, len, why, sizeof why);
}

/* The schema's integer attribute `name` into *v (fallback when there is none
 * and none is required), at least lo: 0, or -1 with a message naming the
 * file, the attribute and what is wrong with it. */
static int schema_int(hid_t f, const char *path, const char *name, int required, int64_t fallback, int64_t lo,
                      int64_t *v, char *err, size_t errlen) {
    char why[96];
    const int got = get_int_attr(f, name, v, why, sizeof why);
    if (got == 0 && !required) *v = fallback;
    if ((got == 0 && !required) || (got == 1 && *v >= lo)) return 0;
    if (got == 0) snprintf(err, errlen, "%s: attribute %s is missing", path, name);
    else if (got < 0) snprintf(err, errlen, "%s: attribute %s %s", path, name, why);
    else snprintf(err, errlen, "%s: attribute %s is %lld, must be at least %lld", path, name, (long long)*v, (long long)lo);
    return -1;
}

/* Whether dataset ds stores integers (HDF5 would convert floats to int32
 * silently, truncating them). */
static int is_integer(hid_t ds) {
    const hid_t t = H5Dget_type(ds);
    const int ok = t >= 0 && H5Tget_class(t) == H5T_INTEGER;
    if (t >= 0) H5Tclose(t);
    return ok;
}

int sb_h5ds_open(sb_h5ds_reader *r, const char *path, char *err, size_t errlen) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    memset(r, 0, sizeof *r);
    for (int s = 0; s < SB_H5DS_SPLITS; s++) r->ids[s][0] = r->ids[s][1] = r->label[s] = -1;
    if (access(path, R_OK) != 0) {
        snprintf(err, errlen, "%s: cannot read data file: %s", path, strerror(errno));
        r->file = -1;
        return -1;
    }
    r->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (r->file < 0) {
        snprintf(err, errlen, "%s: not an HDF5 file", path);
        return -1;
    }
    /* each attribute on its own, so that a refusal names the bad one */
    char why[96];
    const int task = get_str_attr(r->file, "task", r->task, sizeof r->task, why, sizeof why);
    if (task != 1 || !r->task[0]) {
        snprintf(err, errlen, "%s: attribute task %s", path, task < 0 ? why : task == 0 ? "is missing" : "is empty");
        goto fail;
    }
    int64_t L = 0, n_seqs = 1, vocab = 0, classes = 0;
    if (schema_int(r->file, path, "max_len", 1, 0, 1, &L, err, errlen) ||
        schema_int(r->file, path, "vocab_size", 1, 0, 2, &vocab, err, errlen) ||
        schema_int(r->file, path, "n_classes", 1, 0, 2, &classes, err, errlen) ||
        schema_int(r->file, path, "n_seqs", 0, 1, 1, &n_seqs, err, errlen))
        goto fail;
    if (n_seqs > 2) {
        snprintf(err, errlen, "%s: attribute n_seqs is %lld, must be 1 or 2", path, (long long)n_seqs);
        goto fail;
    }
    /* bounds far past any real task (RoBERTa's vocabulary is 50265 tokens),
     * checked before narrowing to int, so that a corrupt attribute is named
     * here rather than met as a huge allocation or a wrapped value */
    if (vocab > SB_H5DS_MAX_VOCAB || classes > SB_H5DS_MAX_CLASSES || L > SB_H5DS_MAX_LEN) {
        snprintf(err, errlen, "%s: attribute out of range: vocab_size %lld (at most %d), n_classes %lld (at most %d), "
                 "max_len %lld (at most %d)", path, (long long)vocab, SB_H5DS_MAX_VOCAB, (long long)classes,
                 SB_H5DS_MAX_CLASSES, (long long)L, SB_H5DS_MAX_LEN);
        goto fail;
    }
    r->L = (int)L, r->n_seqs = (int)n_seqs, r->vocab_size = (int)vocab, r->n_classes = (int)classes;
    for (int s = 0; s < SB_H5DS_SPLITS; s++) {
        char name[64];
        for (int q = 0; q < r->n_seqs; q++) {
            snprintf(name, sizeof name, "/%s/%s", sb_h5ds_split_names[s], q ? "input_ids_1" : "input_ids");
            r->ids[s][q] = H5Dopen2(r->file, name, H5P_DEFAULT);
            hsize_t dims[2] = {0, 0};
            hid_t sp = r->ids[s][q] >= 0 ? H5Dget_space(r->ids[s][q]) : -1;
            int ok = sp >= 0 && H5Sget_simple_extent_ndims(sp) == 2 && H5Sget_simple_extent_dims(sp, dims, NULL) == 2 &&
                     dims[1] == (hsize_t)r->L && (q == 0 || (int64_t)dims[0] == r->n[s]) && is_integer(r->ids[s][q]);
            if (sp >= 0) H5Sclose(sp);
            if (!ok) {
                snprintf(err, errlen, "%s: dataset %s missing or not int32 [N, %d]", path, name, r->L);
                goto fail;
            }
            if (q == 0) r->n[s] = (int64_t)dims[0];
        }
        snprintf(name, sizeof name, "/%s/label", sb_h5ds_split_names[s]);
        r->label[s] = H5Dopen2(r->file, name, H5P_DEFAULT);
        hsize_t n = 0;
        hid_t sp = r->label[s] >= 0 ? H5Dget_space(r->label[s]) : -1;
        int ok = sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1 && H5Sget_simple_extent_dims(sp, &n, NULL) == 1 &&
                 (int64_t)n == r->n[s] && is_integer(r->label[s]);
        if (sp >= 0) H5Sclose(sp);
        if (!ok) {
            snprintf(err, errlen, "%s: dataset %s missing or not int32 [%lld]", path, name, (long long)r->n[s]);
            goto fail;
        }
    }
    return 0;
fail:
    sb_h5ds_close(r);
    return -1;
}

int sb_h5ds_read_row(sb_h5ds_reader *r, int split, int seq, int64_t row, int32_t *out) {
    hid_t ds = r->ids[split][seq];
    hsize_t start[2] = {(hsize_t)row, 0}, count[2] = {1, (hsize_t)r->L};
    hid_t fs = H5Dget_space(ds);
    hid_t ms = H5Screate_simple(2, count, NULL);
    herr_t rc = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
    if (rc >= 0) rc = H5Dread(ds, H5T_NATIVE_INT32, ms, fs, H5P_DEFAULT, out);
    H5Sclose(ms);
    H5Sclose(fs);
    return rc < 0 ? -1 : 0;
}

int sb_h5ds_read_labels(sb_h5ds_reader *r, int split, int32_t *out) {
    if (r->n[split] == 0) return 0;
    return H5Dread(r->label[split], H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0 ? -1 : 0;
}

void sb_h5ds_close(sb_h5ds_reader *r) {
    for (int s = 0; s < SB_H5DS_SPLITS; s++) {
        for (int q = 0; q < 2; q++)
            if (r->ids[s][q] > 0) H5Dclose(r->ids[s][q]);
        if (r->label[s] > 0) H5Dclose(r->label[s]);
        r->ids[s][0] = r->ids[s][1] = r->label[s] = -1;
    }
    if (r->file > 0) H5Fclose(r->file);
    r->file = -1;
}
