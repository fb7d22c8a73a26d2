/* Attention on a sampled graph, in O(edges): fused per query row (scores,
 * edge softmax, dropout, weighted sum of values), and per key column through
 * the transpose for the gradients that accumulate at keys (dK, dV). Each row
 * and each column is owned by one thread, so there are no atomics and the
 * summation order is fixed. */
#include <math.h>
#include <omp.h>
#include <string.h>
#include "core/cpu/cpu_ops.h"
#include "core/kernels_inline.h"

#define ROW_CHUNK 16 /* rows per dynamic work unit: degrees vary row to row */

static inline float dot(const float *a, const float *b, int D) {
    float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
    for (int d = 0; d < D; d++) acc += a[d] * b[d];
    return acc;
}

static inline void axpy(float *y, float a, const float *x, int D) {
#pragma omp simd
    for (int d = 0; d < D; d++) y[d] += a * x[d];
}

void sb_cpu_csr_transpose(sb_backend *be, sb_csr *c) {
    sb_csr_reserve_transpose(be, c);
    const int G = c->n_graphs, n = c->n;
#pragma omp parallel for schedule(dynamic, 1)
    for (int g = 0; g < G; g++) {
        const size_t r0 = (size_t)g * n;
        int64_t *cp = c->col_ptr + r0; /* this graph's n+1 pointers (cp[n] is the next graph's cp[0]) */
        const int64_t base = c->row_ptr[r0];
        for (int j = 0; j < n; j++) cp[j] = 0;
        for (int64_t e = base; e < c->row_ptr[r0 + n]; e++) cp[c->col[e]]++;
        int64_t acc = base;
        for (int j = 0; j < n; j++) {
            int64_t cnt = cp[j];
            cp[j] = acc;
            acc += cnt;
        }
        /* scatter in row order, so each key's incoming edges are sorted by row;
         * cp[j] advances to the next key's start, then is shifted back */
        for (int i = 0; i < n; i++)
            for (int64_t e = c->row_ptr[r0 + i]; e < c->row_ptr[r0 + i + 1]; e++) {
                int64_t t = cp[c->col[e]]++;
                c->row_of[t] = i;
                c->perm[t] = e;
            }
        for (int j = n - 1; j > 0; j--) cp[j] = cp[j - 1];
        cp[0] = base;
    }
    c->col_ptr[(size_t)G * n] = c->nnz;
    c->has_transpose = 1;
}

void sb_cpu_sparse_attention_forward(sb_backend *be, float *out, float *probs, const float *q, const float *k,
                                     const float *v, const sb_csr *c, int D, float p_drop, sb_rng_stream base,
                                     int H) {
    const int n = c->n;
    const size_t rows = (size_t)c->n_graphs * n;
    be->flops.total += c->nnz * (4LL * D + 5 + (p_drop > 0.0f ? 1 : 0));
    be->flops.sparse += c->nnz * (4LL * D + 5 + (p_drop > 0.0f ? 1 : 0));
    const float scale = 1.0f / sqrtf((float)D);
    const uint32_t thr = sb_dropout_threshold(p_drop);
    const float dscale = sb_dropout_scale(p_drop);
    const int nt = omp_get_max_threads();
    float *keep_all = p_drop > 0.0f ? be->alloc(be, sizeof(float) * (size_t)nt * n) : NULL;
#pragma omp parallel for schedule(dynamic, ROW_CHUNK)
    for (size_t r = 0; r < rows; r++) {
        const int64_t e0 = c->row_ptr[r], e1 = c->row_ptr[r + 1];
        const size_t g = r / n;
        float *o = out + r * D;
        memset(o, 0, sizeof(float) * D);
        if (e0 == e1) continue; /* no edge: the query attends to nothing and outputs 0 */
        const float *qi = q + r * D, *kg = k + g * n * D, *vg = v + g * n * D;
        float *p = probs + e0;
        float mx = -INFINITY;
        for (int64_t e = e0; e < e1; e++) {
            float s = dot(qi, kg + (size_t)c->col[e] * D, D) * scale;
            p[e - e0] = s;
            mx = s > mx ? s : mx;
        }
        float sum = 0.0f;
        for (int64_t e = 0; e < e1 - e0; e++) {
            p[e] = sb_expf(p[e] - mx);
            sum += p[e];
        }
        const float inv = 1.0f / sum;
        for (int64_t e = 0; e < e1 - e0; e++) p[e] *= inv;
        if (p_drop > 0.0f) {
            float *keep = keep_all + (size_t)omp_get_thread_num() * n;
            sb_rng_stream s = sb_rng_derive(base, (uint32_t)(g / H), (uint32_t)(g % H));
            sb_dropout_factors(&s, (uint64_t)(e0 - c->row_ptr[g * n]), (size_t)(e1 - e0), thr, dscale, keep);
            for (int64_t e = e0; e < e1; e++) axpy(o, p[e - e0] * keep[e - e0], vg + (size_t)c->col[e] * D, D);
        } else {
            for (int64_t e = e0; e < e1; e++) axpy(o, p[e - e0], vg + (size_t)c->col[e] * D, D);
        }
    }
    be->free(be, keep_all);
}

