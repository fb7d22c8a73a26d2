/* `sbmbench prep retrieval`: the LRA release's AAN citation pairs
 * (tsv_data/new_aan_pairs.{train,eval,test}.tsv: no header, five
 * tab-separated columns label (0.0/1.0), id1, id2, text1, text2, no quoting)
 * -> HDF5 with two sequences per example, each byte + 1 of the text's first
 * --max-length bytes (LRA cuts at 10000 bytes then pads/truncates to 4000),
 * zero-padded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "data_prep/prep.h"
#include "data_prep/prep_args.h"

static int convert_file(sb_h5ds_writer *w, int split, const char *path, int L) {
    sb_prep_lines r;
    if (sb_prep_lines_open(&r, "prep retrieval", path)) return -1;
    int32_t *ids0 = malloc(sizeof(int32_t) * (size_t)L), *ids1 = malloc(sizeof(int32_t) * (size_t)L);
    int rc = 0, got;
    while ((got = sb_prep_lines_next(&r)) > 0) {
        if (r.len == 0) continue;
        char *col[5], *p = r.line;
        int nc = 0;
        for (;;) { /* split on every tab (no quoting); count the columns */
            if (nc < 5) col[nc] = p;
            nc++;
            char *tab = strchr(p, '\t');
            if (!tab) break;
            *tab = 0;
            p = tab + 1;
        }
        char *end = NULL;
        double label = nc == 5 ? strtod(col[0], &end) : -1;
        if (nc != 5 || end == col[0] || *end || (label != 0.0 && label != 1.0)) {
            fprintf(stderr, "sbmbench prep retrieval: %s:%lld: expected 5 tab-separated columns "
                    "label(0/1) id1 id2 text1 text2\n", path, (long long)r.lineno);
            rc = -1;
            break;
        }
        sb_prep_bytes_to_ids((const unsigned char *)col[3], strlen(col[3]), L, ids0);
        sb_prep_bytes_to_ids((const unsigned char *)col[4], strlen(col[4]), L, ids1);
        if (sb_h5ds_append(w, split, ids0, ids1, (int32_t)label)) {
            rc = -1;
            break;
        }
    }
    if (got < 0) rc = -1;
    free(ids0), free(ids1);
    sb_prep_lines_close(&r);
    return rc;
}

int sb_prep_retrieval(int argc, char **argv) {
    sb_prep_args a;
    if (sb_prep_args_parse(&a, "prep retrieval", argc, argv, "in out max-length train dev test")) return 2;
    const char *in = sb_prep_arg_str(&a, "in", NULL), *out = sb_prep_arg_str(&a, "out", NULL);
    const int L = (int)sb_prep_arg_int(&a, "max-length", 4000, 1, 1000000);
    int64_t limits[3];
    sb_prep_arg_limits(&a, limits);
    if (a.bad) return 2;
    if (!in || !out) {
        fprintf(stderr, "sbmbench prep retrieval: give --in DIR (with new_aan_pairs.{train,eval,test}.tsv) and --out FILE.h5\n");
        return 2;
    }
    sb_h5ds_writer *w = sb_prep_create(out, "retrieval", 2, L, limits);
    if (!w) return 1;
    static const char *names[3] = {"train", "eval", "test"};
    int ok = 1;
    for (int s = 0; s < 3 && ok; s++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/new_aan_pairs.%s.tsv", in, names[s]);
        ok = convert_file(w, s, p, L) == 0;
    }
    char src[4300];
    snprintf(src, sizeof src, "LRA release AAN pairs %s/new_aan_pairs.{train,eval,test}.tsv", in);
    sb_h5ds_attr_str(w, "source", src);
    sb_h5ds_attr_int(w, "vocab_size", 257);
    sb_h5ds_attr_int(w, "n_classes", 2);
    sb_h5ds_attr_str(w, "encoding", "byte + 1 (LRA ByteTextEncoder), 0 padding; input_ids = text1, input_ids_1 = text2");
    return sb_prep_commit(w, ok, out);
}
