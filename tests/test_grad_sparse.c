/* The backend's sparse-graph ops (core/csr.h): attention on a sampled graph
 * (forward against a double reference and against dense attention on the
 * complete graph; dq dk dv against finite differences; the edge-score
 * gradient ds; the accumulate contract), the CSR transpose, and the edge
 * products sddmm, spmm_rows, spmm_cols (reference and adjointness). */
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include "core/backend.h"
#include "core/kernels_inline.h"
#include "tests/test_util.h"

#define H_FD 0.0625f
#define TOL_FD 5e-3   /* tu_rel_err, floor 1e-3; measured <= 7.4e-4 (dk) */
#define ACC_TOL 2e-5

/* G graphs of n nodes. Row i links to key j with probability `density`, and
 * to itself; row `empty` of every graph has no edge, and key `lonely` is never
 * linked to (except by its own row's self loop when self_loops). Columns come
 * out sorted and unique, as core/csr.h requires. */
static void random_csr(sb_backend *be, sb_csr *c, int G, int n, float density, int empty,
                       int lonely, uint32_t which) {
    sb_rng_reader r = tu_rng(which);
    int64_t *rp = malloc(sizeof(int64_t) * ((size_t)G * n + 1));
    int32_t *cols = malloc(sizeof(int32_t) * (size_t)G * n * n);
    int64_t nnz = 0;
    for (int g = 0; g < G; g++)
        for (int i = 0; i < n; i++) {
            rp[(size_t)g * n + i] = nnz;
            if (i == empty) continue;
            for (int j = 0; j < n; j++) {
                int link = j == i || (j != lonely && sb_rng_next_unit(&r) < density);
                if (link) cols[nnz++] = j;
            }
        }
    rp[(size_t)G * n] = nnz;
    sb_csr_reserve(be, c, G, n, nnz);
    memcpy(c->row_ptr, rp, sizeof(int64_t) * ((size_t)G * n + 1));
    memcpy(c->col, cols, sizeof(int32_t) * (size_t)nnz);
    c->nnz = nnz;
    be->csr_transpose(be, c);
    free(rp);
    free(cols);
}

/* The complete graph: every row links to every key. */
static void complete_csr(sb_backend *be, sb_csr *c, int G, int n) {
    sb_csr_reserve(be, c, G, n, (int64_t)G * n * n);
    for (int64_t r = 0; r <= (int64_t)G * n; r++) c->row_ptr[r] = r * n;
    for (int64_t e = 0; e < (int64_t)G * n * n; e++) c->col[e] = (int32_t)(e % n);
    c->nnz = (int64_t)G * n * n;
    be->csr_transpose(be, c);
}

/* The transpose lists, for every key, exactly the edges that end there, in
 * row order. */
static void test_transpose(sb_backend *be) {
    enum { G = 3, N = 11 };
    sb_csr c;
    memset(&c, 0, sizeof c);
    random_csr(be, &c, G, N, 0.35f, 4, 7, 600);
    int ok = c.has_transpose && c.col_ptr[0] == 0 && c.col_ptr[G * N] == c.nnz;
    int64_t seen = 0;
    for (int g = 0; g < G; g++)
        for (int j = 0; j < N; j++) {
            const size_t key = (size_t)g * N + j;
            int prev = -1;
            for (int64_t t = c.col_ptr[key]; t < c.col_ptr[key + 1]; t++, seen++) {
                int64_t e = c.perm[t];
                int i = c.row_of[t];
                ok &= c.col[e] == j && i > prev && e >= c.row_ptr[(size_t)g * N + i] &&
                      e < c.row_ptr[(size_t)g * N + i + 1];
                prev = i;
            }
        }
    tu_check(ok && seen == c.nnz, "csr_transpose: each key lists exactly its incoming edges in row order (%lld edges)",
             (long long)c.nnz);
    /* a graph written again (every producer reserves first) has no transpose
     * until one is built for it: a backend reading a stale one would walk the
     * last graph's edges */
    sb_csr_reserve(be, &c, G, N, c.nnz);
    tu_check(!c.has_transpose, "csr_reserve: a graph being written again has no transpose");
    sb_csr_free(be, &c);
}

