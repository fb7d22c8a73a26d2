/* Dense products through OpenBLAS, always single-threaded calls in our own
 * parallel loops: with Debian's OpenMP build of OpenBLAS a cblas call made
 * inside an active OpenMP parallel region runs on one thread, so the loops
 * share one thread pool without oversubscription.
 *
 * Every product but a reduction goes by fixed tiles of C, GEMM_ROWS x
 * GEMM_COLS, one single-threaded product per tile in a parallel loop (or on
 * the caller's thread inside its parallel region). The tiles depend on the
 * shape alone, so the result does not depend on the thread count: left to
 * OpenBLAS's own threading, products such as Linformer's dE (256 x 1024 x 64)
 * or Nyström's with fewer heads than threads changed in their last bits
 * between 1 and 2 threads. Tall, thin products (the per-head projections, the
 * SBM MLP and memberships) are one column of tiles: OpenBLAS threads them
 * poorly (measured at 16384 x 32 x 32: 0.82 ms on 2 threads against 0.51 by
 * blocks).
 *
 * Reductions (a small C, at most GEMM_COLS on each side, over a long inner
 * dimension: the weight gradients Xᵀ dY) go by fixed slices of the inner
 * dimension, one single-threaded partial product each, summed in slice
 * order, for the same reason. */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include "core/cpu/cpu_ops.h"

#define GEMM_ROWS 256
#define GEMM_COLS 256
#define SMALL_MNK 262144.0 /* M N K of a product OpenBLAS always runs on the calling thread */

void sb_cpu_gemm_serial(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                        const float *B, int ldb, float beta, float *C, int ldc) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M,
                N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

static int is_reduction(int M, int N, int K) { return M <= GEMM_COLS && N <= GEMM_COLS && K >= 2 * GEMM_ROWS; }

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
static void gemm_reduce_slices(sb_mem_tracker *mem, int ta, int tb, int M, int N, int K, float alpha,
                               const float *A, int lda, size_t sa, const float *B, int ldb, size_t sb, float beta,
                               float *C, int ldc, size_t sc, int batch) {
    const int len = slice_len(K), slices = (K + len - 1) / len;
    const size_t mn = (size_t)M * N;
    /* tracked scratch: the partial products count at the peak (up to 256 KB at n = 4096) */
    float *part = sb_cpu_scratch_alloc(mem, sizeof(float) * mn * (size_t)slices * (size_t)batch);
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
    sb_cpu_scratch_free(mem, part);
}

/* `batch` products (operands offset by their strides) by tiles of C,
 * every (product, tile) a single-threaded task; A's rows (or columns, when
 * transposed) follow the tile's rows, B's columns (or rows) its columns. */
static void gemm_tiles(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, size_t sa,
                       const float *B, int ldb, size_t sb, float beta, float *C, int ldc, size_t sc, int batch) {
    const int rows = (M + GEMM_ROWS - 1) / GEMM_ROWS, cols = (N + GEMM_COLS - 1) / GEMM_COLS, tiles = rows * cols;
    /* One small product is called directly: a parallel region's wake-up made
     * a 64 x 64 x 32 product 3x slower (5.5 -> 17 us), and SBM's per-example
     * products at small n (quickstart: 64 x 128 x 32, thousands a step) 30%
     * slower overall. Directly, outside a region, OpenBLAS threads what it
     * finds large enough, and the bits then depend on the thread count (a
     * 200 x 200 x 200 product does); below SMALL_MNK (OpenBLAS's own
     * single-thread bound, 65536 x GEMM_MULTITHREAD_THRESHOLD 4) it never
     * does. The thread tests cover a product at that bound and one above. */
    if (batch * tiles == 1 && (double)M * N * K <= SMALL_MNK) {
        sb_cpu_gemm_serial(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
#pragma omp parallel for schedule(static) if (!omp_in_parallel())
    for (int t = 0; t < batch * tiles; t++) {
        const size_t i = (size_t)(t / tiles), m0 = (size_t)(t % tiles / cols) * GEMM_ROWS,
                     n0 = (size_t)(t % cols) * GEMM_COLS;
        const int mb = M - (int)m0 < GEMM_ROWS ? M - (int)m0 : GEMM_ROWS;
        const int nb = N - (int)n0 < GEMM_COLS ? N - (int)n0 : GEMM_COLS;
        sb_cpu_gemm_serial(ta, tb, mb, nb, K, alpha, A + i * sa + (ta ? m0 : m0 * (size_t)lda), lda,
                           B + i * sb + (tb ? n0 * (size_t)ldb : n0), ldb, beta, C + i * sc + m0 * (size_t)ldc + n0,
                           ldc);
    }
}

void sb_cpu_gemm(sb_backend *be, int ta, int tb, int M, int N, int K, float alpha, const float *A,
                 int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    sb_cpu_gemm_batched(be, ta, tb, M, N, K, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}

void sb_cpu_gemm_batched(sb_backend *be, int ta, int tb, int M, int N, int K, float alpha,
                         const float *A, int lda, size_t sa, const float *B, int ldb, size_t sb,
                         float beta, float *C, int ldc, size_t sc, int batch) {
    int64_t f = 2LL * M * N * K * batch;
    be->flops.total += f;
    be->flops.gemm += f;
    if (is_reduction(M, N, K)) gemm_reduce_slices(&be->mem, ta, tb, M, N, K, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch);
    else gemm_tiles(ta, tb, M, N, K, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch);
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
