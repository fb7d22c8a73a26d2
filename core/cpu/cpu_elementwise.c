/* Elementwise ops: activations, residual adds, dropout, masking, AdamW. */
#include <math.h>
#include "core/cpu/cpu_philox16.h"
#if defined(__AVX512F__) && defined(__AVX512BW__)
#define SB_CPU_PHILOX_AVX512 1
#endif
#include "core/cpu/cpu_ops.h"
#include "core/kernels_inline.h"

/* ---- dropout factors, many Philox blocks at once ----
 * Bit-identical to sb_dropout_factors (core/kernels_inline.h): element e uses
 * 16-bit half (e & 7) of Philox block e >> 3 (block index taken mod 2^32).
 * The scalar generator costs ~2-5 ns per element; this one evaluates 16
 * blocks (128 elements) per call in vector lanes (core/cpu/cpu_philox16.h):
 * compared in AVX-512 registers where there are any, else from the words. */
#ifdef SB_CPU_PHILOX_AVX512
/* 16 blocks idx0 .. idx0+15 (mod 2^32) -> factors for 128 elements at o. */
static inline void philox_factors128(const sb_rng_stream *s, uint32_t idx0, __m512i thr16,
                                     __m512 scale, float *o) {
    __m512i c[2][4], w[4];
    sb_philox16_avx512(s, idx0, c);
    sb_philox16_words(c, w);
    for (int q = 0; q < 4; q++) { /* 32 16-bit halves of 4 blocks, in element order */
        __mmask32 m = _mm512_cmpge_epu16_mask(w[q], thr16);
        _mm512_storeu_ps(o + 32 * q, _mm512_maskz_mov_ps((__mmask16)m, scale));
        _mm512_storeu_ps(o + 32 * q + 16, _mm512_maskz_mov_ps((__mmask16)(m >> 16), scale));
    }
}
#else
static inline void philox_factors128(const sb_rng_stream *s, uint32_t idx0, uint32_t thr,
                                     float scale, float *o) {
    uint32_t w[64];
    sb_philox16_fill(s, idx0, w);
    for (int i = 0; i < 64; i++) { /* element e: 16-bit half (e & 1) of word e >> 1 */
        o[2 * i] = (w[i] & 0xFFFFu) >= thr ? scale : 0.0f;
        o[2 * i + 1] = (w[i] >> 16) >= thr ? scale : 0.0f;
    }
}
#endif

void sb_cpu_dropout_factors(const sb_rng_stream *s, uint64_t first, size_t n, uint32_t threshold,
                            float scale, float *factors) {
    size_t i = (size_t)((8u - (unsigned)(first & 7u)) & 7u); /* up to a block boundary */
    if (i > n) i = n;
    if (i) sb_dropout_factors(s, first, i, threshold, scale, factors);
    if (threshold > 0xFFFFu) { /* p = 1: every element dropped */
        for (; i < n; i++) factors[i] = 0.0f;
        return;
    }
#ifdef SB_CPU_PHILOX_AVX512
    const __m512i thr16 = _mm512_set1_epi16((short)(uint16_t)threshold);
    const __m512 sc = _mm512_set1_ps(scale);
#else
    const uint32_t thr16 = threshold;
    const float sc = scale;
#endif
    for (; i + 128 <= n; i += 128)
        philox_factors128(s, (uint32_t)((first + i) >> 3), thr16, sc, factors + i);
    if (i < n) sb_dropout_factors(s, first + i, n - i, threshold, scale, factors + i);
}

void sb_cpu_add(sb_backend *be, float *out, const float *a, const float *b, size_t n) {
    be->flops.total += (int64_t)n;
    SB_CPU_EW_LOOP(n, i, out[i] = a[i] + b[i]);
}

void sb_cpu_accumulate(sb_backend *be, float *out, const float *a, size_t n) {
    be->flops.total += (int64_t)n;
    SB_CPU_EW_LOOP(n, i, out[i] += a[i]);
}

void sb_cpu_gelu_forward(sb_backend *be, float *out, const float *in, size_t n) {
    be->flops.total += 8LL * (int64_t)n;
    SB_CPU_EW_LOOP(n, i, out[i] = sb_gelu(in[i]));
}

