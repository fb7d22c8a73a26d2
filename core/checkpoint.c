#include "core/checkpoint.h"
#include "core/atomic_file.h"
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CKPT_MAGIC "SBMCKPT\n"
#define CKPT_VERSION 1u

int sb_checkpoint_write(const char *path, const sb_ckpt_section *sec, int n, char *err, size_t errlen) {
    sb_atomic_file a;
    if (sb_atomic_open(&a, path, err, errlen)) return -1;
    FILE *f = a.f;
    uint32_t hdr[2] = {CKPT_VERSION, (uint32_t)n};
    int ok = fwrite(CKPT_MAGIC, 1, 8, f) == 8 && fwrite(hdr, sizeof hdr, 1, f) == 1;
    for (int i = 0; ok && i < n; i++) {
        char name[32] = {0};
        strncpy(name, sec[i].name, sizeof name - 1);
        uint64_t bytes = sec[i].bytes;
        ok = fwrite(name, 1, sizeof name, f) == sizeof name && fwrite(&bytes, sizeof bytes, 1, f) == 1 &&
             (bytes == 0 || fwrite(sec[i].data, 1, bytes, f) == bytes);
    }
    return sb_atomic_close(&a, ok, err, errlen);
}

int sb_checkpoint_read(const char *path, const sb_ckpt_section *sec, int n, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char magic[8];
    uint32_t hdr[2];
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, CKPT_MAGIC, 8) != 0 || fread(hdr, sizeof hdr, 1, f) != 1) {
        snprintf(err, errlen, "%s: not an sbmbench checkpoint", path);
        fclose(f);
        return -1;
    }
    if (hdr[0] != CKPT_VERSION || hdr[1] != (uint32_t)n) {
        snprintf(err, errlen, "%s: checkpoint version %u with %u sections, expected version %u with %d",
                 path, hdr[0], hdr[1], CKPT_VERSION, n);
        fclose(f);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char name[32];
        uint64_t bytes;
        if (fread(name, 1, sizeof name, f) != sizeof name || fread(&bytes, sizeof bytes, 1, f) != 1) {
            snprintf(err, errlen, "%s: truncated before section '%s'", path, sec[i].name);
            fclose(f);
            return -1;
        }
        name[sizeof name - 1] = 0;
        if (strcmp(name, sec[i].name) != 0 || bytes != sec[i].bytes) {
            snprintf(err, errlen, "%s: section '%s' (%llu bytes) where '%s' (%zu bytes) was expected", path,
                     name, (unsigned long long)bytes, sec[i].name, sec[i].bytes);
            fclose(f);
            return -1;
        }
        if (bytes && fread(sec[i].data, 1, bytes, f) != bytes) {
            snprintf(err, errlen, "%s: truncated in section '%s'", path, sec[i].name);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 0;
}
