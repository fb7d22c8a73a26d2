/* SBM attention (core/sbm_attention.c) against a dense double-precision
 * reference written here from the paper's equations and the public code's
 * dense formulation:
 *   - forward on a fixed graph equals softmax-over-real-keys, masked by the
 *     graph and renormalised (the public code's F.normalize(softmax * A));
 *   - backward equals the exact gradient of
 *         L = Σ out·R + Σ_e G_e p_e (+ expected-density term)
 *     with G_e held fixed at the straight-through value clip(dL/dA_e + r),
 *     i.e. the STE's formula, checked by finite differences w.r.t. Q, K, V,
 *     the cluster embeddings and the MLP, for every regulariser kind, with
 *     Ŝ saturated (one block per head) and with Ŝ spread, where the
 *     gradients through the block matrix (dŜ, then both halves of dC) show;
 *   - with every edge present it is full attention.
 * A row with no edge outputs exactly zero. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/attention.h"
#include "core/backend.h"
#include "tests/test_util.h"

enum { B = 2, H = 2, N = 7, D = 4, K = 3, G = B * H };
#define SZ ((size_t)B * H * N * D)

typedef struct {
    sb_attn_config cfg;
    float q[SZ], k[SZ], v[SZ], R[SZ], mask[B * N];
    float *params; /* C [H,K,D], w1, b1, w2, b2 */
    size_t np;
    sb_csr *g;
    double Gfix[4096]; /* per edge, fixed at the base point */
    double weight;     /* density weight */
} ctx_t;

static void mlp(const float *x, const float *w1, const float *b1, const float *w2, const float *b2, double *y) {
    double h[D];
    for (int o = 0; o < D; o++) {
        double a = b1[o];
        for (int i = 0; i < D; i++) a += (double)w1[o * D + i] * x[i];
        h[o] = a > 0 ? a : 0;
    }
    for (int o = 0; o < D; o++) {
        double a = b2[o];
        for (int i = 0; i < D; i++) a += (double)w2[o * D + i] * h[i];
        y[o] = a;
    }
}

/* memberships of one row: σ(MLP(x) C_hᵀ) */
static void membership(const ctx_t *c, int h, const float *x, double *out) {
    const float *C = c->params, *w1 = C + (size_t)H * K * D, *b1 = w1 + D * D, *w2 = b1 + D, *b2 = w2 + D * D;
    double y[D];
    mlp(x, w1, b1, w2, b2, y);
    for (int a = 0; a < K; a++) {
        double z = 0;
        for (int d = 0; d < D; d++) z += y[d] * C[((size_t)h * K + a) * D + d];
        out[a] = 1.0 / (1.0 + exp(-z));
    }
}

static void block_matrix(const ctx_t *c, int h, double *S) {
    const float *C = c->params + (size_t)h * K * D;
    double mx = -1e300, z = 0;
    for (int a = 0; a < K; a++)
        for (int b = 0; b < K; b++) {
            double s = 0;
            for (int d = 0; d < D; d++) s += (double)C[a * D + d] * C[b * D + d];
            S[a * K + b] = s;
            mx = s > mx ? s : mx;
        }
    for (int i = 0; i < K * K; i++) z += (S[i] = exp(S[i] - mx));
    for (int i = 0; i < K * K; i++) S[i] /= z;
}

static double edge_p(const double *qh, const double *S, const double *kh) {
    double p = 0;
    for (int a = 0; a < K; a++)
        for (int b = 0; b < K; b++) p += qh[a] * S[a * K + b] * kh[b];
    return p;
}

/* The dense reference. out (if not NULL) gets the attention output; with
 * want_G it stores dL/dA_e (+ r) into c->Gfix. Returns L. */
