/* Nyströmformer's non-GEMM ops (baselines/nystrom.c): the scaled key/query
 * mask, landmark segment means, the reference's additive -1e9 key mask before
 * a row softmax, αI − X for the Newton–Schulz pseudo-inverse, its start
 * Z0 = Aᵀ / max(column sums), and the per-head depthwise skip convolution.
 * Every reduction has one fixed order (no dependence on the thread count).
 * FLOP rules are stated beside each op. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/cpu/cpu_ops.h"
#include "core/kernels_inline.h"
#include "core/fatal.h"

/* forward: L-1 adds and 1 divide per output = 1 FLOP per input element */
void sb_cpu_segment_mean_forward(sb_backend *be, float *out, const float *in, int G, int N, int m, int D) {
    const int L = N / m;
    be->flops.total += (int64_t)G * N * D;
#pragma omp parallel for collapse(2) schedule(static)
    for (int g = 0; g < G; g++)
        for (int s = 0; s < m; s++) {
            const float *x = in + ((size_t)g * N + (size_t)s * L) * D;
            float *o = out + ((size_t)g * m + s) * D;
            for (int d = 0; d < D; d++) o[d] = x[d];
            for (int t = 1; t < L; t++)
                for (int d = 0; d < D; d++) o[d] += x[(size_t)t * D + d];
            for (int d = 0; d < D; d++) o[d] /= (float)L;
        }
}

/* backward: 1 divide per output element + 1 add per input element */
void sb_cpu_segment_mean_backward(sb_backend *be, float *din, const float *dout, int G, int N, int m, int D) {
    const int L = N / m;
    be->flops.total += (int64_t)G * (N + m) * D;
#pragma omp parallel for collapse(2) schedule(static)
    for (int g = 0; g < G; g++)
        for (int s = 0; s < m; s++) {
            const float *go = dout + ((size_t)g * m + s) * D;
            float *x = din + ((size_t)g * N + (size_t)s * L) * D;
            float gl[D];
            for (int d = 0; d < D; d++) gl[d] = go[d] / (float)L;
            for (int t = 0; t < L; t++)
                for (int d = 0; d < D; d++) x[(size_t)t * D + d] += gl[d];
        }
}

/* Row reductions run in SB_NY_LANES independent partial maxima / sums (one
 * AVX2 register), combined in a fixed order, so GCC vectorises them without
 * -ffast-math and the result does not depend on the thread count. (The
 * scalar running max and sum do not vectorise, and the plain row softmax's
 * 16-lane GCC vectors split into scalar code on AVX2: measured 1.6 ns per
 * element there, 0.85 ns here, most of it the exp.) */
#define SB_NY_LANES 8

static inline float lanes_max(const float *x) {
    float m = x[0];
    for (int l = 1; l < SB_NY_LANES; l++) m = x[l] > m ? x[l] : m;
    return m;
}

static inline float lanes_sum(const float *x) {
    float t[SB_NY_LANES / 2];
    for (int l = 0; l < SB_NY_LANES / 2; l++) t[l] = x[l] + x[l + SB_NY_LANES / 2];
    for (int w = SB_NY_LANES / 4; w >= 1; w /= 2)
        for (int l = 0; l < w; l++) t[l] = t[l] + t[l + w];
    return t[0];
}

/* sum_d a[d] b[d] in SB_NY_LANES partial sums */
static inline float dot_lanes(const float *a, const float *b, int n) {
    float acc[SB_NY_LANES] = {0};
    int d = 0;
    for (; d + SB_NY_LANES <= n; d += SB_NY_LANES)
        for (int l = 0; l < SB_NY_LANES; l++) acc[l] += a[d + l] * b[d + l];
    float tail = 0.0f;
    for (; d < n; d++) tail += a[d] * b[d];
    return lanes_sum(acc) + tail;
}

typedef float sb_v8sf __attribute__((vector_size(4 * SB_NY_LANES)));
typedef int32_t sb_v8si __attribute__((vector_size(4 * SB_NY_LANES)));

/* max_j s[j]: a lane-wise running max m = x > m ? x : m in a GCC vector
 * (the scalar form does not vectorise without -ffinite-math-only) */
static inline float row_max(const float *s, int n) {
    sb_v8sf vm;
    for (int l = 0; l < SB_NY_LANES; l++) vm[l] = -INFINITY;
    int j = 0;
    for (; j + SB_NY_LANES <= n; j += SB_NY_LANES) {
        sb_v8sf x;
        memcpy(&x, s + j, sizeof x);
        sb_v8si gt = x > vm;
        vm = (sb_v8sf)(((sb_v8si)x & gt) | ((sb_v8si)vm & ~gt));
    }
    float lanes[SB_NY_LANES];
    memcpy(lanes, &vm, sizeof lanes);
    float m = lanes_max(lanes);
    for (; j < n; j++) m = s[j] > m ? s[j] : m;
    return m;
}

