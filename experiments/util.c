#include "experiments/util.h"
#include "core/atomic_file.h"
#include "core/fatal.h"
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int sb_mkdir_p(const char *path, char *err, size_t errlen) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) goto fail;
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST) goto fail;
    if (!sb_is_dir(buf)) { /* EEXIST from a file of that name */
        snprintf(err, errlen, "%s: exists and is not a directory", buf);
        return -1;
    }
    return 0;
fail:
    snprintf(err, errlen, "%s: cannot create directory: %s", buf, strerror(errno));
    return -1;
}

int sb_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *sb_data_file_problem(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0 || access(path, R_OK) != 0) return strerror(errno);
    return S_ISREG(st.st_mode) ? NULL : "not a regular file";
}

int sb_cmp_strings(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void sb_keep_name_chars(char *s, const char *keep) {
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr(keep, *s)) *s = '_';
}

int sb_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

char *sb_read_file(const char *path, size_t *len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) buf = realloc(buf, cap *= 2);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s: read error", path);
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

int sb_write_file_atomic(const char *path, const char *text, char *err, size_t errlen) {
    sb_atomic_file a;
    if (sb_atomic_open(&a, path, err, errlen)) return -1;
    size_t n = strlen(text);
    return sb_atomic_close(&a, fwrite(text, 1, n, a.f) == n, err, errlen);
}

int sb_write_json_atomic(const char *path, const cJSON *json, char *err, size_t errlen) {
    char *text = cJSON_Print(json);
    size_t n = strlen(text);
    text = realloc(text, n + 2);
    text[n] = '\n';
    text[n + 1] = 0;
    int rc = sb_write_file_atomic(path, text, err, errlen);
    free(text);
    return rc;
}

/* The first key that an object of j (at any depth) holds twice, as a path
 * into path[len] ("config.lr", "runs[2].id"); 0 if none. cJSON keeps every
 * copy and its lookups find the first, so a repeated key would be silently
 * ignored, or not, depending on who reads it. */
static int duplicate_key(const cJSON *j, char *path, size_t len) {
    const size_t n = strlen(path);
    int i = 0;
    for (const cJSON *c = j->child; c; c = c->next, i++) {
        if (cJSON_IsObject(j))
            for (const cJSON *d = j->child; d != c; d = d->next)
                if (!strcmp(d->string, c->string)) {
                    snprintf(path + n, len - n, "%s%s", n ? "." : "", c->string);
                    return 1;
                }
        if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            if (cJSON_IsObject(j)) snprintf(path + n, len - n, "%s%s", n ? "." : "", c->string);
            else snprintf(path + n, len - n, "[%d]", i);
            if (duplicate_key(c, path, len)) return 1;
            path[n] = 0;
        }
    }
    return 0;
}