static double reference(ctx_t *c, float *out, int want_G) {
    double L = 0;
    const float scale = 1.0f / sqrtf((float)D);
    for (int gi = 0; gi < G; gi++) {
        const int b = gi / H, h = gi % H;
        const float *mk = c->mask + b * N;
        double qh[N][K], kh[N][K], S[K * K];
        block_matrix(c, h, S);
        for (int i = 0; i < N; i++) {
            membership(c, h, c->q + ((size_t)gi * N + i) * D, qh[i]);
            membership(c, h, c->k + ((size_t)gi * N + i) * D, kh[i]);
        }
        for (int i = 0; i < N; i++) {
            const size_t row = (size_t)gi * N + i;
            const float *qi = c->q + row * D;
            /* softmax over the real keys, then masked by the graph and renormalised */
            double sm[N], mx = -1e300, z = 0, A[N] = {0}, zA = 0, attn[N];
            for (int j = 0; j < N; j++) {
                double s = 0;
                for (int d = 0; d < D; d++) s += (double)qi[d] * c->k[((size_t)gi * N + j) * D + d];
                sm[j] = mk[j] > 0 ? s * scale : -INFINITY;
                mx = sm[j] > mx ? sm[j] : mx;
            }
            for (int j = 0; j < N; j++) z += (sm[j] = mk[j] > 0 ? exp(sm[j] - mx) : 0.0);
            for (int j = 0; j < N; j++) sm[j] /= z;
            for (int64_t e = c->g->row_ptr[row]; e < c->g->row_ptr[row + 1]; e++) A[c->g->col[e]] = 1;
            for (int j = 0; j < N; j++) zA += sm[j] * A[j];
            for (int j = 0; j < N; j++) attn[j] = sm[j] * A[j] / (zA > 1e-12 ? zA : 1e-12);
            double o[D] = {0};
            for (int j = 0; j < N; j++)
                for (int d = 0; d < D; d++) o[d] += attn[j] * c->v[((size_t)gi * N + j) * D + d];
            for (int d = 0; d < D; d++) {
                L += o[d] * c->R[row * D + d];
                if (out) out[row * D + d] = (float)o[d];
            }
            /* dL/dA_ij = attn_ij (g_ij - Σ_l attn_il g_il), g_ij = R_i · v_j */
            double gj[N], ag = 0;
            for (int j = 0; j < N; j++) {
                gj[j] = 0;
                for (int d = 0; d < D; d++) gj[j] += (double)c->R[row * D + d] * c->v[((size_t)gi * N + j) * D + d];
                ag += attn[j] * gj[j];
            }
            for (int64_t e = c->g->row_ptr[row]; e < c->g->row_ptr[row + 1]; e++) {
                int j = c->g->col[e];
                if (want_G) {
                    double G_e = attn[j] * (gj[j] - ag);
                    if (c->cfg.sbm_reg_kind == SB_SBM_REG_SAMPLED) G_e += c->weight / ((double)H * B * N * N);
                    double clip = c->cfg.sbm_ste_clip;
                    if (clip > 0) G_e = G_e > clip ? clip : G_e < -clip ? -clip : G_e;
                    c->Gfix[e] = G_e;
                }
                /* no estimator without sbm_ste, and none through a forced self-loop */
                if (c->cfg.sbm_ste && !(c->cfg.sbm_self_loops && j == i)) L += c->Gfix[e] * edge_p(qh[i], S, kh[j]);
            }
        }
        if (c->cfg.sbm_reg_kind == SB_SBM_REG_EXPECTED) /* (weight/H) * Σ_real p / (B N²) */
            for (int i = 0; i < N; i++)
                for (int j = 0; j < N; j++)
                    if (mk[i] > 0 && mk[j] > 0) L += c->weight / H * edge_p(qh[i], S, kh[j]) / ((double)B * N * N);
    }
    return L;
}

static double loss_fn(void *ctx) { return reference(ctx, NULL, 0); }

/* A graph with an empty row, a self-loop, a full row, and nothing touching pads. */
static void build_graph(sb_csr *g, const float *mask) {
    static int64_t rp[G * N + 1];
    static int32_t col[G * N * N], row_of[G * N * N];
    static int64_t cp[G * N + 1], perm[G * N * N];
    int64_t e = 0;
    for (int gi = 0; gi < G; gi++)
        for (int i = 0; i < N; i++) {
            rp[gi * N + i] = e;
            const float *mk = mask + (gi / H) * N;
            if (mk[i] == 0 || i == 2) continue; /* padded query; row 2 left empty */
            for (int j = 0; j < N; j++)
                if (mk[j] > 0 && (i == 0 || j == i || (i * 3 + j * 5 + gi) % 4 == 0)) col[e++] = j;
        }
    rp[G * N] = e;
    *g = (sb_csr){.n_graphs = G, .n = N, .nnz = e, .cap = G * N * N, .t_cap = G * N * N, .row_ptr = rp, .col = col,
                  .col_ptr = cp, .row_of = row_of, .perm = perm};
}

static void run_backward(sb_backend *be, const sb_attention_ops *ops, ctx_t *c, float *out, float *dq, float *dk,
                         float *dv, float *dparams) {
    void *st = ops->state_create(be, &c->cfg, B, N, 1);
    sb_attn_call call = {.B = B, .H = H, .N = N, .D = D, .q = c->q, .k = c->k, .v = c->v, .key_mask = c->mask,
                         .out = out, .training = 1, .rng = sb_rng_make(3, SB_RNG_ATTN_DROPOUT, 0, 0, 0, 0),
                         .rng_attn = sb_rng_make(3, SB_RNG_ATTN, 0, 0, 0, 0), .fixed_graph = c->g};
    memset(dq, 0, sizeof(float) * SZ), memset(dk, 0, sizeof(float) * SZ), memset(dv, 0, sizeof(float) * SZ);
    memset(dparams, 0, sizeof(float) * c->np);
    ops->forward(be, st, &c->cfg, c->params, &call);
    sb_attn_grads gr = {.dq = dq, .dk = dk, .dv = dv, .dout = c->R, .density_weight = (float)c->weight};
    ops->backward(be, st, &c->cfg, c->params, dparams, &call, &gr);
    ops->state_destroy(be, st);
}

static void check_gradients(sb_backend *be, ctx_t *c, const char *setup, const char *what) {
    char label[120];
    snprintf(label, sizeof label, "%s, %s", setup, what);
    const sb_attention_ops *sbm = sb_attention_find("sbm");
    float out[SZ], dq[SZ], dk[SZ], dv[SZ], ref_out[SZ];
    float *dp = tu_alloc(c->np);
    reference(c, ref_out, 1); /* fixes G at this point */
    run_backward(be, sbm, c, out, dq, dk, dv, dp);
    char name[160];
    snprintf(name, sizeof name, "%s: output vs dense reference (abs)", label);
    tu_report(name, tu_max_abs_diff(out, ref_out, SZ), 2e-6);
    /* the MLP's ReLU has kinks: smaller steps there, so few differences straddle one */
    struct { const char *what; float *x, *g; size_t n; float h; } t[] = {
        {"dQ", c->q, dq, SZ, 1.0f / 256}, {"dK", c->k, dk, SZ, 1.0f / 256}, {"dV", c->v, dv, SZ, 1.0f / 256},
        {"dC", c->params, dp, (size_t)H * K * D, 1.0f / 256},
        {"dW1,db1", c->params + H * K * D, dp + H * K * D, D * D + D, 1.0f / 65536},
        {"dW2,db2", c->params + H * K * D + D * D + D, dp + H * K * D + D * D + D, D * D + D, 1.0f / 256}};
    for (int i = 0; i < 6; i++) {
        tu_fd_result r = tu_fd_check(loss_fn, c, t[i].x, t[i].g, t[i].n, t[i].h, 100000, (uint32_t)i, 1e-4);
        snprintf(name, sizeof name, "%s: %s vs finite differences", label, t[i].what);
        tu_report_fd(name, r, 2e-4);
    }
    free(dp);
}

