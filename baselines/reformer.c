/* Reformer LSH self-attention, in two forms (cfg->reformer_form), per
 * (example, head) with x = the shared query/key vectors and v the values.
 *
 * "sbm" (the default): reformer_pytorch 1.4.4 as the SBM-Transformer paper's
 * code runs it (`code/attention_reformer.py`: LSHSelfAttention(dim=64,
 * heads=2, n_hashes=2), called on the block's LayerNormed input with
 * input_mask, its output then through the model's own output Linear `ff`),
 * with the library's defaults: bucket_size = reformer_chunk (64),
 * n_hashes = reformer_hashes, not causal, attend_across_buckets, duplicate
 * attention allowed (no dedup), rehash_each_round, one rotation draw for all
 * heads (random_rotations_per_head False), no dropout, full_attn_thres =
 * bucket_size:
 *   - Shared QK: toqk and tov are bias-free Linears; the model's W_q and W_v
 *     play them (b_q, b_v held at 0: qv_without_bias), x = call->q, v =
 *     call->v, W_k unused (dK = 0).
 *   - N <= chunk: FullQKAttention. Keys k̂ = x / max(|x|₂, 1e-12)
 *     (F.normalize, gradient through it), queries x; S = q.k̂ D^(-1/2); first
 *     every query's own key gets -5e4 (TOKEN_SELF_ATTN_VALUE), then every pair
 *     with a pad query or a pad key -FLT_MAX (max_neg_value), which wins: a
 *     pad query's row is all -FLT_MAX and its softmax uniform over all N keys.
 *     o = softmax(S) v (torch's softmax: exp(s - max) / Σ).
 *   - N > chunk: LSHAttention. N must be a multiple of 2 chunk (the library
 *     asserts it; validate rejects other lengths); nb = N / chunk buckets
 *     (not HF's power of two). Rotations R ~ N(0,1) [D, hashes, nb/2], ONE
 *     draw shared by every head and example of the call, fresh every call
 *     (training and evaluation alike); bucket = argmax([xR, -xR]); pads are
 *     hashed like every token (no pad bucket). Per round, positions stably
 *     sorted by (bucket, position), rounds concatenated, chunks of `chunk`
 *     attend to themselves and the previous chunk, cyclically over all rounds
 *     (look_one_back: reformer_chunks_before = 1, the default; other values
 *     are our extension). S = q.k̂ D^(-1/2) with k̂ as above; pairs with a pad
 *     query or a pad key get -FLT_MAX, THEN every key at the query's own
 *     position -5e4, which wins (a pad query attends only to its own
 *     position). softmax via logsumexp per round, rounds combined as below.
 *   - to_out = Linear(H·D, H·D) with bias, this variant's parameters
 *     ("to_out_w" [H·D, H·D], "to_out_b" [H·D], PyTorch's default init
 *     U(±1/√(H·D)) for both), on the heads' concatenated outputs per
 *     position: y = concat_h(o_h) Wᵀ + b, written to call->out split into
 *     heads [B,H,N,D], so the model's W_o (the reference's `ff`) follows it
 *     as in the SBM code. In the SBM code to_out maps H·D to dim = 64 = H·D.
 *
 * "nys": HF transformers' LSHSelfAttention v3.3.1 as the Nyströmformer
 * repo's `LRA/code/attention_reformer.py` wraps it (the LRA reference):
 *   - Shared QK: HF ties query_key to NYS's W_q and value to W_v, both
 *     bias-free: x = call->q, v = call->v, W_k unused, as above.
 *   - N <= chunk: plain attention over all N (HF's do_standard_self_attention:
 *     no hashing, one output). Otherwise N must be a multiple of the chunk.
 *   - Buckets: nb = 2^(bit_length(2 (N / chunk)) − 1), factorised into
 *     [2^⌊p/2⌋, 2^(p−⌊p/2⌋)] when above 2 max(⌊√(max_len / chunk)⌋, chunk)
 *     (HF _set_num_buckets, with max_position_embeddings = max_len; HF sets
 *     it on the first call, we recompute it from N every call, the same for
 *     a fixed length). Rotations R ~ N(0,1) [H, D, hashes, Σ factors/2], one
 *     per head, fresh every call, bucket = argmax([xR, −xR]) on x with no
 *     gradient; pads get the extra bucket nb; per round, positions are stably
 *     sorted by (bucket, position) (HF's per-round offset r·nb' only keeps
 *     rounds apart). Chunks attend to themselves and the
 *     `reformer_chunks_before` previous chunks, cyclically over all rounds.
 *   - Keys k = x / √(mean(x²) + 1e-6) / √D (gradient through it), queries x,
 *     no other scaling. Scores of pad keys are set to −1e9, then every key at
 *     the query's own position to −1e5 (so a pad query's own pad key gets
 *     −1e5); pad queries are computed. softmax via logsumexp, as in the LSH
 *     path. No parameters.
 *
 * Both: rounds combined as out = Σ_r o_r exp(lse_r − logsumexp_r lse_r), with
 * the gradient through the weights (HF's ReverseSort and reformer_pytorch's
 * autograd alike); no deduplication of keys seen twice; no attention dropout
 * (0 in both references; attn_dropout is ignored). The two forms run the
 * same kernels (core/cpu/cpu_reformer.c), told apart by plan_for's
 * sb_reformer_hashing and sb_reformer_scoring. Random draws come from
 * call->rng_attn, or call->fixed_draws ("rotations", [H, D, hashes, half]
 * for "nys", [1, D, hashes, nb/2] for "sbm": the libraries' own shapes).
 * Cost O(hashes · N · chunk (1 + before) · D) plus the O(N + nb) sort, and
 * for "sbm" the O(N (H·D)²) projection. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "core/attention.h"
#include "core/layers.h"
#include "core/fatal.h"

/* cfg->reformer_form (experiments/config.c: "nys|sbm") */
enum { REFORMER_NYS = 0, REFORMER_SBM = 1 };

