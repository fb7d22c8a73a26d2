/* `sbmbench prep TASK` and `sbmbench gen TASK`: dispatch to the task's
 * converter or generator (data_prep/prep.h), plus the helpers they share. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/atomic_file.h"
#include "data_prep/prep.h"
#include "experiments/commands.h"

typedef struct {
    const char *task;
    int (*fn)(int, char **);
    const char *usage;
} subcommand;

static const subcommand preps[] = {
    {"listops", sb_prep_listops, "--in DIR (basic_{train,val,test}.tsv) --out FILE.h5 [--max-length 2000]"},
    {"text", sb_prep_text, "--in DIR (aclImdb: {train,test}/{pos,neg}/*.txt) --out FILE.h5 [--max-length 3000]"},
    {"retrieval", sb_prep_retrieval, "--in DIR (new_aan_pairs.{train,eval,test}.tsv) --out FILE.h5 [--max-length 4000]"},
    {"image", sb_prep_image, "--mnist DIR (*-idx?-ubyte[.gz]) | --cifar DIR (*.bin batches) --out FILE.h5 [--holdout N] [--shrink F]"},
    {"pathfinder", sb_prep_pathfinder, "--in DIR (a level folder: metadata/, imgs/) --out FILE.h5 [--seed S]"},
};
static const subcommand gens[] = {
    {"listops", sb_gen_listops, "--out FILE.h5 [--tsv DIR] [--min-length 500] [--max-length 2000] [--max-depth 10] "
                                "[--max-args 10] [--seed S]   (sizes: --train 96000 --dev 2000 --test 2000)"},
    {"pathfinder", sb_gen_pathfinder, "--out FILE.h5 [--release DIR] [--contour-length 14] [--seed S] "
                                      "[--preview FILE.png] [--shrink F]   (sizes: --train 160000 --dev 20000 --test 20000)"},
};

static int dispatch(const char *cmd, const subcommand *t, int n, int argc, char **argv) {
    if (argc >= 1)
        for (int i = 0; i < n; i++)
            if (!strcmp(argv[0], t[i].task)) {
                if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
                    printf("usage: sbmbench %s %s %s\n", cmd, t[i].task, t[i].usage);
                    return 0;
                }
                sb_temp_remove_on_signal(); /* Ctrl-C leaves no NAME.tmp */
                return t[i].fn(argc - 1, argv + 1);
            }
    int help = argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"));
    FILE *f = help ? stdout : stderr;
    if (!help && argc) fprintf(f, "sbmbench %s: unknown task '%s'\n", cmd, argv[0]);
    else if (!help) fprintf(f, "sbmbench %s: which task?\n", cmd);
    fprintf(f, "usage:\n");
    for (int i = 0; i < n; i++) fprintf(f, "  sbmbench %s %s %s\n", cmd, t[i].task, t[i].usage);
    fprintf(f, "Every command also takes --train N --dev N --test N to keep at most N examples of a split.\n"
               "See docs/lra.md.\n");
    return help ? 0 : 2;
}

#define COUNT(a) ((int)(sizeof a / sizeof a[0]))
int sb_cmd_prep(int argc, char **argv) { return dispatch("prep", preps, COUNT(preps), argc, argv); }
int sb_cmd_gen(int argc, char **argv) { return dispatch("gen", gens, COUNT(gens), argc, argv); }

int sb_prep_commit(sb_h5ds_writer *w, int ok, const char *path) {
    long long n[3];
    for (int s = 0; s < 3; s++) n[s] = (long long)sb_h5ds_count(w, s);
    char err[4400];
    /* a split left empty that was not asked to be (--train 0 etc.) means the
     * input gave nothing for it: an empty or wrong file or folder, which a run
     * would only report later as an unusable data file */
    for (int s = 0; ok && s < 3; s++)
        if (n[s] == 0 && sb_h5ds_limit(w, s) != 0) {
            fprintf(stderr, "sbmbench: %s: the input gave no %s examples (train %lld, dev %lld, test %lld); "
                            "check the input files, or ask for none with --%s 0; nothing written\n",
                    path, sb_h5ds_split_names[s], n[0], n[1], n[2], sb_h5ds_split_names[s]);
            ok = 0; /* discarded below, the message said */
        }
    if (sb_h5ds_finish(w, ok, err, sizeof err)) {
        if (ok) fprintf(stderr, "sbmbench: %s\n", err);
        return 1;
    }
    printf("%s: train %lld, dev %lld, test %lld\n", path, n[0], n[1], n[2]);
    return 0;
}

sb_h5ds_writer *sb_prep_create(const char *path, const char *task, int n_seqs, int L, const int64_t limits[3]) {
    char err[4400];
    sb_h5ds_writer *w = sb_h5ds_create(path, task, n_seqs, L, err, sizeof err);
    if (!w) {
        fprintf(stderr, "sbmbench: %s\n", err);
        return NULL;
    }
    for (int s = 0; s < 3; s++) sb_h5ds_set_limit(w, s, limits[s]);
    return w;
}

int sb_prep_lines_open(sb_prep_lines *r, const char *cmd, const char *path) {
    *r = (sb_prep_lines){.cmd = cmd, .path = path};
    r->f = fopen(path, "rb"); /* a folder opens too: its first read fails (EISDIR) */
    if (!r->f) {
        fprintf(stderr, "sbmbench %s: %s: cannot open: %s\n", cmd, path, strerror(errno));
        return -1;
    }
    return 0;
}

int sb_prep_lines_next(sb_prep_lines *r) {
    errno = 0;
    ssize_t len = getline(&r->line, &r->cap, r->f);
    if (len < 0) {
        if (!ferror(r->f)) return 0;
        fprintf(stderr, "sbmbench %s: %s: read error%s%s\n", r->cmd, r->path, errno ? ": " : "",
                errno ? strerror(errno) : "");
        return -1;
    }
    r->lineno++;
    while (len > 0 && (r->line[len - 1] == '\n' || r->line[len - 1] == '\r')) r->line[--len] = 0;
    if (r->lineno == 1 && len >= 3 && !memcmp(r->line, "\xEF\xBB\xBF", 3)) {
        memmove(r->line, r->line + 3, (size_t)len - 2); /* with the NUL */
        len -= 3;
    }
    r->len = (size_t)len;
    return 1;
}

void sb_prep_lines_close(sb_prep_lines *r) {
    if (r->f) fclose(r->f);
    free(r->line);
    *r = (sb_prep_lines){0};
}

void sb_prep_bytes_to_ids(const unsigned char *bytes, size_t n, int L, int32_t *ids) {
    for (int i = 0; i < L; i++) ids[i] = (size_t)i < n ? (int32_t)bytes[i] + 1 : 0;
}

void sb_prep_shrink(const uint8_t *px, int side, int f, sb_shrink_mode mode, int32_t *ids) {
    const int out = side / f;
    for (int y = 0; y < out; y++)
        for (int x = 0; x < out; x++) {
            int mx = 0, sum = 0;
            for (int i = 0; i < f; i++)
                for (int j = 0; j < f; j++) {
                    int v = px[(y * f + i) * side + x * f + j];
                    mx = v > mx ? v : mx;
                    sum += v;
                }
            ids[y * out + x] = mode == SB_SHRINK_MAX ? mx : (sum + f * f / 2) / (f * f);
        }
}
