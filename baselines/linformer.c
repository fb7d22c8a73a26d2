/* Linformer attention (Wang et al. 2020) as the LRA reference code runs it
 * (Nyströmformer repo, `LRA/code/attention_linformer.py`;
 * ../shared/reference/lra-data-and-baselines.md §4):
 *   E ∈ ℝ^{H×k×n}, n = cfg->max_len (the model's position-table length),
 *   per head, shared between K and V and ACROSS LAYERS (the reference keeps it
 *   as a class attribute: params_shared_across_layers = 1), init N(0, 0.02);
 *   K̃_h = E_h (K_h · mask),  Ṽ_h = E_h (V_h · mask)                  [k, D]
 *   out = softmax(Q K̃ᵀ / √D) Ṽ                                       [N, D]
 * No other masking (pad queries get an output like any other row; pad keys
 * and values are zeroed before the projection, so they never matter) and no
 * attention dropout (the reference has none; cfg->attn_dropout is ignored).
 *
 * Lengths: the reference requires the call's length N to equal n. Here a
 * call with N < n uses the first N columns of E (what the reference computes
 * on a sequence zero-padded to n, since padded columns of K·mask are zero);
 * N > n aborts. Settings read: n_heads, d_head, max_len, linformer_k.
 *
 * Cost per (example, head), all in cblas GEMMs: the two projections 2·2kND,
 * scores 2NkD, softmax 5Nk, output 2NkD, masking 2ND — O(N k D) forward;
 * backward ≈ twice that (dQ, dK̃, dṼ, dP, E_hᵀ dK̃, E_hᵀ dṼ and dE). State:
 * K·mask, V·mask [B,H,N,D], K̃, Ṽ [B,H,k,D], probabilities [B,H,N,k]
 * (+ the same again for gradients when training). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "core/attention.h"

typedef struct {
    int B, N, k;
    float *km, *vm;   /* [B,H,N,D] K·mask, V·mask */
    float *kt, *vt;   /* [B,H,k,D] E K·mask, E V·mask */
    float *p;         /* [B,H,N,k] softmax probabilities */
    float *dp, *ds;   /* [B,H,N,k] */
    float *dkt, *dvt; /* [B,H,k,D] */
    float *dx;        /* [B,H,N,D] scratch: E_hᵀ dK̃, E_hᵀ dṼ */
} linformer_state;

static size_t linformer_param_count(const sb_attn_config *cfg) {
    return (size_t)cfg->n_heads * cfg->linformer_k * cfg->max_len;
}

static int linformer_param_layout(const sb_attn_config *cfg, sb_param_desc *out) {
    out[0] = (sb_param_desc){.name = "E", .rank = 3, .dims = {cfg->n_heads, cfg->linformer_k, cfg->max_len}, .offset = 0};
    return 1;
}

/* torch.nn.init.normal_(E, std=0.02) */
static void linformer_init_params(const sb_attn_config *cfg, float *params, sb_rng_reader *rng) {
    const size_t n = linformer_param_count(cfg);
    for (size_t i = 0; i < n; i++) params[i] = 0.02f * sb_rng_next_normal(rng);
}

static void *linformer_state_create(sb_backend *be, const sb_attn_config *cfg, int B, int N, int training) {
    if (N > cfg->max_len) {
        fprintf(stderr, "sbmbench: linformer: sequence length %d exceeds max_len %d (the length of E)\n", N,
                cfg->max_len);
        exit(2);
    }
    linformer_state *s = calloc(1, sizeof *s);
    s->B = B, s->N = N, s->k = cfg->linformer_k;
    const size_t G = (size_t)B * cfg->n_heads, D = cfg->d_head, k = cfg->linformer_k;
    s->km = be->alloc(be, sizeof(float) * G * N * D);
    s->vm = be->alloc(be, sizeof(float) * G * N * D);
    s->kt = be->alloc(be, sizeof(float) * G * k * D);
    s->vt = be->alloc(be, sizeof(float) * G * k * D);
    s->p = be->alloc(be, sizeof(float) * G * N * k);
    if (training) {
        s->dp = be->alloc(be, sizeof(float) * G * N * k);
        s->ds = be->alloc(be, sizeof(float) * G * N * k);
        s->dkt = be->alloc(be, sizeof(float) * G * k * D);
        s->dvt = be->alloc(be, sizeof(float) * G * k * D);
        s->dx = be->alloc(be, sizeof(float) * G * N * D);
    }
    return s;
}

static void linformer_state_destroy(sb_backend *be, void *state) {
    linformer_state *s = state;
    if (!s) return;
    float *b[] = {s->km, s->vm, s->kt, s->vt, s->p, s->dp, s->ds, s->dkt, s->dvt, s->dx};
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) be->free(be, b[i]);
    free(s);
}

/* Y[b,h] = E_h[:, :N] X[b,h] for every b, h: X [B,H,N,D] -> Y [B,H,k,D]
 * (one batched call per head; E_h is the same for every example: stride 0) */
static void project(sb_backend *be, float *Y, const float *E, const float *X, int B, int H, int N, int D, int k,
                    int n) {
    for (int h = 0; h < H; h++)
        be->gemm_batched(be, 0, 0, k, D, N, 1.0f, E + (size_t)h * k * n, n, 0, X + (size_t)h * N * D, D,
                         (size_t)H * N * D, 0.0f, Y + (size_t)h * k * D, D, (size_t)H * k * D, B);
}

