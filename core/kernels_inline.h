/* Scalar kernel bodies shared by every backend (SB_HD: C and CUDA).
 * Written so GCC vectorises them inside simple loops (no branches that block
 * if-conversion, no libm calls on the hot paths). */
#ifndef SB_KERNELS_INLINE_H
#define SB_KERNELS_INLINE_H

#include <stdint.h>
#include <string.h>
#include "core/hd.h"
#include "core/philox.h"

/* exp(x) to about 2 ulp for x in [-87, 88]; returns exactly 0 below -87.3
 * (so masked or far-below-max logits vanish, as with expf's underflow), and
 * NaN for NaN: the clamp sends NaN to 88 (a NaN must not reach the float to
 * int conversion below, which is undefined for it). */
SB_HD static inline float sb_expf(float x) {
    float xc = x < 88.0f ? x : 88.0f;
    xc = xc < -87.0f ? -87.0f : xc;
    float n = __builtin_floorf(xc * 1.44269504088896341f + 0.5f);
    float r = xc - n * 0.693145751953125f;  /* ln2 split: hi part exact */
    r = r - n * 1.42860682030941723212e-6f; /* lo part */
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t e = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &e, sizeof scale);
    float y = p * scale;
    return x < -87.3f ? 0.0f : (x == x ? y : x);
}

/* erf(x), Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7). */
SB_HD static inline float sb_erff(float x) {
    float ax = x < 0.0f ? -x : x;
    float t = 1.0f / (1.0f + 0.3275911f * ax);
    float y = 1.061405429f;
    y = y * t - 1.453152027f;
    y = y * t + 1.421413741f;
    y = y * t - 0.284496736f;
    y = y * t + 0.254829592f;
    y = 1.0f - y * t * sb_expf(-ax * ax);
    return x < 0.0f ? -y : y;
}

/* GELU(x) = x * Phi(x), the exact (erf) form of torch.nn.GELU(). */
SB_HD static inline float sb_gelu(float x) {
    return 0.5f * x * (1.0f + sb_erff(x * 0.70710678118654752f));
}

/* d GELU / dx = Phi(x) + x * phi(x). */
SB_HD static inline float sb_gelu_grad(float x) {
    float cdf = 0.5f * (1.0f + sb_erff(x * 0.70710678118654752f));
    float pdf = 0.39894228040143268f * sb_expf(-0.5f * x * x);
    return cdf + x * pdf;
}

/* Dropout draws: element e of a stream uses 16 bits of Philox block e/8, and is
 * kept when those bits are >= threshold. The keep probability is therefore
 * 1 - round(p * 65536) / 65536 (exact for p a multiple of 2^-16; 0.1 -> 0.0999908). */
SB_HD static inline uint32_t sb_dropout_threshold(float p) {
    float t = p * 65536.0f + 0.5f;
    return t >= 65536.0f ? 65536u : (uint32_t)t;
}

SB_HD static inline float sb_dropout_scale(float p) { return p < 1.0f ? 1.0f / (1.0f - p) : 0.0f; }

/* factors[i] = scale if element first+i is kept, else 0, for i < n. */
SB_HD static inline void sb_dropout_factors(const sb_rng_stream *s, uint64_t first, size_t n,
                                            uint32_t threshold, float scale, float *factors) {
    size_t i = 0;
    while (i < n) {
        uint64_t e = first + i;
        sb_philox_ctr blk = sb_rng_block(s, (uint32_t)(e >> 3));
        uint32_t half[8];
        for (int w = 0; w < 4; w++) {
            half[2 * w] = blk.v[w] & 0xFFFFu;
            half[2 * w + 1] = blk.v[w] >> 16;
        }
        for (unsigned lane = (unsigned)(e & 7u); lane < 8 && i < n; lane++, i++)
            factors[i] = half[lane] >= threshold ? scale : 0.0f;
    }
}

#endif
