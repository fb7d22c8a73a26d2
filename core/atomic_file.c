#include "core/atomic_file.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* slot states: 0 free, 1 being filled, 2 holds a path the handler may remove */
static char temp_path[SB_TEMP_SLOTS][4200];
static volatile sig_atomic_t temp_state[SB_TEMP_SLOTS];

int sb_temp_register(const char *tmp) {
    for (int i = 0; i < SB_TEMP_SLOTS; i++) {
        sig_atomic_t expect = 0;
        if (__atomic_compare_exchange_n(&temp_state[i], &expect, 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            snprintf(temp_path[i], sizeof temp_path[i], "%s", tmp);
            __atomic_store_n(&temp_state[i], 2, __ATOMIC_SEQ_CST);
            return i;
        }
    }
    return -1;
}

void sb_temp_release(int slot) {
    if (slot >= 0 && slot < SB_TEMP_SLOTS) __atomic_store_n(&temp_state[slot], 0, __ATOMIC_SEQ_CST);
}

static void remove_temps(int sig) {
    for (int i = 0; i < SB_TEMP_SLOTS; i++)
        if (temp_state[i] == 2) unlink(temp_path[i]); /* async-signal-safe */
    signal(sig, SIG_DFL);
    raise(sig);
}

void sb_temp_remove_on_signal(void) {
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (int i = 0; i < 3; i++) {
        struct sigaction old, sa;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue; /* nohup, `cmd &` */
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = remove_temps;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

int sb_check_replaceable(const char *path, char *err, size_t errlen) {
    struct stat st;
    if (lstat(path, &st) != 0 || S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) return 0;
    snprintf(err, errlen, "%s: exists and is not a regular file; refusing to replace it (name a file)", path);
    return -1;
}

int sb_rename_into_place(const char *tmp, const char *path, char *err, size_t errlen) {
    if (sb_check_replaceable(path, err, errlen)) return -1;
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: cannot rename into place: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* The temporary is registered before it is created and released after it is
 * renamed or removed, so a signal at any moment finds it (unlinking a name
 * not yet or no longer there is harmless). */
int sb_tmp_name(char *tmp, size_t len, const char *path, char *err, size_t errlen) {
    const int n = snprintf(tmp, len, "%s.tmp", path);
    if (n < 0 || (size_t)n >= len) {
        snprintf(err, errlen, "%.200s...: path too long for its temporary (%zu bytes at most)", path, len - 5);
        if (len) tmp[0] = '\0'; /* the cut name may be the target itself: nobody may remove it */
        return -1;
    }
    return 0;
}

int sb_atomic_open(sb_atomic_file *a, const char *path, char *err, size_t errlen) {
    a->path = path;
    a->f = NULL, a->slot = -1;
    if (sb_check_replaceable(path, err, errlen)) return -1;
    if (sb_tmp_name(a->tmp, sizeof a->tmp, path, err, errlen)) return -1;
    a->slot = sb_temp_register(a->tmp);
    a->f = fopen(a->tmp, "wb");
    if (!a->f) {
        snprintf(err, errlen, "%s: cannot create: %s", a->tmp, strerror(errno));
        sb_temp_release(a->slot), a->slot = -1;
        return -1;
    }
    return 0;
}

int sb_commit_written(const char *tmp, const char *path, char *err, size_t errlen) {
    const int fd = open(tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "%s: cannot flush to disk: %s", tmp, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    return sb_rename_into_place(tmp, path, err, errlen);
}

int sb_atomic_close(sb_atomic_file *a, int ok, char *err, size_t errlen) {
    errno = 0; /* a stale errno (lstat's ENOENT on a new path) must not name a non-I/O failure */
    ok = ok && fflush(a->f) == 0 && fsync(fileno(a->f)) == 0;
    if (fclose(a->f) != 0) ok = 0;
    a->f = NULL;
    int rc = 0;
    if (!ok) {
        snprintf(err, errlen, "%s: write failed: %s", a->path, errno ? strerror(errno) : "short write");
        rc = -1;
    } else {
        rc = sb_rename_into_place(a->tmp, a->path, err, errlen);
    }
    if (rc) unlink(a->tmp);
    sb_temp_release(a->slot), a->slot = -1;
    return rc;
}