/* The layer hands the sampler the query memberships as rows and the key
 * memberships as keys, and δ only in training. The MLP is x -> -ReLU(x) and
 * every C entry is 0.5, so a token of all +20 gets memberships σ(-40) ≈ 0
 * (no edges), a token of zeros 0.5 (p = 0.25 with every key of zeros). Queries
 * 0-2 and keys 4-5 are +20: rows 0-2 must output exactly 0 and keys 4-5 get
 * no edge, while the rest attend (all but a few: a row misses all 14 keys
 * with probability e^-3.5) and are attended, over 6 examples. Swapped
 * memberships would empty rows 4-5 and keys 0-2 instead. With δ = 0.5,
 * evaluation samples without it; training adds it, and rows 0-2 attend. */
static void check_sampler_wiring(sb_backend *be) {
    enum { BW = 6, NW = 16, DW = 4, KW = 3 };
    const sb_attention_ops *sbm = sb_attention_find("sbm");
    sb_attn_config cfg = {.n_heads = 1, .d_head = DW, .max_len = NW, .sbm_k = KW, .sbm_delta = 0.5f,
                          .sbm_sampler = SB_SAMPLER_FASTRG, .sbm_ste = 1};
    const size_t np = sbm->param_count(&cfg), sz = (size_t)BW * NW * DW;
    float *p = tu_alloc(np), *q = tu_alloc(sz), *k = tu_alloc(sz), *v = tu_alloc(sz), *out = tu_alloc(sz);
    float *indeg = tu_alloc((size_t)BW * NW);
    memset(p, 0, sizeof(float) * np);
    for (int i = 0; i < KW * DW; i++) p[i] = 0.5f;                  /* C */
    for (int d = 0; d < DW; d++) p[KW * DW + d * DW + d] = 1.0f;    /* w1 = I, b1 = 0 */
    for (int d = 0; d < DW; d++) p[KW * DW + DW * DW + DW + d * DW + d] = -1.0f; /* w2 = -I, b2 = 0 */
    for (int b = 0; b < BW; b++)
        for (int i = 0; i < NW; i++)
            for (int d = 0; d < DW; d++) {
                const size_t x = ((size_t)b * NW + i) * DW + d;
                q[x] = i <= 2 ? 20.0f : 0.0f;
                k[x] = i == 4 || i == 5 ? 20.0f : 0.0f;
            }
    tu_fill_normal(v, sz, 1.0f, 60);
    for (int training = 0; training < 2; training++) {
        void *st = sbm->state_create(be, &cfg, BW, NW, training);
        sb_attn_call call = {.B = BW, .H = 1, .N = NW, .D = DW, .q = q, .k = k, .v = v, .out = out,
                             .training = training, .rng = sb_rng_make(4, SB_RNG_ATTN_DROPOUT, 0, 0, 0, 0),
                             .rng_attn = sb_rng_make(4, SB_RNG_ATTN, 0, 0, 0, 0)};
        sbm->forward(be, st, &cfg, p, &call);
        sbm->key_indegree(st, indeg);
        long empty_rows_out = 0, other_rows_silent = 0;
        double keys45 = 0.0, other_keys = 0.0;
        for (int b = 0; b < BW; b++)
            for (int i = 0; i < NW; i++) {
                int nonzero = 0;
                for (int d = 0; d < DW; d++) nonzero |= out[((size_t)b * NW + i) * DW + d] != 0.0f;
                if (i <= 2) empty_rows_out += nonzero;
                else other_rows_silent += !nonzero;
                if (i == 4 || i == 5) keys45 += indeg[b * NW + i];
                else other_keys += indeg[b * NW + i];
            }
        if (!training) {
            tu_check(empty_rows_out == 0 && other_rows_silent <= (NW - 3) * BW / 10,
                     "evaluation: queries with zero memberships attend to nothing (%ld rows output), the others "
                     "attend (%ld silent); delta is left out",
                     empty_rows_out, other_rows_silent);
            tu_check(keys45 == 0.0 && other_keys > 0.0,
                     "evaluation: keys with zero memberships get no edge (%.0f), the others %.0f", keys45, other_keys);
        } else {
            tu_check(empty_rows_out == 3 * BW && keys45 > 0.0,
                     "training: delta 0.5 reaches every row (%ld of %d zero-membership rows attend) and key (%.0f)",
                     empty_rows_out, 3 * BW, keys45);
        }
        sbm->state_destroy(be, st);
    }
    free(p), free(q), free(k), free(v), free(out), free(indeg);
}

/* On a sampled graph, forward and backward are the same bit for bit on 2
 * threads and on 1: the graph, the output and every gradient, the SBM
 * parameters' included. 1200 rows, so the MLP's weight products are
 * reductions over a long inner dimension (they sum by fixed slices; left to
 * OpenBLAS's threading, they changed with the thread count). */
