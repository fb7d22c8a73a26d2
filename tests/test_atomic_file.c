/* Files that appear whole or not at all (core/atomic_file.c): a write
 * commits under the final name and leaves no temporary; a failed write
 * leaves the earlier file as it was; a path whose temporary name would not
 * fit its buffer is refused before anything is written (cut short, the
 * temporary's name could be the target itself). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/atomic_file.h"
#include "tests/test_util.h"

static int file_is(const char *path, const char *text) {
    char buf[64] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    return n == strlen(text) && !memcmp(buf, text, n);
}

int main(void) {
    char dir[] = "/tmp/sb_atomic_XXXXXX", path[128], tmp[160], err[512];
    tu_check(mkdtemp(dir) != NULL, "a scratch folder");
    snprintf(path, sizeof path, "%s/out.txt", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    sb_atomic_file a;
    int ok = !sb_atomic_open(&a, path, err, sizeof err) && fputs("first", a.f) >= 0;
    ok = ok && !sb_atomic_close(&a, 1, err, sizeof err);
    tu_check(ok && file_is(path, "first") && access(tmp, F_OK) != 0, "a committed write is whole, no temporary left");
    ok = !sb_atomic_open(&a, path, err, sizeof err) && fputs("second, cut", a.f) >= 0;
    const int rc = ok ? sb_atomic_close(&a, 0, err, sizeof err) : 0;
    tu_check(ok && rc == -1 && file_is(path, "first") && access(tmp, F_OK) != 0,
             "a failed write leaves the earlier file and no temporary (%s)", err);
    /* a path of 4093 bytes: its temporary (4097 with the NUL) does not fit the 4096-byte name */
    char *longp = malloc(4094);
    memset(longp, 'a', 4093);
    longp[0] = '/', longp[4093] = 0;
    err[0] = 0;
    const int refused = sb_atomic_open(&a, longp, err, sizeof err) == -1;
    const char *why = strstr(err, "...");
    tu_check(refused && strstr(err, "too long for its temporary"), "a path too long for its temporary's name is refused (%s)",
             why ? why : err);
    /* and the temporary's name is left empty: a cleanup that unlinks it must not hit the target (a 4095-byte
     * path cut to 4095 bytes is the path itself) */
    char name[16];
    tu_check(sb_tmp_name(name, sizeof name, "0123456789ab", err, sizeof err) == -1 && name[0] == 0,
             "a refused temporary's name is empty (the cut one, 0123456789ab.tm, is not kept)");
    tu_check(sb_tmp_name(name, sizeof name, "0123456789a", err, sizeof err) == 0 && !strcmp(name, "0123456789a.tmp"),
             "one that fits exactly: %s", name);
    free(longp);
    unlink(path);
    rmdir(dir);
    return tu_finish();
}
