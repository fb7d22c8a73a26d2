/* Attention on a sampled graph, in O(edges), on the CPU.
 *
 * Every op here is built from three primitives over the row-major CSR
 * (core/csr.h), for a graph's query rows i, key rows j and edges e = (i, j):
 *   sddmm:    out_e  = A_i . B_j                   (one value per edge)
 *   gather:   Y_i   += alpha Σ_e v_e X_j           (a row owns its output)
 *   scatter:  Y_j   += alpha Σ_e v_e X_i           (a key owns its output)
 * Work is split into (graph, part) tasks: the sddmm and the gather split a
 * graph's rows, the scatter its keys, so every output row has exactly one
 * owner: no atomics, a fixed summation order whatever the thread count, and
 * no transpose of the graph (building one cost as much as the attention
 * itself). Tiling the walk by key blocks, to keep the gathered rows in L2,
 * was measured slower here: every tile re-reads each row's run of edges.
 * The softmax and its backward are per-row passes between the primitives;
 * where their per-edge results need not be kept (inference's probabilities,
 * the backward's dO.v), a row's sddmm runs inside its pass, into a thread's
 * row buffer. */
#include <math.h>
#include <omp.h>
#include <string.h>
#if defined(__FMA__)
#include <immintrin.h>
#endif
#include "core/cpu/cpu_ops.h"
#include "core/kernels_inline.h"

#define ROW_CHUNK 64 /* rows per dynamic work unit in the per-row passes */

/* ---- the edge kernels, specialised by width ----
 * Written on 8-float vectors (GCC vector extensions: one AVX register, or
 * two SSE ones) so that they vectorise along the row, never across edges
 * (left to itself the compiler gathers one float from 8 edges at a time).
 * The row side stays in registers across the row's edges, CH floats per
 * sweep: the gather's partial sums, the scatter's source row (reloading it
 * for every edge made the width-128 scatter 27% slower). Widths that are
 * not a multiple of 8 take the scalar loops. */
typedef float v8f __attribute__((vector_size(32)));
#define CH 64 /* floats of the row side kept in registers per sweep (8 vectors) */
/* Edges ahead whose key rows are prefetched: the keys are random, so the
 * hardware prefetcher cannot guess them (w = 128: gather 15-25% faster,
 * scatter 5-10%). */
#define PF 16

