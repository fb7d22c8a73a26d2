/* SBM attention (Cho et al., NeurIPS 2022), computed in O(edges).
 *
 * Per layer: one MLP shared by all heads and applied to both queries and keys
 * (Linear(D,D) -> ReLU -> Linear(D,D)), and per head k cluster embeddings C_h.
 * For graph g = (example b, head h), with n tokens:
 *   Q' = MLP(Q), K' = MLP(K)                                   [n,D]
 *   Q̂ = σ(Q' C_hᵀ), K̂ = σ(K' C_hᵀ)                             [n,k] memberships
 *   Ŝ_h = softmax over all k² entries of C_h C_hᵀ               [k,k] block matrix
 *   p_ij = Q̂_i Ŝ_h K̂_jᵀ                                        edge probability
 *   graph ~ fastRG(Q̂, Ŝ, K̂) (+ δ, + self-loops), or dense Bernoulli
 *   out_i = Σ_{j ∈ N(i)} softmax_j(q_i·k_j/√D) v_j             on the edges only
 * Backward: the attention gradients on the edges (dQ, dK, dV), then the
 * straight-through estimator: dL/dp_ij = clip(dL/dA_ij + r) on sampled edges
 * (dL/dA_ij equals the edge's score-logit gradient; r is the density
 * regulariser's share), 0 elsewhere; then through p = Q̂ Ŝ K̂ᵀ in O(m k):
 *   Y = G K̂ (SpMM, width k): dQ̂ = Y Ŝᵀ, dŜ = Σ_b Q̂ᵀ Y;  dK̂ = Gᵀ (Q̂ Ŝ) (SpMM into the keys)
 * then σ', the cluster embeddings (via memberships and via Ŝ) and the MLP
 * into dQ, dK. Nothing of size n x n is ever formed (except by the optional
 * dense Bernoulli sampler, which is O(n² k) by definition).
 *
 * Parameters per layer, in order: C [H,k,D], w1 [D,D], b1 [D], w2 [D,D], b2 [D]
 * (y = x w1ᵀ + b1, torch.nn.Linear layout). */
#include "core/sbm_attention.h"
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/attention.h"
#include "core/layers.h"
#include "core/fatal.h"

const char *const sb_sbm_part_names[SB_SBM_PART_COUNT] = {"memberships", "sampling", "attention", "ste"};
static double profile[SB_SBM_PART_COUNT];
void sb_sbm_profile_reset(void) { memset(profile, 0, sizeof profile); }
void sb_sbm_profile_get(double seconds[SB_SBM_PART_COUNT]) { memcpy(seconds, profile, sizeof profile); }
/* charge the time since *t to part, and restart *t */
static void lap(int part, double *t) {
    double now = omp_get_wtime();
    profile[part] += now - *t;
    *t = now;
}

typedef struct {
    int B, N, H, D, k, training;
    /* forward activations kept for backward */
    float *h1q, *qp, *h1k, *kp; /* [B,H,N,D] MLP hidden (after ReLU) and outputs */
    float *qhat, *khat;         /* [B,H,N,k] from a forward's memberships to its sampling; in
                                 * backward, one group's [group rows, k], computed again */
    float *S;                   /* [H,k,k] */
    sb_csr graph;               /* this call's sampled graph (owned) */
    const sb_csr *used;         /* the graph the last forward used */
    float *probs;               /* [nnz] a training call's probabilities, from its forward to its
                                 * backward, which turns them into the edge gradients ds */
    int probs_fresh;            /* probs hold the last forward's probabilities (not yet ds) */
    float *density;             /* [B,H] */
    int last_B;
    /* backward's work, allocated per call (backward_work_alloc) */
    float *Y, *dqhat, *dkhat;   /* [group rows, k] (one group of examples, sbm_backward):
                                 * G K̂ then Q̂ Ŝ then dQm; dQ̂ then dKm; dK̂ */
    float *sums;                /* [B·H, 2k] the expected-density regulariser's Q̂ᵀ1, K̂ᵀ1 per graph */
    float *dqp, *dkp, *dh;      /* [B,H,N,D] */
    float *kvec;                /* [2k] the expected-density regulariser's Ŝ sk and Ŝᵀ sq */
    float *dS, *dD;             /* [H,k,k] */
} sbm_state;

typedef struct {
    float *C, *w1, *b1, *w2, *b2;
} sbm_params;

