#include "core/checkpoint.h"
#include "core/atomic_file.h"
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CKPT_MAGIC "SBMCKPT\n"
/* Version 2 follows each section's bytes with their checksum (version 1,
 * which best.bin files of earlier runs hold, had none and is still read). */
#define CKPT_VERSION 2u

uint64_t sb_checkpoint_checksum(const void *data, size_t bytes) {
    /* FNV-1a, 64 bits: a flipped or overwritten byte changes it */
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < bytes; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

int sb_checkpoint_write(const char *path, const sb_ckpt_section *sec, int n, char *err, size_t errlen) {
    sb_atomic_file a;
    if (sb_atomic_open(&a, path, err, errlen)) return -1;
    FILE *f = a.f;
    uint32_t hdr[2] = {CKPT_VERSION, (uint32_t)n};
    int ok = fwrite(CKPT_MAGIC, 1, 8, f) == 8 && fwrite(hdr, sizeof hdr, 1, f) == 1;
    for (int i = 0; ok && i < n; i++) {
        char name[32] = {0};
        strncpy(name, sec[i].name, sizeof name - 1);
        uint64_t bytes = sec[i].bytes, sum = sb_checkpoint_checksum(sec[i].data, sec[i].bytes);
        ok = fwrite(name, 1, sizeof name, f) == sizeof name && fwrite(&bytes, sizeof bytes, 1, f) == 1 &&
             (bytes == 0 || fwrite(sec[i].data, 1, bytes, f) == bytes) && fwrite(&sum, sizeof sum, 1, f) == 1;
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
    if ((hdr[0] != CKPT_VERSION && hdr[0] != 1u) || hdr[1] != (uint32_t)n) {
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
        uint64_t sum;
        if (hdr[0] >= 2u && fread(&sum, sizeof sum, 1, f) != 1) {
            snprintf(err, errlen, "%s: truncated after section '%s' (its checksum)", path, sec[i].name);
            fclose(f);
            return -1;
        }
        if (hdr[0] >= 2u && sum != sb_checkpoint_checksum(sec[i].data, sec[i].bytes)) {
            snprintf(err, errlen, "%s: section '%s' is corrupt (its bytes do not match its checksum)", path,
                     sec[i].name);
            fclose(f);
            return -1;
        }
    }
    const int trailing = fgetc(f) != EOF;
    fclose(f);
    if (trailing) {
        snprintf(err, errlen, "%s: bytes after its last section '%s'", path, n ? sec[n - 1].name : "");
        return -1;
    }
    return 0;
}
