/* Linear attention as the LRA reference code runs it (Nyströmformer repo,
 * `attention_linear.py`; ../shared/reference/lra-data-and-baselines.md §4):
 *   φ(x) = elu(x) + 1,  Q' = φ(Q) / N^{1/4},  K' = φ(K) · mask / N^{1/4},  V' = V · mask
 *   out = Q' (K'ᵀ V')                                              per (example, head)
 * with N the padded sequence length, NO normaliser and no attention dropout.
 * `linear_form: "paper"` adds the normaliser of Katharopoulos et al. (their
 * eps 1e-6): out_i = Q'_i (K'ᵀ V') / (Q'_i · z + 1e-6), z = Σ_j K'_j (the
 * N^{-1/4} scalings cancel up to eps; a row of an example without real keys
 * outputs 0). Backward through the division: dnum = dout / den,
 * dden = -(dout · out) / den, then dQ' += dden zᵀ, dz = Q'ᵀ dden, dK' += 1 dzᵀ.
 * Cost O(N D²) per head. No parameters. */
#include <math.h>
#include <stdlib.h>
#include "core/attention.h"

typedef struct {
    int paper;           /* cfg->linear_form: the normalised form */
    float *qf, *kf, *vm; /* [B,H,N,D] Q', K', V' (vm with a key mask only) */
    float *kv;           /* [B,H,D,D] K'ᵀ V' */
    float *dqf, *dkf, *dvm, *dkv; /* dvm with a key mask only */
    /* the paper's form only */
    float *ones, *eps;   /* [N] 1, [B,H,N] 1e-6: constants for the GEMMs below */
    float *z, *den;      /* [B,H,D] Σ_j K'_j, [B,H,N] Q'·z + eps */
    float *out;          /* [B,H,N,D] the output, kept for backward */
    float *dnum, *dden, *dz; /* [B,H,N,D], [B,H,N], [B,H,D] */
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
        const size_t rows = (size_t)B * cfg->n_heads * N, nz = (size_t)B * cfg->n_heads * cfg->d_head;
        s->ones = be->alloc(be, sizeof(float) * N);
        s->eps = be->alloc(be, sizeof(float) * rows);
        /* constants through the backend: x = alpha - 0 on 1x1 "matrices" */
        be->diag_sub(be, s->ones, s->ones, 1.0f, N, 1);
        be->diag_sub(be, s->eps, s->eps, LINEAR_EPS, (int)rows, 1);
        s->z = be->alloc(be, sizeof(float) * nz);
        s->den = be->alloc(be, sizeof(float) * rows);
        if (training) {
            s->out = be->alloc(be, sizeof(float) * n);
            s->dnum = be->alloc(be, sizeof(float) * n);
            s->dden = be->alloc(be, sizeof(float) * rows);
            s->dz = be->alloc(be, sizeof(float) * nz);
        }
    }
    return s;
}

static void linear_state_destroy(sb_backend *be, void *state) {
    linear_state *s = state;
    if (!s) return;
    float *b[] = {s->qf, s->kf, s->vm, s->kv, s->dqf, s->dkf, s->dvm, s->dkv, s->ones, s->eps,
                  s->z, s->den, s->out, s->dnum, s->dden, s->dz};
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) be->free(be, b[i]);
    free(s);
}

/* V' = V·mask in s->vm; without a key mask V itself (no copy). The FLOP
 * count still has the reference's V·mask (1 per element), which it runs
 * whatever the mask (core/flops.h counts the reference's arithmetic). */
static const float *masked_v(sb_backend *be, linear_state *s, const sb_attn_call *c) {
    if (c->key_mask) {
        be->mask_heads(be, s->vm, c->v, c->key_mask, c->B, c->H, c->N, c->D, 0);
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
    if (!s->paper) return;
    /* z = K'ᵀ 1 [D], den = Q' z + eps [N], out = num / den */
    be->gemm_batched(be, 1, 0, D, 1, N, 1.0f, s->kf, D, nd, s->ones, 1, 0, 0.0f, s->z, 1, (size_t)D, G);
    be->copy(be, s->den, s->eps, sizeof(float) * (size_t)G * N);
    be->gemm_batched(be, 0, 0, N, 1, D, 1.0f, s->qf, D, nd, s->z, 1, (size_t)D, 1.0f, s->den, 1, (size_t)N, G);
    be->flops.total += (int64_t)G * N; /* + eps */
    be->performer_div_forward(be, c->out, c->out, s->den, (size_t)G * N, D);
    if (s->out) be->copy(be, s->out, c->out, sizeof(float) * (size_t)G * nd);
}

static void linear_backward(sb_backend *be, void *state, const sb_attn_config *cfg, const float *params,
                            float *dparams, const sb_attn_call *c, const sb_attn_grads *g) {
    (void)cfg, (void)params, (void)dparams;
    linear_state *s = state;
    const int B = c->B, H = c->H, N = c->N, D = c->D, G = B * H;
    const float scale = 1.0f / powf((float)N, 0.25f);
    const size_t nd = (size_t)N * D, dd = (size_t)D * D;
    const float *dnum = g->dout; /* gradient at num = Q'(K'ᵀV') */
    if (s->paper) { /* through out = num / den, den = Q' z + eps */
        be->zero(be, s->dnum, sizeof(float) * (size_t)G * nd);
        be->zero(be, s->dden, sizeof(float) * (size_t)G * N);
        be->performer_div_backward(be, s->dnum, s->dden, g->dout, s->out, s->den, (size_t)G * N, D);
        dnum = s->dnum;
        be->gemm_batched(be, 1, 0, D, 1, N, 1.0f, s->qf, D, nd, s->dden, 1, (size_t)N, 0.0f, s->dz, 1, (size_t)D,
                         G); /* dz = Q'ᵀ dden */
    }
    be->gemm_batched(be, 0, 1, N, D, D, 1.0f, dnum, D, nd, s->kv, D, dd, 0.0f, s->dqf, D, nd, G); /* dQ' = dnum KVᵀ */
    be->gemm_batched(be, 1, 0, D, D, N, 1.0f, s->qf, D, nd, dnum, D, nd, 0.0f, s->dkv, D, dd, G); /* dKV = Q'ᵀ dnum */
    const float *vm = c->key_mask ? s->vm : c->v; /* V' as forward used it */
    be->gemm_batched(be, 0, 1, N, D, D, 1.0f, vm, D, nd, s->dkv, D, dd, 0.0f, s->dkf, D, nd, G); /* dK' = V' dKVᵀ */
    if (s->paper) { /* dQ' += dden zᵀ, dK' += 1 dzᵀ */
        be->gemm_batched(be, 0, 0, N, D, 1, 1.0f, s->dden, 1, (size_t)N, s->z, D, (size_t)D, 1.0f, s->dqf, D, nd, G);
        be->gemm_batched(be, 0, 0, N, D, 1, 1.0f, s->ones, 1, 0, s->dz, D, (size_t)D, 1.0f, s->dkf, D, nd, G);
    }
    if (c->key_mask) {
        /* dV' = K' dKV */
        be->gemm_batched(be, 0, 0, N, D, D, 1.0f, s->kf, D, nd, s->dkv, D, dd, 0.0f, s->dvm, D, nd, G);
        be->mask_heads(be, g->dv, s->dvm, c->key_mask, B, H, N, D, 1);
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
