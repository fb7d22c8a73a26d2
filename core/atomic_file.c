#include "core/atomic_file.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>

int sb_atomic_open(sb_atomic_file *a, const char *path, char *err, size_t errlen) {
    a->path = path;
    snprintf(a->tmp, sizeof a->tmp, "%s.tmp", path);
    a->f = fopen(a->tmp, "wb");
    if (!a->f) {
        snprintf(err, errlen, "%s: cannot create: %s", a->tmp, strerror(errno));
        return -1;
    }
    return 0;
}

int sb_atomic_close(sb_atomic_file *a, int ok, char *err, size_t errlen) {
    ok = ok && fflush(a->f) == 0 && fsync(fileno(a->f)) == 0;
    if (fclose(a->f) != 0) ok = 0;
    a->f = NULL;
    if (!ok || rename(a->tmp, a->path) != 0) {
        snprintf(err, errlen, "%s: write failed: %s", a->path, errno ? strerror(errno) : "short write");
        unlink(a->tmp);
        return -1;
    }
    return 0;
}
