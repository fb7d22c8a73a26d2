/* Whole-model gradient check: sb_model_backward against finite differences of
 * sb_model_forward's summed loss, for the token-level head and the mean-pooled
 * sequence head, with padding, hidden dropout and attention dropout on (the
 * masks are keyed by (seed, step), so the loss is a deterministic function of
 * the parameters). Also: padded positions do not influence real outputs, the
 * inference model matches the training model, backward accumulates. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "core/attention.h"
#include "core/model.h"
#include "tests/test_util.h"

enum { B = 3, T = 8, V = 11, C = 3 };
#define SEED 1234u
#define STEP 17u
/* FD points per parameter tensor (all of it when smaller) */
#define PER_TENSOR 10
/* FD step, error floor and tolerance (tu_rel_err_floor). The loss (~16) is
 * computed in float, so each difference quotient carries ~1e-5 of noise at
 * h = 1/16 (2e-5 measured), which depends on the build (FMA contraction,
 * BLAS kernels). With the default floor 1e-3 that is 2e-2 on the smallest
 * gradients; with floor 1e-2 gradients below 1e-2 are compared absolutely
 * (error / 1e-2). That still exposes a 5% error on any gradient above 1e-2
 * (e.g. a lost 1/(1-p) dropout scale) and a lost gradient of any size above
 * ~1e-4. Measured: at most 1.9e-3 (-O2 and -O3 builds, 1 or 2 threads).
 * Steps of 1/8 show truncation error (5e-2), 1/32 twice the noise. */
#define H_MODEL 0.0625f
#define FLOOR_MODEL 1e-2
#define TOL_MODEL 1e-2

/* example 0: full length; 1: 4 tokens + 4 pads; 2: 5 tokens + 3 pads */
static const int lengths[B] = {8, 4, 5};

static sb_model_config small_config(int token_level) {
    sb_model_config c;
    memset(&c, 0, sizeof c);
    c.vocab_size = V;
    c.max_len = 9;
    c.seq_len = T;
    c.d_model = 8;
    c.n_layers = 2;
    c.n_heads = 2;
    c.d_head = 4;
    c.d_ffn = 12;
    c.n_classes = C;
    c.token_level = token_level;
    c.dropout = 0.1f;
    c.attn_dropout = 0.1f;
    c.ln_eps = 1e-5f;
    c.attn = sb_attention_find("full");
    c.attn_cfg.n_heads = c.n_heads;
    c.attn_cfg.d_head = c.d_head;
    c.attn_cfg.max_len = c.max_len;
    c.attn_cfg.attn_dropout = c.attn_dropout;
    return c;
}

typedef struct {
    sb_model *m;
    int32_t ids[B * T], labels[B * T];
    float mask[B * T];
} model_ctx;

static double model_loss(void *p) {
    model_ctx *c = p;
    return sb_model_forward(c->m, c->ids, c->mask, c->labels, 1, SEED, STEP).loss_sum;
}

/* Real tokens use ids 1..V-2 (never 0, never V-1 = 10); pads are id 0 with
 * mask 0. Token labels: pads -1, and one real token is ignored as well. */
static void make_batch(model_ctx *c, int token_level) {
    sb_rng_reader r = tu_rng(500);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int real = t < lengths[b];
            c->ids[b * T + t] = real ? 1 + (int32_t)sb_u32_below(sb_rng_next_u32(&r), V - 2) : 0;
            c->mask[b * T + t] = real ? 1.0f : 0.0f;
            c->labels[b * T + t] = real ? (int32_t)sb_u32_below(sb_rng_next_u32(&r), C) : -1;
        }
    c->labels[2 * T + 1] = -1;
    if (!token_level)
        for (int b = 0; b < B; b++) c->labels[b] = (int32_t)sb_u32_below(sb_rng_next_u32(&r), C);
}

/* The PyTorch init (embeddings N(0, 0.02^2), LayerNorm 1 and 0) is a poor
 * point for finite differences and for catching bugs: LayerNorm of a residual
 * stream of scale 0.03 is curved on the scale of any usable step, and gamma = 1
 * would hide a gradient that forgets gamma. Embeddings get N(0,1), LayerNorm
 * gains U(0.5,1.5) and biases N(0,0.2^2). The head's ReLU is kept off its
 * kink, which a finite difference cannot straddle: its pre-activations have a
 * spread of ~0.6 around biases of +2.5 (3 of every 4 units, active) or -2.5
 * (dead: backward and FD must both give their weights zero gradient). */
