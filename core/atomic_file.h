/* Files that appear whole or not at all: write to PATH.tmp, then flush,
 * fsync and rename over PATH. A crash or a write error never leaves a
 * truncated file under the final name (and removes the temporary). */
#ifndef SB_ATOMIC_FILE_H
#define SB_ATOMIC_FILE_H
#include <stddef.h>
#include <stdio.h>

typedef struct {
    FILE *f;
    char tmp[4096];
    const char *path;
} sb_atomic_file;

/* 0 on success; else a message naming the temporary file in err. */
int sb_atomic_open(sb_atomic_file *a, const char *path, char *err, size_t errlen);
/* ok: whether every write succeeded. Commits (rename) when ok, else discards. */
int sb_atomic_close(sb_atomic_file *a, int ok, char *err, size_t errlen);

#endif