static sbm_params unpack(const sb_attn_config *cfg, float *p) {
    const size_t D = cfg->d_head, CK = (size_t)cfg->n_heads * cfg->sbm_k * D;
    sbm_params s = {p, p + CK, p + CK + D * D, p + CK + D * D + D, p + CK + 2 * D * D + D};
    return s;
}

static size_t sbm_param_count(const sb_attn_config *cfg) {
    const size_t D = cfg->d_head;
    return (size_t)cfg->n_heads * cfg->sbm_k * D + 2 * D * D + 2 * D;
}

static int sbm_param_layout(const sb_attn_config *cfg, sb_param_desc *out) {
    const int D = cfg->d_head, k = cfg->sbm_k, H = cfg->n_heads;
    const size_t CK = (size_t)H * k * D;
    out[0] = (sb_param_desc){.name = "C", .rank = 3, .dims = {H, k, D}, .offset = 0};
    out[1] = (sb_param_desc){.name = "w1", .rank = 2, .dims = {D, D}, .offset = CK};
    out[2] = (sb_param_desc){.name = "b1", .rank = 1, .dims = {D}, .offset = CK + (size_t)D * D};
    out[3] = (sb_param_desc){.name = "w2", .rank = 2, .dims = {D, D}, .offset = CK + (size_t)D * D + D};
    out[4] = (sb_param_desc){.name = "b2", .rank = 1, .dims = {D}, .offset = CK + 2 * (size_t)D * D + D};
    return 5;
}

static void sbm_init_params(const sb_attn_config *cfg, float *params, sb_rng_reader *rng) {
    sbm_params p = unpack(cfg, params);
    const int D = cfg->d_head, k = cfg->sbm_k, H = cfg->n_heads;
    /* C: torch kaiming_normal_ on [H,k,D]: fan_in = k*D, gain sqrt(2) */
    const float std_c = sqrtf(2.0f / (float)(k * D));
    for (size_t i = 0; i < (size_t)H * k * D; i++) p.C[i] = std_c * sb_rng_next_normal(rng);
    /* MLP: torch.nn.Linear defaults, U(-1/sqrt(D), 1/sqrt(D)) for weights and biases */
    const float bound = 1.0f / sqrtf((float)D);
    float *lin[4] = {p.w1, p.b1, p.w2, p.b2};
    size_t len[4] = {(size_t)D * D, (size_t)D, (size_t)D * D, (size_t)D};
    for (int t = 0; t < 4; t++)
        for (size_t i = 0; i < len[t]; i++) lin[t][i] = (2.0f * sb_rng_next_unit(rng) - 1.0f) * bound;
}

/* The MLP activations [B,H,N,D]: held by a training state for backward, by
 * an inference call until its memberships are computed. The memberships
 * [B,H,N,k] are held by every call only until its graph is sampled: a
 * training state's backward computes them again a group of examples at a
 * time (two small products and a sigmoid per group), which keeps the largest
 * buffers of a step out of its peak. None is zeroed: each is written in full
 * before it is read (products with beta = 0, then elementwise ops), and in
 * inference zeroing them was a pass over 2k + 4d_h floats per row (about
 * 2.5 ms a call at the bench's shapes on 2 threads). */
static void mlp_alloc(sb_backend *be, sbm_state *s, size_t rows) {
    float **nd[] = {&s->h1q, &s->qp, &s->h1k, &s->kp};
    for (int i = 0; i < 4; i++) *nd[i] = be->alloc_uninit(be, sizeof(float) * rows * s->D);
}

static void mlp_free(sb_backend *be, sbm_state *s) {
    float **nd[] = {&s->h1q, &s->qp, &s->h1k, &s->kp};
    for (int i = 0; i < 4; i++) be->free(be, *nd[i]), *nd[i] = NULL;
}

static void memberships_alloc(sb_backend *be, sbm_state *s, size_t rows) {
    s->qhat = be->alloc_uninit(be, sizeof(float) * rows * s->k);
    s->khat = be->alloc_uninit(be, sizeof(float) * rows * s->k);
}

static void memberships_free(sb_backend *be, sbm_state *s) {
    be->free(be, s->qhat), be->free(be, s->khat);
    s->qhat = s->khat = NULL;
}