static void rescale_params(sb_model *m) {
    sb_param_ptrs P = sb_model_param_ptrs(m);
    const int gains[] = {SB_P_LN1G, SB_P_LN2G, SB_P_LNFG}, shifts[] = {SB_P_LN1B, SB_P_LN2B, SB_P_LNFB};
    tu_fill_normal(P.t[SB_P_TOK], sb_model_param_size(m, SB_P_TOK), 1.0f, 510);
    tu_fill_normal(P.t[SB_P_POS], sb_model_param_size(m, SB_P_POS), 1.0f, 511);
    for (int k = 0; k < 3; k++) {
        tu_fill_uniform(P.t[gains[k]], sb_model_param_size(m, gains[k]), 0.5f, 1.5f, 512 + (uint32_t)k);
        tu_fill_normal(P.t[shifts[k]], sb_model_param_size(m, shifts[k]), 0.2f, 515 + (uint32_t)k);
    }
    for (size_t j = 0; j < sb_model_param_size(m, SB_P_HB1); j++) P.t[SB_P_HB1][j] = j % 4 == 3 ? -2.5f : 2.5f;
}

/* FD points for parameter tensor i: all of the QKV projection (its q, k and
 * v blocks and layers are where variants differ: 10 random points missed every
 * query weight), PER_TENSOR elsewhere. */
static size_t fd_points(int i, size_t n) { return i == SB_P_WQKV || i == SB_P_BQKV ? n : PER_TENSOR; }

