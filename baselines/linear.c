/* Linear attention as the LRA reference code runs it (Nyströmformer repo,
 * mlpen/Nystromformer, `LRA/code/attention_linear.py`):
 *   φ(x) = elu(x) + 1,  Q' = φ(Q) / N^{1/4},  K' = φ(K) · mask / N^{1/4},  V' = V · mask
 *   out = Q' (K'ᵀ V')                                              per (example, head)
 * with N the padded sequence length, NO normaliser and no attention dropout.
 * `linear_form: "paper"` adds the normaliser of Katharopoulos et al. (their
 * eps 1e-6): out_i = Q'_i (K'ᵀ V') / (Q'_i · z + 1e-6), z = Σ_j K'_j (the
 * N^{-1/4} scalings cancel up to eps; a row of an example without real keys
 * outputs 0): the normaliser Performer has too (baselines/key_sum_norm.h).
 * Cost O(N D²) per head. No parameters. */
#include <math.h>
#include <stdlib.h>
#include "baselines/key_sum_norm.h"
#include "core/attention.h"

typedef struct {
    int paper;           /* cfg->linear_form: the normalised form */
    float *qf, *kf, *vm; /* [B,H,N,D] Q', K', V' (vm with a key mask only) */
    float *kv;           /* [B,H,D,D] K'ᵀ V' */
    float *dqf, *dkf, *dvm, *dkv; /* dvm with a key mask only */
    /* the paper's form only */
    sb_key_sum_norm norm; /* Σ_j K'_j and the denominators Q'·Σ_j K'_j + eps */
    float *dnum;          /* [B,H,N,D] */
} linear_state;

#define LINEAR_EPS 1e-6f /* Katharopoulos et al.'s */

static void *linear_state_create(sb_backend *be, const sb_attn_config *cfg, int B, int N, int training) {
    linear_state *s = calloc(1, sizeof *s);
    const size_t n = (size_t)B * cfg->n_heads * N * cfg->d_head, nkv = (size_t)B * cfg->n_heads * cfg->d_head * cfg->d_head;
    s->qf = be->alloc(be, sizeof(float) * n);
    s->kf = be->alloc(be, sizeof(float) * n);
    s->vm = be->alloc(be, sizeof(float) * n);
    s->kv = be->alloc(be, sizeof(float) * nkv);
    if (training) {
        s->dqf = be->alloc(be, sizeof(float) * n);
        s->dkf = be->alloc(be, sizeof(float) * n);
        s->dvm = be->alloc(be, sizeof(float) * n);
        s->dkv = be->alloc(be, sizeof(float) * nkv);
    }
    s->paper = cfg->linear_form == 1;
    if (s->paper) {
        sb_ksn_init(be, &s->norm, B * cfg->n_heads, N, cfg->d_head, cfg->d_head, LINEAR_EPS, training);
        if (training) s->dnum = be->alloc(be, sizeof(float) * n);
    }
    return s;
}

static void linear_state_destroy(sb_backend *be, void *state) {
    linear_state *s = state;
    if (!s) return;
    float *b[] = {s->qf, s->kf, s->vm, s->kv, s->dqf, s->dkf, s->dvm, s->dkv, s->dnum};
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) be->free(be, b[i]);
    if (s->paper) sb_ksn_free(be, &s->norm);
    free(s);
}

/* V' = V·mask in s->vm; without a key mask V itself (no copy). The FLOP
 * count still has the reference's V·mask (1 per element), which it runs
 * whatever the mask (core/flops.h counts the reference's arithmetic). */
static const float *masked_v(sb_backend *be, linear_state *s, const sb_attn_call *c) {
    if (c->key_mask) {
        be->scale_mask_heads(be, s->vm, c->v, c->key_mask, c->B, c->H, c->N, c->D, 1.0f, 0);
        return s->vm;
    }
    be->flops.total += (int64_t)c->B * c->H * c->N * c->D;
    return c->v;
}

