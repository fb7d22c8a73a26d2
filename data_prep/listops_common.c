#include <stdlib.h>
#include <string.h>
#include "data_prep/listops.h"

static const char *const texts[16] = {NULL, "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
                                      "[MIN", "[MAX", "[MED", "[SM", "]"};

int32_t sb_listops_token_id(const char *tok, int len) {
    if (len == 1 && (tok[0] == '(' || tok[0] == ')')) return 0;
    if (len == 1 && tok[0] == 'X') return SB_LISTOPS_CLOSE; /* the reference's spelling of ']' */
    for (int id = 1; id < 16; id++)
        if ((int)strlen(texts[id]) == len && memcmp(texts[id], tok, (size_t)len) == 0) return id;
    return SB_LISTOPS_OOV;
}

const char *sb_listops_token_text(int32_t id) { return id >= 1 && id < 16 ? texts[id] : "?"; }

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

int sb_listops_apply(int32_t op, const int *args, int n) {
    int v = args[0];
    switch (op) {
    case SB_LISTOPS_MIN:
        for (int i = 1; i < n; i++) v = args[i] < v ? args[i] : v;
        return v;
    case SB_LISTOPS_MAX:
        for (int i = 1; i < n; i++) v = args[i] > v ? args[i] : v;
        return v;
    case SB_LISTOPS_SM:
        for (int i = 1; i < n; i++) v += args[i];
        return v % 10;
    default: { /* MED */
        int s[64];
        memcpy(s, args, sizeof(int) * (size_t)n);
        qsort(s, (size_t)n, sizeof(int), cmp_int);
        return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; /* int() of the mean truncates */
    }
    }
}

typedef struct {
    char *buf;
    int len, cap;
    const int32_t *ids;
    int n, pos;
} writer;

static int put(writer *w, const char *s) {
    int l = (int)strlen(s);
    if (w->len + l + 1 > w->cap) return -1;
    memcpy(w->buf + w->len, s, (size_t)l + 1);
    w->len += l;
    return 0;
}

/* One subtree starting at ids[pos]. */
static int write_tree(writer *w) {
    if (w->pos >= w->n) return -1;
    int32_t id = w->ids[w->pos];
    if (id >= 1 && id <= 10) {
        w->pos++;
        return put(w, texts[id]);
    }
    if (id < SB_LISTOPS_MIN || id > SB_LISTOPS_SM) return -1;
    /* count the children first: the opening parentheses come before the operator */
    int depth = 0, children = 0, p = w->pos + 1;
    for (; p < w->n; p++) {
        int32_t t = w->ids[p];
        if (depth == 0 && t == SB_LISTOPS_CLOSE) break;
        if (depth == 0) children++;
        if (t >= SB_LISTOPS_MIN && t <= SB_LISTOPS_SM) depth++;
        else if (t == SB_LISTOPS_CLOSE) depth--;
    }
    if (p >= w->n) return -1;
    for (int i = 0; i <= children; i++)
        if (put(w, "( ")) return -1;
    if (put(w, texts[id])) return -1;
    w->pos++;
    for (int i = 0; i < children; i++)
        if (put(w, " ") || write_tree(w) || put(w, " )")) return -1;
    w->pos++; /* the ']' */
    return put(w, " ] )");
}

int sb_listops_to_source(const int32_t *ids, int n, char *buf, int buflen) {
    writer w = {buf, 0, buflen, ids, n, 0};
    if (buflen < 1) return -1;
    buf[0] = 0;
    if (write_tree(&w) || w.pos != n) return -1;
    return w.len;
}