static void test_model(sb_backend *be, int token_level) {
    const char *tag = token_level ? "token-level" : "mean-pool";
    sb_model_config cfg = small_config(token_level);
    model_ctx c;
    c.m = sb_model_create(be, &cfg, B, 1);
    sb_model_init_params(c.m, 7);
    rescale_params(c.m);
    make_batch(&c, token_level);
    const size_t np = sb_model_num_params(c.m);
    const int R = token_level ? B * T : B;

    /* forward bookkeeping and determinism under dropout */
    sb_forward_result f1 = sb_model_forward(c.m, c.ids, c.mask, c.labels, 1, SEED, STEP);
    double rows = 0.0;
    int64_t counted = 0;
    for (int r = 0; r < R; r++)
        if (c.labels[r] >= 0) rows += sb_model_row_losses(c.m)[r], counted++;
    tu_check(fabs(f1.loss_sum - rows) <= 1e-9 * fabs(rows) && f1.counted == counted && isfinite(f1.loss_sum),
             "%s: loss_sum %.6f = sum of counted row losses, counted %lld", tag, f1.loss_sum,
             (long long)f1.counted);
    double again = model_loss(&c);
    double other_step = sb_model_forward(c.m, c.ids, c.mask, c.labels, 1, SEED, STEP + 1).loss_sum;
    double no_drop = sb_model_forward(c.m, c.ids, c.mask, c.labels, 0, SEED, STEP).loss_sum;
    tu_check(again == f1.loss_sum && other_step != f1.loss_sum && no_drop != f1.loss_sum,
             "%s: training loss is a function of (seed, step); dropout changes it", tag);

    /* analytic gradients; a second backward must double them */
    model_loss(&c);
    sb_model_zero_grad(c.m);
    sb_model_backward(c.m, 1.0f);
    float *g1 = tu_dup(sb_model_grads(c.m), np);
    sb_model_backward(c.m, 1.0f);
    char name[128];
    snprintf(name, sizeof name, "%s: model backward accumulates (+=)", tag);
    tu_report(name, tu_doubling_err(g1, sb_model_grads(c.m), np), 5e-6);

    /* which parameter block each tensor's gradient is, in g1 */
    sb_param_ptrs P = sb_model_param_ptrs(c.m);
    const float *params0 = sb_model_params(c.m);
    printf("%s: FD step %g, error floor %g, tolerance %g\n", tag, (double)H_MODEL, FLOOR_MODEL, TOL_MODEL);
    tu_fd_result all = {0.0, 0.0, 0};
    for (int i = 0; i < SB_P_COUNT; i++) {
        size_t n = sb_model_param_size(c.m, i);
        if (n == 0) continue;
        const float *g = g1 + (P.t[i] - params0);
        tu_fd_result r = tu_fd_check(model_loss, &c, P.t[i], g, n, H_MODEL, fd_points(i, n), (uint32_t)i, FLOOR_MODEL);
        snprintf(name, sizeof name, "%s d%s", tag, sb_model_param_name(i));
        tu_report_fd(name, r, TOL_MODEL);
        all.max_rel = tu_worse(all.max_rel, r.max_rel);
        all.max_abs = tu_worse(all.max_abs, r.max_abs);
        all.checked += r.checked;
    }
    /* every embedding row a real token uses, in full */
    const int D = cfg.d_model;
    const float *gtok = g1 + (P.t[SB_P_TOK] - params0);
    int used[V] = {0};
    for (int e = 0; e < B * T; e++)
        if (c.mask[e] > 0.0f) used[c.ids[e]] = 1;
    tu_fd_result emb = {0.0, 0.0, 0};
    for (int id = 0; id < V; id++) {
        if (!used[id]) continue;
        tu_fd_result r = tu_fd_check(model_loss, &c, P.t[SB_P_TOK] + (size_t)id * D,
                                     gtok + (size_t)id * D, (size_t)D, H_MODEL, (size_t)D, 0, FLOOR_MODEL);
        emb.max_rel = tu_worse(emb.max_rel, r.max_rel);
        emb.max_abs = tu_worse(emb.max_abs, r.max_abs);
        emb.checked += r.checked;
    }
    snprintf(name, sizeof name, "%s dtok_emb of used tokens", tag);
    tu_report_fd(name, emb, TOL_MODEL);
    all.checked += emb.checked;
    snprintf(name, sizeof name, "%s all sampled parameters", tag);
    tu_report_fd(name, all, TOL_MODEL);

    /* rows nothing real reaches get exactly zero gradient: the pad-only token
     * 0, the unused token V-1, and position row 8 (max_len 9 > seq_len 8) */
    int zero = 1;
    const float *gpos = g1 + (P.t[SB_P_POS] - params0);
    for (int d = 0; d < D; d++)
        zero &= gtok[d] == 0.0f && gtok[(size_t)(V - 1) * D + d] == 0.0f && gpos[(size_t)T * D + d] == 0.0f;
    tu_check(zero, "%s: pad-only token, unused token and unused position rows get zero gradient", tag);

    /* padded positions do not influence real outputs: change the pads' ids */
    sb_model_forward(c.m, c.ids, c.mask, c.labels, 1, SEED, STEP);
    float *logits0 = tu_dup(sb_model_logits(c.m), (size_t)R * C);
    model_ctx alt = c;
    for (int e = 0; e < B * T; e++)
        if (c.mask[e] == 0.0f) alt.ids[e] = 1 + e % (V - 1);
    sb_forward_result fa = sb_model_forward(c.m, alt.ids, alt.mask, alt.labels, 1, SEED, STEP);
    const float *logits1 = sb_model_logits(c.m);
    int same = fa.loss_sum == f1.loss_sum;
    for (int r = 0; r < R; r++)
        if (!token_level || c.mask[r] > 0.0f)
            for (int k = 0; k < C; k++) same &= logits0[r * C + k] == logits1[r * C + k];
    tu_check(same, "%s: changing padded ids leaves real rows' logits and the loss bit-identical", tag);

    /* the inference model (one layer's activations, reused) computes the same
     * logits as the training model with dropout off */
    sb_model *inf = sb_model_create(be, &cfg, B, 0);
    memcpy(sb_model_params(inf), sb_model_params(c.m), np * sizeof(float));
    sb_forward_result fi = sb_model_forward(inf, c.ids, c.mask, c.labels, 0, SEED, STEP);
    sb_forward_result ft = sb_model_forward(c.m, c.ids, c.mask, c.labels, 0, SEED, STEP);
    tu_check(fi.loss_sum == ft.loss_sum && fi.correct == ft.correct &&
                 memcmp(sb_model_logits(inf), sb_model_logits(c.m), sizeof(float) * R * C) == 0,
             "%s: inference model == training model with dropout off (bit-identical logits)", tag);
    sb_model_destroy(inf);
    free(logits0);
    free(g1);
    sb_model_destroy(c.m);
}