/* s[j] = exp(s[j] - mx); returns their sum, in a GCC vector of SB_NY_LANES
 * partial sums (a second pass over the row, which is in L1) */
static inline float exp_row_sum(float *s, float mx, int n) {
    for (int j = 0; j < n; j++) s[j] = sb_expf(s[j] - mx);
    sb_v8sf acc = {0};
    int j = 0;
    for (; j + SB_NY_LANES <= n; j += SB_NY_LANES) {
        sb_v8sf x;
        memcpy(&x, s + j, sizeof x);
        acc += x;
    }
    float lanes[SB_NY_LANES], tail = 0.0f;
    memcpy(lanes, &acc, sizeof lanes);
    for (; j < n; j++) tail += s[j];
    return lanes_sum(lanes) + tail;
}

/* 6 FLOPs per element with a mask: the bias add, then max, subtract, exp,
 * sum, scale; 5 without (no bias is added) */
void sb_cpu_softmax_keybias_rows(sb_backend *be, float *x, const float *mask, int B, int H, int R, int N) {
    be->flops.total += (mask ? 6LL : 5LL) * B * H * R * N;
#pragma omp parallel for collapse(2) schedule(static)
    for (int g = 0; g < B * H; g++)
        for (int r = 0; r < R; r++) {
            float *s = x + ((size_t)g * R + r) * N;
            const float *mk = mask ? mask + (size_t)(g / H) * N : NULL;
            /* literally s - 1e9 (1 - mask), in float as torch computes it */
            if (mk)
                for (int j = 0; j < N; j++) s[j] = s[j] - 1e9f * (1.0f - mk[j]);
            const float mx = row_max(s, N);
            const float inv = 1.0f / exp_row_sum(s, mx, N);
            for (int j = 0; j < N; j++) s[j] *= inv;
        }
}

/* 1 FLOP per element */
void sb_cpu_diag_sub(sb_backend *be, float *out, const float *in, float alpha, int G, int m) {
    be->flops.total += (int64_t)G * m * m;
#pragma omp parallel for schedule(static)
    for (int g = 0; g < G; g++) {
        const float *a = in + (size_t)g * m * m;
        float *o = out + (size_t)g * m * m;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++) o[(size_t)i * m + j] = (i == j ? alpha : 0.0f) - a[(size_t)i * m + j];
    }
}

/* forward: column sums (1 per element), the max (1 per column), the
 * reciprocal (1) and the scaling (1 per element): 2 G m² + G m + 1 */
float sb_cpu_pinv_init_forward(sb_backend *be, float *Z0, float *colsum, const float *A, int G, int m) {
    be->flops.total += 2LL * G * m * m + (int64_t)G * m + 1;
#pragma omp parallel for schedule(static)
    for (int g = 0; g < G; g++) {
        const float *a = A + (size_t)g * m * m;
        float *cs = colsum + (size_t)g * m;
        for (int j = 0; j < m; j++) cs[j] = 0.0f;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++) cs[j] += a[(size_t)i * m + j];
    }
    float c = -INFINITY;
    for (size_t t = 0; t < (size_t)G * m; t++) c = colsum[t] > c ? colsum[t] : c;
    const float r = 1.0f / c;
#pragma omp parallel for schedule(static)
    for (int g = 0; g < G; g++) {
        const float *a = A + (size_t)g * m * m;
        float *z = Z0 + (size_t)g * m * m;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++) z[(size_t)i * m + j] = r * a[(size_t)j * m + i];
    }
    return c;
}

/* Z0 = r Aᵀ with r = 1/c, c = max(colsum):
 *   dA[g,i,j] += r dZ0[g,j,i]
 *   dr = sum dZ0 ∘ Aᵀ,  dc = -dr r²  (torch's reciprocal backward)
 *   torch.max over the whole tensor spreads dc evenly over the entries equal
 *   to c; each column sum passes its share to every row of its column.
 * 4 FLOPs per element (two multiply-adds) + the tie pass (1 per column). */
