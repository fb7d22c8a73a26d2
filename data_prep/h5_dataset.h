/* The project's HDF5 dataset schema (DESIGN.md), written by every converter
 * and generator and read by the file-backed tasks:
 *
 *   /<split>/input_ids     int32 [N, L]   token ids, 0 = padding (split: train, dev, test)
 *   /<split>/input_ids_1   int32 [N, L]   second sequence of two-sequence tasks (retrieval)
 *   /<split>/label         int32 [N]
 *   root attributes        task, vocab_size, max_len (= L), n_classes, n_seqs, source, and
 *                          the generator's or converter's parameters and seed
 *
 * Rows are chunked and deflated, and read back one row per hyperslab, so no
 * reader holds a whole split of ids in memory. The writer fills NAME.tmp and
 * renames it over NAME only when every row and attribute was written. */
#ifndef SB_H5_DATASET_H
#define SB_H5_DATASET_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#define SB_H5DS_SPLITS 3
/* what a reader accepts in the attributes (sb_h5ds_open) */
#define SB_H5DS_MAX_VOCAB (1 << 24)
#define SB_H5DS_MAX_CLASSES (1 << 16)
#define SB_H5DS_MAX_LEN (1 << 20)
extern const char *const sb_h5ds_split_names[SB_H5DS_SPLITS]; /* "train", "dev", "test" */

typedef struct sb_h5ds_writer sb_h5ds_writer;

/* n_seqs: 1, or 2 for pair tasks; L: the stored row length. Writes the task,
 * max_len and n_seqs attributes. NULL and a message on failure. */
sb_h5ds_writer *sb_h5ds_create(const char *path, const char *task, int n_seqs, int L, char *err, size_t errlen);
/* Keep at most `limit` rows of a split (later appends are dropped); -1 = all. */
void sb_h5ds_set_limit(sb_h5ds_writer *w, int split, int64_t limit);
int64_t sb_h5ds_limit(const sb_h5ds_writer *w, int split);
/* Append one example (ids1 only for pair tasks). 0 ok, -1 on an HDF5 error. */
int sb_h5ds_append(sb_h5ds_writer *w, int split, const int32_t *ids0, const int32_t *ids1, int32_t label);
int64_t sb_h5ds_count(const sb_h5ds_writer *w, int split);
void sb_h5ds_attr_str(sb_h5ds_writer *w, const char *name, const char *value);
void sb_h5ds_attr_int(sb_h5ds_writer *w, const char *name, int64_t value);
void sb_h5ds_attr_double(sb_h5ds_writer *w, const char *name, double value);
/* ok = 0 discards the file (the temporary is removed). Commits when ok and
 * every write succeeded; returns 0 then, else -1 and a message. Frees w. */
int sb_h5ds_finish(sb_h5ds_writer *w, int ok, char *err, size_t errlen);

typedef struct {
    hid_t file;
    hid_t ids[SB_H5DS_SPLITS][2], label[SB_H5DS_SPLITS];
    int64_t n[SB_H5DS_SPLITS];
    int L, n_seqs, vocab_size, n_classes;
    char task[64];
} sb_h5ds_reader;

/* Open and check the schema; 0 or -1 with a message naming the file. */
int sb_h5ds_open(sb_h5ds_reader *r, const char *path, char *err, size_t errlen);
/* Row `row` of sequence `seq` (0/1) of a split into out[L]. */
int sb_h5ds_read_row(sb_h5ds_reader *r, int split, int seq, int64_t row, int32_t *out);
/* All labels of a split into out[n[split]] (labels are small). */
int sb_h5ds_read_labels(sb_h5ds_reader *r, int split, int32_t *out);
/* A string attribute into buf ("" if absent). */
void sb_h5ds_read_attr_str(sb_h5ds_reader *r, const char *name, char *buf, size_t len);
/* An integer attribute into *v: 1, or 0 if absent, -1 if it cannot be read
 * as an integer. */
int sb_h5ds_read_attr_int(sb_h5ds_reader *r, const char *name, int64_t *v);
void sb_h5ds_close(sb_h5ds_reader *r);

/* ---- one attribute (the reader's and `sbmbench op`'s) ---- */

/* The class of attribute a (open) when it holds exactly one value; else
 * H5T_NO_CLASS with what is wrong in why. h5py stores a numpy array as an
 * attribute of that many values: read into one value, it wrote past it (a
 * segfault). */
H5T_class_t sb_h5_attr_one_class(hid_t a, char *why, size_t whylen);
/* String attribute a's one value into buf (cut to len - 1 bytes): 0, or -1
 * when it cannot be read. h5py writes a str as a variable-length UTF-8
 * string and numpy bytes as a fixed-length one; HDF5 converts neither kind
 * into the other, nor UTF-8 into ASCII, so the memory type matches the
 * stored one in both. */
int sb_h5_attr_read_str(hid_t a, char *buf, size_t len);

#endif