static inline v8f ld8(const float *p) {
    v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void st8(float *p, v8f v) { memcpy(p, &v, sizeof v); }
static inline float hsum8(v8f v) {
    return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}

/* The 8 horizontal sums of v[0..8), each in hsum8's order,
 * ((x0 + x4) + (x1 + x5)) + ((x2 + x6) + (x3 + x7)), with 15 shuffles and 7
 * adds where 8 hsum8s take 24 and 24. __builtin_shufflevector needs GCC 12 or
 * clang; older compilers take the 8 hsum8s (the same sums). */
#if defined(__clang__) || __GNUC__ >= 12
static inline v8f hsum8x8(const v8f v[8]) {
    v8f h[4], p[2];
    /* rows 2r and 2r+1: lane l < 4 of each half holds x_l + x_{l+4} */
    for (int r = 0; r < 4; r++)
        h[r] = __builtin_shufflevector(v[2 * r], v[2 * r + 1], 0, 1, 2, 3, 8, 9, 10, 11) +
               __builtin_shufflevector(v[2 * r], v[2 * r + 1], 4, 5, 6, 7, 12, 13, 14, 15);
    /* in-lane: (x0+x4)+(x1+x5) and (x2+x6)+(x3+x7) of rows 4r, 4r+2 (low half), 4r+1, 4r+3 */
    for (int r = 0; r < 2; r++)
        p[r] = __builtin_shufflevector(h[2 * r], h[2 * r + 1], 0, 2, 8, 10, 4, 6, 12, 14) +
               __builtin_shufflevector(h[2 * r], h[2 * r + 1], 1, 3, 9, 11, 5, 7, 13, 15);
    /* the sums of rows 0, 2, 4, 6 (low half) and 1, 3, 5, 7, then in row order */
    const v8f q = __builtin_shufflevector(p[0], p[1], 0, 2, 8, 10, 4, 6, 12, 14) +
                  __builtin_shufflevector(p[0], p[1], 1, 3, 9, 11, 5, 7, 13, 15);
    return __builtin_shufflevector(q, q, 0, 4, 1, 5, 2, 6, 3, 7);
}
#else
static inline v8f hsum8x8(const v8f v[8]) {
    v8f s;
    for (int r = 0; r < 8; r++) s[r] = hsum8(v[r]);
    return s;
}
#endif

/* Prefetches floats [off, off + len) of the key row M[col[e + PF]] (for
 * writing when `write`), when edge e + PF is still in [e, e1). */
static inline __attribute__((always_inline)) void prefetch_ahead(const float *M, const int32_t *col, int64_t e,
                                                                 int64_t e1, int w, int off, int len, int write) {
    if (e + PF >= e1) return;
    const float *p = M + (size_t)col[e + PF] * w + off;
    for (int l = 0; l < len; l += 16) {
        if (write) __builtin_prefetch(p + l, 1);
        else __builtin_prefetch(p + l, 0);
    }
}

static inline __attribute__((always_inline)) void gather_edges(float *restrict y, const float *restrict X,
                                                               const int32_t *restrict col,
                                                               const float *restrict v, int64_t e0,
                                                               int64_t e1, float alpha, int w) {
    if (w % 8) {
        for (int64_t e = e0; e < e1; e++)
            for (int d = 0; d < w; d++) y[d] += alpha * v[e] * X[(size_t)col[e] * w + d];
        return;
    }
    for (int c0 = 0; c0 < w; c0 += CH) {
        const int nv = (w - c0 < CH ? w - c0 : CH) / 8;
        v8f acc[CH / 8] = {{0}};
        for (int64_t e = e0; e < e1; e++) {
            const float *x = X + (size_t)col[e] * w + c0;
            prefetch_ahead(X, col, e, e1, w, c0, 8 * nv, 0);
            const v8f s = (v8f){0} + v[e];
            for (int q = 0; q < nv; q++) acc[q] += s * ld8(x + 8 * q);
        }
        for (int q = 0; q < nv; q++) st8(y + c0 + 8 * q, ld8(y + c0 + 8 * q) + alpha * acc[q]);
    }
}

static inline __attribute__((always_inline)) void scatter_edges(float *restrict Y, const float *restrict x,
                                                                const int32_t *restrict col,
                                                                const float *restrict v, int64_t e0,
                                                                int64_t e1, float alpha, int w) {
    if (w % 8) {
        for (int64_t e = e0; e < e1; e++)
            for (int d = 0; d < w; d++) Y[(size_t)col[e] * w + d] += alpha * v[e] * x[d];
        return;
    }
    for (int c0 = 0; c0 < w; c0 += CH) {
        const int nv = (w - c0 < CH ? w - c0 : CH) / 8;
        v8f xr[CH / 8];
        for (int q = 0; q < nv; q++) xr[q] = ld8(x + c0 + 8 * q);
        for (int64_t e = e0; e < e1; e++) {
            float *y = Y + (size_t)col[e] * w + c0;
            prefetch_ahead(Y, col, e, e1, w, c0, 8 * nv, 1);
            const v8f s = (v8f){0} + alpha * v[e]; /* (alpha v_e) x, as the scalar loop rounds */
            for (int q = 0; q < nv; q++) st8(y + 8 * q, ld8(y + 8 * q) + s * xr[q]);
        }
    }
}

/* x y + c: one fused multiply-add where the CPU has them, else a multiply
 * and an add (which no compiler fuses without FMA hardware). */
static inline v8f fma8(v8f x, v8f y, v8f c) {
#if defined(__FMA__)
    return (v8f)_mm256_fmadd_ps((__m256)x, (__m256)y, (__m256)c);
#else
    return x * y + c;
#endif
}

/* The 8 partial sums of a . b over w floats (w a multiple of 8), a[0..8) b[0..8)
 * first. The multiply-adds are explicit (fma8): left to the compiler's
 * contraction, a build with other flags (the sanitizers at -O3) fused the
 * two SDDMM paths below differently, and an edge's score came to depend on
 * whether it was scored in a batch of 8 or alone. */
static inline __attribute__((always_inline)) v8f dot_partial(const float *a, const float *b, int w) {
    if (w == 8) return ld8(a) * ld8(b);
    v8f acc = fma8(ld8(a), ld8(b), ld8(a + 8) * ld8(b + 8));
    for (int q = 2; q < w / 8; q++) acc = fma8(ld8(a + 8 * q), ld8(b + 8 * q), acc);
    return acc;
}

static inline __attribute__((always_inline)) void sddmm_edges(float *restrict out, const float *restrict a,
                                                              const float *restrict B,
                                                              const int32_t *restrict col, int64_t e0,
                                                              int64_t e1, int w) {
    if (w % 8 || w == 0) { /* w == 0: every score is the empty sum, 0 */
        for (int64_t e = e0; e < e1; e++) {
            float acc = 0.0f;
            for (int d = 0; d < w; d++) acc += a[d] * B[(size_t)col[e] * w + d];
            out[e] = acc;
        }
        return;
    }
    int64_t e = e0;
    /* 8 edges at a time: their partial-sum vectors reduce together
     * (hsum8x8, bit-identical to 8 hsum8s, so a score does not depend on
     * where its edge falls in the row; 8-10% of the SDDMM at width 32) */
    for (; e + 8 <= e1; e += 8) {
        v8f acc[8];
        for (int l = 0; l < 8; l++) {
            prefetch_ahead(B, col, e + l, e1, w, 0, w, 0);
            acc[l] = dot_partial(a, B + (size_t)col[e + l] * w, w);
        }
        st8(out + e, hsum8x8(acc));
    }
    for (; e < e1; e++) {
        prefetch_ahead(B, col, e, e1, w, 0, w, 0);
        out[e] = hsum8(dot_partial(a, B + (size_t)col[e] * w, w));
    }
}

/* Call BODY with W a compile-time constant where the width is a common one. */
#define SB_BY_WIDTH(w, BODY)            \
    switch (w) {                        \
    case 32: { const int W = 32; BODY; } break; \
    case 64: { const int W = 64; BODY; } break; \
    case 128: { const int W = 128; BODY; } break; \
    default: { const int W = (w); BODY; } break; \
    }

/* ---- the walk over a graph's edges ---- */
typedef enum { EDGE_SDDMM, EDGE_GATHER, EDGE_SCATTER } edge_op;

typedef struct {
    edge_op op;
    int w;
    float alpha;
    const float *X;  /* sddmm: the row side A [G,n,w]; gather: X_j; scatter: X_i */
    const float *B;  /* sddmm: the key side [G,n,w] */
    const float *v;  /* gather, scatter: edge values [nnz] */
    float *out;      /* sddmm: [nnz]; gather: Y_i, scatter: Y_j [G,n,w] */
} edge_pass;

/* First edge of [e, end) whose key is >= j (keys sorted). */
static int64_t lower_bound(const int32_t *col, int64_t e, int64_t end, int32_t j) {
    while (e < end) {
        int64_t mid = e + (end - e) / 2;
        if (col[mid] < j) e = mid + 1;
        else end = mid;
    }
    return e;
}

static void run_pass(const sb_csr *c, const edge_pass *p) {
    const int G = c->n_graphs, n = c->n, w = p->w, P = sb_cpu_parts_per_graph(G, n);
#pragma omp parallel for schedule(dynamic, 1)
    for (int t = 0; t < G * P; t++) {
        const int g = t / P, part = t % P;
        const int lo = (int)((int64_t)n * part / P), hi = (int)((int64_t)n * (part + 1) / P);
        /* rows [r0, r1) against keys [k0, k1): the scatter splits keys, the others rows */
        const int r0 = p->op == EDGE_SCATTER ? 0 : lo, r1 = p->op == EDGE_SCATTER ? n : hi;
        const int k0 = p->op == EDGE_SCATTER ? lo : 0, k1 = p->op == EDGE_SCATTER ? hi : n;
        const int64_t *rp = c->row_ptr + (size_t)g * n;
        const size_t gw = (size_t)g * n * w;
        for (int r = r0; r < r1; r++) {
            const int64_t e0 = k0 == 0 ? rp[r] : lower_bound(c->col, rp[r], rp[r + 1], k0);
            const int64_t e1 = k1 == n ? rp[r + 1] : lower_bound(c->col, e0, rp[r + 1], k1);
            if (e1 == e0) continue;
            const size_t rw = gw + (size_t)r * w;
            switch (p->op) {
            case EDGE_SDDMM:
                SB_BY_WIDTH(w, sddmm_edges(p->out, p->X + rw, p->B + gw, c->col, e0, e1, W));
                break;
            case EDGE_GATHER:
                SB_BY_WIDTH(w, gather_edges(p->out + rw, p->X + gw, c->col, p->v, e0, e1, p->alpha, W));
                break;
            case EDGE_SCATTER:
                SB_BY_WIDTH(w, scatter_edges(p->out + gw, p->X + rw, c->col, p->v, e0, e1, p->alpha, W));
                break;
            }
        }
    }
}

/* ---- the ops ---- */

/* Kept for backends whose scatters would otherwise need atomics; the CPU
 * kernels above walk the row-major graph only. */
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

/* Dropout factors of row r's edges (local indices from the graph's first
 * edge), in the stream derived for graph g: the same draws forward and
 * backward. */
static void row_keep(const sb_csr *c, size_t r, sb_rng_stream base, int H, uint32_t thr, float dscale,
                     float *keep) {
    const int n = c->n;
    const size_t g = r / n;
    const int64_t e0 = c->row_ptr[r], e1 = c->row_ptr[r + 1];
    sb_rng_stream s = sb_rng_derive(base, (uint32_t)(g / H), (uint32_t)(g % H));
    sb_cpu_dropout_factors(&s, (uint64_t)(e0 - c->row_ptr[g * n]), (size_t)(e1 - e0), thr, dscale, keep);
}

/* Row r's kept probabilities: its dropout factors (row_keep) times its
 * probabilities p, into kept. */
static void row_kept(const sb_csr *c, size_t r, sb_rng_stream base, int H, uint32_t thr, float dscale,
                     const float *p, float *kept) {
    const int64_t len = c->row_ptr[r + 1] - c->row_ptr[r];
    row_keep(c, r, base, H, thr, dscale, kept);
    for (int64_t e = 0; e < len; e++) kept[e] *= p[e];
}

/* Softmax of scale * s over one row's len edge scores, in place. */
static void softmax_edges(float *p, int64_t len, float scale) {
    float mx = -INFINITY, sum = 0.0f;
#pragma omp simd reduction(max : mx)
    for (int64_t e = 0; e < len; e++) mx = p[e] * scale > mx ? p[e] * scale : mx;
#pragma omp simd reduction(+ : sum)
    for (int64_t e = 0; e < len; e++) {
        p[e] = sb_expf(p[e] * scale - mx);
        sum += p[e];
    }
    const float inv = 1.0f / sum;
#pragma omp simd
    for (int64_t e = 0; e < len; e++) p[e] *= inv;
}

/* Per-thread buffers for one row's edge values at a time: `count` arrays as
 * long as the longest row. A row's values start at the offset within a
 * 64-byte line (e0 mod 16 floats) that they have in an array over every edge
 * (backend allocations are 64-byte aligned), so the vectorised loops over
 * them, their reductions above all, split a row exactly as the passes over
 * such arrays do, whichever thread runs it. */
typedef struct {
    float *base;
    size_t array, stride; /* floats per array and per thread (multiples of 16) */
} row_buffers;

static row_buffers row_buffers_alloc(sb_backend *be, const sb_csr *c, int count) {
    int64_t longest = 0;
    for (size_t r = 0; r < (size_t)c->n_graphs * c->n; r++)
        longest = c->row_ptr[r + 1] - c->row_ptr[r] > longest ? c->row_ptr[r + 1] - c->row_ptr[r] : longest;
    row_buffers b;
    b.array = ((size_t)longest + 31) / 16 * 16; /* room for the e0 mod 16 offset */
    b.stride = b.array * (size_t)count;
    b.base = be->alloc_uninit(be, sizeof(float) * b.stride * (size_t)omp_get_max_threads());
    return b;
}

/* Array `which` of the calling thread's buffers, for the row whose first edge is e0. */
static inline float *row_buffer(const row_buffers *b, int which, int64_t e0) {
    return b->base + b->stride * (size_t)omp_get_thread_num() + b->array * (size_t)which + (size_t)(e0 & 15);
}

/* Without probs (inference: nothing will read them) each row is scored,
 * normalised and applied to the values in one visit, its probabilities (and
 * with dropout its kept probabilities) in a thread's row buffers instead of
 * arrays over every edge, which stay in L1 between the three steps. The same
 * kernels on the same rows as the passes below, so the output is the same
 * bit for bit. out must not alias q (a row's output is cleared first). */
static void sparse_attention_forward_rows(sb_backend *be, float *out, const float *q, const float *k,
                                          const float *v, const sb_csr *c, int D, float scale, float p_drop,
                                          sb_rng_stream base, int H) {
    const size_t rows = (size_t)c->n_graphs * c->n;
    const int n = c->n;
    const uint32_t thr = sb_dropout_threshold(p_drop);
    const float dscale = sb_dropout_scale(p_drop);
    row_buffers buf = row_buffers_alloc(be, c, p_drop > 0.0f ? 2 : 1);
#pragma omp parallel for schedule(dynamic, ROW_CHUNK)
    for (size_t r = 0; r < rows; r++) {
        const int64_t e0 = c->row_ptr[r], e1 = c->row_ptr[r + 1], len = e1 - e0;
        float *y = out + r * D;
        memset(y, 0, sizeof(float) * D); /* a row without edges outputs 0 */
        if (len == 0) continue;
        float *p = row_buffer(&buf, 0, e0);
        const size_t gw = (r / n) * (size_t)n * D;
        const int32_t *col = c->col + e0; /* the row's edges as 0 .. len */
        SB_BY_WIDTH(D, sddmm_edges(p, q + r * D, k + gw, col, 0, len, W));
        softmax_edges(p, len, scale);
        float *w = p;
        if (p_drop > 0.0f) row_kept(c, r, base, H, thr, dscale, p, w = row_buffer(&buf, 1, e0));
        SB_BY_WIDTH(D, gather_edges(y, v + gw, col, w, 0, len, 1.0f, W));
    }
    be->free(be, buf.base);
}

void sb_cpu_sparse_attention_forward(sb_backend *be, float *out, float *probs, const float *q, const float *k,
                                     const float *v, const sb_csr *c, int D, float p_drop, sb_rng_stream base,
                                     int H) {
    const size_t rows = (size_t)c->n_graphs * c->n;
    const int64_t f = c->nnz * (4LL * D + 5 + (p_drop > 0.0f ? 1 : 0));
    be->flops.total += f;
    be->flops.sparse += f;
    const float scale = 1.0f / sqrtf((float)D);
    if (!probs) {
        sparse_attention_forward_rows(be, out, q, k, v, c, D, scale, p_drop, base, H);
        return;
    }
    const uint32_t thr = sb_dropout_threshold(p_drop);
    const float dscale = sb_dropout_scale(p_drop);
    /* scores on the edges */
    edge_pass scores = {.op = EDGE_SDDMM, .w = D, .X = q, .B = k, .out = probs};
    run_pass(c, &scores);
    /* softmax over each row's edges; the kept (dropped-out) probabilities for the values */
    /* every edge's entry is written below (each row writes its own), so not zeroed */
    float *kept = p_drop > 0.0f ? be->alloc_uninit(be, sizeof(float) * (size_t)(c->nnz ? c->nnz : 1)) : NULL;
#pragma omp parallel for schedule(dynamic, ROW_CHUNK)
    for (size_t r = 0; r < rows; r++) {
        const int64_t e0 = c->row_ptr[r], e1 = c->row_ptr[r + 1];
        if (e0 == e1) continue;
        float *p = probs + e0;
        softmax_edges(p, e1 - e0, scale);
        if (kept) row_kept(c, r, base, H, thr, dscale, p, kept + e0);
    }
    /* out = (kept) probabilities times values; a row without edges stays 0 */
    memset(out, 0, sizeof(float) * rows * D);
    edge_pass values = {.op = EDGE_GATHER, .w = D, .alpha = 1.0f, .X = v, .v = kept ? kept : probs, .out = out};
    run_pass(c, &values);
    be->free(be, kept);
}

/* ds may be probs itself. Each row's pass reads the row's probabilities
 * before it writes the row's ds, and dV's scatter, the only other reader of
 * the probabilities, runs first without dropout; with dropout it reads the
 * kept probabilities, which the row pass writes, so it runs after. */
void sb_cpu_sparse_attention_backward(sb_backend *be, float *dq, float *dk, float *dv, float *ds,
                                      float *probs_kept, const float *dout, const float *probs, const float *q,
                                      const float *k, const float *v, const sb_csr *c, int D, float p_drop,
                                      sb_rng_stream base, int H) {
    const size_t rows = (size_t)c->n_graphs * c->n;
    const int64_t f = c->nnz * (8LL * D + 5 + (p_drop > 0.0f ? 2 : 0));
    be->flops.total += f;
    be->flops.sparse += f;
    const float scale = 1.0f / sqrtf((float)D);
    const uint32_t thr = sb_dropout_threshold(p_drop);
    const float dscale = sb_dropout_scale(p_drop);
    const int drop = p_drop > 0.0f;
    /* dV_j += Σ kept dO_i, where without dropout the kept probabilities are
     * the probabilities themselves */
    edge_pass pv = {.op = EDGE_SCATTER, .w = D, .alpha = 1.0f, .X = dout, .v = drop ? probs_kept : probs, .out = dv};
    if (!drop) run_pass(c, &pv);
    /* per row, d(kept prob)_e = dO_i . v_j in a thread's row buffer, then
     * through dropout and the row softmax: ds = p (dp - Σ p dp) */
    row_buffers buf = row_buffers_alloc(be, c, 1);
#pragma omp parallel for schedule(dynamic, ROW_CHUNK)
    for (size_t r = 0; r < rows; r++) {
        const int64_t e0 = c->row_ptr[r], e1 = c->row_ptr[r + 1], len = e1 - e0;
        if (len == 0) continue;
        const float *p = probs + e0;
        float *dp = row_buffer(&buf, 0, e0), *dsr = ds + e0;
        const size_t gw = (r / (size_t)c->n) * (size_t)c->n * D;
        SB_BY_WIDTH(D, sddmm_edges(dp, dout + r * D, v + gw, c->col + e0, 0, len, W));
        if (drop) {
            float *pk = probs_kept + e0;
            row_keep(c, r, base, H, thr, dscale, pk); /* the factors first, then times p */
            for (int64_t e = 0; e < len; e++) dp[e] *= pk[e], pk[e] *= p[e];
        }
        float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
        for (int64_t e = 0; e < len; e++) acc += p[e] * dp[e];
#pragma omp simd
        for (int64_t e = 0; e < len; e++) dsr[e] = p[e] * (dp[e] - acc);
    }
    be->free(be, buf.base);
    if (drop) run_pass(c, &pv);
    /* dQ_i += scale Σ ds k_j;  dK_j += scale Σ ds q_i */
    edge_pass pq = {.op = EDGE_GATHER, .w = D, .alpha = scale, .X = k, .v = ds, .out = dq};
    edge_pass pk = {.op = EDGE_SCATTER, .w = D, .alpha = scale, .X = q, .v = ds, .out = dk};
    run_pass(c, &pq);
    run_pass(c, &pk);
}

void sb_cpu_sddmm(sb_backend *be, float *out, const sb_csr *c, const float *A, const float *B, int w) {
    be->flops.total += 2LL * w * c->nnz;
    be->flops.sparse += 2LL * w * c->nnz;
    edge_pass p = {.op = EDGE_SDDMM, .w = w, .X = A, .B = B, .out = out};
    run_pass(c, &p);
}

void sb_cpu_spmm_rows(sb_backend *be, float *Y, const sb_csr *c, const float *vals, const float *X, int w) {
    be->flops.total += 2LL * w * c->nnz;
    be->flops.sparse += 2LL * w * c->nnz;
    edge_pass p = {.op = EDGE_GATHER, .w = w, .alpha = 1.0f, .X = X, .v = vals, .out = Y};
    run_pass(c, &p);
}

void sb_cpu_spmm_cols(sb_backend *be, float *Y, const sb_csr *c, const float *vals, const float *X, int w) {
    be->flops.total += 2LL * w * c->nnz;
    be->flops.sparse += 2LL * w * c->nnz;
    edge_pass p = {.op = EDGE_SCATTER, .w = w, .alpha = 1.0f, .X = X, .v = vals, .out = Y};
    run_pass(c, &p);
}
