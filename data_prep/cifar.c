#include "data_prep/cifar.h"
#include <errno.h>
#include <string.h>

int sb_cifar_open(sb_cifar_file *c, const char *path, char *err, size_t errlen) {
    snprintf(c->path, sizeof c->path, "%s", path);
    c->next = 0;
    c->f = fopen(path, "rb");
    if (!c->f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int sb_cifar_next(sb_cifar_file *c, uint8_t rec[SB_CIFAR_RECORD], char *err, size_t errlen) {
    errno = 0;
    size_t got = fread(rec, 1, SB_CIFAR_RECORD, c->f);
    if (ferror(c->f)) { /* e.g. a folder where a batch file goes: not a truncation */
        snprintf(err, errlen, "%s: read error%s%s", c->path, errno ? ": " : "", errno ? strerror(errno) : "");
        return -1;
    }
    if (got == 0 && feof(c->f)) return 0;
    if (got != SB_CIFAR_RECORD) {
        snprintf(err, errlen, "%s: record %lld is truncated (%zu of %d bytes)", c->path, (long long)c->next, got,
                 SB_CIFAR_RECORD);
        return -1;
    }
    if (rec[0] > 9) {
        snprintf(err, errlen, "%s: record %lld: label %d is not 0..9", c->path, (long long)c->next, rec[0]);
        return -1;
    }
    c->next++;
    return 1;
}

void sb_cifar_close(sb_cifar_file *c) {
    if (c->f) fclose(c->f);
    c->f = NULL;
}

void sb_cifar_gray(const uint8_t rec[SB_CIFAR_RECORD], uint8_t gray[1024]) {
    const uint8_t *r = rec + 1, *g = r + 1024, *b = g + 1024;
    for (int i = 0; i < 1024; i++) {
        float y = 0.2989f * (r[i] / 255.0f) + 0.5870f * (g[i] / 255.0f) + 0.1140f * (b[i] / 255.0f);
        float v = y * 255.5f;
        gray[i] = (uint8_t)(v >= 255.0f ? 255 : v < 0.0f ? 0 : (int)v);
    }
}
