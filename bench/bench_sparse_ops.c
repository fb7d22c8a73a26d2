/* The backend's sparse-graph ops one at a time, on a uniform random graph:
 * what each costs per edge, for tuning the kernels of core/cpu/cpu_sparse.c
 * (bench_sbm_attention times them only inside whole attention calls).
 *
 * Every (query, key) pair of every graph is an edge with probability
 * `density` (drawn by geometric skips, so building the graph is O(edges)).
 * Times, best of reps: the SDDMM q.k over the edges and sparse attention
 * forward (keeping the probabilities for backward, and at inference, which
 * does not) and backward at width d_h; the STE's products spmm_rows (gather)
 * and spmm_cols (scatter) at width k.
 *
 *   bench_sparse_ops [--n 4096] [--d 32] [--k 128] [--pairs 4] [--density 0.05]
 *                    [--reps 5] [--threads N] */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench/bench_args.h"
#include "core/backend.h"
#include "core/csr.h"

/* G graphs of n nodes, each pair an edge with probability rho: the gap to the
 * next edge in row-major order is geometric. */
static void random_graph(sb_backend *be, sb_csr *c, int G, int n, double rho, sb_rng_reader *r) {
    const double expected = (double)G * n * n * rho;
    sb_csr_reserve(be, c, G, n, (int64_t)(expected + 6.0 * sqrt(expected) + 16.0));
    const double lq = log1p(-rho);
    int64_t nnz = 0;
    for (size_t row = 0; row < (size_t)G * n; row++) {
        c->row_ptr[row] = nnz;
        for (int64_t j = -1;;) {
            j += 1 + (int64_t)floor(log(sb_rng_next_unit(r)) / lq);
            if (j >= n) break;
            if (nnz == c->cap) { /* more than 6 sigma above the mean: grow */
                int32_t *col = be->alloc(be, sizeof(int32_t) * (size_t)(2 * c->cap));
                memcpy(col, c->col, sizeof(int32_t) * (size_t)nnz);
                be->free(be, c->col);
                c->col = col, c->cap *= 2;
            }
            c->col[nnz++] = (int32_t)j;
        }
    }
    c->row_ptr[(size_t)G * n] = nnz;
    c->nnz = nnz;
}

static float *normal_buffer(sb_backend *be, size_t n, sb_rng_reader *r) {
    float *x = be->alloc(be, sizeof(float) * n);
    for (size_t i = 0; i < n; i++) x[i] = sb_rng_next_normal(r);
    return x;
}

static void report(const char *what, double seconds, int64_t edges) {
    printf("%-40s %9.2f ms %8.2f ns/edge\n", what, 1e3 * seconds, 1e9 * seconds / (double)edges);
}

int main(int argc, char **argv) {
    int n = 4096, D = 32, k = 128, pairs = 4, reps = 5, threads = 0;
    double density = 0.05;
    for (int i = 1; i < argc; i++) {
        if (bench_int(argc, argv, &i, "--n", &n) || bench_int(argc, argv, &i, "--d", &D) ||
            bench_int(argc, argv, &i, "--k", &k) || bench_int(argc, argv, &i, "--pairs", &pairs) ||
            bench_double(argc, argv, &i, "--density", &density) || bench_int(argc, argv, &i, "--reps", &reps) ||
            bench_int(argc, argv, &i, "--threads", &threads))
            continue;
        fprintf(stderr, "usage: %s [--n N] [--d D] [--k K] [--pairs P] [--density X] [--reps R] [--threads T]\n",
                argv[0]);
        return 2;
    }
    if (n < 1 || D < 1 || k < 1 || pairs < 1 || reps < 1 || !(density > 0.0 && density < 1.0)) {
        fprintf(stderr, "%s: sizes and reps must be positive and the density in (0, 1)\n", argv[0]);
        return 2;
    }
    sb_backend *be = sb_backend_cpu_create(threads);
    sb_rng_reader r;
    sb_rng_reader_init(&r, sb_rng_make(4, SB_RNG_INIT, 0, 0, 0, 0));
    sb_csr g = {0};
    random_graph(be, &g, pairs, n, density, &r);
    const size_t nd = (size_t)pairs * n * D, nk = (size_t)pairs * n * k, m = (size_t)g.nnz + 1;
    float *q = normal_buffer(be, nd, &r), *kk = normal_buffer(be, nd, &r), *v = normal_buffer(be, nd, &r);
    float *dout = normal_buffer(be, nd, &r), *X = normal_buffer(be, nk, &r), *vals = normal_buffer(be, m, &r);
    float *out = be->alloc(be, sizeof(float) * nd), *dq = be->alloc(be, sizeof(float) * nd);
    float *dk = be->alloc(be, sizeof(float) * nd), *dv = be->alloc(be, sizeof(float) * nd);
    float *Y = be->alloc(be, sizeof(float) * nk);
    float *scores = be->alloc(be, sizeof(float) * m), *probs = be->alloc(be, sizeof(float) * m);
    float *ds = be->alloc(be, sizeof(float) * m), *kept = be->alloc(be, sizeof(float) * m);
    const sb_rng_stream drop = sb_rng_make(4, SB_RNG_ATTN_DROPOUT, 0, 0, 0, 0);
    double best[6] = {1e30, 1e30, 1e30, 1e30, 1e30, 1e30};
    for (int rep = 0; rep <= reps; rep++) { /* rep 0 warms up */
        double t[7];
        t[0] = omp_get_wtime();
        be->sddmm(be, scores, &g, q, kk, D);
        t[1] = omp_get_wtime();
        be->sparse_attention_forward(be, out, probs, q, kk, v, &g, D, 0.0f, drop, 1);
        t[2] = omp_get_wtime();
        be->sparse_attention_backward(be, dq, dk, dv, ds, kept, dout, probs, q, kk, v, &g, D, 0.0f, drop, 1);
        t[3] = omp_get_wtime();
        be->spmm_rows(be, Y, &g, vals, X, k);
        t[4] = omp_get_wtime();
        be->spmm_cols(be, Y, &g, vals, X, k);
        t[5] = omp_get_wtime();
        be->sparse_attention_forward(be, out, NULL, q, kk, v, &g, D, 0.0f, drop, 1);
        t[6] = omp_get_wtime();
        for (int i = 0; i < 6; i++)
            if (rep > 0 && t[i + 1] - t[i] < best[i]) best[i] = t[i + 1] - t[i];
    }
    printf("sparse ops: n=%d pairs=%d density=%.4f (%lld edges) d_h=%d k=%d threads=%d, best of %d\n", n, pairs,
           (double)g.nnz / ((double)pairs * n * n), (long long)g.nnz, D, k, omp_get_max_threads(), reps);
    char name[64];
    snprintf(name, sizeof name, "sddmm, width %d", D);
    report(name, best[0], g.nnz);
    snprintf(name, sizeof name, "sparse attention forward, d_h %d", D);
    report(name, best[1], g.nnz);
    snprintf(name, sizeof name, "  the same, inference (no probs kept)");
    report(name, best[5], g.nnz);
    snprintf(name, sizeof name, "sparse attention backward, d_h %d", D);
    report(name, best[2], g.nnz);
    snprintf(name, sizeof name, "spmm_rows (gather), width %d", k);
    report(name, best[3], g.nnz);
    snprintf(name, sizeof name, "spmm_cols (scatter), width %d", k);
    report(name, best[4], g.nnz);
    float *bufs[] = {q, kk, v, dout, X, vals, out, dq, dk, dv, Y, scores, probs, ds, kept};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) be->free(be, bufs[i]);
    sb_csr_free(be, &g);
    sb_backend_destroy(be);
    return 0;
}