/* ---------------------------------------------------------------- sparse attention */

typedef struct {
    sb_backend *be;
    const sb_csr *csr;
    float *q, *k, *v, *out, *R; /* [G,n,D] */
    float *probs;               /* [nnz] */
    int H, D;
    float p;
    sb_rng_stream s;
} sparse_ctx;

static double sparse_loss(void *p) {
    sparse_ctx *c = p;
    c->be->sparse_attention_forward(c->be, c->out, c->probs, c->q, c->k, c->v, c->csr, c->D, c->p,
                                    c->s, c->H);
    return tu_dot(c->out, c->R, (size_t)c->csr->n_graphs * c->csr->n * c->D);
}

/* out in double: softmax over each row's edges of q.k/sqrt(D), dropout of
 * edge e by its index within its graph, in the stream of (g / H, g % H). */
static double sparse_reference_err(const sparse_ctx *c) {
    const sb_csr *g = c->csr;
    const int n = g->n, D = c->D;
    const uint32_t thr = sb_dropout_threshold(c->p);
    double max_err = 0.0;
    double *w = malloc(sizeof(double) * (size_t)n);
    for (int gi = 0; gi < g->n_graphs; gi++) {
        sb_rng_stream s = sb_rng_derive(c->s, (uint32_t)(gi / c->H), (uint32_t)(gi % c->H));
        const size_t base = (size_t)gi * n;
        for (int i = 0; i < n; i++) {
            const int64_t e0 = g->row_ptr[base + i], e1 = g->row_ptr[base + i + 1];
            double mx = -INFINITY, sum = 0.0;
            for (int64_t e = e0; e < e1; e++) {
                double dot = 0.0;
                for (int d = 0; d < D; d++)
                    dot += (double)c->q[(base + i) * D + d] * c->k[(base + g->col[e]) * D + d];
                w[e - e0] = dot / sqrt((double)D);
                mx = w[e - e0] > mx ? w[e - e0] : mx;
            }
            for (int64_t e = e0; e < e1; e++) sum += w[e - e0] = exp(w[e - e0] - mx);
            for (int d = 0; d < D; d++) {
                double o = 0.0;
                for (int64_t e = e0; e < e1; e++) {
                    float f = 1.0f;
                    if (c->p > 0.0f)
                        sb_dropout_factors(&s, (uint64_t)(e - g->row_ptr[base]), 1, thr,
                                           sb_dropout_scale(c->p), &f);
                    o += w[e - e0] / sum * f * c->v[(base + g->col[e]) * D + d];
                }
                double err = fabs(o - c->out[(base + i) * D + d]);
                if (!(err <= max_err)) max_err = err;
            }
        }
    }
    free(w);
    return max_err;
}

/* N nodes, width D: D = 4 takes the kernels' scalar loops, D = 32 their
 * vector kernels, with rows (density 0.6 of 40) long enough for the key
 * prefetch. floor: the relative-error floor of the comparisons. The wide
 * case's sums of ~25 terms cancel to near zero in places, and its larger
 * loss leaves ~5e-5 of float noise in a finite difference, so it compares
 * with a floor of 1e-2 (errors relative to the gradients' scale, ~1). */
