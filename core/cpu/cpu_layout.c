/* Head layout changes: [B,T,(H,D)] rows <-> [B,H,T,D] blocks. */
#include "core/cpu/cpu_ops.h"

void sb_cpu_heads_split(sb_backend *be, float *dst, const float *src, int src_stride, int B, int T,
                        int H, int D, int accumulate) {
    (void)be;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int t = 0; t < T; t++) {
                const float *s = src + ((size_t)b * T + t) * src_stride + (size_t)h * D;
                float *d = dst + (((size_t)b * H + h) * T + t) * D;
                if (accumulate)
                    for (int i = 0; i < D; i++) d[i] += s[i];
                else
                    for (int i = 0; i < D; i++) d[i] = s[i];
            }
}

void sb_cpu_heads_merge(sb_backend *be, float *dst, int dst_stride, const float *src, int B, int T,
                        int H, int D, int accumulate) {
    (void)be;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < H; h++) {
                const float *s = src + (((size_t)b * H + h) * T + t) * D;
                float *d = dst + ((size_t)b * T + t) * dst_stride + (size_t)h * D;
                if (accumulate)
                    for (int i = 0; i < D; i++) d[i] += s[i];
                else
                    for (int i = 0; i < D; i++) d[i] = s[i];
            }
}