typedef struct {
    int B, N, R;
    int32_t *order;   /* [B,H,R,N] */
    float *lse;       /* [B,H,R,N] */
    float *rot;       /* this call's rotations (layout: draws_layout) */
    size_t rot_cap;
    /* "sbm": the attention's output o [B,H,N,D] before to_out (backward's
     * `out`), and two scratch blocks of [B·N, H·D] rows */
    float *o, *t1, *t2;
} reformer_state;

/* One call's plan for sequences of N tokens: the geometry, the form's
 * hashing and its scoring. */
typedef struct {
    int lsh;              /* 0: full attention over all N (N <= chunk) */
    int R, chunk, before; /* rounds, chunk length, chunks looked back (full: 1, N, 0) */
    int half;             /* rotation width Σ factors / 2 */
    sb_reformer_hashing hash;
    sb_reformer_scoring score;
} reformer_plan;

static int is_sbm(const sb_attn_config *cfg) { return cfg->reformer_form == REFORMER_SBM; }

/* HF _set_num_buckets: a power of two, factorised when large; one rotation
 * draw per head, pads in their own bucket. */
static sb_reformer_hashing nys_hashing(const sb_attn_config *cfg, int N) {
    sb_reformer_hashing hs = {.rot_per_head = 1, .pad_bucket = 1};
    const int chunk = cfg->reformer_chunk;
    int v = 2 * (N / chunk), bits = 0;
    while (v) bits++, v >>= 1;
    const int pw = bits - 1;
    const int nb = 1 << pw;
    const int maxpos = cfg->max_len > N ? cfg->max_len : N; /* max_len 0: not resolved yet */
    const int sq = (int)floor(sqrt((double)(maxpos / chunk)));
    const int limit = 2 * (sq > chunk ? sq : chunk);
    if (nb > limit) {
        hs.nf = 2, hs.factors[0] = 1 << (pw / 2), hs.factors[1] = 1 << (pw - pw / 2);
    } else {
        hs.nf = 1, hs.factors[0] = nb;
    }
    return hs;
}

