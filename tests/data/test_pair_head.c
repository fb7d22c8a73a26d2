/* The retrieval dual encoder (core/model.c, n_seqs = 2): backward against
 * finite differences for every parameter tensor, with padding in both
 * documents; and the head's input really is [u, v, u*v, u-v] of one shared
 * encoder: swapping the two documents changes the logits (u-v is
 * antisymmetric) but not the encodings (the encoder is shared); each
 * document is its own attention call; and the density regulariser weighs a
 * pair's two calls so that it regularises the mean over all sequences. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "core/attention.h"
#include "core/model.h"
#include "tests/test_util.h"

enum { B = 2, T = 6, V = 9, C = 2 };

typedef struct {
    sb_model *m;
    int32_t ids[2 * B * T], labels[B];
    float mask[2 * B * T];
} ctx;

static double loss(void *p) {
    ctx *c = p;
    return sb_model_forward(c->m, c->ids, c->mask, c->labels, 1, 5, 3).loss_sum;
}

/* Gradient of the density regulariser alone: the gradients with weight w
 * minus those with weight 0, from the same forward (same graphs), into out. */
static void reg_grad(sb_model *m, const int32_t *ids, const float *mask, const int32_t *labels, float w,
                     float *out) {
    const size_t np = sb_model_num_params(m);
    float *g0 = tu_alloc(np);
    for (int pass = 0; pass < 2; pass++) {
        sb_model_set_density_weight(m, pass ? w : 0.0f);
        sb_model_zero_grad(m);
        sb_model_forward(m, ids, mask, labels, 1, 5, 3);
        sb_model_backward(m, 1.0f);
        memcpy(pass ? out : g0, sb_model_grads(m), sizeof(float) * np);
    }
    for (size_t j = 0; j < np; j++) out[j] -= g0[j];
    free(g0);
}

/* The regulariser's weight for pairs: a pair's two documents go through the
 * attention in two calls, each given half the weight, so that the model
 * regularises the mean density over all 2B sequences, as the reference
 * averages the two documents' densities. With the expected-density kind the
 * regulariser's gradient does not depend on the sampled graphs, so the pair
 * model's must equal that of a one-sequence model run on the same 2B
 * sequences, tensor by tensor below the head (one layer: every layer's input
 * is then the same in both). A weight not halved doubles it. */
static void reg_weight_matches_single(sb_backend *be, const sb_model_config *base_cfg, const ctx *c) {
    sb_model_config pc = *base_cfg;
    pc.attn = sb_attention_find("sbm");
    pc.attn_cfg = (sb_attn_config){.n_heads = 2, .d_head = 4, .max_len = 8, .sbm_k = 4, .sbm_delta = 0.01f,
                                   .sbm_ste = 1, .sbm_ste_clip = 1.0f, .sbm_reg_kind = SB_SBM_REG_EXPECTED};
    sb_model_config sc = pc;
    sc.n_seqs = 1;
    sb_model *pm = sb_model_create(be, &pc, B, 1), *sm = sb_model_create(be, &sc, 2 * B, 1);
    sb_model_init_params(pm, 3);
    sb_param_ptrs PP = sb_model_param_ptrs(pm), SP = sb_model_param_ptrs(sm);
    for (int t = 0; t < SB_P_LNFG; t++) /* the encoders alike; the heads differ in shape and do not matter */
        memcpy(SP.t[t], PP.t[t], sizeof(float) * sb_model_param_size(pm, t));
    int32_t labels[2 * B] = {0, 1, 1, 0};
    float *gp = tu_alloc(sb_model_num_params(pm)), *gs = tu_alloc(sb_model_num_params(sm));
    reg_grad(pm, c->ids, c->mask, labels, 0.5f, gp);
    reg_grad(sm, c->ids, c->mask, labels, 0.5f, gs);
    const float *p0 = sb_model_params(pm), *s0 = sb_model_params(sm);
    double worst = 0.0, norm = 0.0;
    for (int t = 0; t < SB_P_LNFG; t++) {
        const size_t n = sb_model_param_size(pm, t);
        const float *a = gp + (PP.t[t] - p0), *b = gs + (SP.t[t] - s0);
        const double d = tu_max_rel_err(a, b, n);
        worst = tu_worse(worst, d);
        norm += tu_dot(a, a, n);
    }
    tu_check(norm > 1e-8, "the regulariser has a gradient to compare (squared norm %.3g)", norm);
    tu_report("pair model's regulariser gradient against a one-sequence model's on the same sequences", worst,
              1e-3);
    free(gp), free(gs);
    sb_model_destroy(pm), sb_model_destroy(sm);
}