void sb_cpu_sparse_attention_backward(sb_backend *be, float *dq, float *dk, float *dv, float *ds,
                                      float *probs_kept, const float *dout, const float *probs, const float *q,
                                      const float *k, const float *v, const sb_csr *c, int D, float p_drop,
                                      sb_rng_stream base, int H) {
    const int n = c->n;
    const size_t rows = (size_t)c->n_graphs * n;
    const int64_t f = c->nnz * (8LL * D + 5 + (p_drop > 0.0f ? 2 : 0));
    be->flops.total += f;
    be->flops.sparse += f;
    const float scale = 1.0f / sqrtf((float)D);
    const uint32_t thr = sb_dropout_threshold(p_drop);
    const float dscale = sb_dropout_scale(p_drop);
    const int nt = omp_get_max_threads();
    float *keep_all = p_drop > 0.0f ? be->alloc(be, sizeof(float) * (size_t)nt * n) : NULL;
    /* rows: d(kept prob) = dO_i . v_j; softmax backward; dQ */
#pragma omp parallel for schedule(dynamic, ROW_CHUNK)
    for (size_t r = 0; r < rows; r++) {
        const int64_t e0 = c->row_ptr[r], e1 = c->row_ptr[r + 1];
        if (e0 == e1) continue;
        const size_t g = r / n;
        const float *doi = dout + r * D, *kg = k + g * n * D, *vg = v + g * n * D;
        const float *p = probs + e0;
        float *dsr = ds + e0, *pk = probs_kept + e0;
        if (p_drop > 0.0f) {
            float *keep = keep_all + (size_t)omp_get_thread_num() * n;
            sb_rng_stream s = sb_rng_derive(base, (uint32_t)(g / H), (uint32_t)(g % H));
            sb_dropout_factors(&s, (uint64_t)(e0 - c->row_ptr[g * n]), (size_t)(e1 - e0), thr, dscale, keep);
            for (int64_t e = 0; e < e1 - e0; e++) {
                dsr[e] = dot(doi, vg + (size_t)c->col[e0 + e] * D, D) * keep[e];
                pk[e] = p[e] * keep[e];
            }
        } else {
            for (int64_t e = 0; e < e1 - e0; e++) {
                dsr[e] = dot(doi, vg + (size_t)c->col[e0 + e] * D, D);
                pk[e] = p[e];
            }
        }
        float acc = 0.0f;
        for (int64_t e = 0; e < e1 - e0; e++) acc += p[e] * dsr[e];
        float *dqi = dq + r * D;
        for (int64_t e = 0; e < e1 - e0; e++) {
            dsr[e] = p[e] * (dsr[e] - acc);
            axpy(dqi, dsr[e] * scale, kg + (size_t)c->col[e0 + e] * D, D);
        }
    }
    /* columns: dV_j = Σ kept_prob dO_i, dK_j = scale Σ ds q_i */
#pragma omp parallel for schedule(dynamic, ROW_CHUNK)
    for (size_t key = 0; key < rows; key++) {
        const size_t g = key / n;
        const float *qg = q + g * n * D, *dog = dout + g * n * D;
        float *dvj = dv + key * D, *dkj = dk + key * D;
        for (int64_t t = c->col_ptr[key]; t < c->col_ptr[key + 1]; t++) {
            const int64_t e = c->perm[t];
            const size_t i = (size_t)c->row_of[t];
            axpy(dvj, probs_kept[e], dog + i * D, D);
            axpy(dkj, ds[e] * scale, qg + i * D, D);
        }
    }
    be->free(be, keep_all);
}

void sb_cpu_spmm_rows(sb_backend *be, float *Y, const sb_csr *c, const float *vals, const float *X, int w) {
    const int n = c->n;
    const size_t rows = (size_t)c->n_graphs * n;
    be->flops.total += 2LL * w * c->nnz;
    be->flops.sparse += 2LL * w * c->nnz;
#pragma omp parallel for schedule(dynamic, ROW_CHUNK)
    for (size_t r = 0; r < rows; r++) {
        const float *Xg = X + (r / n) * n * w;
        float *y = Y + r * w;
        for (int64_t e = c->row_ptr[r]; e < c->row_ptr[r + 1]; e++) axpy(y, vals[e], Xg + (size_t)c->col[e] * w, w);
    }
}

void sb_cpu_spmm_cols(sb_backend *be, float *Y, const sb_csr *c, const float *vals, const float *X, int w) {
    const int n = c->n;
    const size_t rows = (size_t)c->n_graphs * n;
    be->flops.total += 2LL * w * c->nnz;
    be->flops.sparse += 2LL * w * c->nnz;
#pragma omp parallel for schedule(dynamic, ROW_CHUNK)
    for (size_t key = 0; key < rows; key++) {
        const float *Xg = X + (key / n) * n * w;
        float *y = Y + key * w;
        for (int64_t t = c->col_ptr[key]; t < c->col_ptr[key + 1]; t++)
            axpy(y, vals[c->perm[t]], Xg + (size_t)c->row_of[t] * w, w);
    }
}