static void check_thread_invariance(sb_backend *be) {
    enum { BT = 2, HT = 2, NT = 300, DT = 32, KT = 16 };
    const size_t sz = (size_t)BT * HT * NT * DT;
    const sb_attention_ops *sbm = sb_attention_find("sbm");
    sb_attn_config cfg = {.n_heads = HT, .d_head = DT, .max_len = NT, .sbm_k = KT, .sbm_delta = 0.05f,
                          .sbm_sampler = SB_SAMPLER_FASTRG, .sbm_ste = 1, .sbm_reg_kind = SB_SBM_REG_SAMPLED};
    const size_t np = sbm->param_count(&cfg);
    float *p = tu_alloc(np), *q = tu_alloc(sz), *k = tu_alloc(sz), *v = tu_alloc(sz), *R = tu_alloc(sz);
    sb_rng_reader r = tu_rng(70);
    sbm->init_params(&cfg, p, &r);
    tu_fill_normal(q, sz, 1.0f, 71), tu_fill_normal(k, sz, 1.0f, 72), tu_fill_normal(v, sz, 1.0f, 73);
    tu_fill_normal(R, sz, 1.0f, 74);
    float *out[2], *dq[2], *dk[2], *dv[2], *dp[2];
    for (int t = 0; t < 2; t++) {
        out[t] = tu_alloc(sz), dq[t] = tu_alloc(sz), dk[t] = tu_alloc(sz), dv[t] = tu_alloc(sz), dp[t] = tu_alloc(np);
        memset(dq[t], 0, sizeof(float) * sz), memset(dk[t], 0, sizeof(float) * sz);
        memset(dv[t], 0, sizeof(float) * sz), memset(dp[t], 0, sizeof(float) * np);
        sb_cpu_set_threads(t ? 1 : 2);
        void *st = sbm->state_create(be, &cfg, BT, NT, 1);
        sb_attn_call call = {.B = BT, .H = HT, .N = NT, .D = DT, .q = q, .k = k, .v = v, .out = out[t], .training = 1,
                             .rng = sb_rng_make(8, SB_RNG_ATTN_DROPOUT, 0, 0, 0, 0),
                             .rng_attn = sb_rng_make(8, SB_RNG_ATTN, 0, 0, 0, 0)};
        sbm->forward(be, st, &cfg, p, &call);
        sb_attn_grads gr = {.dq = dq[t], .dk = dk[t], .dv = dv[t], .dout = R, .density_weight = 3.0f};
        sbm->backward(be, st, &cfg, p, dp[t], &call, &gr);
        sbm->state_destroy(be, st);
    }
    sb_cpu_set_threads(2);
    const size_t b = sizeof(float) * sz;
    tu_check(!memcmp(out[0], out[1], b) && !memcmp(dq[0], dq[1], b) && !memcmp(dk[0], dk[1], b) &&
                 !memcmp(dv[0], dv[1], b),
             "sampled graph, 1200 rows: output, dQ, dK and dV the same on 2 threads and on 1");
    tu_check(!memcmp(dp[0], dp[1], sizeof(float) * np),
             "sampled graph, 1200 rows: the SBM parameters' gradients the same on 2 threads and on 1");
    for (int t = 0; t < 2; t++) free(out[t]), free(dq[t]), free(dk[t]), free(dv[t]), free(dp[t]);
    free(p), free(q), free(k), free(v), free(R);
}

/* One call's inputs for the grouping tests: the parameters, Q, K, V, the
 * output gradient R [B,H,N,D] and a key mask [B,N] whose example `padded`
 * ends in `pads` padded tokens, drawn from seeds seed .. seed + 4. */
typedef struct {
    float *p, *q, *k, *v, *R, *mask;
    size_t np, sz;
} call_inputs;

static call_inputs call_inputs_make(const sb_attn_config *cfg, int B, int N, uint32_t seed, int padded, int pads) {
    const sb_attention_ops *sbm = sb_attention_find("sbm");
    call_inputs in = {.np = sbm->param_count(cfg), .sz = (size_t)B * cfg->n_heads * N * cfg->d_head};
    in.p = tu_alloc(in.np), in.q = tu_alloc(in.sz), in.k = tu_alloc(in.sz), in.v = tu_alloc(in.sz);
    in.R = tu_alloc(in.sz), in.mask = tu_alloc((size_t)B * N);
    sb_rng_reader r = tu_rng(seed);
    sbm->init_params(cfg, in.p, &r);
    tu_fill_normal(in.q, in.sz, 1.0f, seed + 1), tu_fill_normal(in.k, in.sz, 1.0f, seed + 2);
    tu_fill_normal(in.v, in.sz, 1.0f, seed + 3), tu_fill_normal(in.R, in.sz, 1.0f, seed + 4);
    for (int i = 0; i < B * N; i++) in.mask[i] = i / N == padded && i % N >= N - pads ? 0.0f : 1.0f;
    return in;
}

static void call_inputs_free(call_inputs *in) { free(in->p), free(in->q), free(in->k), free(in->v), free(in->R), free(in->mask); }

/* The backward through the memberships works a group of examples at a time
 * (at least 4096 rows): at 2 heads of 1024 tokens, 3 examples go as groups
 * of 2 and 1. Their gradients must be those of each example alone, on the
 * same graphs (dQ, dK, dV per example; the parameters' summed over the
 * examples, the density weight scaled to its per-example share), for both
 * regulariser kinds' paths (the expected one adds per group, then dŜ after
 * every group). A wrong offset or graph view would differ by O(1). */