static void linear_forward(sb_backend *be, void *state, const sb_attn_config *cfg, const float *params,
                           const sb_attn_call *c) {
    (void)cfg, (void)params;
    linear_state *s = state;
    const int B = c->B, H = c->H, N = c->N, D = c->D, G = B * H;
    const float scale = 1.0f / powf((float)N, 0.25f);
    be->elu1_forward(be, s->qf, c->q, NULL, B, H, N, D, scale);
    be->elu1_forward(be, s->kf, c->k, c->key_mask, B, H, N, D, scale);
    const size_t nd = (size_t)N * D, dd = (size_t)D * D;
    const float *vm = masked_v(be, s, c);
    be->gemm_batched(be, 1, 0, D, D, N, 1.0f, s->kf, D, nd, vm, D, nd, 0.0f, s->kv, D, dd, G); /* K'ᵀV' */
    be->gemm_batched(be, 0, 0, N, D, D, 1.0f, s->qf, D, nd, s->kv, D, dd, 0.0f, c->out, D, nd, G); /* Q'(K'ᵀV') */
    if (s->paper) sb_ksn_forward(be, &s->norm, G, N, s->qf, s->kf, c->out); /* / (Q'·Σ_j K'_j + eps) */
}

static void linear_backward(sb_backend *be, void *state, const sb_attn_config *cfg, const float *params,
                            float *dparams, const sb_attn_call *c, const sb_attn_grads *g) {
    (void)cfg, (void)params, (void)dparams;
    linear_state *s = state;
    const int B = c->B, H = c->H, N = c->N, D = c->D, G = B * H;
    const float scale = 1.0f / powf((float)N, 0.25f);
    const size_t nd = (size_t)N * D, dd = (size_t)D * D;
    const float *dnum = g->dout; /* gradient at num = Q'(K'ᵀV') */
    if (s->paper) { /* through the normaliser, from the forward's output c->out */
        sb_ksn_backward(be, &s->norm, s->qf, g->dout, c->out, s->dnum);
        dnum = s->dnum;
    }
    be->gemm_batched(be, 0, 1, N, D, D, 1.0f, dnum, D, nd, s->kv, D, dd, 0.0f, s->dqf, D, nd, G); /* dQ' = dnum KVᵀ */
    be->gemm_batched(be, 1, 0, D, D, N, 1.0f, s->qf, D, nd, dnum, D, nd, 0.0f, s->dkv, D, dd, G); /* dKV = Q'ᵀ dnum */
    const float *vm = c->key_mask ? s->vm : c->v; /* V' as forward used it */
    be->gemm_batched(be, 0, 1, N, D, D, 1.0f, vm, D, nd, s->dkv, D, dd, 0.0f, s->dkf, D, nd, G); /* dK' = V' dKVᵀ */
    if (s->paper) sb_ksn_add_query_grad(be, &s->norm, s->dqf), sb_ksn_add_key_grad(be, &s->norm, s->dkf);
    if (c->key_mask) {
        /* dV' = K' dKV */
        be->gemm_batched(be, 0, 0, N, D, D, 1.0f, s->kf, D, nd, s->dkv, D, dd, 0.0f, s->dvm, D, nd, G);
        be->scale_mask_heads(be, g->dv, s->dvm, c->key_mask, B, H, N, D, 1.0f, 1);
    } else { /* dV += dV' straight from the product; counted as the reference's dV'·mask, as in forward */
        be->gemm_batched(be, 0, 0, N, D, D, 1.0f, s->kf, D, nd, s->dkv, D, dd, 1.0f, g->dv, D, nd, G);
        be->flops.total += (int64_t)G * N * D;
    }
    be->elu1_backward(be, g->dq, c->q, s->dqf, NULL, B, H, N, D, scale);
    be->elu1_backward(be, g->dk, c->k, s->dkf, c->key_mask, B, H, N, D, scale);
}

const sb_attention_ops sb_attention_linear = {
    .name = "linear",
    .param_count = sb_attention_no_params,
    .init_params = sb_attention_no_init,
    .state_create = linear_state_create,
    .state_destroy = linear_state_destroy,
    .forward = linear_forward,
    .backward = linear_backward,
    .density = NULL,
};