/* The initialisation every tensor kind gets (PyTorch's defaults, as the
 * reference): embeddings N(0, 0.02^2), LayerNorm gains 1 and shifts 0, and
 * every Linear's weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in
 * the layer's input width: D for W_qkv and W_1, H*Dh for W_o, F for W_2 and
 * the head's second layer, the head's input (D, or 4D for a pair task) for
 * its first. D 16, H*Dh 24, F 48 and 4D 64 differ pairwise, so the bounds of
 * any two differ by a factor of 1/0.87 or more, and a wrong fan_in fails one
 * of the checks: all |x| within the bound, and the largest past 0.9 of it.
 * Each tensor is pooled over 100 seeds: at least 300 values (the head's bias
 * holds C = 3), so its largest falls below 0.9 of the bound with probability
 * 0.9^300 < 1e-13. */
static void test_init_distribution(sb_backend *be, int pair) {
    enum { SEEDS = 100 };
    const char *tag = pair ? "pair model init" : "model init";
    sb_model_config cfg = small_config(0);
    cfg.d_model = 16, cfg.n_heads = 2, cfg.d_head = 12, cfg.d_ffn = 48, cfg.n_seqs = pair ? 2 : 1;
    cfg.attn_cfg.n_heads = cfg.n_heads, cfg.attn_cfg.d_head = cfg.d_head;
    const int D = cfg.d_model, HD = cfg.n_heads * cfg.d_head, F = cfg.d_ffn, head_in = pair ? 4 * D : D;
    int fan_in[SB_P_COUNT] = {0};
    fan_in[SB_P_WQKV] = fan_in[SB_P_BQKV] = D;
    fan_in[SB_P_WO] = fan_in[SB_P_BO] = HD;
    fan_in[SB_P_W1] = fan_in[SB_P_B1] = D;
    fan_in[SB_P_W2] = fan_in[SB_P_B2] = F;
    fan_in[SB_P_HW1] = fan_in[SB_P_HB1] = head_in;
    fan_in[SB_P_HW2] = fan_in[SB_P_HB2] = F;
    sb_model *m = sb_model_create(be, &cfg, 1, 0);
    sb_param_ptrs P = sb_model_param_ptrs(m);
    double max_abs[SB_P_COUNT] = {0}, sum[SB_P_COUNT] = {0}, sum2[SB_P_COUNT] = {0};
    int is_one[SB_P_COUNT], is_zero[SB_P_COUNT];
    for (int i = 0; i < SB_P_COUNT; i++) is_one[i] = is_zero[i] = 1;
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        sb_model_init_params(m, seed);
        for (int i = 0; i < SB_P_COUNT; i++)
            for (size_t j = 0; j < sb_model_param_size(m, i); j++) {
                const double x = P.t[i][j];
                if (!(fabs(x) <= max_abs[i])) max_abs[i] = fabs(x); /* NaN sticks */
                sum[i] += x, sum2[i] += x * x;
                is_one[i] &= x == 1.0, is_zero[i] &= x == 0.0;
            }
    }
    for (int i = 0; i < SB_P_COUNT; i++) {
        const size_t n = SEEDS * sb_model_param_size(m, i);
        const char *name = sb_model_param_name(i);
        if (i == SB_P_TOK || i == SB_P_POS) {
            /* N(0, 0.02^2): mean within 5 standard errors of 0, the standard
             * deviation within 5 of its relative standard errors, 1/sqrt(2n)
             * (under 4% at the 10000 values required), and a normal's tail:
             * some |x| past 3 std (a uniform of that spread stops at 1.73;
             * n normals all stay inside with probability 0.9973^n < 1e-11) */
            const double mean = sum[i] / n, sd = sqrt(sum2[i] / n - mean * mean);
            tu_check(n >= 10000 && fabs(mean) < 5 * 0.02 / sqrt((double)n) &&
                         fabs(sd / 0.02 - 1) < 5 / sqrt(2.0 * (double)n) && max_abs[i] > 3.0 * 0.02,
                     "%s: %s ~ N(0, 0.02^2): mean %.2e, std %.5f, max |x| %.4f (%zu values)", tag, name, mean, sd,
                     max_abs[i], n);
        } else if (i == SB_P_LN1G || i == SB_P_LN2G || i == SB_P_LNFG) {
            tu_check(n > 0 && is_one[i], "%s: %s all 1 (%zu values)", tag, name, n);
        } else if (i == SB_P_LN1B || i == SB_P_LN2B || i == SB_P_LNFB) {
            tu_check(n > 0 && is_zero[i], "%s: %s all 0 (%zu values)", tag, name, n);
        } else if (i == SB_P_ATTN) {
            tu_check(n == 0, "%s: full attention has no parameters of its own", tag);
        } else {
            const double bound = 1.0 / sqrt((double)fan_in[i]), r = max_abs[i] / bound;
            tu_check(n >= 300 && r <= 1.0 + 1e-6 && r > 0.9,
                     "%s: %s ~ U(+-1/sqrt(%d)): max |x| %.4f = %.4f of the bound %.4f (%zu values)", tag, name,
                     fan_in[i], max_abs[i], r, bound, n);
        }
    }
    sb_model_destroy(m);
}