/* reformer_pytorch: n_buckets = N / bucket_size, one draw for all heads,
 * pads hashed like any token. */
static sb_reformer_hashing sbm_hashing(const sb_attn_config *cfg, int N) {
    return (sb_reformer_hashing){.nf = 1, .factors = {N / cfg->reformer_chunk}, .rot_per_head = 0, .pad_bucket = 0};
}

/* HF: keys x / √(mean x² + 1e-6) / √D, pad keys −1e9, then self −1e5
 * (mask_value_float32, self_mask_value_float32), softmax via logsumexp. */
static const sb_reformer_scoring nys_scoring = {.key_norm = SB_REFORMER_KEYS_RMS, .scale = 1.0f,
                                                .pad_value = -1e9f, .self_value = -1e5f, .pad_queries = 0,
                                                .self_then_pad = 0, .plain_softmax = 0};

/* reformer_pytorch: keys F.normalize(x), scores · D^(-1/2) (dim ** -0.5,
 * rounded to float as torch multiplies a float tensor by it), pad queries and
 * keys at -FLT_MAX, self -5e4. The LSH path masks pads first and self last
 * (softmax via logsumexp); FullQKAttention self first, pads last (plain
 * softmax, exact on its all-pad rows). */
static sb_reformer_scoring sbm_scoring(int D, int full) {
    return (sb_reformer_scoring){.key_norm = SB_REFORMER_KEYS_L2, .scale = (float)(1.0 / sqrt((double)D)),
                                 .pad_value = -FLT_MAX, .self_value = -5e4f, .pad_queries = 1,
                                 .self_then_pad = full, .plain_softmax = full};
}

static reformer_plan plan_for(const sb_attn_config *cfg, int N) {
    reformer_plan p = {0};
    p.lsh = N > cfg->reformer_chunk;
    p.R = p.lsh ? cfg->reformer_hashes : 1;
    p.chunk = p.lsh ? cfg->reformer_chunk : N;
    p.before = p.lsh ? cfg->reformer_chunks_before : 0;
    p.score = is_sbm(cfg) ? sbm_scoring(cfg->d_head, !p.lsh) : nys_scoring;
    if (!p.lsh) return p;
    p.hash = is_sbm(cfg) ? sbm_hashing(cfg, N) : nys_hashing(cfg, N);
    for (int f = 0; f < p.hash.nf; f++) p.half += p.hash.factors[f] / 2;
    return p;
}

/* HF cuts the sequence into chunks by a reshape; reformer_pytorch asserts
 * N % (2 bucket_size) == 0 (an even bucket count). */
static int reformer_validate(const sb_attn_config *cfg, int N, char *err, size_t errlen) {
    const int chunk = cfg->reformer_chunk;
    if (N <= chunk) return 0;
    if (is_sbm(cfg) && N % (2 * chunk) != 0) {
        snprintf(err, errlen,
                 "reformer_form \"sbm\": seq_len %d is not a multiple of 2 x reformer_chunk = %d "
                 "(reformer_pytorch's LSH attention needs an even number of buckets of reformer_chunk; "
                 "seq_len <= reformer_chunk runs full attention)",
                 N, 2 * chunk);
        return -1;
    }
    if (N % chunk != 0) {
        snprintf(err, errlen,
                 "reformer_chunk %d does not divide seq_len %d (LSH attention needs whole chunks; "
                 "seq_len <= reformer_chunk runs plain attention)",
                 chunk, N);
        return -1;
    }
    return 0;
}

/* ---- "sbm": to_out = Linear(H·D, H·D) with bias ---- */

static size_t reformer_param_count(const sb_attn_config *cfg) {
    const size_t HD = (size_t)cfg->n_heads * cfg->d_head;
    return is_sbm(cfg) ? HD * HD + HD : 0;
}