static void check_groups_match_examples(sb_backend *be) {
    enum { BG = 3, HG = 2, NG = 1024, DG = 8, KG = 8, GG = BG * HG };
    const size_t per_ex = (size_t)HG * NG * DG, sz = BG * per_ex;
    const sb_attention_ops *sbm = sb_attention_find("sbm");
    for (int kind = 0; kind < 2; kind++) {
        sb_attn_config cfg = {.n_heads = HG, .d_head = DG, .max_len = NG, .sbm_k = KG, .sbm_ste = 1,
                              .sbm_reg_kind = kind ? SB_SBM_REG_EXPECTED : SB_SBM_REG_SAMPLED};
        call_inputs in = call_inputs_make(&cfg, BG, NG, 90, 1, 100);
        const size_t np = in.np;
        float *p = in.p, *q = in.q, *k = in.k, *v = in.v, *R = in.R, *mask = in.mask;
        /* the batch's graph (about 1% of pairs), and each example's graphs alone */
        sb_csr all = {0}, one[BG];
        sb_csr_reserve(be, &all, GG, NG, (int64_t)GG * NG * 24);
        int64_t e = 0;
        for (int row = 0; row < GG * NG; row++) {
            all.row_ptr[row] = e;
            for (int j = (row * 7) % 97; j < NG; j += 97 - row % 13) all.col[e++] = j;
        }
        all.row_ptr[GG * NG] = e, all.nnz = e;
        for (int b = 0; b < BG; b++) {
            memset(&one[b], 0, sizeof one[b]);
            const int64_t e0 = all.row_ptr[b * HG * NG], e1 = all.row_ptr[(b + 1) * HG * NG];
            sb_csr_reserve(be, &one[b], HG, NG, e1 - e0);
            for (int row = 0; row <= HG * NG; row++) one[b].row_ptr[row] = all.row_ptr[b * HG * NG + row] - e0;
            memcpy(one[b].col, all.col + e0, sizeof(int32_t) * (size_t)(e1 - e0));
            one[b].nnz = e1 - e0;
        }
        float *out[2], *dq[2], *dk[2], *dv[2], *dp[2];
        for (int t = 0; t < 2; t++) {
            out[t] = tu_alloc(sz), dq[t] = tu_alloc(sz), dk[t] = tu_alloc(sz), dv[t] = tu_alloc(sz);
            dp[t] = tu_alloc(np);
            memset(dq[t], 0, sizeof(float) * sz), memset(dk[t], 0, sizeof(float) * sz);
            memset(dv[t], 0, sizeof(float) * sz), memset(dp[t], 0, sizeof(float) * np);
        }
        for (int t = 0; t < 2; t++) /* t = 0: the batch at once; 1: example by example */
            for (int b = 0; b < (t ? BG : 1); b++) {
                const int nb = t ? 1 : BG;
                const size_t o = t ? (size_t)b * per_ex : 0;
                void *st = sbm->state_create(be, &cfg, nb, NG, 1);
                sb_attn_call call = {.B = nb, .H = HG, .N = NG, .D = DG, .q = q + o, .k = k + o, .v = v + o,
                                     .key_mask = mask + (t ? (size_t)b * NG : 0), .out = out[t] + o, .training = 1,
                                     .fixed_graph = t ? &one[b] : &all, .rng = sb_rng_make(8, SB_RNG_ATTN_DROPOUT, 0, 0, 0, 0),
                                     .rng_attn = sb_rng_make(8, SB_RNG_ATTN, 0, 0, 0, 0)};
                sbm->forward(be, st, &cfg, p, &call);
                /* the regulariser's weight divides by B: each example alone takes its share
                 * (large for the expected kind, so its terms weigh as much as the STE's) */
                const float weight = kind ? 3e5f : 3.0f;
                sb_attn_grads gr = {.dq = dq[t] + o, .dk = dk[t] + o, .dv = dv[t] + o, .dout = R + o,
                                    .density_weight = weight / (float)(BG / nb)};
                sbm->backward(be, st, &cfg, p, dp[t], &call, &gr);
                sbm->state_destroy(be, st);
            }
        const double err = tu_worse(tu_worse(tu_max_rel_err(dq[0], dq[1], sz), tu_max_rel_err(dk[0], dk[1], sz)),
                                tu_worse(tu_max_rel_err(dv[0], dv[1], sz), tu_max_rel_err(dp[0], dp[1], np)));
        tu_report(kind ? "3 examples in groups of 2 and 1, expected-density regulariser: dQ dK dV dparams as each alone"
                       : "3 examples in groups of 2 and 1, sampled-density regulariser: dQ dK dV dparams as each alone",
                  tu_worse(err, tu_max_rel_err(out[0], out[1], sz)), 1e-4);
        for (int t = 0; t < 2; t++) free(out[t]), free(dq[t]), free(dk[t]), free(dv[t]), free(dp[t]);
        for (int b = 0; b < BG; b++) sb_csr_free(be, &one[b]);
        sb_csr_free(be, &all);
        call_inputs_free(&in);
    }
}

/* The grouping does not change a bit: the same call (3 examples, 2 heads,
 * 1000 tokens) on a state made for 1000 tokens (groups of 3 examples: one
 * group) and on one made for 4096 (groups of 1, and a call shorter than its
 * state), with attention dropout, for the sampled regulariser with the STE,
 * and the expected one with and without it. The second state runs the call
 * as its third step, after a step and an evaluation forward: what a step
 * frees and allocates again changes nothing either. */