static void sparse_attention_case(sb_backend *be, float p, int N, int D, float density, double floor) {
    enum { B = 2, H = 2, G = B * H, EMPTY = 3 };
    const size_t n = (size_t)G * N * D;
    sb_csr csr;
    memset(&csr, 0, sizeof csr);
    random_csr(be, &csr, G, N, density, EMPTY, EMPTY, 610); /* node 3: no edge in or out */
    const size_t nnz = (size_t)csr.nnz;
    float *q = tu_alloc(n), *k = tu_alloc(n), *v = tu_alloc(n), *out = tu_alloc(n), *R = tu_alloc(n);
    /* per-edge arrays from the backend, 64-byte aligned as the ops' callers' are
     * (the row buffers of the ops without them mirror that alignment) */
    float *probs = be->alloc(be, sizeof(float) * nnz), *ds = be->alloc(be, sizeof(float) * nnz);
    float *kept = be->alloc(be, sizeof(float) * nnz), *g[3], *g1[3];
    for (int t = 0; t < 3; t++) g[t] = tu_alloc(n), g1[t] = tu_alloc(n);
    tu_fill_normal(q, n, 1.0f, 620);
    tu_fill_normal(k, n, 1.0f, 621);
    tu_fill_normal(v, n, 1.0f, 622);
    tu_fill_normal(R, n, 1.0f, 623);
    sparse_ctx c = {be, &csr, q, k, v, out, R, probs, H, D, p,
                    sb_rng_make(11, SB_RNG_ATTN_DROPOUT, 2, 0, 0, 0)};
    char tag[80], name[128];
    snprintf(tag, sizeof tag, "sparse attention G%d n%d D%d nnz%zu p=%.1f", G, N, D, nnz, p);
    sparse_loss(&c);
    snprintf(name, sizeof name, "%s forward vs double (abs)", tag);
    tu_report(name, sparse_reference_err(&c), 2e-6);
    for (int pass = 0; pass < 2; pass++) {
        /* without dropout the kept probabilities are not needed: NULL (reading it would crash) */
        be->sparse_attention_backward(be, g[0], g[1], g[2], ds, p > 0.0f ? kept : NULL, R, probs, q, k, v, &csr,
                                      D, p, c.s, H);
        if (pass == 0)
            for (int t = 0; t < 3; t++) memcpy(g1[t], g[t], n * sizeof(float));
    }

    /* ds written over the probabilities themselves (how SBM calls it): the
     * same ds, kept probabilities and gradients, bit for bit */
    {
        float *alias = be->alloc(be, sizeof(float) * nnz), *kept2 = be->alloc(be, sizeof(float) * nnz), *g2[3];
        memcpy(alias, probs, nnz * sizeof(float));
        for (int t = 0; t < 3; t++) g2[t] = tu_alloc(n), memset(g2[t], 0, n * sizeof(float));
        be->sparse_attention_backward(be, g2[0], g2[1], g2[2], alias, p > 0.0f ? kept2 : NULL, R, alias, q, k, v,
                                      &csr, D, p, c.s, H);
        int same = !memcmp(alias, ds, nnz * sizeof(float)) && (p == 0.0f || !memcmp(kept2, kept, nnz * sizeof(float)));
        for (int t = 0; t < 3; t++) same &= !memcmp(g2[t], g1[t], n * sizeof(float)), free(g2[t]);
        tu_check(same, "%s: ds in place over the probabilities: the same ds, kept probabilities, dq, dk, dv", tag);
        be->free(be, alias), be->free(be, kept2);
    }

    /* probs_kept = dropout(probs); ds rebuilds dq and dk (s_e = q_i . k_j / sqrt(D)) */
    const float scale = 1.0f / sqrtf((float)D);
    const uint32_t thr = sb_dropout_threshold(p);
    int kept_ok = 1;
    float *dq_ds = tu_alloc(n), *dk_ds = tu_alloc(n);
    double *dq_acc = calloc(n, sizeof(double)), *dk_acc = calloc(n, sizeof(double)); /* the reference sums */
    for (int gi = 0; gi < G; gi++) {
        sb_rng_stream s = sb_rng_derive(c.s, (uint32_t)(gi / H), (uint32_t)(gi % H));
        const size_t base = (size_t)gi * N;
        for (int i = 0; i < N; i++)
            for (int64_t e = csr.row_ptr[base + i]; e < csr.row_ptr[base + i + 1]; e++) {
                float f = 1.0f;
                if (p > 0.0f)
                    sb_dropout_factors(&s, (uint64_t)(e - csr.row_ptr[base]), 1, thr, sb_dropout_scale(p), &f);
                kept_ok &= p == 0.0f || kept[e] == probs[e] * f;
                const size_t qi = (base + i) * D, kj = (base + csr.col[e]) * D;
                for (int d = 0; d < D; d++) {
                    dq_acc[qi + d] += (double)scale * ds[e] * k[kj + d];
                    dk_acc[kj + d] += (double)scale * ds[e] * q[qi + d];
                }
            }
    }
    for (size_t i = 0; i < n; i++) dq_ds[i] = (float)dq_acc[i], dk_ds[i] = (float)dk_acc[i];
    free(dq_acc), free(dk_acc);
    tu_check(kept_ok, "%s: probs_kept = probs * dropout factor, exactly (p > 0; p = 0 passes none)", tag);
    snprintf(name, sizeof name, "%s ds rebuilds dq and dk", tag);
    /* the kernel's float sums of a row's (or key's) edges against the double
     * reference: ~1e-7 of each sum's terms, so a floor ten times the case's */
    tu_report(name,
              tu_worse(tu_max_rel_err_floor(dq_ds, g1[0], n, 10 * floor), tu_max_rel_err_floor(dk_ds, g1[1], n, 10 * floor)),
              1e-5);

    /* exact zeros for the node without edges: its output and dq (as a query),
     * dk and dv (as a key) */
    int zeros = 1;
    for (int gi = 0; gi < G; gi++)
        for (int d = 0; d < D; d++) {
            size_t e = ((size_t)gi * N + EMPTY) * D + d;
            zeros &= out[e] == 0.0f && g1[0][e] == 0.0f && g1[1][e] == 0.0f && g1[2][e] == 0.0f;
        }
    tu_check(zeros, "%s: a node without edges gets out = dq = dk = dv = 0", tag);

    const char *names[3] = {"dq", "dk", "dv"};
    float *x[3] = {q, k, v};
    for (int t = 0; t < 3; t++) {
        snprintf(name, sizeof name, "%s %s vs FD", tag, names[t]);
        tu_report_fd(name, tu_fd_check(sparse_loss, &c, x[t], g1[t], n, H_FD, 300, 630u + (uint32_t)t, floor),
                     TOL_FD);
        snprintf(name, sizeof name, "%s %s accumulates (+=)", tag, names[t]);
        tu_report(name, tu_doubling_err_floor(g1[t], g[t], n, floor), ACC_TOL);
    }
    free(q), free(k), free(v), free(out), free(R);
    be->free(be, probs), be->free(be, ds), be->free(be, kept);
    free(dq_ds), free(dk_ds);
    for (int t = 0; t < 3; t++) free(g[t]), free(g1[t]);
    sb_csr_free(be, &csr);
}

