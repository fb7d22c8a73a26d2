/* Small file-system and JSON helpers shared by the runner. */
#ifndef SB_UTIL_H
#define SB_UTIL_H
#include <stddef.h>

struct cJSON;

/* mkdir -p; 0 on success, else message in err. */
int sb_mkdir_p(const char *path, char *err, size_t errlen);
int sb_file_exists(const char *path);
/* Whether path exists and is a directory. */
int sb_is_dir(const char *path);
/* Why a run's data file cannot be read (strerror's text, or "not a regular
 * file"), or NULL when it can: the up-front check of `run` and `remeasure`.
 * The text may be overwritten by the next strerror call. */
const char *sb_data_file_problem(const char *path);
/* qsort/bsearch comparator over an array of C strings (char *), by strcmp. */
int sb_cmp_strings(const void *a, const void *b);
/* s[0..] in place: characters other than letters, digits and those in keep
 * become '_' (names that become file or folder names). */
void sb_keep_name_chars(char *s, const char *keep);
/* Whole file into a NUL-terminated malloc'd buffer; NULL + message on error. */
char *sb_read_file(const char *path, size_t *len, char *err, size_t errlen);
/* Write text to path.tmp, fsync, rename to path. */
int sb_write_file_atomic(const char *path, const char *text, char *err, size_t errlen);
int sb_write_json_atomic(const char *path, const struct cJSON *json, char *err, size_t errlen);
/* Parse a JSON file; on a syntax error the message names file:line:column. */
struct cJSON *sb_parse_json_text(const char *name, const char *text, char *err, size_t errlen);
struct cJSON *sb_read_json(const char *path, char *err, size_t errlen);
double sb_now_seconds(void);
/* The side of a square of n positions, or 0 when n is no square (the old
 * image-grid rule for maps: right only when the images fill the sequence). */
int sb_square_side(int n);
/* Why a run failed, kept in RUN_DIR/error.txt (one message and a newline) so
 * that summary.json and `report` can say it long after stderr is gone.
 * sb_run_error_keep writes it atomically (0, else a message in err);
 * sb_run_error returns it without the newline (malloc'd), NULL when there is
 * none; sb_run_error_clear removes it as a run starts again. */
int sb_run_error_keep(const char *run_dir, const char *msg, char *err, size_t errlen);
char *sb_run_error(const char *run_dir);
void sb_run_error_clear(const char *run_dir);
/* Appends printf-style text at buf[at] within len bytes, cutting it short
 * when full; returns the new end (at most len - 1), so calls chain safely
 * where `n += snprintf(buf + n, len - n, ...)` would run past the buffer. */
size_t sb_appendf(char *buf, size_t len, size_t at, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Holds DIR for this process until it exits: an advisory lock (flock) on
 * DIR/.sbmbench.lock, which holds the holder's pid and is removed at exit,
 * so two sbmbench processes never write one results folder at once (their
 * temporary files have the same names). 0, or -1 with a message naming the
 * folder and the pid that holds it. One folder per process. */
int sb_dir_lock(const char *dir, char *err, size_t errlen);
/* snprintf into a path buffer; exits with a message if it would not fit. */
void sb_path(char *out, size_t outlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