static void check_grouping_invariance(sb_backend *be) {
    enum { BG = 3, HG = 2, NG = 1000, DG = 8, KG = 8 };
    const size_t sz = (size_t)BG * HG * NG * DG;
    const sb_attention_ops *sbm = sb_attention_find("sbm");
    const struct { int kind, ste; const char *what; } cases[3] = {
        {SB_SBM_REG_SAMPLED, 1, "sampled regulariser, STE"},
        {SB_SBM_REG_EXPECTED, 1, "expected regulariser, STE"},
        {SB_SBM_REG_EXPECTED, 0, "expected regulariser, no STE"}};
    for (int ci = 0; ci < 3; ci++) {
        sb_attn_config cfg = {.n_heads = HG, .d_head = DG, .max_len = 4096, .sbm_k = KG, .sbm_delta = 0.01f,
                              .sbm_sampler = SB_SAMPLER_FASTRG, .sbm_ste = cases[ci].ste, .attn_dropout = 0.2f,
                              .sbm_reg_kind = cases[ci].kind};
        call_inputs in = call_inputs_make(&cfg, BG, NG, 95, 2, 64);
        const size_t np = in.np;
        float *p = in.p, *q = in.q, *k = in.k, *v = in.v, *R = in.R, *mask = in.mask;
        float *g[2][4], *dp[2];
        const int state_n[2] = {NG, 4096};
        for (int t = 0; t < 2; t++) {
            for (int j = 0; j < 4; j++) g[t][j] = tu_alloc(sz), memset(g[t][j], 0, sizeof(float) * sz);
            dp[t] = tu_alloc(np), memset(dp[t], 0, sizeof(float) * np);
            void *st = sbm->state_create(be, &cfg, BG, state_n[t], 1);
            sb_attn_call call = {.B = BG, .H = HG, .N = NG, .D = DG, .q = q, .k = k, .v = v, .key_mask = mask,
                                 .out = g[t][3], .training = 1, .rng = sb_rng_make(9, SB_RNG_ATTN_DROPOUT, 0, 0, 0, 0),
                                 .rng_attn = sb_rng_make(9, SB_RNG_ATTN, 0, 0, 0, 0)};
            sb_attn_grads gr = {.dq = g[t][0], .dk = g[t][1], .dv = g[t][2], .dout = R, .density_weight = 2e3f};
            for (int step = 0; step < (t ? 3 : 1); step++) {
                for (int j = 0; j < 3; j++) memset(g[t][j], 0, sizeof(float) * sz);
                memset(dp[t], 0, sizeof(float) * np);
                call.training = step != 1; /* step 1: an evaluation forward alone */
                sbm->forward(be, st, &cfg, p, &call);
                if (call.training) sbm->backward(be, st, &cfg, p, dp[t], &call, &gr);
            }
            sbm->state_destroy(be, st);
        }
        int same = !memcmp(dp[0], dp[1], sizeof(float) * np);
        for (int j = 0; j < 4; j++) same &= !memcmp(g[0][j], g[1][j], sizeof(float) * sz);
        tu_check(same, "%s, dropout 0.2: one group of 3 examples, or groups of 1 on a state for 4096 tokens at its "
                       "third step: output and every gradient the same bit for bit", cases[ci].what);
        for (int t = 0; t < 2; t++) {
            for (int j = 0; j < 4; j++) free(g[t][j]);
            free(dp[t]);
        }
        call_inputs_free(&in);
    }
}

/* Backward turns the kept probabilities into edge gradients, so it needs a
 * training forward of its own: a second backward after one forward, one
 * after an evaluation forward (which keeps no probabilities), or one on an
 * inference state exits with status 3 and a message instead of reading
 * gradients as probabilities. Each case runs in a child. */