/* The optimiser's ranges leave out exactly the frozen tensors: Performer's
 * omega [M,D] in each layer's block, nothing for a variant without any. */
static void test_trainable_ranges(sb_backend *be) {
    sb_model_config cfg = small_config(0);
    size_t st[65], len[65];
    sb_model *m = sb_model_create(be, &cfg, B, 1);
    int n = sb_model_trainable_ranges(m, st, len, 65);
    tu_check(n == 1 && st[0] == 0 && len[0] == sb_model_num_params(m), "full: one trainable range, the whole block");
    sb_model_destroy(m);
    cfg.attn = sb_attention_find("performer");
    cfg.attn_cfg.performer_features = 6;
    m = sb_model_create(be, &cfg, B, 1);
    n = sb_model_trainable_ranges(m, st, len, 65);
    size_t covered = 0, attn0 = 0;
    for (int i = 0; i < n; i++) covered += len[i];
    for (int i = 0; i < SB_P_ATTN; i++) attn0 += sb_model_param_size(m, i);
    const size_t omega = (size_t)6 * cfg.d_head, per_layer = sb_model_param_size(m, SB_P_ATTN) / cfg.n_layers;
    int outside = 1;
    for (int i = 0; i < n; i++)
        for (int l = 0; l < cfg.n_layers; l++) {
            size_t o = attn0 + l * per_layer; /* omega is the whole per-layer block here */
            outside &= st[i] + len[i] <= o || st[i] >= o + omega;
        }
    tu_check(per_layer == omega && covered == sb_model_num_params(m) - cfg.n_layers * omega && outside,
             "performer: the ranges skip each layer's omega exactly (%d ranges)", n);
    sb_model_destroy(m);
}

/* Every variant through the whole model (mean-pooled head, two layers,
 * padding, dropout): each parameter tensor's gradient against finite
 * differences, which covers what the op-level checks cannot: Linformer's E
 * shared by the layers, each layer's own Nyström convolution, the fused QKV
 * projection feeding Reformer's shared query/key. Settings as in
 * test_grad_baselines (Reformer sees every chunk, so its buckets do not
 * matter; Performer without its stabiliser, whose frozen omega is left out
 * as the optimiser leaves it out). */
static void test_variant_model(sb_backend *be, const char *name, sb_attn_config acfg, const char *label) {
    sb_model_config cfg = small_config(0);
    acfg.n_heads = cfg.n_heads, acfg.d_head = cfg.d_head, acfg.max_len = cfg.max_len;
    acfg.attn_dropout = cfg.attn_dropout;
    cfg.attn = sb_attention_find(name);
    cfg.attn_cfg = acfg;
    model_ctx c;
    c.m = sb_model_create(be, &cfg, B, 1);
    sb_model_init_params(c.m, 7);
    rescale_params(c.m);
    make_batch(&c, 0);
    model_loss(&c);
    sb_model_zero_grad(c.m);
    sb_model_backward(c.m, 1.0f);
    const size_t np = sb_model_num_params(c.m);
    float *g = tu_dup(sb_model_grads(c.m), np);
    sb_param_ptrs P = sb_model_param_ptrs(c.m);
    const float *params0 = sb_model_params(c.m);
    tu_fd_result all = {0.0, 0.0, 0};
    for (int i = 0; i < SB_P_COUNT; i++) {
        size_t n = sb_model_param_size(c.m, i);
        if (n == 0 || (i == SB_P_ATTN && !strcmp(name, "performer"))) continue;
        tu_fd_result r = tu_fd_check(model_loss, &c, P.t[i], g + (P.t[i] - params0), n, H_MODEL, fd_points(i, n),
                                     (uint32_t)i, FLOOR_MODEL);
        char what[96];
        snprintf(what, sizeof what, "%s model d%s", label, sb_model_param_name(i));
        tu_report_fd(what, r, TOL_MODEL);
        all.max_rel = tu_worse(all.max_rel, r.max_rel), all.max_abs = tu_worse(all.max_abs, r.max_abs);
        all.checked += r.checked;
    }
    char what[96];
    snprintf(what, sizeof what, "%s model: all sampled parameters", label);
    tu_report_fd(what, all, TOL_MODEL);
    free(g);
    sb_model_destroy(c.m);
}