/* Y[b,h] = E_h[:, :N]ᵀ X[b,h]: X [B,H,k,D] -> Y [B,H,N,D] */
static void project_t(sb_backend *be, float *Y, const float *E, const float *X, int B, int H, int N, int D, int k,
                      int n) {
    for (int h = 0; h < H; h++)
        be->gemm_batched(be, 1, 0, N, D, k, 1.0f, E + (size_t)h * k * n, n, 0, X + (size_t)h * k * D, D,
                         (size_t)H * k * D, 0.0f, Y + (size_t)h * N * D, D, (size_t)H * N * D, B);
}

static void linformer_forward(sb_backend *be, void *state, const sb_attn_config *cfg, const float *params,
                              const sb_attn_call *c) {
    linformer_state *s = state;
    const int B = c->B, H = c->H, N = c->N, D = c->D, G = B * H, k = cfg->linformer_k, n = cfg->max_len;
    if (N > n || N > s->N || B > s->B) {
        fprintf(stderr, "sbmbench: linformer: call [B=%d, N=%d] exceeds its state [%d, %d] or max_len %d\n", B, N,
                s->B, s->N, n);
        exit(2);
    }
    const size_t nd = (size_t)N * D, kd = (size_t)k * D, nk = (size_t)N * k;
    be->mask_heads(be, s->km, c->k, c->key_mask, B, H, N, D, 0);
    be->mask_heads(be, s->vm, c->v, c->key_mask, B, H, N, D, 0);
    project(be, s->kt, params, s->km, B, H, N, D, k, n); /* K̃ = E (K·mask) */
    project(be, s->vt, params, s->vm, B, H, N, D, k, n); /* Ṽ = E (V·mask) */
    const float r = 1.0f / sqrtf((float)D);
    be->gemm_batched(be, 0, 1, N, k, D, r, c->q, D, nd, s->kt, D, kd, 0.0f, s->p, k, nk, G); /* Q K̃ᵀ / √D */
    be->softmax_rows(be, s->p, (size_t)G * N, k);
    be->gemm_batched(be, 0, 0, N, D, k, 1.0f, s->p, k, nk, s->vt, D, kd, 0.0f, c->out, D, nd, G); /* P Ṽ */
}

static void linformer_backward(sb_backend *be, void *state, const sb_attn_config *cfg, const float *params,
                               float *dparams, const sb_attn_call *c, const sb_attn_grads *g) {
    linformer_state *s = state;
    const int B = c->B, H = c->H, N = c->N, D = c->D, G = B * H, k = cfg->linformer_k, n = cfg->max_len;
    const size_t nd = (size_t)N * D, kd = (size_t)k * D, nk = (size_t)N * k;
    const float r = 1.0f / sqrtf((float)D);
    be->gemm_batched(be, 0, 1, N, k, D, 1.0f, g->dout, D, nd, s->vt, D, kd, 0.0f, s->dp, k, nk, G); /* dP = dO Ṽᵀ */
    be->gemm_batched(be, 1, 0, k, D, N, 1.0f, s->p, k, nk, g->dout, D, nd, 0.0f, s->dvt, D, kd, G); /* dṼ = Pᵀ dO */
    be->zero(be, s->ds, sizeof(float) * G * nk);
    be->softmax_rows_backward(be, s->ds, s->p, s->dp, (size_t)G * N, k); /* dS (of the scaled scores) */
    be->gemm_batched(be, 0, 0, N, D, k, r, s->ds, k, nk, s->kt, D, kd, 1.0f, g->dq, D, nd, G); /* dQ += dS K̃ / √D */
    be->gemm_batched(be, 1, 0, k, D, N, r, s->ds, k, nk, c->q, D, nd, 0.0f, s->dkt, D, kd, G); /* dK̃ = dSᵀ Q / √D */
    project_t(be, s->dx, params, s->dkt, B, H, N, D, k, n); /* d(K·mask) = Eᵀ dK̃ */
    be->mask_heads(be, g->dk, s->dx, c->key_mask, B, H, N, D, 1);
    project_t(be, s->dx, params, s->dvt, B, H, N, D, k, n); /* d(V·mask) = Eᵀ dṼ */
    be->mask_heads(be, g->dv, s->dx, c->key_mask, B, H, N, D, 1);
    /* dE_h[:, :N] += Σ_b dK̃ (K·mask)ᵀ + dṼ (V·mask)ᵀ, examples in a fixed order */
    for (int h = 0; h < H; h++) {
        float *dE = dparams + (size_t)h * k * n;
        for (int b = 0; b < B; b++) {
            const size_t o = (size_t)b * H + h;
            be->gemm(be, 0, 1, k, N, D, 1.0f, s->dkt + o * kd, D, s->km + o * nd, D, 1.0f, dE, n);
            be->gemm(be, 0, 1, k, N, D, 1.0f, s->dvt + o * kd, D, s->vm + o * nd, D, 1.0f, dE, n);
        }
    }
}

const sb_attention_ops sb_attention_linformer = {
    .name = "linformer",
    .params_shared_across_layers = 1,
    .param_count = linformer_param_count,
    .init_params = linformer_init_params,
    .param_layout = linformer_param_layout,
    .state_create = linformer_state_create,
    .state_destroy = linformer_state_destroy,
    .forward = linformer_forward,
    .backward = linformer_backward,
    .density = NULL,
};