cJSON *sb_parse_json_text(const char *name, const char *text, char *err, size_t errlen) {
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(text, &end, 1);
    if (!j) {
        const char *at = end ? end : cJSON_GetErrorPtr();
        int line = 1, col = 1;
        for (const char *p = text; at && p < at && *p; p++) {
            if (*p == '\n') line++, col = 1;
            else col++;
        }
        snprintf(err, errlen, "%s:%d:%d: JSON syntax error", name, line, col);
        return NULL;
    }
    char path[512] = "";
    if (duplicate_key(j, path, sizeof path)) {
        snprintf(err, errlen, "%s: %s: the key appears more than once", name, path);
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

cJSON *sb_read_json(const char *path, char *err, size_t errlen) {
    char *text = sb_read_file(path, NULL, err, errlen);
    if (!text) return NULL;
    cJSON *j = sb_parse_json_text(path, text, err, errlen);
    free(text);
    return j;
}

int sb_run_error_keep(const char *run_dir, const char *msg, char *err, size_t errlen) {
    char path[4096];
    sb_path(path, sizeof path, "%s/error.txt", run_dir);
    size_t n = strlen(msg);
    char *text = malloc(n + 2);
    if (!text) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    memcpy(text, msg, n);
    text[n] = '\n', text[n + 1] = 0;
    int rc = sb_write_file_atomic(path, text, err, errlen);
    free(text);
    return rc;
}

char *sb_run_error(const char *run_dir) {
    char path[4096], err[512];
    sb_path(path, sizeof path, "%s/error.txt", run_dir);
    size_t n;
    char *text = sb_file_exists(path) ? sb_read_file(path, &n, err, sizeof err) : NULL;
    while (text && n && (text[n - 1] == '\n' || text[n - 1] == '\r')) text[--n] = 0;
    return text;
}

void sb_run_error_clear(const char *run_dir) {
    char path[4096];
    sb_path(path, sizeof path, "%s/error.txt", run_dir);
    unlink(path);
}

int sb_square_side(int n) {
    const int side = (int)lround(sqrt((double)n));
    return side * side == n ? side : 0;
}

double sb_now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

size_t sb_appendf(char *buf, size_t len, size_t at, const char *fmt, ...) {
    if (len == 0) return 0;
    if (at >= len) at = len - 1; /* already full: the text stays cut where it was */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + at, len - at, fmt, ap);
    va_end(ap);
    if (n < 0) return at;
    return at + (size_t)n < len ? at + (size_t)n : len - 1;
}

void sb_path(char *out, size_t outlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, outlen, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= outlen) {
        fprintf(stderr, "sbmbench: path too long: %s\n", out);
        exit(2);
    }
}

static char lock_path[4200]; /* the held lock's file, removed at exit */

/* The folder's lock file, opened to lock: created readable and writable by
 * all the umask allows (a shared results folder's group); one left by a
 * process that died, and not ours to write, opened read-only (flock needs no
 * write access). -1 with errno set when neither works. */
static int lock_file_open(const char *path, int *writable) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    *writable = fd >= 0;
    if (fd < 0 && (errno == EACCES || errno == EPERM || errno == EROFS)) fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd;
}

static void dir_lock_release(void) {
    if (lock_path[0]) unlink(lock_path);
}

int sb_dir_lock(const char *dir, char *err, size_t errlen) {
    char path[sizeof lock_path];
    sb_path(path, sizeof path, "%s/.sbmbench.lock", dir);
    if (lock_path[0]) {
        if (!strcmp(lock_path, path)) return 0;
        snprintf(err, errlen, "%s: this process already holds %s", dir, lock_path);
        return -1;
    }
    for (;;) {
        int writable;
        const int fd = lock_file_open(path, &writable);
        if (fd < 0) {
            snprintf(err, errlen, "%s: cannot create the folder's lock file: %s", path, strerror(errno));
            return -1;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            const int e = errno;
            char pid[32] = "";
            const ssize_t got = e == EWOULDBLOCK ? pread(fd, pid, sizeof pid - 1, 0) : 0;
            if (got > 0) pid[got] = 0, pid[strcspn(pid, "\n")] = 0;
            if (e == EWOULDBLOCK)
                snprintf(err, errlen, "%s is in use by another sbmbench process%s%s%s (%s): wait for it to end, or "
                         "use another folder", dir, pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "", path);
            else
                snprintf(err, errlen, "%s: cannot lock: %s", path, strerror(e));
            close(fd);
            return -1;
        }
        /* the holder before us may have removed the file between our open and
         * our lock: then we hold a lock on a file nobody else will open */
        struct stat held, now;
        if (fstat(fd, &held) == 0 && stat(path, &now) == 0 && held.st_ino == now.st_ino && held.st_dev == now.st_dev) {
            char pid[32];
            const int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
            const int noted = writable && ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) == n;
            (void)noted; /* the pid only words another process's refusal */
            memcpy(lock_path, path, sizeof path);
            /* removed however the process ends: normally, through sb_fatal
             * (which skips atexit), or by a signal report and remeasure
             * catch (their temporaries' handler) */
            atexit(dir_lock_release);
            sb_fatal_at_exit(dir_lock_release);
            sb_temp_register(lock_path);
            return 0; /* fd stays open (the lock lives with it) until the process ends */
        }
        close(fd);
    }
}