/* Reformer's query/key and values carry no bias in the reference: the model
 * initialises b_q and b_v to 0 and the optimiser's ranges skip exactly them
 * (b_k, unused like W_k, stays trainable as the reference's W_K does). */
static void test_reformer_bias(sb_backend *be) {
    sb_model_config cfg = small_config(0);
    cfg.attn = sb_attention_find("reformer");
    cfg.attn_cfg.reformer_hashes = 2, cfg.attn_cfg.reformer_chunk = 4, cfg.attn_cfg.reformer_chunks_before = 1;
    sb_model *m = sb_model_create(be, &cfg, B, 1);
    sb_model_init_params(m, 7);
    const int HD = cfg.n_heads * cfg.d_head;
    const float *bqkv = sb_model_param_ptrs(m).t[SB_P_BQKV], *p0 = sb_model_params(m);
    int zero = 1, nonzero_k = 0;
    for (int l = 0; l < cfg.n_layers; l++)
        for (int j = 0; j < HD; j++) {
            const float *b = bqkv + (size_t)l * 3 * HD;
            zero &= b[j] == 0.0f && b[2 * HD + j] == 0.0f;
            nonzero_k += b[HD + j] != 0.0f;
        }
    tu_check(zero && nonzero_k > 0, "reformer: b_q and b_v initialised to 0 (b_k drawn: %d of %d nonzero)", nonzero_k,
             cfg.n_layers * HD);
    size_t st[16], len[16], covered = 0;
    const int n = sb_model_trainable_ranges(m, st, len, 16);
    int outside = n <= 16;
    for (int i = 0; i < n && i < 16; i++) {
        covered += len[i];
        for (int l = 0; l < cfg.n_layers; l++)
            for (int v = 0; v < 2; v++) {
                const size_t f0 = (size_t)(bqkv - p0) + (size_t)l * 3 * HD + (size_t)v * 2 * HD;
                outside &= st[i] + len[i] <= f0 || st[i] >= f0 + HD;
            }
    }
    tu_check(outside && covered == sb_model_num_params(m) - (size_t)cfg.n_layers * 2 * HD,
             "reformer: the optimiser's ranges skip each layer's b_q and b_v exactly (%d ranges)", n);
    sb_model_destroy(m);
}

/* A training step's loss and gradients are the same bit for bit on 1, 2 and
 * 3 threads, for every variant, at a size where the products go by tiles and
 * by slices (2 x 256 = 512 rows), SBM samples real graphs and no thread count
 * splits the FFN's 2 x 256 x 100 elements into vector-aligned shares: a
 * resumed run continues exactly, and a run's numbers do not depend on the core
 * count. */
