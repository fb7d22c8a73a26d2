/* Performer's FAVOR+ positive random features and the row division of its
 * normaliser (baselines/performer.c). x [B,H,N,D] rows, omega [M,D] shared by
 * every head, features phi [B,H,N,M]. */
#include <math.h>
#include "core/cpu/cpu_ops.h"
#include "core/kernels_inline.h"

#define PERFORMER_EPS 1e-4f

/* Row kernels with every scalar passed by value, so GCC vectorises them
 * (shared variables of an OpenMP region are reached through pointers that
 * may alias the row). */
static inline float row_scale_max(float *z, int M, float m, int scale) {
    float mx = -INFINITY;
    for (int j = 0; j < M; j++) {
        float v = scale ? z[j] * m : z[j];
        z[j] = v;
        mx = v > mx ? v : mx;
    }
    return mx;
}

static inline void row_phi(float *z, int M, float sub, float ratio) {
#pragma omp simd
    for (int j = 0; j < M; j++) z[j] = ratio * (sb_expf(z[j] - sub) + PERFORMER_EPS);
}

static inline float row_dz(float *dz, const float *p, int M, float reps, float m) {
    float acc = 0.0f;
    for (int j = 0; j < M; j++) {
        float v = dz[j] * (p[j] - reps) * m;
        dz[j] = v;
        acc += v;
    }
    return acc;
}

/* z = scale x omegaᵀ, then per row, with m = mask:
 *   z *= m;  h = (scale m)² |x|² / 2;  phi = M^{-1/2} (exp(z - h - c) + 1e-4)
 * c = max of the whole (example, head) (c_mode 0: keys), of the row
 * (c_mode 1: queries), or 0 (c_mode 2: no stabiliser, for gradient tests).
 * FLOPs beyond the gemm: per row 3D + 1 (|x~|², h), 1 (h + c), 1 (the
 * (example, head) max); per feature 1 compare (row max) + 4 (subtract, exp,
 * add, scale), + 1 with a mask. */
void sb_cpu_performer_features_forward(sb_backend *be, float *phi, const float *x, const float *omega,
                                       const float *mask, int B, int H, int N, int D, int M, float scale,
                                       int c_mode) {
    const size_t rows = (size_t)B * H * N;
    /* per (example, head), as the other variants' products: results do not
     * depend on the thread count */
    sb_cpu_gemm_batched(be, 0, 1, N, M, D, scale, x, D, (size_t)N * D, omega, D, 0, 0.0f, phi, M, (size_t)N * M,
                        B * H);
    be->flops.total += (int64_t)rows * (3LL * D + 3 + 5LL * M + (mask ? M : 0));
    const float ratio = 1.0f / sqrtf((float)M);
    float *rmax_all = be->alloc(be, sizeof(float) * rows);
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            const size_t g = (size_t)b * H + h;
            float gmax = -INFINITY;
            float *rmax = rmax_all + g * N;
            for (int n = 0; n < N; n++) { /* pass 1: mask, row max */
                rmax[n] = row_scale_max(phi + (g * N + n) * M, M, sb_cpu_mask_at(mask, b, N, n), mask != NULL);
                gmax = rmax[n] > gmax ? rmax[n] : gmax;
            }
            for (int n = 0; n < N; n++) { /* pass 2: features */
                float *z = phi + (g * N + n) * M;
                const float *xr = x + (g * N + n) * D;
                const float sm = scale * sb_cpu_mask_at(mask, b, N, n);
                float ss = 0.0f;
                for (int d = 0; d < D; d++) {
                    const float t = xr[d] * sm;
                    ss += t * t;
                }
                const float hh = ss / 2.0f;
                const float c = c_mode == 2 ? 0.0f : c_mode == 1 ? rmax[n] : gmax;
                row_phi(z, M, hh + c, ratio);
            }
        }
    be->free(be, rmax_all);
}

/* With c held constant (the reference detaches it), r = M^{-1/2}:
 *   dz = dphi (phi - r 1e-4) m;  dh = -Σ_j dz_j
 *   dx += scale dz omega + scale² m dh x
 * dphi is overwritten with dz. FLOPs beyond the gemm: per feature 4, per
 * row 2D + 4. */
void sb_cpu_performer_features_backward(sb_backend *be, float *dx, float *dphi, const float *phi, const float *x,
                                        const float *omega, const float *mask, int B, int H, int N, int D, int M,
                                        float scale) {
    const size_t rows = (size_t)B * H * N;
    be->flops.total += (int64_t)rows * (4LL * M + 2 * D + 4);
    const float reps = PERFORMER_EPS / sqrtf((float)M);
    float *dh = be->alloc(be, sizeof(float) * rows);
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) {
        const int b = (int)(r / ((size_t)H * N)), n = (int)(r % (size_t)N);
        const float m = sb_cpu_mask_at(mask, b, N, n);
        dh[r] = -row_dz(dphi + r * M, phi + r * M, M, reps, m);
    }
    sb_cpu_gemm_batched(be, 0, 0, N, D, M, scale, dphi, M, (size_t)N * M, omega, D, 0, 1.0f, dx, D, (size_t)N * D,
                        B * H);
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) {
        const int b = (int)(r / ((size_t)H * N)), n = (int)(r % (size_t)N);
        const float f = scale * scale * sb_cpu_mask_at(mask, b, N, n) * dh[r];
        const float *xr = x + r * D;
        float *o = dx + r * D;
        for (int d = 0; d < D; d++) o[d] += f * xr[d];
    }
    be->free(be, dh);
}

/* 1 FLOP per element + 1 per row */
void sb_cpu_performer_div_forward(sb_backend *be, float *out, const float *num, const float *den, size_t rows,
                                  int cols) {
    be->flops.total += (int64_t)rows * (cols + 1);
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) {
        const float dinv = 1.0f / den[r];
        for (int c = 0; c < cols; c++) out[r * cols + c] = num[r * cols + c] * dinv;
    }
}

/* dnum += dout / den; dden += -(dout . out) / den. 4 FLOPs per element + 3 per row. */
void sb_cpu_performer_div_backward(sb_backend *be, float *dnum, float *dden, const float *dout, const float *out,
                                   const float *den, size_t rows, int cols) {
    be->flops.total += (int64_t)rows * (4LL * cols + 3);
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) {
        const float dinv = 1.0f / den[r];
        float acc = 0.0f;
        for (int c = 0; c < cols; c++) {
            dnum[r * cols + c] += dout[r * cols + c] * dinv;
            acc += dout[r * cols + c] * out[r * cols + c];
        }
        dden[r] -= acc * dinv;
    }
}