/* On the complete graph, edge e of row i is element i*n + j of the dense
 * score matrix, so sparse and dense attention agree, dropout included. */
static void test_complete_graph_matches_dense(sb_backend *be) {
    enum { B = 2, H = 3, G = B * H, N = 10, D = 5 };
    const size_t n = (size_t)G * N * D, nn = (size_t)G * N * N;
    sb_csr csr;
    memset(&csr, 0, sizeof csr);
    complete_csr(be, &csr, G, N);
    float *q = tu_alloc(n), *k = tu_alloc(n), *v = tu_alloc(n), *o_s = tu_alloc(n), *o_d = tu_alloc(n);
    float *p_s = tu_alloc(nn), *p_d = tu_alloc(nn);
    tu_fill_normal(q, n, 1.0f, 640);
    tu_fill_normal(k, n, 1.0f, 641);
    tu_fill_normal(v, n, 1.0f, 642);
    const float ps[] = {0.0f, 0.3f};
    for (int i = 0; i < 2; i++) {
        sb_rng_stream s = sb_rng_make(3, SB_RNG_ATTN_DROPOUT, 9, 1, 0, 0);
        be->sparse_attention_forward(be, o_s, p_s, q, k, v, &csr, D, ps[i], s, H);
        be->dense_attention_forward(be, o_d, p_d, q, k, v, NULL, B, H, N, D, ps[i], s);
        char name[96];
        snprintf(name, sizeof name, "complete sparse graph == dense attention p=%.1f (abs)", ps[i]);
        tu_report(name, tu_worse(tu_max_abs_diff(o_s, o_d, n), tu_max_abs_diff(p_s, p_d, nn)), 1e-6);
    }
    free(q), free(k), free(v), free(o_s), free(o_d), free(p_s), free(p_d);
    sb_csr_free(be, &csr);
}

/* ---------------------------------------------------------------- edge products */

