#include "data_prep/idx.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int sb_idx_open(sb_idx *x, const char *path, int ndim, char *err, size_t errlen) {
    memset(x, 0, sizeof *x);
    snprintf(x->path, sizeof x->path, "%s", path);
    if (access(x->path, R_OK) != 0) snprintf(x->path, sizeof x->path, "%s.gz", path);
    x->f = gzopen(x->path, "rb"); /* reads uncompressed files transparently */
    if (!x->f) {
        snprintf(err, errlen, "%s (or %s.gz): cannot open", path, path);
        return -1;
    }
    uint8_t h[4 + 4 * 4];
    int want = 4 + 4 * ndim;
    if (gzread(x->f, h, (unsigned)want) != want) {
        snprintf(err, errlen, "%s: truncated idx header", x->path);
        goto fail;
    }
    if (h[0] || h[1] || h[2] != 0x08 || h[3] != ndim) {
        snprintf(err, errlen, "%s: not an idx file of unsigned bytes with %d dimensions (magic %02x%02x%02x%02x)",
                 x->path, ndim, h[0], h[1], h[2], h[3]);
        goto fail;
    }
    x->ndim = ndim;
    x->record_bytes = 1;
    for (int d = 0; d < ndim; d++) {
        const uint8_t *p = h + 4 + 4 * d;
        x->dims[d] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        if (d) x->record_bytes *= x->dims[d];
    }
    x->n = x->dims[0];
    return 0;
fail:
    gzclose(x->f);
    x->f = NULL;
    return -1;
}

int sb_idx_next(sb_idx *x, uint8_t *out, char *err, size_t errlen) {
    int got = gzread(x->f, out, (unsigned)x->record_bytes);
    if (got != (int)x->record_bytes) {
        int code = 0;
        const char *msg = gzerror(x->f, &code);
        snprintf(err, errlen, "%s: record %lld of %lld: %s", x->path, (long long)x->next, (long long)x->n,
                 code < 0 ? msg : "file truncated");
        return -1;
    }
    x->next++;
    return 0;
}

void sb_idx_close(sb_idx *x) {
    if (x->f) gzclose(x->f);
    x->f = NULL;
}