/* The probabilities live from a training call's forward to its backward
 * only: held longer (until the next forward), they sat beside its sampling's
 * scratch and the new graph and set a training step's peak (75.1 MiB against
 * the first step's 65.7 at 5% density, bench_sbm_attention). */
static void probs_release(sb_backend *be, sbm_state *s) {
    be->free(be, s->probs), s->probs = NULL;
    s->probs_fresh = 0;
}

/* A per-edge buffer (the probabilities, the kept probabilities), allocated
 * per call, uninitialised (its writer sets every edge's), exactly as many as
 * the edges (at least one: NULL would mean "not kept" to the backend). */
static float *edge_buffer(sb_backend *be, int64_t nnz) {
    return be->alloc_uninit(be, sizeof(float) * (size_t)(nnz > 0 ? nnz : 1));
}

/* The backward through the memberships runs over groups of whole examples,
 * so its three [rows, k] work buffers (Y, dQ̂, dK̂) hold one group's rows, not
 * the batch's: at least SBM_GROUP_ROWS rows (enough work per backend call),
 * and then as few examples as that takes. Every product and pass is the one
 * the whole batch would run, restricted to the group's graphs, and the
 * accumulations into dŜ and dC keep the batch's order (examples in order;
 * the expected-density terms of dŜ after all the straight-through ones), so
 * the gradients do not depend on the grouping. */
#define SBM_GROUP_ROWS 4096

static int examples_per_group(int B, int H, int N) {
    const int per = (SBM_GROUP_ROWS + H * N - 1) / (H * N);
    return per < B ? per : B;
}

static void *sbm_state_create(sb_backend *be, const sb_attn_config *cfg, int B, int N, int training) {
    sbm_state *s = calloc(1, sizeof *s);
    s->B = B, s->N = N, s->H = cfg->n_heads, s->D = cfg->d_head, s->k = cfg->sbm_k, s->training = training;
    const size_t rows = (size_t)B * s->H * N;
    if (training) mlp_alloc(be, s, rows); /* kept for backward; inference allocates per call */
    s->S = be->alloc(be, sizeof(float) * (size_t)s->H * s->k * s->k);
    s->density = be->alloc(be, sizeof(float) * (size_t)B * s->H);
    if (training) {
        s->kvec = be->alloc(be, sizeof(float) * 2 * (size_t)s->k);
        s->dS = be->alloc(be, sizeof(float) * (size_t)s->H * s->k * s->k);
        s->dD = be->alloc(be, sizeof(float) * (size_t)s->H * s->k * s->k);
    }
    return s;
}

static void sbm_state_destroy(sb_backend *be, void *state) {
    sbm_state *s = state;
    if (!s) return;
    float *bufs[] = {s->h1q, s->qp, s->h1k, s->kp, s->qhat, s->khat, s->S, s->probs, s->density,
                     s->Y, s->dqhat, s->dkhat, s->sums, s->kvec, s->dqp, s->dkp, s->dh, s->dS, s->dD};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) be->free(be, bufs[i]);
    sb_csr_free(be, &s->graph);
    free(s);
}

/* out[g] (=) X[g] Wᵀ for the G = B*H graphs with per-head W [H, rows_w, cols]:
 * X [B,H,N,cols], out [B,H,N,rows_w]. */
static void per_head_gemm_nt(sb_backend *be, float *out, const float *X, const float *W, int B, int H, int N,
                             int cols, int rows_w, float beta) {
    for (int b = 0; b < B; b++)
        be->gemm_batched(be, 0, 1, N, rows_w, cols, 1.0f, X + (size_t)b * H * N * cols, cols, (size_t)N * cols, W,
                         cols, (size_t)rows_w * cols, beta, out + (size_t)b * H * N * rows_w, rows_w,
                         (size_t)N * rows_w, H);
}

/* Q' = ReLU(X w1ᵀ + b1) w2ᵀ + b2 over all rows. */
static void mlp_forward(sb_backend *be, float *h1, float *out, const float *x, const sbm_params *p, int rows, int D) {
    sb_linear_forward(be, h1, x, p->w1, p->b1, rows, D, D);
    be->relu_forward(be, h1, h1, (size_t)rows * D);
    sb_linear_forward(be, out, h1, p->w2, p->b2, rows, D, D);
}

/* Memberships Q̂ = σ(Q' Cᵀ), K̂ = σ(K' Cᵀ) into s->qhat, s->khat for B
 * examples from their MLP outputs qp, kp: the forward's for the call, the
 * backward's again for a group (the same products per example, so the same
 * values). */