/* out_e = A_i . B_j (sddmm); Y += A X per graph (spmm_rows), and the column
 * form is its transpose: <spmm_rows(A, X), Y> = <X, spmm_cols(A, Y)>. Both
 * products accumulate. Widths: 5 takes the scalar loops; 8, 40 and 128 the
 * 8-float vector kernels (128: two register sweeps of the gathered row), on
 * rows long enough (density 0.6 of 40 keys) for the key prefetch. Relative
 * errors have a floor of 0.1: the products are sums of ~25 unit products
 * (scale ~5, where one float ulp is 5e-7) that cancel to near zero in
 * places. */
static void test_edge_products(sb_backend *be, int N, int W, float density) {
    const int G = 3;
    const size_t n = (size_t)G * N * W;
    sb_csr csr;
    memset(&csr, 0, sizeof csr);
    random_csr(be, &csr, G, N, density, 2, 9, 650);
    float *vals = tu_alloc((size_t)csr.nnz), *X = tu_alloc(n), *Y = tu_alloc(n);
    float *AX = tu_alloc(n), *AtY = tu_alloc(n), *once = tu_alloc(n);
    float *dots = tu_alloc((size_t)csr.nnz), *dref = tu_alloc((size_t)csr.nnz);
    tu_fill_normal(vals, (size_t)csr.nnz, 1.0f, 651);
    tu_fill_normal(X, n, 1.0f, 652);
    tu_fill_normal(Y, n, 1.0f, 653);
    char tag[64], name[128];
    snprintf(tag, sizeof tag, "n%d w%d nnz%lld", N, W, (long long)csr.nnz);
    be->sddmm(be, dots, &csr, Y, X, W);
    be->spmm_rows(be, AX, &csr, vals, X, W);
    /* references summed in double, so the kernels' own rounding is all the
     * tolerance covers: a float sum of m terms is off by at most about
     * m eps Σ|terms| (bound[] holds that, with a factor 2 of margin) */
    double *refd = calloc(n, sizeof(double)), *bound = calloc(n, sizeof(double));
    for (int g = 0; g < G; g++)
        for (int i = 0; i < N; i++) {
            const int64_t e0 = csr.row_ptr[g * N + i], e1 = csr.row_ptr[g * N + i + 1];
            for (int64_t e = e0; e < e1; e++) {
                double dot = 0.0;
                for (int w = 0; w < W; w++) {
                    const size_t yi = ((size_t)g * N + i) * W + w, xj = ((size_t)g * N + csr.col[e]) * W + w;
                    refd[yi] += (double)vals[e] * X[xj];
                    bound[yi] += 2.0 * FLT_EPSILON * (double)(e1 - e0 + 1) * fabs((double)vals[e] * X[xj]);
                    dot += (double)Y[yi] * X[xj];
                }
                dref[e] = (float)dot;
            }
        }
    double worst = 0.0; /* the largest error as a fraction of its bound */
    for (size_t i = 0; i < n; i++) {
        const double err = fabs((double)AX[i] - refd[i]);
        if (!(err == 0.0)) worst = tu_worse(worst, bound[i] > 0.0 ? err / bound[i] : INFINITY); /* a NaN counts */
    }
    free(refd), free(bound);
    snprintf(name, sizeof name, "sddmm %s vs reference (abs)", tag);
    tu_report(name, tu_max_abs_diff(dots, dref, (size_t)csr.nnz), 2e-5 * sqrt((double)W));
    snprintf(name, sizeof name, "spmm_rows %s vs reference (error / its float-sum bound)", tag);
    tu_report(name, worst, 1.0);
    be->spmm_cols(be, AtY, &csr, vals, Y, W);
    double lhs = tu_dot(AX, Y, n), rhs = tu_dot(X, AtY, n);
    snprintf(name, sizeof name, "spmm_cols %s is the adjoint of spmm_rows (rel)", tag);
    tu_report(name, fabs(lhs - rhs) / fabs(lhs), 1e-5);
    memcpy(once, AX, n * sizeof(float));
    be->spmm_rows(be, AX, &csr, vals, X, W);
    snprintf(name, sizeof name, "spmm_rows %s accumulates (+=)", tag);
    tu_report(name, tu_doubling_err_floor(once, AX, n, 0.1), ACC_TOL);
    memcpy(once, AtY, n * sizeof(float));
    be->spmm_cols(be, AtY, &csr, vals, Y, W);
    snprintf(name, sizeof name, "spmm_cols %s accumulates (+=)", tag);
    tu_report(name, tu_doubling_err_floor(once, AtY, n, 0.1), ACC_TOL);
    free(vals), free(X), free(Y), free(AX), free(AtY), free(once), free(dots), free(dref);
    sb_csr_free(be, &csr);
}