static int reformer_param_layout(const sb_attn_config *cfg, sb_param_desc *out) {
    if (!is_sbm(cfg)) return 0;
    const int HD = cfg->n_heads * cfg->d_head;
    out[0] = (sb_param_desc){.name = "to_out_w", .rank = 2, .dims = {HD, HD}, .offset = 0};
    out[1] = (sb_param_desc){.name = "to_out_b", .rank = 1, .dims = {HD}, .offset = (size_t)HD * HD};
    return 2;
}

/* torch.nn.Linear's default: kaiming_uniform(a = √5) on W, i.e.
 * U(±1/√fan_in), and U(±1/√fan_in) on b; fan_in = H·D. */
static void reformer_init_params(const sb_attn_config *cfg, float *params, sb_rng_reader *rng) {
    const size_t n = reformer_param_count(cfg);
    const float bound = 1.0f / sqrtf((float)(cfg->n_heads * cfg->d_head));
    for (size_t i = 0; i < n; i++) params[i] = (2.0f * sb_rng_next_unit(rng) - 1.0f) * bound;
}

/* call->out [B,H,N,D] = heads of concat_h(o_h) Wᵀ + b, from o [B,H,N,D] */
static void to_out_forward(sb_backend *be, reformer_state *s, const float *params, const sb_attn_call *c) {
    const int HD = c->H * c->D, rows = c->B * c->N;
    const float *W = params, *bias = params + (size_t)HD * HD;
    be->heads_merge(be, s->t1, HD, s->o, c->B, c->N, c->H, c->D, 0); /* [B·N, H·D] */
    sb_linear_forward(be, s->t2, s->t1, W, bias, rows, HD, HD);
    be->heads_split(be, c->out, s->t2, HD, c->B, c->N, c->H, c->D, 0);
}

/* From dy = dout (heads of [B·N, H·D]): dW += dyᵀ concat(o), db += Σ_rows dy;
 * returns do = heads of dy W [B,H,N,D] (in s->t1), the attention's dout. */
static const float *to_out_backward(sb_backend *be, reformer_state *s, const float *params, float *dparams,
                                    const sb_attn_call *c, const float *dout) {
    const int HD = c->H * c->D, rows = c->B * c->N;
    const float *W = params;
    float *dy = s->t1, *cat = s->t2;
    be->heads_merge(be, dy, HD, dout, c->B, c->N, c->H, c->D, 0);
    be->heads_merge(be, cat, HD, s->o, c->B, c->N, c->H, c->D, 0);
    sb_linear_backward(be, NULL, dparams, dparams + (size_t)HD * HD, dy, cat, W, rows, HD, HD); /* dW, db */
    be->gemm(be, 0, 0, rows, HD, HD, 1.0f, dy, HD, W, HD, 0.0f, cat, HD); /* d concat(o), over cat */
    be->heads_split(be, s->t1, cat, HD, c->B, c->N, c->H, c->D, 0);      /* over dy, no longer needed */
    return s->t1;
}

/* ---- the attention ---- */

static int reformer_draws_layout(const sb_attn_config *cfg, int N, sb_param_desc *out) {
    const reformer_plan p = plan_for(cfg, N);
    if (!p.lsh) return 0;
    const int heads = p.hash.rot_per_head ? cfg->n_heads : 1;
    out[0] = (sb_param_desc){.name = "rotations", .rank = 4,
                             .dims = {heads, cfg->d_head, cfg->reformer_hashes, p.half}, .offset = 0};
    return 1;
}

