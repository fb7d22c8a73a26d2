/* Dense products through OpenBLAS. With Debian's OpenMP build of OpenBLAS a
 * cblas call made inside an active OpenMP parallel region runs on one thread, so a
 * parallel loop of small products and one large threaded product share the
 * same thread pool without oversubscription.
 *
 * Tall, thin products (many rows, at most THIN_COLS columns and inner
 * dimension: the per-head projections, the SBM MLP and memberships) go by
 * blocks of GEMM_ROWS rows of C, one single-threaded product per block in a
 * parallel loop: OpenBLAS threads them poorly (measured at 16384 x 32 x 32:
 * 0.82 ms on 2 threads against 0.51 by blocks). The blocks are fixed, so the
 * result does not depend on the thread count, inside a parallel region or
 * not.
 *
 * Reductions (a small C, at most THIN_COLS on each side, over a long inner
 * dimension: the weight gradients Xᵀ dY) go by fixed slices of the inner
 * dimension, one single-threaded partial product each, summed in slice
 * order: left to OpenBLAS's threading (or to the batch's per-thread split)
 * their sums depended on the thread count. */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include "core/cpu/cpu_ops.h"

#define GEMM_ROWS 256
#define THIN_COLS 256

void sb_cpu_gemm_serial(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                        const float *B, int ldb, float beta, float *C, int ldc) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M,
                N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

static int is_thin(int M, int N, int K) { return M >= 2 * GEMM_ROWS && N <= THIN_COLS && K <= THIN_COLS; }
static int is_reduction(int M, int N, int K) { return M <= THIN_COLS && N <= THIN_COLS && K >= 2 * GEMM_ROWS; }

#define MAX_SLICES 64    /* a reduction's partial products: at most this many (bounds their memory) */
#define SLICE_MIN 1024   /* inner length of a slice, at least (256 made k x k x 4096 25% slower) */

/* The slice length of a reduction over K: SLICE_MIN, or longer so that at
 * most MAX_SLICES slices cover K. A function of K alone. */
static int slice_len(int K) {
    const int per = (K + MAX_SLICES - 1) / MAX_SLICES;
    return per > SLICE_MIN ? per : SLICE_MIN;
}

/* `batch` reductions (operands offset by their strides), C = alpha op(A)
 * op(B) + beta C, each as the sum over fixed K slices of single-threaded
 * partial products, added in slice order. */
static void gemm_reduce_slices(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                               size_t sa, const float *B, int ldb, size_t sb, float beta, float *C, int ldc,
                               size_t sc, int batch) {
    const int len = slice_len(K), slices = (K + len - 1) / len;
    const size_t mn = (size_t)M * N;
    float *part = malloc(sizeof(float) * mn * (size_t)slices * (size_t)batch);
    if (!part) {
        fprintf(stderr, "sbmbench: out of memory in a matrix product\n");
        exit(3);
    }
#pragma omp parallel for schedule(static) if (!omp_in_parallel())
    for (int t = 0; t < batch * slices; t++) {
        const size_t i = (size_t)(t / slices), k0 = (size_t)(t % slices) * len;
        const int kb = K - (int)k0 < len ? K - (int)k0 : len;
        sb_cpu_gemm_serial(ta, tb, M, N, kb, alpha, A + i * sa + (ta ? k0 * (size_t)lda : k0), lda,
                           B + i * sb + (tb ? k0 : k0 * (size_t)ldb), ldb, 0.0f, part + (size_t)t * mn, N);
    }
#pragma omp parallel for schedule(static) if (!omp_in_parallel())
    for (int r = 0; r < batch * M; r++) {
        const int i = r / M, m = r % M;
        float *c = C + (size_t)i * sc + (size_t)m * ldc;
        for (int n = 0; n < N; n++) {
            float acc = 0.0f;
            for (int q = 0; q < slices; q++) acc += part[((size_t)i * slices + q) * mn + (size_t)m * N + n];
            c[n] = beta == 0.0f ? acc : beta * c[n] + acc; /* beta 0: C may hold anything */
        }
    }
    free(part);
}

/* `batch` thin products (operands offset by their strides), every (product,
 * row block of GEMM_ROWS rows of C) a single-threaded task; A's rows (or
 * columns, when transposed) follow C's. In a caller's parallel region the
 * blocks run on its thread, in the same order. */
