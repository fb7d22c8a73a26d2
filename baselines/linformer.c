/* Linformer attention (Wang et al. 2020) as the LRA reference code runs it
 * (Nyströmformer repo mlpen/Nystromformer, `LRA/code/attention_linformer.py`):
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
 * K·mask and V·mask are kept side by side, one row [K·mask | V·mask] of 2D
 * per token, so both projections are one GEMM of width 2D (E_h [K|V]), and
 * so are their backward E_hᵀ [dK̃|dṼ] and dE += [dK̃|dṼ] [K|V]ᵀ (K = 2D):
 * 3 wider GEMMs instead of 6 narrow ones (measured 10–20% faster each).
 *
 * Cost per (example, head), all in cblas GEMMs: the projections 2·2kND,
 * scores 2NkD, softmax 5Nk, output 2NkD, masking 2ND — O(N k D) forward;
 * backward ≈ twice that (dQ, dK̃, dṼ, dP, E_hᵀ [dK̃|dṼ] and dE). State:
 * [K·mask | V·mask] [B,H,N,2D], [K̃ | Ṽ] [B,H,k,2D], probabilities
 * [B,H,N,k] (+ the same again for gradients when training). */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "core/attention.h"
#include "core/fatal.h"

typedef struct {
    int B, N, k;
    float *kv;   /* [B,H,N,2D] rows [K·mask | V·mask] */
    float *kvt;  /* [B,H,k,2D] [K̃ | Ṽ] = E_h [K·mask | V·mask] */
    float *p;    /* [B,H,N,k] softmax probabilities */
    float *dp, *ds;
    float *dkvt; /* [B,H,k,2D] [dK̃ | dṼ] */
    float *dkv;  /* [B,H,N,2D] E_hᵀ [dK̃ | dṼ] */
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
        sb_fatal(2, "linformer: sequence length %d exceeds max_len %d (the length of E)", N, cfg->max_len);
    }
    linformer_state *s = calloc(1, sizeof *s);
    s->B = B, s->N = N, s->k = cfg->linformer_k;
    const size_t G = (size_t)B * cfg->n_heads, D = cfg->d_head, k = cfg->linformer_k;
    s->kv = be->alloc(be, sizeof(float) * G * N * 2 * D);
    s->kvt = be->alloc(be, sizeof(float) * G * k * 2 * D);
    s->p = be->alloc(be, sizeof(float) * G * N * k);
    if (training) {
        s->dp = be->alloc(be, sizeof(float) * G * N * k);
        s->ds = be->alloc(be, sizeof(float) * G * N * k);
        s->dkvt = be->alloc(be, sizeof(float) * G * k * 2 * D);
        s->dkv = be->alloc(be, sizeof(float) * G * N * 2 * D);
    }
    return s;
}

static void linformer_state_destroy(sb_backend *be, void *state) {
    linformer_state *s = state;
    if (!s) return;
    float *b[] = {s->kv, s->kvt, s->p, s->dp, s->ds, s->dkvt, s->dkv};
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) be->free(be, b[i]);
    free(s);
}

/* x[b,h] *= mask[b] row by row, for rows of width W of x [B,H,N,W]. Without
 * a key mask nothing runs, but the FLOPs are counted as the reference's
 * K·mask, V·mask (1 per element, as scale_mask_heads counts them; core/flops.h). */
static void mask_pairs(sb_backend *be, float *x, const sb_attn_call *c, int W) {
    if (!c->key_mask) {
        be->flops.total += (int64_t)c->B * c->H * c->N * W;
        return;
    }
    for (int b = 0; b < c->B; b++)
        for (int h = 0; h < c->H; h++)
            be->mask_rows(be, x + ((size_t)b * c->H + h) * c->N * W, c->key_mask + (size_t)b * c->N, (size_t)c->N,
                          W);
}

/* Y[b,h] = E_h[:, :N] X[b,h] for every b, h: X [B,H,N,W] -> Y [B,H,k,W]
 * (one batched call per head; E_h is the same for every example: stride 0) */
static void project(sb_backend *be, float *Y, const float *E, const float *X, int B, int H, int N, int W, int k,
                    int n) {
    for (int h = 0; h < H; h++)
        be->gemm_batched(be, 0, 0, k, W, N, 1.0f, E + (size_t)h * k * n, n, 0, X + (size_t)h * N * W, W,
                         (size_t)H * N * W, 0.0f, Y + (size_t)h * k * W, W, (size_t)H * k * W, B);
}

/* Y[b,h] = E_h[:, :N]ᵀ X[b,h]: X [B,H,k,W] -> Y [B,H,N,W] */
static void project_t(sb_backend *be, float *Y, const float *E, const float *X, int B, int H, int N, int W, int k,
                      int n) {
    for (int h = 0; h < H; h++)
        be->gemm_batched(be, 1, 0, N, W, k, 1.0f, E + (size_t)h * k * n, n, 0, X + (size_t)h * k * W, W,
                         (size_t)H * k * W, 0.0f, Y + (size_t)h * N * W, W, (size_t)H * N * W, B);
}