/* backward: 12 FLOPs per element (cdf, pdf, product, chain) */
void sb_cpu_gelu_backward(sb_backend *be, float *din, const float *in, const float *dout, size_t n) {
    be->flops.total += 12LL * (int64_t)n;
    SB_CPU_EW_LOOP(n, i, din[i] += sb_gelu_grad(in[i]) * dout[i]);
}

void sb_cpu_relu_forward(sb_backend *be, float *out, const float *in, size_t n) {
    be->flops.total += (int64_t)n;
    SB_CPU_EW_LOOP(n, i, out[i] = in[i] > 0.0f ? in[i] : 0.0f);
}

void sb_cpu_relu_backward(sb_backend *be, float *din, const float *out, const float *dout, size_t n) {
    be->flops.total += (int64_t)n;
    SB_CPU_EW_LOOP(n, i, din[i] += out[i] > 0.0f ? dout[i] : 0.0f);
}

/* Chunks of 1024 elements (a multiple of the 8 draws per Philox block). */
#define DROP_CHUNK 1024

/* y (op)= x * keep_factor; accumulate selects backward's += */
static void dropout_apply(float *y, const float *x, size_t n, float p, sb_rng_stream s,
                          int accumulate) {
    uint32_t thr = sb_dropout_threshold(p);
    float scale = sb_dropout_scale(p);
    size_t nchunks = (n + DROP_CHUNK - 1) / DROP_CHUNK;
#pragma omp parallel for schedule(static)
    for (size_t c = 0; c < nchunks; c++) {
        float f[DROP_CHUNK];
        size_t i0 = c * DROP_CHUNK, len = n - i0 < DROP_CHUNK ? n - i0 : DROP_CHUNK;
        sb_cpu_dropout_factors(&s, i0, len, thr, scale, f);
        if (accumulate)
            for (size_t i = 0; i < len; i++) y[i0 + i] += x[i0 + i] * f[i];
        else
            for (size_t i = 0; i < len; i++) y[i0 + i] = x[i0 + i] * f[i];
    }
}

void sb_cpu_dropout_forward(sb_backend *be, float *out, const float *in, size_t n, float p,
                            sb_rng_stream s) {
    if (p <= 0.0f) {
        if (out != in)
            for (size_t i = 0; i < n; i++) out[i] = in[i];
        return;
    }
    be->flops.total += (int64_t)n;
    dropout_apply(out, in, n, p, s, 0);
}

void sb_cpu_dropout_backward(sb_backend *be, float *din, const float *dout, size_t n, float p,
                             sb_rng_stream s) {
    if (p <= 0.0f) {
        sb_cpu_accumulate(be, din, dout, n);
        return;
    }
    be->flops.total += 2LL * (int64_t)n;
    dropout_apply(din, dout, n, p, s, 1);
}

void sb_cpu_mask_rows(sb_backend *be, float *x, const float *mask, size_t rows, int C) {
    be->flops.total += (int64_t)rows * C;
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) {
        float m = mask[r];
        for (int c = 0; c < C; c++) x[r * C + c] *= m;
    }
}

/* PyTorch's AdamW: decoupled decay, then bias-corrected Adam with eps added to
 * sqrt(v_hat). beta1 may change between steps (one-cycle momentum); the bias
 * correction uses the current beta1, as torch.optim.AdamW does. */
void sb_cpu_adamw(sb_backend *be, float *param, const float *grad, float *m, float *v, size_t n,
                  float lr, float beta1, float beta2, float eps, float wd, int t) {
    (void)be; /* optimiser arithmetic is not model FLOPs */
    float bc1 = 1.0f - powf(beta1, (float)t);
    float bc2_sqrt = sqrtf(1.0f - powf(beta2, (float)t));
    float step = lr / bc1;
    SB_CPU_EW_LOOP(n, i, {
        float g = grad[i];
        float p = param[i] * (1.0f - lr * wd);
        float mi = beta1 * m[i] + (1.0f - beta1) * g;
        float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] = p - step * mi / (sqrtf(vi) / bc2_sqrt + eps);
    });
}
