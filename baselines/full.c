/* Full softmax attention (Vaswani et al.), as in the LRA reference
 * `SoftmaxAttention`: softmax(QKᵀ/√d + mask) with padded keys excluded,
 * attention dropout on the probabilities, then (.)V. A query whose row has no
 * real key outputs zero. The fused kernel is the backend's
 * dense_attention_forward/backward; this file only owns the saved state.
 * Only a training state keeps the [B,H,N,N] probabilities (backward reads
 * them); inference runs the same kernel on one block of rows per thread, so
 * its peak memory is O(N) per thread, not the N² a PyTorch softmax attention
 * (the reference's) materialises. */
#include <stdio.h>
#include <stdlib.h>
#include "core/attention.h"
#include "core/fatal.h"

typedef struct {
    float *probs; /* [B,H,N,N] softmax probabilities before dropout; training states only */
    int B, N;
} full_state;

static void *full_state_create(sb_backend *be, const sb_attn_config *cfg, int B, int N,
                               int training) {
    full_state *s = calloc(1, sizeof *s);
    s->B = B;
    s->N = N;
    if (training) s->probs = be->alloc(be, sizeof(float) * (size_t)B * cfg->n_heads * N * N);
    return s;
}

static void full_state_destroy(sb_backend *be, void *state) {
    full_state *s = state;
    if (!s) return;
    be->free(be, s->probs);
    free(s);
}

static void full_forward(sb_backend *be, void *state, const sb_attn_config *cfg,
                         const float *params, const sb_attn_call *c) {
    (void)params;
    full_state *s = state;
    float p = c->training ? cfg->attn_dropout : 0.0f;
    be->dense_attention_forward(be, c->out, s->probs, c->q, c->k, c->v, c->key_mask, c->B, c->H,
                                c->N, c->D, p, c->rng);
}

static void full_backward(sb_backend *be, void *state, const sb_attn_config *cfg,
                          const float *params, float *dparams, const sb_attn_call *c,
                          const sb_attn_grads *g) {
    (void)params, (void)dparams;
    full_state *s = state;
    if (!s->probs) { /* an inference state keeps no probabilities */
        sb_fatal(3, "full attention: backward on an inference state");
    }
    float p = c->training ? cfg->attn_dropout : 0.0f;
    be->dense_attention_backward(be, g->dq, g->dk, g->dv, g->dout, s->probs, c->q, c->k, c->v,
                                 c->B, c->H, c->N, c->D, p, c->rng);
}

const sb_attention_ops sb_attention_full = {
    .name = "full",
    .param_count = sb_attention_no_params,
    .init_params = sb_attention_no_init,
    .state_create = full_state_create,
    .state_destroy = full_state_destroy,
    .forward = full_forward,
    .backward = full_backward,
    .density = NULL,
};
