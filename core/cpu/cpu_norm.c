/* LayerNorm forward/backward. Rows are independent (row-parallel); the
 * gamma/beta gradients are column-parallel so their sums have a fixed order. */
#include <math.h>
#include <omp.h>
#include "core/cpu/cpu_ops.h"

/* Row sums in 16 independent lanes combined in a fixed order: GCC vectorises
 * them without -ffast-math (a plain running sum is a serial dependency), and
 * the result depends neither on the vector width nor on the thread count. */
#define LN_LANES 16

static inline float lanes_total(const float *acc, float tail) {
    float t[LN_LANES / 2];
    for (int l = 0; l < LN_LANES / 2; l++) t[l] = acc[l] + acc[l + LN_LANES / 2];
    for (int w = LN_LANES / 4; w >= 1; w /= 2)
        for (int l = 0; l < w; l++) t[l] = t[l] + t[l + w];
    return t[0] + tail;
}

static inline double lanes_total_d(const double *acc, double tail) {
    double t[LN_LANES / 2];
    for (int l = 0; l < LN_LANES / 2; l++) t[l] = acc[l] + acc[l + LN_LANES / 2];
    for (int w = LN_LANES / 4; w >= 1; w /= 2)
        for (int l = 0; l < w; l++) t[l] = t[l] + t[l + w];
    return t[0] + tail;
}

/* The row's mean and variance are accumulated in double: at a large offset
 * with a small spread (1e4 +- 1e-3: a float's ulp at 1e4 is ~1e-3) a float
 * mean loses the spread's digits, and a constant row must give var = 0 exactly
 * (a sum of C equal floats is exact in double, so mean == x). */
static inline double ln_mean_d(const float *restrict x, int C) {
    double acc[LN_LANES] = {0}, tail = 0.0;
    int c = 0;
    for (; c + LN_LANES <= C; c += LN_LANES)
        for (int l = 0; l < LN_LANES; l++) acc[l] += (double)x[c + l];
    for (; c < C; c++) tail += (double)x[c];
    return lanes_total_d(acc, tail) / (double)C;
}

/* mean_c (x[c] - m)^2, two-pass: no cancellation at large offsets */
static inline double ln_var_d(const float *restrict x, double m, int C) {
    double acc[LN_LANES] = {0}, tail = 0.0;
    int c = 0;
    for (; c + LN_LANES <= C; c += LN_LANES)
        for (int l = 0; l < LN_LANES; l++) {
            double d = (double)x[c + l] - m;
            acc[l] += d * d;
        }
    for (; c < C; c++) {
        double d = (double)x[c] - m;
        tail += d * d;
    }
    return lanes_total_d(acc, tail) / (double)C;
}

void sb_cpu_layernorm_forward(sb_backend *be, float *out, float *mean, float *rstd, const float *in,
                              const float *gamma, const float *beta, size_t rows, int C, float eps) {
    be->flops.total += 8LL * (int64_t)rows * C;
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) {
        const float *x = in + r * C;
        float *y = out + r * C;
        double m = ln_mean_d(x, C);
        double var = ln_var_d(x, m, C);
        float s = (float)(1.0 / sqrt(var + (double)eps));
        for (int c = 0; c < C; c++) y[c] = (float)((double)x[c] - m) * s * gamma[c] + beta[c];
        mean[r] = (float)m;
        rstd[r] = s;
    }
}

/* backward: 10 FLOPs per element for din, 3 for dgamma/dbeta */
void sb_cpu_layernorm_backward(sb_backend *be, float *din, float *dgamma, float *dbeta,
                               const float *dout, const float *in, const float *gamma,
                               const float *mean, const float *rstd, size_t rows, int C) {
    be->flops.total += 13LL * (int64_t)rows * C;
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) {
        const float *x = in + r * C, *dy = dout + r * C;
        float *dx = din + r * C;
        float m = mean[r], s = rstd[r];
        float acc1[LN_LANES] = {0}, acc2[LN_LANES] = {0}, t1 = 0.0f, t2 = 0.0f;
        int c0 = 0;
        for (; c0 + LN_LANES <= C; c0 += LN_LANES)
            for (int l = 0; l < LN_LANES; l++) {
                float norm = (x[c0 + l] - m) * s;
                float dnorm = gamma[c0 + l] * dy[c0 + l];
                acc1[l] += dnorm;
                acc2[l] += dnorm * norm;
            }
        for (; c0 < C; c0++) {
            float norm = (x[c0] - m) * s;
            float dnorm = gamma[c0] * dy[c0];
            t1 += dnorm;
            t2 += dnorm * norm;
        }
        float dnorm_mean = lanes_total(acc1, t1) / (float)C;
        float dnorm_norm_mean = lanes_total(acc2, t2) / (float)C;
        for (int c = 0; c < C; c++) {
            float norm = (x[c] - m) * s;
            float dnorm = gamma[c] * dy[c];
            dx[c] += (dnorm - dnorm_mean - norm * dnorm_norm_mean) * s;
        }
    }
    int nt = omp_get_max_threads();
    int per = (C + nt - 1) / nt;
#pragma omp parallel for schedule(static)
    for (int t = 0; t < nt; t++) {
        int c0 = t * per, c1 = c0 + per < C ? c0 + per : C;
        for (size_t r = 0; r < rows; r++) {
            const float *x = in + r * C, *dy = dout + r * C;
            for (int c = c0; c < c1; c++) {
                dbeta[c] += dy[c];
                dgamma[c] += (x[c] - mean[r]) * rstd[r] * dy[c];
            }
        }
    }
}
