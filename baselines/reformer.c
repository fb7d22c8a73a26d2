/* Reformer LSH self-attention as the LRA reference code runs it: the
 * Nyströmformer repo's `attention_reformer.py` wraps HF transformers'
 * LSHSelfAttention (v3.3.1; ../shared/reference/lra-data-and-baselines.md
 * §4), which we follow, per (example, head) with x = the shared query/key
 * vectors and v the values:
 *   - Shared QK: the reference ties query_key to NYS's W_q and never uses
 *     W_k, so x = call->q and call->k is ignored (dK gets nothing: the
 *     model's W_k then trains on nothing, as in the reference).
 *   - N <= chunk: plain attention over all N (HF's do_standard_self_attention:
 *     no hashing, one output). Otherwise N must be a multiple of the chunk.
 *   - Buckets: nb = 2^(bit_length(2 (N / chunk)) − 1), factorised into
 *     [2^⌊p/2⌋, 2^(p−⌊p/2⌋)] when above 2 max(⌊√(max_len / chunk)⌋, chunk)
 *     (HF _set_num_buckets, with max_position_embeddings = max_len; HF sets
 *     it on the first call, we recompute it from N every call, the same for
 *     a fixed length). Rotations R ~ N(0,1) [H, D, hashes, Σ factors/2],
 *     drawn fresh every call, in training and evaluation alike, from
 *     call->rng_attn (or call->fixed_draws, "rotations"), bucket =
 *     argmax([xR, −xR]) on x with no gradient; pads get the extra bucket nb;
 *     per round, positions are stably sorted by (bucket, position) (HF's
 *     per-round offset r·nb' only keeps rounds apart).
 *   - The hashes·N sorted slots are cut into chunks of `chunk`; each attends
 *     to itself and the `chunks_before` previous chunks, cyclically over all
 *     rounds' chunks (round r's first chunk looks back into round r−1's last,
 *     round 0's into the last round's). No deduplication of keys seen twice.
 *   - Keys are unit-normalised, k = x / √(mean(x²) + 1e-6) / √D (the gradient
 *     flows through the normalisation), queries are x unnormalised, no other
 *     scaling. Scores of pad keys are set to −1e9, then every key at the
 *     query's own position to −1e5 (so a pad query's own pad key gets −1e5);
 *     pad queries are computed. softmax via logsumexp, lse_r kept per round.
 *   - Rounds combined as out = Σ_r o_r exp(lse_r − logsumexp_r lse_r), with
 *     the gradient through the weights (HF's ReverseSort passes it on).
 * No attention dropout (lsh_attention_probs_dropout_prob = 0 in the
 * reference; attn_dropout is ignored). No parameters: W_q and W_v are the
 * model's. Cost O(hashes · N · chunk (1 + before) · D) plus the O(N + nb) sort. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "core/attention.h"

typedef struct {
    int B, N, R;
    int32_t *order;   /* [B,H,R,N] */
    float *lse;       /* [B,H,R,N] */
    float *rot;       /* [H,D,R,rot/2] this call's rotations */
    size_t rot_cap;
} reformer_state;

/* This length's hashing: 0 = plain attention (N <= chunk); else the bucket
 * factors (1 or 2) and the rotation width Σ factors / 2. */
typedef struct {
    int lsh, nf, factors[2], half;
} lsh_plan;

static lsh_plan plan_for(const sb_attn_config *cfg, int N) {
    lsh_plan p = {0};
    const int chunk = cfg->reformer_chunk;
    if (N <= chunk) return p;
    p.lsh = 1;
    int v = 2 * (N / chunk), bits = 0;
    while (v) bits++, v >>= 1;
    const int pw = bits - 1;
    const int nb = 1 << pw;
    const int maxpos = cfg->max_len > N ? cfg->max_len : N; /* max_len 0: not resolved yet */
    const int sq = (int)floor(sqrt((double)(maxpos / chunk)));
    const int limit = 2 * (sq > chunk ? sq : chunk);
    if (nb > limit) {
        p.nf = 2, p.factors[0] = 1 << (pw / 2), p.factors[1] = 1 << (pw - pw / 2);
    } else {
        p.nf = 1, p.factors[0] = nb;
    }
    for (int f = 0; f < p.nf; f++) p.half += p.factors[f] / 2;
    return p;
}