static void memberships_forward(sb_backend *be, sbm_state *s, const float *C, const float *qp, const float *kp, int B,
                                int H, int N, int D) {
    const size_t nk = (size_t)B * H * N * s->k;
    per_head_gemm_nt(be, s->qhat, qp, C, B, H, N, D, s->k, 0.0f);
    per_head_gemm_nt(be, s->khat, kp, C, B, H, N, D, s->k, 0.0f);
    be->sigmoid_forward(be, s->qhat, s->qhat, nk);
    be->sigmoid_forward(be, s->khat, s->khat, nk);
}

static void sbm_forward(sb_backend *be, void *state, const sb_attn_config *cfg, const float *params,
                        const sb_attn_call *c) {
    sbm_state *s = state;
    sbm_params p = unpack(cfg, (float *)params);
    const int B = c->B, H = c->H, N = c->N, D = c->D, k = s->k, rows = B * H * N;
    s->last_B = B;
    double t = omp_get_wtime();
    probs_release(be, s); /* a forward without its backward (an evaluation) leaves none behind */
    /* nor does the last call's graph (kept until now for its density and
     * in-degrees) sit beside this call's memberships */
    sb_csr_free(be, &s->graph);
    if (!s->training) mlp_alloc(be, s, (size_t)rows);
    memberships_alloc(be, s, (size_t)rows);
    /* memberships */
    mlp_forward(be, s->h1q, s->qp, c->q, &p, rows, D);
    mlp_forward(be, s->h1k, s->kp, c->k, &p, rows, D);
    memberships_forward(be, s, p.C, s->qp, s->kp, B, H, N, D);
    /* block matrix: softmax over all k² entries of C_h C_hᵀ */
    be->gemm_batched(be, 0, 1, k, k, D, 1.0f, p.C, D, (size_t)k * D, p.C, D, (size_t)k * D, 0.0f, s->S, k,
                     (size_t)k * k, H);
    be->softmax_rows(be, s->S, (size_t)H, k * k);
    if (!s->training) mlp_free(be, s);
    lap(SB_SBM_PART_MEMBERSHIPS, &t);
    /* graph */
    if (c->fixed_graph) {
        s->used = c->fixed_graph;
    } else {
        float delta = (c->training || cfg->sbm_delta_at_eval) ? cfg->sbm_delta : 0.0f;
        be->sbm_sample(be, &s->graph, s->qhat, s->khat, s->S, c->key_mask, B, H, N, k, delta, cfg->sbm_self_loops,
                       cfg->sbm_sampler, c->rng_attn);
        s->used = &s->graph;
    }
    memberships_free(be, s);
    const sb_csr *g = s->used;
    /* only backward reads the probabilities: a training call on a training
     * state keeps them, an evaluation or an inference state none */
    const int keep = s->training && c->training;
    if (keep) s->probs = edge_buffer(be, g->nnz);
    lap(SB_SBM_PART_SAMPLING, &t);
    float pd = c->training ? cfg->attn_dropout : 0.0f;
    be->sparse_attention_forward(be, c->out, s->probs, c->q, c->k, c->v, g, D, pd, c->rng, H);
    s->probs_fresh = keep;
    lap(SB_SBM_PART_ATTENTION, &t);
    for (int gi = 0; gi < B * H; gi++)
        s->density[gi] = (float)((double)(g->row_ptr[(size_t)(gi + 1) * N] - g->row_ptr[(size_t)gi * N]) /
                                 ((double)N * N));
}

/* Backward through Q' = MLP(X) into dX, accumulating parameter gradients. */
static void mlp_backward(sb_backend *be, float *dx, const sbm_params *dp, const sbm_params *p, float *dout,
                         const float *h1, const float *x, float *scratch, int rows, int D) {
    be->zero(be, scratch, sizeof(float) * (size_t)rows * D);
    sb_linear_backward(be, scratch, dp->w2, dp->b2, dout, h1, p->w2, rows, D, D);
    /* ReLU backward in place: h1 > 0 passes the gradient */
    be->zero(be, dout, sizeof(float) * (size_t)rows * D);
    be->relu_backward(be, dout, h1, scratch, (size_t)rows * D);
    sb_linear_backward(be, dx, dp->w1, dp->b1, dout, x, p->w1, rows, D, D);
}