static void *reformer_state_create(sb_backend *be, const sb_attn_config *cfg, int B, int N, int training) {
    (void)training;
    reformer_state *s = calloc(1, sizeof *s);
    s->B = B, s->N = N, s->R = cfg->reformer_hashes;
    const size_t n = (size_t)B * cfg->n_heads * s->R * N;
    s->order = be->alloc(be, sizeof(int32_t) * n);
    s->lse = be->alloc(be, sizeof(float) * n);
    if (is_sbm(cfg)) {
        const size_t x = (size_t)B * cfg->n_heads * N * cfg->d_head;
        s->o = be->alloc(be, sizeof(float) * x);
        s->t1 = be->alloc(be, sizeof(float) * x);
        s->t2 = be->alloc(be, sizeof(float) * x);
    }
    return s;
}

static void reformer_state_destroy(sb_backend *be, void *state) {
    reformer_state *s = state;
    if (!s) return;
    float *b[] = {s->lse, s->rot, s->o, s->t1, s->t2};
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) be->free(be, b[i]);
    be->free(be, s->order);
    free(s);
}

/* This call's rotations: the fixed draws, or fresh N(0,1) from rng_attn in
 * draws_layout's order. */
static const float *rotations(sb_backend *be, reformer_state *s, const reformer_plan *p, const sb_attn_call *c) {
    if (c->fixed_draws) return c->fixed_draws;
    const size_t nr = (size_t)(p->hash.rot_per_head ? c->H : 1) * c->D * p->R * p->half;
    if (nr > s->rot_cap) {
        be->free(be, s->rot);
        s->rot = be->alloc(be, sizeof(float) * nr);
        s->rot_cap = nr;
    }
    sb_rng_reader rr;
    sb_rng_reader_init(&rr, c->rng_attn);
    for (size_t i = 0; i < nr; i++) s->rot[i] = sb_rng_next_normal(&rr);
    return s->rot;
}

static void reformer_forward(sb_backend *be, void *state, const sb_attn_config *cfg, const float *params,
                             const sb_attn_call *c) {
    reformer_state *s = state;
    const int B = c->B, H = c->H, N = c->N, D = c->D;
    char err[256];
    if (reformer_validate(cfg, N, err, sizeof err)) { /* `op` and tests reach here unvalidated */
        sb_fatal(2, "reformer: %s", err);
    }
    const reformer_plan p = plan_for(cfg, N);
    const float *rot = p.lsh ? rotations(be, s, &p, c) : NULL;
    float *o = is_sbm(cfg) ? s->o : c->out; /* "sbm": to_out follows */
    be->reformer_hash_sort(be, s->order, c->q, rot, c->key_mask, B, H, N, D, p.R, &p.hash);
    be->reformer_attention_forward(be, o, s->lse, c->q, c->v, s->order, c->key_mask, B, H, N, D, p.R, p.chunk,
                                   p.before, &p.score);
    if (is_sbm(cfg)) to_out_forward(be, s, params, c);
}

/* Uses the attention's output of the forward: "nys" c->out (the caller keeps
 * it until backward), "sbm" the saved o before to_out. */
static void reformer_backward(sb_backend *be, void *state, const sb_attn_config *cfg, const float *params,
                              float *dparams, const sb_attn_call *c, const sb_attn_grads *g) {
    reformer_state *s = state;
    const reformer_plan p = plan_for(cfg, c->N);
    const float *dout = g->dout, *out = c->out;
    if (is_sbm(cfg)) dout = to_out_backward(be, s, params, dparams, c, g->dout), out = s->o;
    be->reformer_attention_backward(be, g->dq, g->dv, dout, out, s->lse, c->q, c->v, s->order, c->key_mask, c->B,
                                    c->H, c->N, c->D, p.R, p.chunk, p.before, &p.score);
}

const sb_attention_ops sb_attention_reformer = {
    .name = "reformer",
    .qv_without_bias = 1,
    .param_count = reformer_param_count,
    .init_params = reformer_init_params,
    .param_layout = reformer_param_layout,
    .validate = reformer_validate,
    .draws_layout = reformer_draws_layout,
    .state_create = reformer_state_create,
    .state_destroy = reformer_state_destroy,
    .forward = reformer_forward,
    .backward = reformer_backward,
    .density = NULL,
};
