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
    int slot; /* its entry among the temporaries in progress (sb_temp_register) */
} sb_atomic_file;

/* tmp = path + ".tmp" in len bytes; -1, tmp empty and a message naming path
 * in err when it does not fit (a cut name could be the target itself, or
 * another file, which a caller's cleanup would then remove). */
int sb_tmp_name(char *tmp, size_t len, const char *path, char *err, size_t errlen);

/* 0 on success; else a message naming the temporary file in err. */
int sb_atomic_open(sb_atomic_file *a, const char *path, char *err, size_t errlen);
/* ok: whether every write succeeded. Commits (rename) when ok, else discards. */
int sb_atomic_close(sb_atomic_file *a, int ok, char *err, size_t errlen);

/* 0 if path is absent, a regular file or a symbolic link, which a finished
 * output may replace; else -1 and a message naming it in err. Run as root,
 * renaming a temporary over /dev/null (a plausible "discard this" output)
 * would replace the device by a regular file. */
int sb_check_replaceable(const char *path, char *err, size_t errlen);
/* rename(tmp, path) after sb_check_replaceable; -1 and a message in err
 * (the caller removes tmp). */
int sb_rename_into_place(const char *tmp, const char *path, char *err, size_t errlen);

/* For a temporary written and closed by another library (HDF5): fsync it,
 * then sb_rename_into_place; -1 and a message in err (the caller removes
 * tmp). */
int sb_commit_written(const char *tmp, const char *path, char *err, size_t errlen);

/* The temporaries in progress (atomic files, the HDF5 dataset writer), so
 * that an interrupted command can remove them: register one as it is
 * created (returns its slot, or -1 when all SB_TEMP_SLOTS are taken: it is
 * then not removed on a signal), release it once renamed or removed. */
#define SB_TEMP_SLOTS 8
int sb_temp_register(const char *tmp);
void sb_temp_release(int slot);
/* Handlers for SIGINT, SIGTERM and SIGHUP that remove the registered
 * temporaries, then die of the signal as before; a signal the process
 * ignores (nohup, a background job) stays ignored. For prep and gen; `run`
 * has its own handlers, which stop at a step boundary. */
void sb_temp_remove_on_signal(void);

#endif