/* The straight-through estimator's edge values, in place over the attention
 * gradients ds: G_e = clip(dL/dA_e + r). The reference regulariser
 * differentiates λ × mean density through each sampled entry, r = its weight /
 * (H B N²). A forced self-loop (sbm_self_loops) is present whatever p_ii, so
 * no gradient reaches p_ii through it: its G_e is 0. */
static void ste_edge_values(sb_backend *be, float *ds, const sb_csr *g, float r, float clip, int loops) {
    const size_t grows = (size_t)g->n_graphs * g->n;
#pragma omp parallel for schedule(static)
    for (size_t row = 0; row < grows; row++) {
        const int32_t i = (int32_t)(row % (size_t)g->n);
        for (int64_t e = g->row_ptr[row]; e < g->row_ptr[row + 1]; e++) {
            float v = ds[e] + r;
            if (clip > 0.0f) v = v > clip ? clip : v < -clip ? -clip : v;
            ds[e] = loops && g->col[e] == i ? 0.0f : v;
        }
    }
    be->flops.total += 2LL * g->nnz;
}

/* One group's slice: examples [b0, b0 + nb) of the call. */
typedef struct {
    int b0, nb;
    size_t off_d;        /* the offset of its first row in [B,H,N,D] buffers */
    sb_csr graph;        /* a view of its graphs (core/csr.h) */
} sbm_group;

static sbm_group group_at(const sb_attn_call *c, const sb_csr *g, int b0, int nb) {
    const size_t rows0 = (size_t)b0 * c->H * c->N;
    return (sbm_group){b0, nb, rows0 * c->D, sb_csr_graphs(g, b0 * c->H, (b0 + nb) * c->H)};
}

/* Through p = Q̂ Ŝ K̂ᵀ from the edge values G, for one group: dQ̂ = (G K̂) Ŝᵀ
 * into dqhat, dŜ += Σ_b Q̂ᵀ (G K̂), dK̂ = Gᵀ (Q̂ Ŝ) into dkhat (zeroed by the
 * caller). Y holds G K̂, then Q̂ Ŝ (Ŝ is symmetric, so Ŝᵀ = Ŝ). */
static void ste_memberships_backward(sb_backend *be, const sbm_state *s, const sb_attn_call *c, const sbm_group *gp,
                                     const float *G, float *Y, float *dqhat, float *dkhat, float *dS) {
    const int H = c->H, N = c->N, k = s->k, nb = gp->nb;
    const float *qhat = s->qhat, *khat = s->khat; /* the group's */
    be->zero(be, Y, sizeof(float) * (size_t)nb * H * N * k);
    be->spmm_rows(be, Y, &gp->graph, G, khat, k);                             /* Y = G K̂ */
    per_head_gemm_nt(be, dqhat, Y, s->S, nb, H, N, k, k, 0.0f);               /* dQ̂ = Y Ŝᵀ */
    for (int b = 0; b < nb; b++)                                              /* dŜ += Q̂ᵀ Y */
        be->gemm_batched(be, 1, 0, k, k, N, 1.0f, qhat + (size_t)b * H * N * k, k, (size_t)N * k,
                         Y + (size_t)b * H * N * k, k, (size_t)N * k, 1.0f, dS, k, (size_t)k * k, H);
    per_head_gemm_nt(be, Y, qhat, s->S, nb, H, N, k, k, 0.0f);                /* Y = Q̂ Ŝ */
    be->spmm_cols(be, dkhat, &gp->graph, G, Y, k);                            /* dK̂ = Gᵀ Y */
}

/* out[a] = Σ_i x[i,a] over the real rows i of x [N,k] (key mask km, or
 * NULL: all), added up in double, COLUMN_SUMS_BLOCK columns at a time: in
 * float, sums over millions of rows drift (once a sum passes about 2^22,
 * each add rounds by as much as a membership). */
#define COLUMN_SUMS_BLOCK 256
static void column_sums_real(const float *x, const float *km, int N, int k, float *out) {
    double acc[COLUMN_SUMS_BLOCK];
    for (int a0 = 0; a0 < k; a0 += COLUMN_SUMS_BLOCK) {
        const int na = k - a0 < COLUMN_SUMS_BLOCK ? k - a0 : COLUMN_SUMS_BLOCK;
        for (int a = 0; a < na; a++) acc[a] = 0.0;
        for (int i = 0; i < N; i++)
            if (!km || km[i] > 0.0f)
                for (int a = 0; a < na; a++) acc[a] += (double)x[(size_t)i * k + a0 + a];
        for (int a = 0; a < na; a++) out[a0 + a] = (float)acc[a];
    }
}