void sb_cpu_pinv_init_backward(sb_backend *be, float *dA, const float *dZ0, const float *A, const float *colsum,
                               float c, int G, int m) {
    be->flops.total += 4LL * G * m * m + (int64_t)G * m + 4;
    const float r = 1.0f / c;
    double *dr_g = malloc(sizeof(double) * (size_t)G); /* per group, summed in group order below */
    if (!dr_g) {
        sb_fatal(3, "out of memory in the Nyström pseudo-inverse");
    }
#pragma omp parallel for schedule(static)
    for (int g = 0; g < G; g++) {
        const float *a = A + (size_t)g * m * m, *dz = dZ0 + (size_t)g * m * m;
        float *da = dA + (size_t)g * m * m;
        double acc = 0.0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++) {
                da[(size_t)i * m + j] += r * dz[(size_t)j * m + i];
                acc += (double)dz[(size_t)j * m + i] * a[(size_t)i * m + j];
            }
        dr_g[g] = acc;
    }
    double dr = 0.0;
    for (int g = 0; g < G; g++) dr += dr_g[g];
    free(dr_g);
    const float dc = -(float)dr * (r * r);
    size_t ties = 0;
    for (size_t t = 0; t < (size_t)G * m; t++) ties += colsum[t] == c;
    const float share = dc / (float)ties;
    for (size_t t = 0; t < (size_t)G * m; t++) {
        if (colsum[t] != c) continue;
        const size_t g = t / m, j = t % m;
        for (int i = 0; i < m; i++) dA[(g * m + i) * m + j] += share;
    }
}

/* Valid (in-range) taps summed over output rows: sum_n #{t : 0 <= n+t-P < N}. */
static int64_t conv_valid_taps(int N, int T) {
    const int P = T / 2;
    int64_t v = 0;
    for (int n = 0; n < N; n++) {
        int t0 = P - n > 0 ? P - n : 0, t1 = N - 1 - n + P < T - 1 ? N - 1 - n + P : T - 1;
        if (t1 >= t0) v += t1 - t0 + 1;
    }
    return v;
}

/* per valid tap: the coefficient w·mask (1) and D multiply-adds (2D) */
void sb_cpu_seqconv_forward(sb_backend *be, float *out, const float *x, const float *mask, const float *w, int B,
                            int H, int N, int D, int T) {
    const int P = T / 2;
    be->flops.total += (int64_t)B * H * conv_valid_taps(N, T) * (2 * D + 1);
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            const float *xg = x + ((size_t)b * H + h) * N * D, *wh = w + (size_t)h * T;
            float *og = out + ((size_t)b * H + h) * N * D;
            for (int n = 0; n < N; n++) {
                float *o = og + (size_t)n * D;
                for (int t = 0; t < T; t++) {
                    const int j = n + t - P;
                    if (j < 0 || j >= N) continue;
                    const float cf = wh[t] * sb_cpu_mask_at(mask, b, N, j);
                    const float *xr = xg + (size_t)j * D;
                    for (int d = 0; d < D; d++) o[d] += cf * xr[d];
                }
            }
        }
}

/* dx: 2D per valid tap + 2D per row (mask scale, add);
 * dw: per valid tap a D-long dot (2D), the mask and the add (2) */
void sb_cpu_seqconv_backward(sb_backend *be, float *dx, float *dw, const float *dout, const float *x,
                             const float *mask, const float *w, int B, int H, int N, int D, int T) {
    const int P = T / 2;
    const int64_t V = conv_valid_taps(N, T);
    be->flops.total += (int64_t)B * H * (V * 2 * D + 2LL * N * D) + (int64_t)B * H * V * (2 * D + 2);
    if (dx) {
#pragma omp parallel for collapse(2) schedule(static)
        for (int b = 0; b < B; b++)
            for (int h = 0; h < H; h++) {
                const float *gg = dout + ((size_t)b * H + h) * N * D, *wh = w + (size_t)h * T;
                float *xg = dx + ((size_t)b * H + h) * N * D;
                for (int j = 0; j < N; j++) {
                    float acc[D];
                    for (int d = 0; d < D; d++) acc[d] = 0.0f;
                    for (int t = 0; t < T; t++) {
                        const int n = j - t + P;
                        if (n < 0 || n >= N) continue;
                        const float *gr = gg + (size_t)n * D;
                        for (int d = 0; d < D; d++) acc[d] += wh[t] * gr[d];
                    }
                    const float mj = sb_cpu_mask_at(mask, b, N, j);
                    for (int d = 0; d < D; d++) xg[(size_t)j * D + d] += acc[d] * mj;
                }
            }
    }
    /* one task per (head, tap): a fixed order of additions over (b, n, d) */
#pragma omp parallel for collapse(2) schedule(static)
    for (int h = 0; h < H; h++)
        for (int t = 0; t < T; t++) {
            double acc = 0.0;
            for (int b = 0; b < B; b++) {
                const float *gg = dout + ((size_t)b * H + h) * N * D, *xg = x + ((size_t)b * H + h) * N * D;
                /* rows n whose tap j = n + t - P is inside the sequence */
                const int n0 = P - t > 0 ? P - t : 0, n1 = N + P - t < N ? N + P - t : N;
                for (int n = n0; n < n1; n++) {
                    const int j = n + t - P;
                    const float mj = sb_cpu_mask_at(mask, b, N, j);
                    acc += (double)(dot_lanes(gg + (size_t)n * D, xg + (size_t)j * D, D) * mj);
                }
            }
            dw[(size_t)h * T + t] += (float)acc;
        }
}