/* A score does not depend on where its edge sits in the row: row 0 links to
 * all N keys (scored 8 edges at a time, the rest one by one), row r > 0 only
 * to key r - 1 (scored alone), and every row has row 0's query. The two
 * scores of each key must be equal bit for bit, also with magnitudes that
 * make the order of the additions matter. */
static void test_sddmm_position_invariance(sb_backend *be, int W) {
    enum { N = 41 };
    sb_csr csr;
    memset(&csr, 0, sizeof csr);
    sb_csr_reserve(be, &csr, 1, N, 2 * N - 1);
    csr.row_ptr[0] = 0;
    for (int j = 0; j < N; j++) csr.col[j] = j;
    for (int r = 1; r <= N; r++) csr.row_ptr[r] = N + r - 1;
    for (int r = 1; r < N; r++) csr.col[N + r - 1] = r - 1;
    csr.nnz = 2 * N - 1;
    float *A = tu_alloc((size_t)N * W), *B = tu_alloc((size_t)N * W), *out = tu_alloc((size_t)csr.nnz);
    tu_fill_normal(A, (size_t)W, 1.0f, 660);
    tu_fill_normal(B, (size_t)N * W, 1.0f, 661);
    for (int d = 0; d < W; d += 3) A[d] *= 4096.0f; /* large terms that cancel */
    for (int r = 1; r < N; r++) memcpy(A + (size_t)r * W, A, sizeof(float) * (size_t)W);
    be->sddmm(be, out, &csr, A, B, W);
    int same = 0;
    for (int j = 0; j < N - 1; j++) same += !memcmp(&out[j], &out[N + j], sizeof(float));
    tu_check(same == N - 1, "sddmm w%d: a key's score in a long row equals its score alone, bit for bit (%d of %d)",
             W, same, N - 1);
    free(A), free(B), free(out);
    sb_csr_free(be, &csr);
}

/* Scores far past expf's range (q·k/√D up to 200 on a complete 5-node
 * graph): the row softmax must subtract its maximum, as the reference's
 * dense softmax does, so the output stays finite and equal to a double
 * reference. The other cases' normal inputs never overflow. */
static void test_large_scores(sb_backend *be) {
    enum { n = 5, D = 4 };
    sb_csr c = {0};
    complete_csr(be, &c, 1, n);
    float q[n * D], k[n * D], v[n * D], out[n * D], probs[n * n];
    for (int i = 0; i < n * D; i++) q[i] = 10.0f, k[i] = 10.0f - (float)(i / D), v[i] = (float)(i % 7);
    be->sparse_attention_forward(be, out, probs, q, k, v, &c, D, 0.0f, sb_rng_make(1, SB_RNG_ATTN_DROPOUT, 0, 0, 0, 0),
                                 1);
    double worst = 0.0;
    for (int i = 0; i < n; i++) {
        double s[n], mx = -INFINITY, z = 0.0;
        for (int j = 0; j < n; j++) {
            s[j] = 0.0;
            for (int d = 0; d < D; d++) s[j] += (double)q[i * D + d] * k[j * D + d];
            s[j] /= sqrt((double)D), mx = s[j] > mx ? s[j] : mx;
        }
        for (int j = 0; j < n; j++) z += (s[j] = exp(s[j] - mx));
        for (int d = 0; d < D; d++) {
            double o = 0.0;
            for (int j = 0; j < n; j++) o += s[j] / z * v[j * D + d];
            const double err = fabs(o - out[i * D + d]);
            if (!(err <= worst)) worst = err; /* NaN propagates */
        }
    }
    tu_report("sparse attention, scores up to 200: output vs double (abs)", worst, 1e-5);
    sb_csr_free(be, &c);
}