/* The expected-density regulariser w Σ_b (1ᵀQ̂_b) Ŝ_h (K̂_bᵀ1) over real
 * positions (w = its weight / (H B N²)): d/dQ̂_i = w Ŝ (K̂ᵀ1), d/dK̂_j = w Ŝᵀ
 * (Q̂ᵀ1), d/dŜ = w (Q̂ᵀ1)(K̂ᵀ1)ᵀ. For one group's graphs: the column sums over
 * real rows, sq = Q̂ᵀ1 and sk = K̂ᵀ1, into s->sums (dŜ's term waits for
 * every group), and the dQ̂ and dK̂ terms added into the group's dqhat and
 * dkhat (rows of real positions only). */
static void expected_density_memberships(const sbm_state *s, const sb_attn_call *c, const sbm_group *gp, float w,
                                         float *dqhat, float *dkhat) {
    const int H = c->H, N = c->N, k = s->k;
    float *aq = s->kvec, *ak = aq + k;
    for (int gl = 0; gl < gp->nb * H; gl++) {
        const int gi = gp->b0 * H + gl;
        const float *km = c->key_mask ? c->key_mask + (size_t)(gi / H) * N : NULL;
        const float *qh = s->qhat + (size_t)gl * N * k, *kh = s->khat + (size_t)gl * N * k;
        const float *Sh = s->S + (size_t)(gi % H) * k * k;
        float *sq = s->sums + (size_t)gi * 2 * k, *sk = sq + k;
        column_sums_real(qh, km, N, k, sq);
        column_sums_real(kh, km, N, k, sk);
        for (int a = 0; a < k; a++) {
            aq[a] = ak[a] = 0.0f;
            for (int bb = 0; bb < k; bb++) aq[a] += Sh[(size_t)a * k + bb] * sk[bb], ak[a] += Sh[(size_t)bb * k + a] * sq[bb];
        }
        for (int i = 0; i < N; i++)
            if (!km || km[i] > 0.0f)
                for (int a = 0; a < k; a++)
                    dqhat[(size_t)gl * N * k + (size_t)i * k + a] += w * aq[a],
                        dkhat[(size_t)gl * N * k + (size_t)i * k + a] += w * ak[a];
    }
}

/* The regulariser's dŜ term, for every graph (after all the groups). */
static void expected_density_block(const sbm_state *s, const sb_attn_call *c, float w, float *dS) {
    const int k = s->k;
    for (int gi = 0; gi < c->B * c->H; gi++) {
        const float *sq = s->sums + (size_t)gi * 2 * k, *sk = sq + k;
        float *dSh = dS + (size_t)(gi % c->H) * k * k;
        for (int a = 0; a < k; a++)
            for (int bb = 0; bb < k; bb++) dSh[(size_t)a * k + bb] += w * sq[a] * sk[bb];
    }
}

/* From one group's dQ̂ and dK̂ towards the parameters and dQ, dK: σ' (dQm
 * into Y, dKm into dqhat's buffer, which is free by then), then Qm = Q' Cᵀ:
 * dQ' = dQm C into dqp, dC += dQmᵀ Q' (and the same for keys). */
static void memberships_group_backward(sb_backend *be, const sbm_state *s, const sbm_params *p, sbm_params *dp,
                                       const sb_attn_call *c, const sbm_group *gp, float *Y, float *dqhat,
                                       const float *dkhat) {
    const int H = c->H, N = c->N, D = c->D, k = s->k;
    const size_t nk = (size_t)gp->nb * H * N * k;
    float *dQm = Y, *dKm = dqhat;
    be->zero(be, dQm, sizeof(float) * nk);
    be->sigmoid_backward(be, dQm, s->qhat, dqhat, nk);
    be->zero(be, dKm, sizeof(float) * nk);
    be->sigmoid_backward(be, dKm, s->khat, dkhat, nk);
    for (int b = 0; b < gp->nb; b++) {
        size_t ok = (size_t)b * H * N * k, od = gp->off_d + (size_t)b * H * N * D;
        be->gemm_batched(be, 0, 0, N, D, k, 1.0f, dQm + ok, k, (size_t)N * k, p->C, D, (size_t)k * D, 0.0f,
                         s->dqp + od, D, (size_t)N * D, H);
        be->gemm_batched(be, 0, 0, N, D, k, 1.0f, dKm + ok, k, (size_t)N * k, p->C, D, (size_t)k * D, 0.0f,
                         s->dkp + od, D, (size_t)N * D, H);
        be->gemm_batched(be, 1, 0, k, D, N, 1.0f, dQm + ok, k, (size_t)N * k, s->qp + od, D, (size_t)N * D, 1.0f,
                         dp->C, D, (size_t)k * D, H);
        be->gemm_batched(be, 1, 0, k, D, N, 1.0f, dKm + ok, k, (size_t)N * k, s->kp + od, D, (size_t)N * D, 1.0f,
                         dp->C, D, (size_t)k * D, H);
    }
}

