/* Test helper for checkpoint files (core/checkpoint.c).
 *   resign_checkpoint FILE        recompute every section checksum of a
 *                                 version-2 file in place, so a test that
 *                                 changes a section's bytes on purpose can
 *                                 reach the checks behind the checksum;
 *   resign_checkpoint --v1 IN OUT the same sections as version 1 (no
 *                                 checksums), as earlier runs' best.bin. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/checkpoint.h"

static int bad(const char *path) {
    fprintf(stderr, "%s: not a readable version-2 checkpoint\n", path);
    return 1;
}

int main(int argc, char **argv) {
    const int v1 = argc == 4 && !strcmp(argv[1], "--v1");
    if (argc != 2 && !v1) {
        fprintf(stderr, "usage: %s FILE | %s --v1 IN OUT\n", argv[0], argv[0]);
        return 2;
    }
    const char *path = argv[v1 ? 2 : 1];
    FILE *f = fopen(path, v1 ? "rb" : "r+b"), *out = v1 ? fopen(argv[3], "wb") : NULL;
    char magic[8];
    uint32_t hdr[2];
    if (!f || (v1 && !out) || fread(magic, 1, 8, f) != 8 || fread(hdr, sizeof hdr, 1, f) != 1 || hdr[0] != 2u)
        return bad(path);
    const uint32_t hdr1[2] = {1u, hdr[1]};
    if (out && (fwrite(magic, 1, 8, out) != 8 || fwrite(hdr1, sizeof hdr1, 1, out) != 1)) return bad(path);
    for (uint32_t i = 0; i < hdr[1]; i++) {
        char name[32];
        uint64_t bytes, sum;
        if (fread(name, 1, sizeof name, f) != sizeof name || fread(&bytes, sizeof bytes, 1, f) != 1) return bad(path);
        unsigned char *data = malloc(bytes ? bytes : 1);
        if (!data || (bytes && fread(data, 1, bytes, f) != bytes)) return bad(path);
        if (out) {
            const int ok = fwrite(name, 1, sizeof name, out) == sizeof name &&
                           fwrite(&bytes, sizeof bytes, 1, out) == 1 && fwrite(data, 1, bytes, out) == bytes &&
                           fread(&sum, sizeof sum, 1, f) == 1;
            free(data);
            if (!ok) return bad(path);
            continue;
        }
        sum = sb_checkpoint_checksum(data, bytes);
        free(data);
        /* a read and a write on one stream need a seek between them */
        if (fseek(f, 0, SEEK_CUR) != 0 || fwrite(&sum, sizeof sum, 1, f) != 1 || fseek(f, 0, SEEK_CUR) != 0)
            return bad(path);
    }
    return fclose(f) != 0 || (out && fclose(out) != 0);
}