/* Inference (no probs) scores, normalises and applies each row in one
 * visit: the same output bit for bit as the passes that keep the
 * probabilities, with and without dropout, at a vectorised width (32) and a
 * scalar one (5), with an empty row, on 1, 2 and 3 threads; and it holds no
 * array over the edges, only a row's worth per thread. */
static void test_forward_without_probs(sb_backend *be) {
    enum { G = 3, n = 70 };
    const int widths[2] = {32, 5}, threads[3] = {1, 2, 3}, saved = omp_get_max_threads();
    sb_csr c = {0};
    random_csr(be, &c, G, n, 0.3f, 4, 9, 31);
    int64_t longest = 0;
    for (int64_t r = 0; r < (int64_t)G * n; r++)
        longest = c.row_ptr[r + 1] - c.row_ptr[r] > longest ? c.row_ptr[r + 1] - c.row_ptr[r] : longest;
    for (int wi = 0; wi < 2; wi++)
        for (int drop = 0; drop < 2; drop++) {
            const int D = widths[wi];
            const float p = drop ? 0.3f : 0.0f;
            const size_t len = (size_t)G * n * D;
            float *q = tu_alloc(len), *k = tu_alloc(len), *v = tu_alloc(len), *ref = tu_alloc(len), *out = tu_alloc(len);
            float *probs = be->alloc(be, sizeof(float) * (size_t)c.nnz); /* aligned as a caller's */
            tu_fill_normal(q, len, 1.0f, 60), tu_fill_normal(k, len, 1.0f, 61), tu_fill_normal(v, len, 1.0f, 62);
            const sb_rng_stream s = sb_rng_make(4, SB_RNG_ATTN_DROPOUT, 2, 0, 0, 0);
            be->sparse_attention_forward(be, ref, probs, q, k, v, &c, D, p, s, 2);
            int same = 1;
            int64_t held = 0;
            for (int t = 0; t < 3; t++) {
                sb_cpu_set_threads(threads[t]);
                for (size_t i = 0; i < len; i++) out[i] = NAN; /* every entry must be written */
                const int64_t live = be->mem.live_bytes;
                sb_mem_reset_peak(&be->mem);
                be->sparse_attention_forward(be, out, NULL, q, k, v, &c, D, p, s, 2);
                held = be->mem.peak_bytes - live > held ? be->mem.peak_bytes - live : held;
                same &= !memcmp(ref, out, len * sizeof(float));
            }
            sb_cpu_set_threads(saved);
            /* a row buffer per thread (3) and array (2 with dropout): the longest row and
             * up to 31 floats of alignment */
            const int64_t bound = (int64_t)sizeof(float) * 3 * (drop ? 2 : 1) * (longest + 31);
            tu_check(same && held <= bound,
                     "sparse attention forward without probs, width %d, dropout %.1f: the same output bit for bit "
                     "on 1, 2, 3 threads, holding %lld bytes (at most a row per thread, %lld; the edges: %lld)", D,
                     (double)p, (long long)held, (long long)bound, (long long)(c.nnz * (int64_t)sizeof(float)));
            free(q), free(k), free(v), free(ref), free(out);
            be->free(be, probs);
        }
    sb_csr_free(be, &c);
}

int main(void) {
    sb_backend *be = sb_backend_cpu_create(0);
    test_transpose(be);
    test_large_scores(be);
    sparse_attention_case(be, 0.0f, 9, 4, 0.4f, 1e-3);
    sparse_attention_case(be, 0.3f, 9, 4, 0.4f, 1e-3);
    sparse_attention_case(be, 0.3f, 40, 32, 0.6f, 1e-2);
    test_complete_graph_matches_dense(be);
    test_forward_without_probs(be);
    test_edge_products(be, 12, 5, 0.3f);
    test_edge_products(be, 40, 8, 0.6f);
    test_edge_products(be, 40, 40, 0.6f);
    test_edge_products(be, 40, 128, 0.6f);
    for (int w = 8; w <= 128; w *= 2) test_sddmm_position_invariance(be, w);
    test_sddmm_position_invariance(be, 40);
    tu_check(be->mem.live_bytes == 0, "all backend memory freed (%lld bytes live)", (long long)be->mem.live_bytes);
    sb_backend_destroy(be);
    return tu_finish();
}