/* The reference cuts the sequence into chunks by a reshape. */
static int reformer_validate(const sb_attn_config *cfg, int N, char *err, size_t errlen) {
    if (N > cfg->reformer_chunk && N % cfg->reformer_chunk != 0) {
        snprintf(err, errlen,
                 "reformer_chunk %d does not divide seq_len %d (LSH attention needs whole chunks; "
                 "seq_len <= reformer_chunk runs plain attention)",
                 cfg->reformer_chunk, N);
        return -1;
    }
    return 0;
}

static int reformer_draws_layout(const sb_attn_config *cfg, int N, sb_param_desc *out) {
    lsh_plan p = plan_for(cfg, N);
    if (!p.lsh) return 0;
    out[0] = (sb_param_desc){.name = "rotations", .rank = 4,
                             .dims = {cfg->n_heads, cfg->d_head, cfg->reformer_hashes, p.half}, .offset = 0};
    return 1;
}

static void *reformer_state_create(sb_backend *be, const sb_attn_config *cfg, int B, int N, int training) {
    (void)training;
    reformer_state *s = calloc(1, sizeof *s);
    s->B = B, s->N = N, s->R = cfg->reformer_hashes;
    const size_t n = (size_t)B * cfg->n_heads * s->R * N;
    s->order = be->alloc(be, sizeof(int32_t) * n);
    s->lse = be->alloc(be, sizeof(float) * n);
    return s;
}

static void reformer_state_destroy(sb_backend *be, void *state) {
    reformer_state *s = state;
    if (!s) return;
    be->free(be, s->order);
    be->free(be, s->lse);
    be->free(be, s->rot);
    free(s);
}

/* rounds, chunk and look-back of this call's attention (plain attention: one
 * round, one chunk of N, no look-back) */
static void geometry(const sb_attn_config *cfg, const lsh_plan *p, int N, int *R, int *chunk, int *before) {
    *R = p->lsh ? cfg->reformer_hashes : 1;
    *chunk = p->lsh ? cfg->reformer_chunk : N;
    *before = p->lsh ? cfg->reformer_chunks_before : 0;
}

static void reformer_forward(sb_backend *be, void *state, const sb_attn_config *cfg, const float *params,
                             const sb_attn_call *c) {
    (void)params;
    reformer_state *s = state;
    const int B = c->B, H = c->H, N = c->N, D = c->D;
    const lsh_plan p = plan_for(cfg, N);
    char err[160];
    if (reformer_validate(cfg, N, err, sizeof err)) { /* `op` and tests reach here unvalidated */
        fprintf(stderr, "sbmbench: reformer: %s\n", err);
        exit(2);
    }
    int R, chunk, before;
    geometry(cfg, &p, N, &R, &chunk, &before);
    const float *rot = NULL;
    if (p.lsh) {
        const size_t nr = (size_t)H * D * R * p.half;
        if (c->fixed_draws) {
            rot = c->fixed_draws;
        } else {
            if (nr > s->rot_cap) {
                be->free(be, s->rot);
                s->rot = be->alloc(be, sizeof(float) * nr);
                s->rot_cap = nr;
            }
            sb_rng_reader rr;
            sb_rng_reader_init(&rr, c->rng_attn);
            for (size_t i = 0; i < nr; i++) s->rot[i] = sb_rng_next_normal(&rr);
            rot = s->rot;
        }
    }
    be->reformer_hash_sort(be, s->order, c->q, rot, c->key_mask, B, H, N, D, R, p.nf, p.factors);
    be->reformer_attention_forward(be, c->out, s->lse, c->q, c->v, s->order, c->key_mask, B, H, N, D, R, chunk,
                                   before);
}

/* Uses the forward's output c->out (the caller keeps it until backward). */
static void reformer_backward(sb_backend *be, void *state, const sb_attn_config *cfg, const float *params,
                              float *dparams, const sb_attn_call *c, const sb_attn_grads *g) {
    (void)params, (void)dparams;
    reformer_state *s = state;
    const lsh_plan p = plan_for(cfg, c->N);
    int R, chunk, before;
    geometry(cfg, &p, c->N, &R, &chunk, &before);
    be->reformer_attention_backward(be, g->dq, g->dv, g->dout, c->out, s->lse, c->q, c->v, s->order, c->key_mask,
                                    c->B, c->H, c->N, c->D, R, chunk, before);
}

const sb_attention_ops sb_attention_reformer = {
    .name = "reformer",
    .qv_without_bias = 1,
    .param_count = sb_attention_no_params,
    .init_params = sb_attention_no_init,
    .validate = reformer_validate,
    .draws_layout = reformer_draws_layout,
    .state_create = reformer_state_create,
    .state_destroy = reformer_state_destroy,
    .forward = reformer_forward,
    .backward = reformer_backward,
    .density = NULL,
};