/* After every group: Ŝ = softmax(C Cᵀ) over k² (dC += (dD + dDᵀ) C), and the
 * shared MLP from dQ' and dK' to dQ, dK and its parameters. */
static void block_and_mlp_backward(sb_backend *be, const sbm_state *s, const sbm_params *p, sbm_params *dp,
                                   const sb_attn_call *c, const sb_attn_grads *gr, const float *dS) {
    const int H = c->H, D = c->D, k = s->k, rows = c->B * H * c->N;
    float *dD = s->dD;
    be->zero(be, dD, sizeof(float) * (size_t)H * k * k);
    be->softmax_rows_backward(be, dD, s->S, dS, (size_t)H, k * k);
    be->gemm_batched(be, 0, 0, k, D, k, 1.0f, dD, k, (size_t)k * k, p->C, D, (size_t)k * D, 1.0f, dp->C, D,
                     (size_t)k * D, H);
    be->gemm_batched(be, 1, 0, k, D, k, 1.0f, dD, k, (size_t)k * k, p->C, D, (size_t)k * D, 1.0f, dp->C, D,
                     (size_t)k * D, H);
    /* the shared MLP, for queries then keys */
    mlp_backward(be, gr->dq, dp, p, s->dqp, s->h1q, c->q, s->dh, rows, D);
    mlp_backward(be, gr->dk, dp, p, s->dkp, s->h1k, c->k, s->dh, rows, D);
}

/* The backward's work buffers, allocated per call and freed at its end, so
 * they never sit beside a forward's sampling: one group's memberships, Y,
 * dQ̂ and dK̂ [group rows, k]; dQ', dK' and the MLP's scratch [B,H,N,D]; the
 * regulariser's sums [B·H, 2k]. */
static void backward_work_alloc(sb_backend *be, sbm_state *s, const sb_attn_call *c, int expected) {
    const size_t group_rows = (size_t)examples_per_group(s->B, s->H, s->N) * s->H * s->N;
    const size_t rows = (size_t)c->B * c->H * c->N;
    float **nk[] = {&s->qhat, &s->khat, &s->Y, &s->dqhat, &s->dkhat}, **nd[] = {&s->dqp, &s->dkp, &s->dh};
    for (int i = 0; i < 5; i++) *nk[i] = be->alloc_uninit(be, sizeof(float) * group_rows * s->k);
    for (int i = 0; i < 3; i++) *nd[i] = be->alloc_uninit(be, sizeof(float) * rows * s->D);
    if (expected) s->sums = be->alloc_uninit(be, sizeof(float) * (size_t)c->B * c->H * 2 * s->k);
}

static void backward_work_free(sb_backend *be, sbm_state *s) {
    float **all[] = {&s->qhat, &s->khat, &s->Y, &s->dqhat, &s->dkhat, &s->dqp, &s->dkp, &s->dh, &s->sums};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) be->free(be, *all[i]), *all[i] = NULL;
}