static void test_threads_model(sb_backend *be, const char *name, sb_attn_config acfg, const char *label) {
    enum { TB = 2, TT = 256 };
    sb_model_config cfg = small_config(0);
    cfg.seq_len = TT, cfg.max_len = TT, cfg.d_model = 64, cfg.n_heads = 2, cfg.d_head = 32, cfg.d_ffn = 100;
    acfg.n_heads = cfg.n_heads, acfg.d_head = cfg.d_head, acfg.max_len = cfg.max_len;
    acfg.attn_dropout = cfg.attn_dropout;
    cfg.attn = sb_attention_find(name);
    cfg.attn_cfg = acfg;
    int32_t ids[TB * TT], labels[TB];
    float mask[TB * TT];
    sb_rng_reader r = tu_rng(600);
    for (int e = 0; e < TB * TT; e++) {
        const int real = e % TT < TT - 40 * (e / TT); /* 0 and 40 pads */
        ids[e] = real ? 1 + (int32_t)sb_u32_below(sb_rng_next_u32(&r), V - 2) : 0;
        mask[e] = real ? 1.0f : 0.0f;
    }
    for (int b = 0; b < TB; b++) labels[b] = b % C;
    double loss[3];
    float *grads[3];
    size_t np = 0;
    for (int threads = 1; threads <= 3; threads++) {
        sb_cpu_set_threads(threads);
        sb_model *m = sb_model_create(be, &cfg, TB, 1);
        sb_model_init_params(m, 11);
        np = sb_model_num_params(m);
        loss[threads - 1] = sb_model_forward(m, ids, mask, labels, 1, SEED, STEP).loss_sum;
        sb_model_zero_grad(m);
        sb_model_backward(m, 1.0f);
        grads[threads - 1] = tu_dup(sb_model_grads(m), np);
        sb_model_destroy(m);
    }
    sb_cpu_set_threads(2);
    for (int t = 0; t < 3; t += 2)
        tu_check(loss[t] == loss[1] && !memcmp(grads[t], grads[1], sizeof(float) * np),
                 "%s model at n = %d: loss and gradients the same on 2 threads and on %d", label, TT, t + 1);
    for (int t = 0; t < 3; t++) free(grads[t]);
}

int main(void) {
    sb_backend *be = sb_backend_cpu_create(2);
    test_model(be, 1);
    test_model(be, 0);
    test_init_distribution(be, 0);
    test_init_distribution(be, 1);
    test_trainable_ranges(be);
    test_reformer_bias(be);
    test_variant_model(be, "linear", (sb_attn_config){0}, "linear");
    test_variant_model(be, "linformer", (sb_attn_config){.linformer_k = 5}, "linformer");
    test_variant_model(be, "performer", (sb_attn_config){.performer_features = 16, .performer_kernel = 2},
                       "performer");
    test_variant_model(be, "reformer",
                       (sb_attn_config){.reformer_hashes = 2, .reformer_chunk = 4, .reformer_chunks_before = 3},
                       "reformer");
    /* reformer_pytorch's form: 2 buckets of 4, the same 4 chunks; its to_out
     * is the attention's parameter block, followed by the model's W_o */
    test_variant_model(be, "reformer",
                       (sb_attn_config){.reformer_form = 1, .reformer_hashes = 2, .reformer_chunk = 4,
                                        .reformer_chunks_before = 3},
                       "reformer sbm");
    /* 4 landmarks. With 2, example 1's padded half is a zero landmark and
     * W_qkv's check fails at 6e-2 (1 and 4 landmarks pass at 1e-3 and 2e-3;
     * the op-level checks and the PyTorch fixture pass): not confirmed, but
     * most likely a kink, the maximum column sum that scales the
     * pseudo-inverse's start taken by tied entries */
    test_variant_model(be, "nystrom", (sb_attn_config){.nystrom_landmarks = 4, .nystrom_conv = 3}, "nystrom");
    test_variant_model(be, "nystrom", (sb_attn_config){.nystrom_landmarks = 8, .nystrom_conv = 5},
                       "nystrom, exact path");
    const struct { const char *name; sb_attn_config cfg; const char *label; } lra[] = {
        {"full", {0}, NULL},
        {"linear", {0}, NULL},
        {"linformer", {.linformer_k = 64}, NULL},
        {"performer", {.performer_features = 64}, NULL},
        {"reformer", {.reformer_hashes = 2, .reformer_chunk = 64, .reformer_chunks_before = 1}, "reformer nys"},
        {"reformer", {.reformer_form = 1, .reformer_hashes = 2, .reformer_chunk = 64, .reformer_chunks_before = 1},
         "reformer sbm"},
        {"nystrom", {.nystrom_landmarks = 64, .nystrom_conv = 35}, NULL},
        {"sbm", {.sbm_k = 32, .sbm_delta = 0.01f, .sbm_ste = 1, .sbm_ste_clip = 1.0f}, NULL},
    };
    for (size_t i = 0; i < sizeof lra / sizeof lra[0]; i++)
        test_threads_model(be, lra[i].name, lra[i].cfg, lra[i].label ? lra[i].label : lra[i].name);
    tu_check(be->mem.live_bytes == 0, "all model memory freed (%lld bytes live)", (long long)be->mem.live_bytes);
    sb_backend_destroy(be);
    return tu_finish();
}
