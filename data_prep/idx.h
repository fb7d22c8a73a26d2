/* MNIST's idx format (also Fashion-MNIST), gzipped or not: a big-endian
 * header (magic 0x0000080N with N dimensions, then N uint32 sizes) and
 * unsigned bytes, read record by record. */
#ifndef SB_IDX_H
#define SB_IDX_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

typedef struct {
    gzFile f;
    char path[4096];
    int ndim;
    uint32_t dims[4];
    int64_t n;            /* records: dims[0] */
    size_t record_bytes;  /* product of the other dims */
    int64_t next;         /* next record to read */
} sb_idx;

/* Open path, or path + ".gz" if path is missing; expect ndim dimensions. */
int sb_idx_open(sb_idx *x, const char *path, int ndim, char *err, size_t errlen);
/* The next record into out[record_bytes]; a short read names the file and record. */
int sb_idx_next(sb_idx *x, uint8_t *out, char *err, size_t errlen);
void sb_idx_close(sb_idx *x);

#endif
