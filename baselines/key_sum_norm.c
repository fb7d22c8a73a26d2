/* The key-sum normaliser of kernelised attention (baselines/key_sum_norm.h). */
#include "baselines/key_sum_norm.h"

void sb_ksn_init(sb_backend *be, sb_key_sum_norm *n, int G, int N, int F, int D, float eps, int training) {
    *n = (sb_key_sum_norm){.G = G, .N = N, .F = F, .D = D, .eps = eps};
    n->ones = be->alloc(be, sizeof(float) * N);
    be->fill(be, n->ones, 1.0f, (size_t)N);
    n->ksum = be->alloc(be, sizeof(float) * (size_t)G * F);
    n->den = be->alloc(be, sizeof(float) * (size_t)G * N);
    if (training) {
        n->dksum = be->alloc(be, sizeof(float) * (size_t)G * F);
        n->dden = be->alloc(be, sizeof(float) * (size_t)G * N);
    }
}

void sb_ksn_free(sb_backend *be, sb_key_sum_norm *n) {
    float *b[] = {n->ones, n->ksum, n->den, n->dksum, n->dden};
    for (int i = 0; i < 5; i++) be->free(be, b[i]);
}

void sb_ksn_forward(sb_backend *be, sb_key_sum_norm *n, int G, int N, const float *phiq, const float *phik,
                    float *out) {
    n->G = G, n->N = N; /* this call's, kept for its backward */
    const int F = n->F;
    const size_t nf = (size_t)N * F;
    be->gemm_batched(be, 0, 0, 1, F, N, 1.0f, n->ones, N, 0, phik, F, nf, 0.0f, n->ksum, F, F, G); /* Σ_j φk_j */
    if (n->eps != 0.0f) {
        be->fill(be, n->den, n->eps, (size_t)G * N);
        be->flops.total += (int64_t)G * N; /* + eps */
    }
    be->gemm_batched(be, 0, 0, N, 1, F, 1.0f, phiq, F, nf, n->ksum, 1, F, n->eps != 0.0f ? 1.0f : 0.0f, n->den, 1, N,
                     G); /* φq · ksum (+ eps) */
    be->performer_div_forward(be, out, out, n->den, (size_t)G * N, n->D);
}

void sb_ksn_backward(sb_backend *be, sb_key_sum_norm *n, const float *phiq, const float *dout, const float *out,
                     float *dnum) {
    const int G = n->G, N = n->N, F = n->F;
    be->zero(be, dnum, sizeof(float) * (size_t)G * N * n->D);
    be->zero(be, n->dden, sizeof(float) * (size_t)G * N);
    be->performer_div_backward(be, dnum, n->dden, dout, out, n->den, (size_t)G * N, n->D);
    be->gemm_batched(be, 1, 0, F, 1, N, 1.0f, phiq, F, (size_t)N * F, n->dden, 1, N, 0.0f, n->dksum, 1, F,
                     G); /* dksum = φqᵀ dden */
}

void sb_ksn_add_query_grad(sb_backend *be, const sb_key_sum_norm *n, float *dphiq) {
    be->gemm_batched(be, 0, 0, n->N, n->F, 1, 1.0f, n->dden, 1, n->N, n->ksum, n->F, n->F, 1.0f, dphiq, n->F,
                     (size_t)n->N * n->F, n->G);
}

void sb_ksn_add_key_grad(sb_backend *be, const sb_key_sum_norm *n, float *dphik) {
    be->gemm_batched(be, 0, 0, n->N, n->F, 1, 1.0f, n->ones, 1, 0, n->dksum, n->F, n->F, 1.0f, dphik, n->F,
                     (size_t)n->N * n->F, n->G);
}