static void gemm_thin_blocks(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, size_t sa,
                             const float *B, int ldb, size_t sb, float beta, float *C, int ldc, size_t sc,
                             int batch) {
    const int blocks = (M + GEMM_ROWS - 1) / GEMM_ROWS;
#pragma omp parallel for schedule(static) if (!omp_in_parallel())
    for (int t = 0; t < batch * blocks; t++) {
        const size_t i = (size_t)(t / blocks), m0 = (size_t)(t % blocks) * GEMM_ROWS;
        const int mb = M - (int)m0 < GEMM_ROWS ? M - (int)m0 : GEMM_ROWS;
        sb_cpu_gemm_serial(ta, tb, mb, N, K, alpha, A + i * sa + (ta ? m0 : m0 * (size_t)lda), lda, B + i * sb, ldb,
                           beta, C + i * sc + m0 * (size_t)ldc, ldc);
    }
}

void sb_cpu_gemm(sb_backend *be, int ta, int tb, int M, int N, int K, float alpha, const float *A,
                 int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    be->flops.total += 2LL * M * N * K;
    be->flops.gemm += 2LL * M * N * K;
    if (is_thin(M, N, K)) gemm_thin_blocks(ta, tb, M, N, K, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
    else if (is_reduction(M, N, K)) gemm_reduce_slices(ta, tb, M, N, K, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
    else sb_cpu_gemm_serial(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* Product i of a batch: operands offset by their strides. */
static void gemm_nth(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, size_t sa,
                     const float *B, int ldb, size_t sb, float beta, float *C, int ldc, size_t sc, int i) {
    sb_cpu_gemm_serial(ta, tb, M, N, K, alpha, A + i * sa, lda, B + i * sb, ldb, beta, C + i * sc, ldc);
}

void sb_cpu_gemm_batched(sb_backend *be, int ta, int tb, int M, int N, int K, float alpha,
                         const float *A, int lda, size_t sa, const float *B, int ldb, size_t sb,
                         float beta, float *C, int ldc, size_t sc, int batch) {
    int64_t f = 2LL * M * N * K * batch;
    be->flops.total += f;
    be->flops.gemm += f;
    if (is_thin(M, N, K)) {
        gemm_thin_blocks(ta, tb, M, N, K, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch);
    } else if (is_reduction(M, N, K)) {
        gemm_reduce_slices(ta, tb, M, N, K, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch);
    } else if (batch >= omp_get_max_threads()) {
        /* many small products: one per thread, each single-threaded */
#pragma omp parallel for schedule(static)
        for (int i = 0; i < batch; i++) gemm_nth(ta, tb, M, N, K, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, i);
    } else {
        /* fewer than the threads: one after another, each threaded by
         * OpenBLAS. Not through `parallel for if (...)`: an inactive region
         * is still a team, so OpenBLAS's own region inside it is nested and
         * gets fresh threads of its own for every call (65 thread creations
         * in one run of bench_sbm_attention, 1 without), competing for the
         * cores with the pool's idle threads, which spin (measured: the SBM
         * backward's 4 products 128x32x4096 took 1.2-9 ms each, 0.6 ms
         * outside a region) */
        for (int i = 0; i < batch; i++) gemm_nth(ta, tb, M, N, K, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, i);
    }
}

void sb_cpu_add_bias(sb_backend *be, float *out, const float *bias, size_t rows, int cols) {
    be->flops.total += (int64_t)rows * cols;
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) {
        float *o = out + r * cols;
        for (int c = 0; c < cols; c++) o[c] += bias[c];
    }
}

/* Column-parallel so each column's sum has one fixed order of additions. */
void sb_cpu_bias_backward(sb_backend *be, float *dbias, const float *dout, size_t rows, int cols) {
    be->flops.total += (int64_t)rows * cols;
    int nt = omp_get_max_threads();
    int per = (cols + nt - 1) / nt;
#pragma omp parallel for schedule(static)
    for (int t = 0; t < nt; t++) {
        int c0 = t * per, c1 = c0 + per < cols ? c0 + per : cols;
        if (c0 >= c1) continue;
        float acc[c1 - c0];
        for (int c = c0; c < c1; c++) acc[c - c0] = 0.0f;
        for (size_t r = 0; r < rows; r++) {
            const float *d = dout + r * cols;
            for (int c = c0; c < c1; c++) acc[c - c0] += d[c];
        }
        for (int c = c0; c < c1; c++) dbias[c] += acc[c - c0];
    }
}