static void sbm_backward(sb_backend *be, void *state, const sb_attn_config *cfg, const float *params,
                         float *dparams, const sb_attn_call *c, const sb_attn_grads *gr) {
    sbm_state *s = state;
    sbm_params p = unpack(cfg, (float *)params), dp = unpack(cfg, dparams);
    const int B = c->B, H = c->H, N = c->N, D = c->D, k = s->k;
    const sb_csr *g = s->used;
    if (!s->probs_fresh) {
        sb_fatal(3, "sbm attention: backward %s",
                 s->training ? "without a training forward since the last one (a backward consumes its forward's "
                               "probabilities)"
                             : "on an inference state");
    }
    s->probs_fresh = 0;
    double t = omp_get_wtime();
    float pd = c->training ? cfg->attn_dropout : 0.0f;
    /* the dropped-out probabilities only with dropout (without, dV reads
     * probs), and only for the sparse backward */
    float *pk = pd > 0.0f ? edge_buffer(be, g->nnz) : NULL;
    /* the edge gradients replace the probabilities in place: one per-edge
     * buffer fewer at the training peak */
    float *ds = s->probs;
    be->sparse_attention_backward(be, gr->dq, gr->dk, gr->dv, ds, pk, gr->dout, s->probs, c->q, c->k, c->v, g, D,
                                  pd, c->rng, H);
    be->free(be, pk);
    lap(SB_SBM_PART_ATTENTION, &t);
    /* Gradients reach the SBM's parameters through the straight-through
     * estimator and through the expected-density regulariser, which needs no
     * estimator (it is a smooth function of Q̂, Ŝ, K̂): with sbm_ste off it
     * still trains them. */
    const int expected = cfg->sbm_reg_kind == SB_SBM_REG_EXPECTED && gr->density_weight != 0.0f;
    if (!cfg->sbm_ste && !expected) {
        probs_release(be, s);
        return;
    }
    backward_work_alloc(be, s, c, expected);
    float *dS = s->dS;
    be->zero(be, dS, sizeof(float) * (size_t)H * k * k);
    const float reg_share = gr->density_weight / ((float)H * (float)B * (float)N * (float)N);
    if (cfg->sbm_ste)
        ste_edge_values(be, ds, g, cfg->sbm_reg_kind == SB_SBM_REG_SAMPLED ? reg_share : 0.0f, cfg->sbm_ste_clip,
                        cfg->sbm_self_loops);
    const int per = examples_per_group(s->B, H, s->N);
    for (int b0 = 0; b0 < B; b0 += per) {
        const sbm_group gp = group_at(c, g, b0, B - b0 < per ? B - b0 : per);
        const size_t nk = (size_t)gp.nb * H * N * k;
        memberships_forward(be, s, p.C, s->qp + gp.off_d, s->kp + gp.off_d, gp.nb, H, N, D); /* again */
        be->zero(be, s->dkhat, sizeof(float) * nk);
        if (cfg->sbm_ste) ste_memberships_backward(be, s, c, &gp, ds, s->Y, s->dqhat, s->dkhat, dS);
        else be->zero(be, s->dqhat, sizeof(float) * nk);
        if (expected) expected_density_memberships(s, c, &gp, reg_share, s->dqhat, s->dkhat);
        memberships_group_backward(be, s, &p, &dp, c, &gp, s->Y, s->dqhat, s->dkhat);
    }
    if (expected) expected_density_block(s, c, reg_share, dS);
    block_and_mlp_backward(be, s, &p, &dp, c, gr, dS);
    backward_work_free(be, s);
    probs_release(be, s);
    lap(SB_SBM_PART_STE, &t);
}

static void sbm_density(void *state, float *out) {
    sbm_state *s = state;
    memcpy(out, s->density, sizeof(float) * (size_t)s->last_B * s->H);
}

static void sbm_key_indegree(void *state, float *out) {
    sbm_state *s = state;
    const sb_csr *g = s->used;
    /* the last call's shape, which the graph carries (a call may be shorter than the state) */
    const size_t G = (size_t)g->n_graphs, N = (size_t)g->n;
    memset(out, 0, sizeof(float) * G * N);
    /* column counts straight from the row lists: O(edges), no transpose needed */
    for (size_t gi = 0; gi < G; gi++)
        for (int64_t e = g->row_ptr[gi * N]; e < g->row_ptr[(gi + 1) * N]; e++) out[gi * N + (size_t)g->col[e]] += 1.0f;
}

const sb_attention_ops sb_attention_sbm = {
    .name = "sbm",
    .param_count = sbm_param_count,
    .init_params = sbm_init_params,
    .param_layout = sbm_param_layout,
    .state_create = sbm_state_create,
    .state_destroy = sbm_state_destroy,
    .forward = sbm_forward,
    .backward = sbm_backward,
    .density = sbm_density,
    .key_indegree = sbm_key_indegree,
};
