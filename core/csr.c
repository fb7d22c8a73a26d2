#include "core/backend.h"
#include <string.h>

/* Make room for nnz edges of G graphs of n nodes, keeping nothing (the
 * transpose is invalidated; its storage is kept for the next backward). */
void sb_csr_reserve(sb_backend *be, sb_csr *c, int G, int n, int64_t nnz) {
    if (c->n_graphs != G || c->n != n || !c->row_ptr) {
        be->free(be, c->row_ptr);
        be->free(be, c->col_ptr);
        c->row_ptr = be->alloc(be, sizeof(int64_t) * ((size_t)G * n + 1));
        c->col_ptr = NULL; /* sized by the shape: sb_csr_reserve_transpose makes it when needed */
        c->n_graphs = G;
        c->n = n;
    }
    if (nnz > c->cap) {
        be->free(be, c->col);
        /* exactly nnz: SBM allocates its graph per call, so headroom for the
         * next call's drift would only raise the peak; not zeroed: entries
         * past nnz are undefined (core/csr.h), and every producer writes the
         * first nnz */
        c->cap = nnz;
        c->col = be->alloc_uninit(be, sizeof(int32_t) * (size_t)c->cap);
    }
    c->has_transpose = 0;
}

void sb_csr_reserve_transpose(sb_backend *be, sb_csr *c) {
    if (!c->col_ptr) c->col_ptr = be->alloc(be, sizeof(int64_t) * ((size_t)c->n_graphs * c->n + 1));
    if (c->nnz <= c->t_cap && c->row_of) return;
    be->free(be, c->row_of);
    be->free(be, c->perm);
    c->t_cap = c->cap; /* as long as col */
    c->row_of = be->alloc(be, sizeof(int32_t) * (size_t)c->t_cap);
    c->perm = be->alloc(be, sizeof(int64_t) * (size_t)c->t_cap);
}

void sb_csr_free(sb_backend *be, sb_csr *c) {
    be->free(be, c->row_ptr);
    be->free(be, c->col_ptr);
    be->free(be, c->col);
    be->free(be, c->row_of);
    be->free(be, c->perm);
    memset(c, 0, sizeof *c);
}
