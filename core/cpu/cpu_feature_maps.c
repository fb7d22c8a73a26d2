/* Per-head masking and the elu+1 feature map of linear attention, over
 * [B,H,N,D] with a key mask [B,N]. */
#include "core/cpu/cpu_ops.h"
#include "core/kernels_inline.h"

/* elu(x) + 1 and its derivative elu'(x). Both sides are evaluated and one is
 * selected, so GCC if-converts and vectorises the loops (sb_expf clamps large x). */
static inline float elu1(float x) {
    const float e = sb_expf(x);
    return x > 0.0f ? x + 1.0f : e;
}

static inline float elu1_grad(float x) {
    const float e = sb_expf(x);
    return x > 0.0f ? 1.0f : e;
}

/* 1 FLOP per element (the per-row factor mask * scale is not counted per element) */
void sb_cpu_scale_mask_heads(sb_backend *be, float *out, const float *in, const float *mask, int B, int H, int N,
                             int D, float scale, int accumulate) {
    be->flops.total += (int64_t)B * H * N * D;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int n = 0; n < N; n++) {
                const float f = sb_cpu_mask_at(mask, b, N, n) * scale;
                const size_t o = (((size_t)b * H + h) * N + n) * D;
                if (accumulate)
                    for (int d = 0; d < D; d++) out[o + d] += in[o + d] * f;
                else
                    for (int d = 0; d < D; d++) out[o + d] = in[o + d] * f;
            }
}

/* 4 FLOPs per element: exp (negative side), add, two multiplies */
void sb_cpu_elu1_forward(sb_backend *be, float *out, const float *in, const float *mask, int B, int H, int N, int D,
                         float scale) {
    be->flops.total += 4LL * B * H * N * D;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int n = 0; n < N; n++) {
                const float s = scale * sb_cpu_mask_at(mask, b, N, n);
                const size_t o = (((size_t)b * H + h) * N + n) * D;
                for (int d = 0; d < D; d++) out[o + d] = elu1(in[o + d]) * s;
            }
}

void sb_cpu_elu1_backward(sb_backend *be, float *din, const float *in, const float *dout, const float *mask, int B,
                          int H, int N, int D, float scale) {
    be->flops.total += 4LL * B * H * N * D;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int n = 0; n < N; n++) {
                const float s = scale * sb_cpu_mask_at(mask, b, N, n);
                const size_t o = (((size_t)b * H + h) * N + n) * D;
                for (int d = 0; d < D; d++) din[o + d] += dout[o + d] * s * elu1_grad(in[o + d]);
            }
}
