/* A batch of G sparse n x n graphs (one per (example, head)) in CSR, stored as
 * one block-diagonal matrix: global row g*n + i holds query i of graph g, and
 * its column indices are key positions 0..n-1 within the same graph, sorted
 * and unique within a row. The transpose lists, for each global key g*n + j,
 * the edges that end there, in row order: the CPU kernels never build it (they
 * scatter by key instead, cpu_sparse.c); it is kept for backends that would
 * otherwise need atomics, and for the tests. */
#ifndef SB_CSR_H
#define SB_CSR_H

#include <stdint.h>

typedef struct {
    int n_graphs;      /* G */
    int n;             /* queries = keys per graph */
    int64_t nnz;       /* edges in all graphs */
    int64_t cap;       /* edge capacity of col */
    int64_t *row_ptr;  /* [G*n + 1] edge offsets of each global row */
    int32_t *col;      /* [cap] key index within the graph; entries past nnz are undefined */
    /* transpose, valid when has_transpose; allocated (col_ptr included) by
     * sb_csr_reserve_transpose only, so a graph alone holds 4 bytes per edge
     * and one row pointer per query */
    int has_transpose;
    int64_t t_cap;     /* edge capacity of row_of/perm */
    int64_t *col_ptr;  /* [G*n + 1] offsets of each global key's incoming edges */
    int32_t *row_of;   /* [cap] query index (within the graph) of each incoming edge */
    int64_t *perm;     /* [cap] incoming position -> edge index in row order */
} sb_csr;

/* Graphs [g0, g1) of c as a batch of their own, sharing c's arrays: their
 * edges keep their indices in c, so per-edge arrays of c serve the view as
 * they are, while per-row arrays start at the view's first graph. For the
 * backend's sddmm and spmm ops only (core/backend.h): row_ptr[0] is not 0,
 * and the view has no transpose (cap is c's). */
static inline sb_csr sb_csr_graphs(const sb_csr *c, int g0, int g1) {
    sb_csr v = {.n_graphs = g1 - g0, .n = c->n, .cap = c->cap, .col = c->col,
                .row_ptr = c->row_ptr + (size_t)g0 * c->n};
    v.nnz = v.row_ptr[(size_t)v.n_graphs * c->n] - v.row_ptr[0];
    return v;
}

#endif