static void expect_backward_refused(sb_backend *be, int training, int call_training, int backwards, const char *what) {
    fflush(NULL);
    const pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr)) _exit(1);
        sb_cpu_set_threads(1); /* the parent's OpenMP thread pool does not survive fork */
        const sb_attention_ops *sbm = sb_attention_find("sbm");
        sb_attn_config cfg = {.n_heads = H, .d_head = D, .max_len = N, .sbm_k = K, .sbm_delta = 0.2f,
                              .sbm_sampler = SB_SAMPLER_FASTRG, .sbm_ste = 1};
        const size_t np = sbm->param_count(&cfg);
        float *p = tu_alloc(np), *dp = tu_alloc(np), *x = tu_alloc(SZ), *out = tu_alloc(SZ), *g[4];
        for (int t = 0; t < 4; t++) g[t] = tu_alloc(SZ), memset(g[t], 0, sizeof(float) * SZ);
        sb_rng_reader r = tu_rng(5);
        sbm->init_params(&cfg, p, &r);
        tu_fill_normal(x, SZ, 1.0f, 6);
        void *st = sbm->state_create(be, &cfg, B, N, training);
        sb_attn_call call = {.B = B, .H = H, .N = N, .D = D, .q = x, .k = x, .v = x, .out = out, .training = call_training,
                             .rng = sb_rng_make(8, SB_RNG_ATTN_DROPOUT, 0, 0, 0, 0),
                             .rng_attn = sb_rng_make(8, SB_RNG_ATTN, 0, 0, 0, 0)};
        sbm->forward(be, st, &cfg, p, &call);
        sb_attn_grads gr = {.dq = g[0], .dk = g[1], .dv = g[2], .dout = g[3]};
        for (int b = 0; b < backwards; b++) sbm->backward(be, st, &cfg, p, dp, &call, &gr);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    tu_check(WIFEXITED(status) && WEXITSTATUS(status) == (backwards == 1 && training && call_training ? 0 : 3),
             "sbm backward %s: exit status %d", what, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* Every estimator and regulariser case against the reference, for one
 * parameter setup (named in the labels). */
static void check_gradient_cases(sb_backend *be, ctx_t *c, const char *setup) {
    check_gradients(be, c, setup, "STE, no regulariser");
    c->weight = 3.0;
    c->cfg.sbm_reg_kind = SB_SBM_REG_SAMPLED;
    check_gradients(be, c, setup, "STE + sampled-density regulariser");
    c->cfg.sbm_reg_kind = SB_SBM_REG_EXPECTED;
    check_gradients(be, c, setup, "STE + expected-density regulariser");
    c->weight = 0.0;
    c->cfg.sbm_reg_kind = SB_SBM_REG_SAMPLED;
    c->cfg.sbm_ste_clip = 0.01f;
    check_gradients(be, c, setup, "STE clipped at 0.01");
    /* with the regulariser's share r = 3 / (H B N²) = 0.015, comparable to the
     * clip: r goes in before the clip (reference §6), so adding it after
     * fails here */
    c->weight = 3.0;
    check_gradients(be, c, setup, "STE + sampled regulariser, clipped at 0.01");
    c->weight = 0.0;
    c->cfg.sbm_ste_clip = 0.0f;
    /* self-loops forced: the graph's diagonal edges carry no estimator gradient */
    c->weight = 3.0;
    c->cfg.sbm_self_loops = 1;
    check_gradients(be, c, setup, "STE + sampled regulariser, self-loops forced");
    c->cfg.sbm_self_loops = 0;
    /* without the estimator the expected-density regulariser still trains C and the MLP */
    c->cfg.sbm_ste = 0;
    c->cfg.sbm_reg_kind = SB_SBM_REG_EXPECTED;
    check_gradients(be, c, setup, "no STE, expected-density regulariser");
    { /* and without either, nothing reaches them */
        float out[SZ], dq[SZ], dk[SZ], dv[SZ], *dp = tu_alloc(c->np);
        c->weight = 0.0;
        run_backward(be, sb_attention_find("sbm"), c, out, dq, dk, dv, dp);
        double worst = 0.0;
        for (size_t i = 0; i < c->np; i++) worst = tu_worse(worst, fabs(dp[i]));
        char name[160];
        snprintf(name, sizeof name, "%s, no STE, no regulariser: the SBM parameters get no gradient", setup);
        tu_report(name, worst, 0.0);
        free(dp);
    }
    c->cfg.sbm_ste = 1;
    c->cfg.sbm_reg_kind = SB_SBM_REG_SAMPLED;
}

/* The spread setup is what it claims: every Ŝ entry well inside (0,1), so
 * the softmax's Jacobian is far from 0, and at least a third of the query
 * memberships in (0.2, 0.8), so the sigmoid's is too. Counted by ranges, so
 * a NaN counts as outside. */
static void check_spread_setup(const ctx_t *c) {
    int s_in = 0, m_in = 0;
    for (int h = 0; h < H; h++) {
        double S[K * K];
        block_matrix(c, h, S);
        for (int i = 0; i < K * K; i++) s_in += S[i] > 1e-3 && S[i] < 0.8;
    }
    for (size_t row = 0; row < (size_t)G * N; row++) {
        double m[K];
        membership(c, (int)(row / N % H), c->q + row * D, m);
        for (int a = 0; a < K; a++) m_in += m[a] > 0.2 && m[a] < 0.8;
    }
    tu_check(s_in == H * K * K, "spread setup: %d of %d S entries inside (1e-3, 0.8)", s_in, H * K * K);
    tu_check(3 * m_in >= G * N * K, "spread setup: %d of %d query memberships inside (0.2, 0.8), a third at least",
             m_in, G * N * K);
}

int main(void) {
    sb_backend *be = sb_backend_cpu_create(0);
    static ctx_t c;
    c.cfg = (sb_attn_config){.n_heads = H, .d_head = D, .max_len = N, .attn_dropout = 0.0f, .sbm_k = K,
                             .sbm_delta = 0.0f, .sbm_sampler = SB_SAMPLER_FASTRG, .sbm_ste = 1, .sbm_ste_clip = 0.0f};
    const sb_attention_ops *sbm = sb_attention_find("sbm"), *full = sb_attention_find("full");
    c.np = sbm->param_count(&c.cfg);
    c.params = tu_alloc(c.np);
    sb_rng_reader r = tu_rng(40);
    sbm->init_params(&c.cfg, c.params, &r);
    float *init = tu_alloc(c.np);
    memcpy(init, c.params, sizeof(float) * c.np);
    tu_fill_normal(c.q, SZ, 1.0f, 41), tu_fill_normal(c.k, SZ, 1.0f, 42), tu_fill_normal(c.v, SZ, 1.0f, 43);
    tu_fill_normal(c.R, SZ, 1.0f, 44);
    for (int i = 0; i < B * N; i++) c.mask[i] = (i >= N + 5) ? 0.0f : 1.0f; /* example 1: last two are pads */
    sb_csr g;
    build_graph(&g, c.mask);
    c.g = &g;

    /* Two setups. Clusters 20 times the init's spread the memberships over
     * (0,1) but saturate Ŝ = softmax(CCᵀ) to one entry per head, so no
     * gradient through Ŝ is visible there; the init's clusters keep Ŝ spread,
     * and an MLP output 8 times larger spreads the memberships. */
    for (int i = 0; i < H * K * D; i++) c.params[i] = 20.0f * init[i];
    check_gradient_cases(be, &c, "saturated S");
    memcpy(c.params, init, sizeof(float) * c.np);
    for (size_t i = H * K * D + D * D + D; i < c.np; i++) c.params[i] *= 8.0f; /* w2, b2 */
    check_spread_setup(&c);
    check_gradient_cases(be, &c, "spread S");
    c.cfg.sbm_ste = 1;
    c.cfg.sbm_reg_kind = SB_SBM_REG_SAMPLED;

    { /* the empty row outputs exactly zero; pads' rows too */
        float out[SZ], dq[SZ], dk[SZ], dv[SZ], *dp = tu_alloc(c.np);
        run_backward(be, sbm, &c, out, dq, dk, dv, dp);
        free(dp);
        int zero = 1;
        for (int gi = 0; gi < G; gi++)
            for (int d = 0; d < D; d++) zero &= out[((size_t)gi * N + 2) * D + d] == 0.0f;
        tu_check(zero, "a query row without edges outputs exactly 0");
    }
    { /* every edge present (Bernoulli with delta = 1): full attention. Padded
       * queries get no row in SBM while full attention computes theirs; their
       * output never reaches the loss in the model, so their dO is 0 here. */
        for (int gi = 0; gi < G; gi++)
            for (int i = 0; i < N; i++)
                if (c.mask[(gi / H) * N + i] == 0)
                    for (int d = 0; d < D; d++) c.R[((size_t)gi * N + i) * D + d] = 0.0f;
        sb_attn_config cfg = c.cfg;
        cfg.sbm_sampler = SB_SAMPLER_BERNOULLI;
        cfg.sbm_delta = 1.0f;
        cfg.sbm_ste = 0;
        float o1[SZ], o2[SZ], dq1[SZ], dk1[SZ], dv1[SZ], dq2[SZ], dk2[SZ], dv2[SZ];
        for (int v = 0; v < 2; v++) {
            const sb_attention_ops *ops = v ? full : sbm;
            void *st = ops->state_create(be, &cfg, B, N, 1);
            sb_attn_call call = {.B = B, .H = H, .N = N, .D = D, .q = c.q, .k = c.k, .v = c.v, .key_mask = c.mask,
                                 .out = v ? o2 : o1, .training = 1,
                                 .rng = sb_rng_make(3, SB_RNG_ATTN_DROPOUT, 0, 0, 0, 0),
                                 .rng_attn = sb_rng_make(3, SB_RNG_ATTN, 0, 0, 0, 0)};
            float *dq = v ? dq2 : dq1, *dk = v ? dk2 : dk1, *dv = v ? dv2 : dv1;
            memset(dq, 0, sizeof(float) * SZ), memset(dk, 0, sizeof(float) * SZ), memset(dv, 0, sizeof(float) * SZ);
            float *dp = tu_alloc(c.np + 1);
            ops->forward(be, st, &cfg, c.params, &call);
            sb_attn_grads gr = {.dq = dq, .dk = dk, .dv = dv, .dout = c.R};
            ops->backward(be, st, &cfg, c.params, dp, &call, &gr);
            if (!v) {
                float dens[G];
                ops->density(st, dens);
                double expect0 = 1.0, expect1 = 25.0 / 49.0, worst = 0;
                for (int gi = 0; gi < G; gi++) worst = tu_worse(worst, fabs(dens[gi] - (gi < H ? expect0 : expect1)));
                tu_report("all edges: density = real pairs / N^2", worst, 1e-7);
            }
            ops->state_destroy(be, st);
            free(dp);
        }
        /* padded query rows: full attention attends over real keys, SBM gives them no row */
        float o1r[SZ], o2r[SZ], dq1r[SZ], dq2r[SZ], dk1r[SZ], dk2r[SZ], dv1r[SZ], dv2r[SZ];
        size_t n = 0;
        for (int gi = 0; gi < G; gi++)
            for (int i = 0; i < N; i++)
                if (c.mask[(gi / H) * N + i] > 0)
                    for (int d = 0; d < D; d++, n++) {
                        size_t x = ((size_t)gi * N + i) * D + d;
                        o1r[n] = o1[x], o2r[n] = o2[x], dq1r[n] = dq1[x], dq2r[n] = dq2[x];
                        dk1r[n] = dk1[x], dk2r[n] = dk2[x], dv1r[n] = dv1[x], dv2r[n] = dv2[x];
                    }
        tu_report("all edges: output = full attention's", tu_max_rel_err(o1r, o2r, n), 1e-5);
        tu_report("all edges: dQ = full attention's", tu_max_rel_err(dq1r, dq2r, n), 1e-4);
        tu_report("all edges: dK = full attention's", tu_max_rel_err(dk1r, dk2r, n), 1e-4);
        tu_report("all edges: dV = full attention's", tu_max_rel_err(dv1r, dv2r, n), 1e-4);
    }
    check_sampler_wiring(be);
    check_thread_invariance(be);
    check_groups_match_examples(be);
    check_grouping_invariance(be);
    expect_backward_refused(be, 1, 1, 1, "once after a training forward runs (0)");
    expect_backward_refused(be, 1, 1, 2, "twice after one forward is refused (3)");
    expect_backward_refused(be, 1, 0, 1, "after an evaluation forward is refused (3)");
    expect_backward_refused(be, 0, 0, 1, "on an inference state is refused (3)");
    free(c.params), free(init);
    sb_backend_destroy(be);
    return tu_finish();
}