static void linformer_forward(sb_backend *be, void *state, const sb_attn_config *cfg, const float *params,
                              const sb_attn_call *c) {
    linformer_state *s = state;
    const int B = c->B, H = c->H, N = c->N, D = c->D, G = B * H, k = cfg->linformer_k, n = cfg->max_len, D2 = 2 * D;
    if (N > n || N > s->N || B > s->B) {
        sb_fatal(2, "linformer: call [B=%d, N=%d] exceeds its state [%d, %d] or max_len %d", B, N, s->B, s->N, n);
    }
    const size_t nd = (size_t)N * D, kd2 = (size_t)k * D2, nk = (size_t)N * k;
    /* [K | V] rows (as heads_merge of B·H "examples" with one head), then · mask */
    be->heads_merge(be, s->kv, D2, c->k, G, N, 1, D, 0);
    be->heads_merge(be, s->kv + D, D2, c->v, G, N, 1, D, 0);
    mask_pairs(be, s->kv, c, D2);
    project(be, s->kvt, params, s->kv, B, H, N, D2, k, n); /* [K̃ | Ṽ] = E [K·mask | V·mask] */
    const float r = 1.0f / sqrtf((float)D);
    const float *kt = s->kvt, *vt = s->kvt + D; /* K̃, Ṽ: ld 2D */
    be->gemm_batched(be, 0, 1, N, k, D, r, c->q, D, nd, kt, D2, kd2, 0.0f, s->p, k, nk, G); /* Q K̃ᵀ / √D */
    /* the plain softmax through Nyströmformer's keybias op (mask NULL): its
     * row kernel vectorises on AVX2, softmax_rows's does not (~2x faster) */
    be->softmax_keybias_rows(be, s->p, NULL, 1, G, N, k);
    be->gemm_batched(be, 0, 0, N, D, k, 1.0f, s->p, k, nk, vt, D2, kd2, 0.0f, c->out, D, nd, G); /* P Ṽ */
}

static void linformer_backward(sb_backend *be, void *state, const sb_attn_config *cfg, const float *params,
                               float *dparams, const sb_attn_call *c, const sb_attn_grads *g) {
    linformer_state *s = state;
    const int B = c->B, H = c->H, N = c->N, D = c->D, G = B * H, k = cfg->linformer_k, n = cfg->max_len, D2 = 2 * D;
    const size_t nd = (size_t)N * D, nd2 = (size_t)N * D2, kd2 = (size_t)k * D2, nk = (size_t)N * k;
    const float r = 1.0f / sqrtf((float)D);
    const float *kt = s->kvt, *vt = s->kvt + D;
    float *dkt = s->dkvt, *dvt = s->dkvt + D;
    be->gemm_batched(be, 0, 1, N, k, D, 1.0f, g->dout, D, nd, vt, D2, kd2, 0.0f, s->dp, k, nk, G); /* dP = dO Ṽᵀ */
    be->gemm_batched(be, 1, 0, k, D, N, 1.0f, s->p, k, nk, g->dout, D, nd, 0.0f, dvt, D2, kd2, G); /* dṼ = Pᵀ dO */
    be->zero(be, s->ds, sizeof(float) * G * nk);
    be->softmax_rows_backward(be, s->ds, s->p, s->dp, (size_t)G * N, k); /* dS (of the scaled scores) */
    be->gemm_batched(be, 0, 0, N, D, k, r, s->ds, k, nk, kt, D2, kd2, 1.0f, g->dq, D, nd, G); /* dQ += dS K̃ / √D */
    be->gemm_batched(be, 1, 0, k, D, N, r, s->ds, k, nk, c->q, D, nd, 0.0f, dkt, D2, kd2, G); /* dK̃ = dSᵀ Q / √D */
    /* [dK | dV] += (Eᵀ [dK̃ | dṼ]) · mask */
    project_t(be, s->dkv, params, s->dkvt, B, H, N, D2, k, n);
    mask_pairs(be, s->dkv, c, D2);
    be->heads_split(be, g->dk, s->dkv, D2, G, N, 1, D, 1);
    be->heads_split(be, g->dv, s->dkv + D, D2, G, N, 1, D, 1);
    /* dE_h[:, :N] += Σ_b [dK̃ | dṼ] [K·mask | V·mask]ᵀ, examples in a fixed order */
    for (int h = 0; h < H; h++) {
        float *dE = dparams + (size_t)h * k * n;
        for (int b = 0; b < B; b++) {
            const size_t o = (size_t)b * H + h;
            be->gemm(be, 0, 1, k, N, D2, 1.0f, s->dkvt + o * kd2, D2, s->kv + o * nd2, D2, 1.0f, dE, n);
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
