/* Dense products through OpenBLAS. With Debian's OpenMP build of OpenBLAS a
 * cblas call made inside an OpenMP parallel region runs on one thread, so a
 * parallel loop of small products and one large threaded product share the
 * same thread pool without oversubscription. */
#include <cblas.h>
#include <omp.h>
#include "core/cpu/cpu_ops.h"

void sb_cpu_gemm_serial(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                        const float *B, int ldb, float beta, float *C, int ldc) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M,
                N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void sb_cpu_gemm(sb_backend *be, int ta, int tb, int M, int N, int K, float alpha, const float *A,
                 int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    be->flops.total += 2LL * M * N * K;
    be->flops.gemm += 2LL * M * N * K;
    sb_cpu_gemm_serial(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void sb_cpu_gemm_batched(sb_backend *be, int ta, int tb, int M, int N, int K, float alpha,
                         const float *A, int lda, size_t sa, const float *B, int ldb, size_t sb,
                         float beta, float *C, int ldc, size_t sc, int batch) {
    int64_t f = 2LL * M * N * K * batch;
    be->flops.total += f;
    be->flops.gemm += f;
    if (batch >= omp_get_max_threads()) {
        /* many small products: one per thread, each single-threaded */
#pragma omp parallel for schedule(static)
        for (int i = 0; i < batch; i++)
            sb_cpu_gemm_serial(ta, tb, M, N, K, alpha, A + i * sa, lda, B + i * sb, ldb, beta,
                               C + i * sc, ldc);
    } else {
        for (int i = 0; i < batch; i++)
            sb_cpu_gemm_serial(ta, tb, M, N, K, alpha, A + i * sa, lda, B + i * sb, ldb, beta,
                               C + i * sc, ldc);
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
