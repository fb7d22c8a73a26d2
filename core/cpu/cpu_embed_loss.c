/* Embedding lookup, mean pooling and the softmax cross-entropy. */
#include <math.h>
#include <omp.h>
#include "core/cpu/cpu_ops.h"

void sb_cpu_embedding_forward(sb_backend *be, float *out, const int32_t *ids, const float *tok,
                              const float *pos, int B, int T, int C) {
    be->flops.total += (int64_t)B * T * C;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const float *e = tok + (size_t)ids[(size_t)b * T + t] * C, *p = pos + (size_t)t * C;
            float *o = out + ((size_t)b * T + t) * C;
            for (int c = 0; c < C; c++) o[c] = e[c] + p[c];
        }
}

/* Column-parallel: each thread owns a range of embedding columns, so the
 * scatter-add into token rows has no races and a fixed order. */
void sb_cpu_embedding_backward(sb_backend *be, float *dtok, float *dpos, const float *dout,
                               const int32_t *ids, int B, int T, int C) {
    be->flops.total += 2LL * B * T * C;
    int nt = omp_get_max_threads();
    int per = (C + nt - 1) / nt;
#pragma omp parallel for schedule(static)
    for (int th = 0; th < nt; th++) {
        int c0 = th * per, c1 = c0 + per < C ? c0 + per : C;
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++) {
                const float *d = dout + ((size_t)b * T + t) * C;
                float *e = dtok + (size_t)ids[(size_t)b * T + t] * C, *p = dpos + (size_t)t * C;
                for (int c = c0; c < c1; c++) {
                    e[c] += d[c];
                    p[c] += d[c];
                }
            }
    }
}

void sb_cpu_mean_pool_forward(sb_backend *be, float *out, const float *in, int B, int T, int C) {
    be->flops.total += (int64_t)B * T * C + (int64_t)B * C;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        float *o = out + (size_t)b * C;
        for (int c = 0; c < C; c++) o[c] = 0.0f;
        for (int t = 0; t < T; t++)
            for (int c = 0; c < C; c++) o[c] += in[((size_t)b * T + t) * C + c];
        for (int c = 0; c < C; c++) o[c] /= (float)T;
    }
}

void sb_cpu_mean_pool_backward(sb_backend *be, float *din, const float *dout, int B, int T, int C) {
    be->flops.total += (int64_t)B * T * C;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int c = 0; c < C; c++) din[((size_t)b * T + t) * C + c] += dout[(size_t)b * C + c] / (float)T;
}

void sb_cpu_cross_entropy(sb_backend *be, float *loss, float *dlogits, uint8_t *correct,
                          const float *logits, const int32_t *labels, size_t rows, int C,
                          float scale) {
    be->flops.total += 5LL * (int64_t)rows * C;
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) {
        const float *z = logits + r * C;
        int y = labels[r];
        int arg = 0;
        float mx = z[0];
        for (int c = 1; c < C; c++)
            if (z[c] > mx) {
                mx = z[c];
                arg = c;
            }
        if (y < 0) {
            loss[r] = 0.0f;
            if (correct) correct[r] = 0;
            continue;
        }
        double sum = 0.0;
        for (int c = 0; c < C; c++) sum += exp((double)(z[c] - mx));
        float lse = mx + (float)log(sum);
        loss[r] = lse - z[y];
        if (correct) correct[r] = (uint8_t)(arg == y);
        if (dlogits) {
            float *d = dlogits + r * C;
            for (int c = 0; c < C; c++) {
                float p = expf(z[c] - lse);
                d[c] += (p - (c == y ? 1.0f : 0.0f)) * scale;
            }
        }
    }
}