int main(void) {
    sb_backend *be = sb_backend_cpu_create(1);
    sb_model_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.vocab_size = V, cfg.max_len = 8, cfg.seq_len = T, cfg.d_model = 8, cfg.n_layers = 1, cfg.n_heads = 2;
    cfg.d_head = 4, cfg.d_ffn = 12, cfg.n_classes = C, cfg.n_seqs = 2, cfg.ln_eps = 1e-5f;
    cfg.attn = sb_attention_find("full");
    cfg.attn_cfg.n_heads = 2, cfg.attn_cfg.d_head = 4, cfg.attn_cfg.max_len = 8;
    ctx c;
    c.m = sb_model_create(be, &cfg, B, 1);
    sb_model_init_params(c.m, 3);
    sb_param_ptrs P = sb_model_param_ptrs(c.m);
    /* off the init's flat spots (see test_grad_model.c): larger embeddings, ReLU away from its kink */
    tu_fill_normal(P.t[SB_P_TOK], sb_model_param_size(c.m, SB_P_TOK), 1.0f, 41);
    tu_fill_normal(P.t[SB_P_POS], sb_model_param_size(c.m, SB_P_POS), 1.0f, 42);
    for (size_t j = 0; j < sb_model_param_size(c.m, SB_P_HB1); j++) P.t[SB_P_HB1][j] = j % 4 == 3 ? -2.5f : 2.5f;
    sb_rng_reader r = tu_rng(43);
    static const int len[2 * B] = {6, 3, 5, 4}; /* [seq][example] */
    for (int s = 0; s < 2 * B; s++)
        for (int t = 0; t < T; t++) {
            int real = t < len[s];
            c.ids[s * T + t] = real ? 1 + (int32_t)sb_u32_below(sb_rng_next_u32(&r), V - 1) : 0;
            c.mask[s * T + t] = real ? 1.0f : 0.0f;
        }
    c.labels[0] = 0, c.labels[1] = 1;

    tu_check(sb_model_param_size(c.m, SB_P_HW1) == (size_t)12 * 4 * 8, "head W1 is [F, 4D]");
    sb_model_zero_grad(c.m);
    loss(&c);
    sb_model_backward(c.m, 1.0f);
    float *g = tu_dup(sb_model_grads(c.m), sb_model_num_params(c.m));
    float *base = sb_model_params(c.m);
    for (int k = 0; k < SB_P_COUNT; k++) {
        size_t n = sb_model_param_size(c.m, k);
        if (!n) continue;
        size_t off = (size_t)(P.t[k] - base);
        tu_fd_result fr = tu_fd_check(loss, &c, P.t[k], g + off, n, 0.0625f, 24, 100 + (uint32_t)k, 1e-2);
        char name[64];
        snprintf(name, sizeof name, "pair model d%s", sb_model_param_name(k));
        tu_report_fd(name, fr, 1e-2);
    }
    /* swap the documents: encodings are shared, the head is not symmetric */
    const float *lg = sb_model_logits(c.m);
    sb_model_forward(c.m, c.ids, c.mask, c.labels, 0, 5, 3);
    float before[B * C];
    memcpy(before, lg, sizeof before);
    ctx s = c;
    memcpy(s.ids, c.ids + B * T, sizeof(int32_t) * B * T), memcpy(s.ids + B * T, c.ids, sizeof(int32_t) * B * T);
    memcpy(s.mask, c.mask + B * T, sizeof(float) * B * T), memcpy(s.mask + B * T, c.mask, sizeof(float) * B * T);
    sb_model_forward(c.m, s.ids, s.mask, s.labels, 0, 5, 3);
    tu_check(tu_max_abs_diff(before, sb_model_logits(c.m), B * C) > 1e-4, "swapping the documents changes the logits");
    free(g);
    sb_model_destroy(c.m);
    /* each document goes through the attention in its own call, as the
     * reference runs its encoder once per document: with a head that reads u
     * alone, the second documents cannot change the logits. Only Nyström's
     * check fails with one call over both (its pseudo-inverse scale is a
     * maximum over the call); Reformer's shared rotations and SBM's
     * per-example graphs do not couple the documents, so theirs guard against
     * a future coupling rather than catch that one. */
    static const struct { const char *name; sb_attn_config cfg; } sep[] = {
        {"nystrom", {.nystrom_landmarks = 2, .nystrom_conv = 3}},
        {"reformer", {.reformer_hashes = 2, .reformer_chunk = 2, .reformer_chunks_before = 1}},
        {"sbm", {.sbm_k = 4, .sbm_delta = 0.01f, .sbm_ste = 1, .sbm_ste_clip = 1.0f}},
    };
    for (size_t v = 0; v < sizeof sep / sizeof sep[0]; v++) {
        sb_model_config vc = cfg;
        vc.attn = sb_attention_find(sep[v].name);
        vc.attn_cfg = sep[v].cfg;
        vc.attn_cfg.n_heads = 2, vc.attn_cfg.d_head = 4, vc.attn_cfg.max_len = 8;
        sb_model *m = sb_model_create(be, &vc, B, 0);
        sb_model_init_params(m, 3);
        sb_param_ptrs Q = sb_model_param_ptrs(m);
        tu_fill_normal(Q.t[SB_P_TOK], sb_model_param_size(m, SB_P_TOK), 1.0f, 44);
        const int F = vc.d_ffn, D = vc.d_model;
        for (int f = 0; f < F; f++)
            for (int j = D; j < 4 * D; j++) Q.t[SB_P_HW1][(size_t)f * 4 * D + j] = 0.0f; /* v, u*v, u-v unread */
        sb_model_forward(m, c.ids, c.mask, c.labels, 0, 5, 3);
        float first[B * C];
        memcpy(first, sb_model_logits(m), sizeof first);
        ctx o = c;
        for (int e = B * T; e < 2 * B * T; e++)
            if (o.mask[e] > 0.0f) o.ids[e] = 1 + (o.ids[e] + 3) % (V - 1);
        sb_model_forward(m, o.ids, o.mask, o.labels, 0, 5, 3);
        tu_check(!memcmp(first, sb_model_logits(m), sizeof first),
                 "%s pair model: the first documents' encodings do not depend on the second documents", sep[v].name);
        sb_model_destroy(m);
    }
    reg_weight_matches_single(be, &cfg, &c);
    sb_backend_destroy(be);
    return tu_finish();
}
