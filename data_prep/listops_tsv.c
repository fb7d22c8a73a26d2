/* `sbmbench prep listops`: the release's basic_{train,val,test}.tsv (header
 * "Source\tTarget", then the parenthesised expression and its value 0-9) ->
 * HDF5. As LRA's input pipeline: parentheses dropped, tokens split on
 * whitespace, unknown tokens -> OOV, truncated or zero-padded to max_length. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "data_prep/listops.h"
#include "data_prep/prep.h"
#include "data_prep/prep_args.h"

/* One TSV into a split; -1 after printing the file and line at fault. */
static int convert_file(sb_h5ds_writer *w, int split, const char *path, int L, int64_t *oov) {
    sb_prep_lines r;
    if (sb_prep_lines_open(&r, "prep listops", path)) return -1;
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)L);
    int rc = 0, got = 0;
    while (rc == 0 && (got = sb_prep_lines_next(&r)) > 0) {
        char *line = r.line;
        const long long lineno = (long long)r.lineno;
        if (r.len == 0) continue;
        if (lineno == 1 && !strcmp(line, "Source\tTarget")) continue;
        char *tab = strchr(line, '\t');
        char *end = NULL;
        long target = tab ? strtol(tab + 1, &end, 10) : -1;
        if (!tab || strchr(tab + 1, '\t') || end == tab + 1 || *end || target < 0 || target > 9) {
            fprintf(stderr, "sbmbench prep listops: %s:%lld: expected 'Source<TAB>Target' with Target 0-9\n", path,
                    lineno);
            rc = -1;
            break;
        }
        *tab = 0;
        int n = 0;
        for (char *p = line; *p;) {
            while (*p == ' ') p++;
            char *q = p;
            while (*q && *q != ' ') q++;
            if (q > p) {
                int32_t id = sb_listops_token_id(p, (int)(q - p));
                if (id == SB_LISTOPS_OOV) (*oov)++;
                if (id && n < L) ids[n++] = id;
            }
            p = q;
        }
        if (n == 0) {
            fprintf(stderr, "sbmbench prep listops: %s:%lld: empty Source\n", path, lineno);
            rc = -1;
            break;
        }
        for (int i = n; i < L; i++) ids[i] = 0;
        if (sb_h5ds_append(w, split, ids, NULL, (int32_t)target)) rc = -1;
    }
    if (rc == 0 && got < 0) rc = -1;
    free(ids);
    sb_prep_lines_close(&r);
    return rc;
}

int sb_prep_listops(int argc, char **argv) {
    sb_prep_args a;
    if (sb_prep_args_parse(&a, "prep listops", argc, argv, "in out max-length train dev test")) return 2;
    const char *in = sb_prep_arg_str(&a, "in", NULL), *out = sb_prep_arg_str(&a, "out", NULL);
    const int L = (int)sb_prep_arg_int(&a, "max-length", 2000, 1, 1000000);
    int64_t limits[3];
    sb_prep_arg_limits(&a, limits);
    if (a.bad) return 2;
    if (!in || !out) {
        fprintf(stderr, "sbmbench prep listops: give --in DIR (with basic_{train,val,test}.tsv) and --out FILE.h5\n");
        return 2;
    }
    sb_h5ds_writer *w = sb_prep_create(out, "listops", 1, L, limits);
    if (!w) return 1;
    static const char *names[3] = {"basic_train.tsv", "basic_val.tsv", "basic_test.tsv"};
    int64_t oov = 0;
    int ok = 1;
    for (int s = 0; s < 3 && ok; s++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", in, names[s]);
        ok = convert_file(w, s, p, L, &oov) == 0;
    }
    char src[4300];
    snprintf(src, sizeof src, "LRA release TSVs %s/basic_{train,val,test}.tsv", in);
    sb_h5ds_attr_str(w, "source", src);
    sb_h5ds_attr_int(w, "vocab_size", SB_LISTOPS_VOCAB);
    sb_h5ds_attr_int(w, "n_classes", 10);
    sb_h5ds_attr_int(w, "oov_tokens", oov);
    sb_h5ds_attr_str(w, "encoding", "0-9 -> 1..10, [MIN 11, [MAX 12, [MED 13, [SM 14, ] 15, OOV 16, 0 padding");
    return sb_prep_commit(w, ok, out);
}
