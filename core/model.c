/* The LRA reference Transformer: see model.h for the equations. Shapes in the
 * comments use B examples, T tokens, D model width, H heads of Dh, F FFN width,
 * C classes, L layers, R head rows (B, or B*T for token tasks). */
#include "core/model.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/layers.h"
#include "core/fatal.h"

/* Hidden-dropout sites, part of each dropout stream's key. */
enum { SITE_EMBED = 0, SITE_ATTN_OUT = 1, SITE_FFN_HIDDEN = 2, SITE_FFN_OUT = 3 };
#define EMBED_LAYER 255

typedef struct {
    int32_t *ids;                      /* [B,T] */
    float *mask;                       /* [B,T] */
    int32_t *labels;                   /* [R] */
    float *x0;                         /* [B,T,D] embeddings after dropout */
    float *ln1, *ln1_mean, *ln1_rstd;  /* [L',B,T,D], [L',B,T] */
    float *qkv;                        /* [L',B,T,3HD] */
    float *qh, *kh, *vh, *atth;        /* [L',B,H,T,Dh] */
    float *attm;                       /* [L',B,T,HD] */
    float *res1;                       /* [L',B,T,D] */
    float *ln2, *ln2_mean, *ln2_rstd;  /* [L',B,T,D], [L',B,T] */
    float *fc1, *gelud;                /* [L',B,T,F] pre-GELU; GELU after dropout */
    float *res2;                       /* [L',B,T,D] */
    float *lnf_mean, *lnf_rstd;        /* [B,T] */
    float *final_;                     /* [B,T,D] LNf(x) * mask */
    float *pooled;                     /* [B,D] */
    float *pair;                       /* [R,4D] pair tasks: [u, v, u*v, u-v] */
    float *h1r;                        /* [R,F] ReLU(head hidden) */
    float *logits;                     /* [R,C] */
    float *row_loss;                   /* [R] */
    uint8_t *correct;                  /* [R] */
    float *tmp;                        /* [B,T,D] */
} activations;

typedef struct {
    float *dres, *dtmp, *dln;          /* [B,T,D] */
    float *dffa, *dffb;                /* [B,T,F] */
    float *dattm, *dqkv;               /* [B,T,HD], [B,T,3HD] */
    float *datth, *dqh, *dkh, *dvh;    /* [B,H,T,Dh] */
    float *dlogits;                    /* [R,C] */
    float *dh1r, *dh1;                 /* [R,F] */
    float *dpooled;                    /* [B,D] */
    float *dpair;                      /* [R,4D] */
} grad_activations;

struct sb_model {
    sb_backend *be;
    sb_model_config cfg;
    int B, R, training, L_act; /* B: sequences encoded per call; L_act: layers with stored activations (L or 1) */
    int head_in;               /* width of the head's input: D, or 4D for pair tasks */
    size_t sizes[SB_P_COUNT], num_params, attn_per_layer;
    float *params, *grads;
    sb_param_ptrs p, g;
    activations a;
    grad_activations ga;
    /* attention calls per layer: a pair task's two sequences go through the
     * attention in two calls, one per sequence of the pair, as the reference's
     * dual encoder runs its model once per sequence (Nyström's pseudo-inverse
     * scale is a maximum over one call, Reformer's rotations are one call's) */
    int calls;
    void **attn_state; /* [L_act * calls] */
    /* what the last forward used, for backward */
    int last_training;
    uint64_t last_seed;
    uint32_t last_step;
    float density_weight;
};

static const char *param_names[SB_P_COUNT] = {
    "tok_emb", "pos_emb", "ln1_g", "ln1_b", "w_qkv", "b_qkv", "w_o", "b_o",
    "ln2_g", "ln2_b", "w_ffn1", "b_ffn1", "w_ffn2", "b_ffn2", "attn",
    "lnf_g", "lnf_b", "head_w1", "head_b1", "head_w2", "head_b2"};

const char *sb_model_param_name(int which) { return param_names[which]; }

static void fill_param_sizes(sb_model *m) {
    const sb_model_config *c = &m->cfg;
    size_t V = c->vocab_size, P = c->max_len, D = c->d_model, L = c->n_layers,
           HD = (size_t)c->n_heads * c->d_head, F = c->d_ffn, C = c->n_classes;
    m->attn_per_layer = c->attn->param_count(&c->attn_cfg);
    size_t *s = m->sizes;
    s[SB_P_TOK] = V * D;
    s[SB_P_POS] = P * D;
    s[SB_P_LN1G] = s[SB_P_LN1B] = L * D;
    s[SB_P_WQKV] = L * 3 * HD * D;
    s[SB_P_BQKV] = L * 3 * HD;
    s[SB_P_WO] = L * D * HD;
    s[SB_P_BO] = L * D;
    s[SB_P_LN2G] = s[SB_P_LN2B] = L * D;
    s[SB_P_W1] = L * F * D;
    s[SB_P_B1] = L * F;
    s[SB_P_W2] = L * D * F;
    s[SB_P_B2] = L * D;
    s[SB_P_ATTN] = (c->attn->params_shared_across_layers ? 1 : L) * m->attn_per_layer;
    s[SB_P_LNFG] = s[SB_P_LNFB] = D;
    s[SB_P_HW1] = F * (size_t)m->head_in;
    s[SB_P_HB1] = F;
    s[SB_P_HW2] = C * F;
    s[SB_P_HB2] = C;
    m->num_params = 0;
    for (int i = 0; i < SB_P_COUNT; i++) m->num_params += s[i];
}

/* Floats from the start of the attention block to layer l's parameters. */
static size_t attn_offset(const sb_model *m, int l) {
    return m->cfg.attn->params_shared_across_layers ? 0 : (size_t)l * m->attn_per_layer;
}

static sb_param_ptrs point_params(const sb_model *m, float *base) {
    sb_param_ptrs p;
    for (int i = 0; i < SB_P_COUNT; i++) {
        p.t[i] = base;
        base += m->sizes[i];
    }
    return p;
}

/* Floats before parameter tensor `which` (point_params laid them out). */
static size_t param_start(const sb_model *m, int which) { return (size_t)(m->p.t[which] - m->params); }

/* Layer l's b_q (v = 0) or b_v (v = 1): floats from the start of the
 * parameters, in the fused [b_q b_k b_v] bias. */
static size_t qv_bias_start(const sb_model *m, int l, int v) {
    const size_t HD = (size_t)m->cfg.n_heads * m->cfg.d_head;
    return param_start(m, SB_P_BQKV) + (size_t)l * 3 * HD + (v ? 2 * HD : 0);
}

/* The trainable ranges between frozen tensors, as they are met in order. */
typedef struct {
    size_t *start, *len, at;
    int max, n;
} range_list;

/* The frozen tensor [f0, f0 + n) ends the trainable range before it. */
static void skip_frozen(range_list *r, size_t f0, size_t n) {
    if (f0 > r->at) {
        if (r->n < r->max) r->start[r->n] = r->at, r->len[r->n] = f0 - r->at;
        r->n++;
    }
    r->at = f0 + n;
}

int sb_model_trainable_ranges(const sb_model *m, size_t *start, size_t *len, int max) {
    /* frozen tensors, in order: b_q and b_v for a variant without them
     * (Reformer), then in the attention blocks (Performer's omega) */
    range_list r = {.start = start, .len = len, .at = 0, .max = max, .n = 0};
    const sb_attention_ops *a = m->cfg.attn;
    const size_t HD = (size_t)m->cfg.n_heads * m->cfg.d_head;
    if (a->qv_without_bias)
        for (int l = 0; l < m->cfg.n_layers; l++)
            for (int v = 0; v < 2; v++) skip_frozen(&r, qv_bias_start(m, l, v), HD);
    sb_param_desc d[8];
    const int nd = a->param_layout ? a->param_layout(&m->cfg.attn_cfg, d) : 0;
    const size_t attn0 = param_start(m, SB_P_ATTN);
    const int blocks = a->params_shared_across_layers ? 1 : m->cfg.n_layers;
    for (int l = 0; l < blocks; l++)
        for (int i = 0; i < nd; i++) {
            if (!d[i].frozen) continue;
            size_t n = 1;
            for (int j = 0; j < d[i].rank; j++) n *= (size_t)d[i].dims[j];
            skip_frozen(&r, attn0 + (size_t)l * m->attn_per_layer + d[i].offset, n);
        }
    skip_frozen(&r, m->num_params, 0);
    return r.n;
}

/* The activation buffers and their gradients, as X(field, bytes), for
 * sb_model_create's sizes (T, D, HD, F, C, La layers kept, BT = B T rows, R
 * head rows, `pairs`, `training` in scope there); sb_model_destroy frees the
 * same list. */
#define F4(n) (sizeof(float) * (size_t)(n))
#define MODEL_BUFFERS(X)                                                                                   \
    X(a.ids, sizeof(int32_t) * BT) X(a.mask, F4(BT)) X(a.labels, sizeof(int32_t) * R) X(a.x0, F4(BT * D))   \
    X(a.ln1, F4(La * BT * D)) X(a.ln1_mean, F4(La * BT)) X(a.ln1_rstd, F4(La * BT))                        \
    X(a.qkv, F4(La * BT * 3 * HD)) X(a.qh, F4(La * BT * HD)) X(a.kh, F4(La * BT * HD))                      \
    X(a.vh, F4(La * BT * HD)) X(a.atth, F4(La * BT * HD)) X(a.attm, F4(La * BT * HD))                        \
    X(a.res1, F4(La * BT * D)) X(a.ln2, F4(La * BT * D)) X(a.ln2_mean, F4(La * BT))                         \
    X(a.ln2_rstd, F4(La * BT)) X(a.fc1, F4(La * BT * F)) X(a.gelud, F4(La * BT * F))                        \
    X(a.res2, F4(La * BT * D)) X(a.lnf_mean, F4(BT)) X(a.lnf_rstd, F4(BT)) X(a.final_, F4(BT * D))          \
    X(a.pooled, F4((size_t)B * D)) X(a.pair, pairs ? F4(R * 4 * D) : 0) X(a.h1r, F4(R * F))                 \
    X(a.logits, F4(R * C)) X(a.row_loss, F4(R)) X(a.correct, (size_t)R) X(a.tmp, F4(BT * D))                \
    X(ga.dres, training ? F4(BT * D) : 0) X(ga.dtmp, training ? F4(BT * D) : 0)                             \
    X(ga.dln, training ? F4(BT * D) : 0) X(ga.dffa, training ? F4(BT * F) : 0)                              \
    X(ga.dffb, training ? F4(BT * F) : 0) X(ga.dattm, training ? F4(BT * HD) : 0)                           \
    X(ga.dqkv, training ? F4(BT * 3 * HD) : 0) X(ga.datth, training ? F4(BT * HD) : 0)                      \
    X(ga.dqh, training ? F4(BT * HD) : 0) X(ga.dkh, training ? F4(BT * HD) : 0)                             \
    X(ga.dvh, training ? F4(BT * HD) : 0) X(ga.dlogits, training ? F4(R * C) : 0)                           \
    X(ga.dh1r, training ? F4(R * F) : 0) X(ga.dh1, training ? F4(R * F) : 0)                                \
    X(ga.dpooled, training ? F4((size_t)B * D) : 0) X(ga.dpair, training && pairs ? F4(R * 4 * D) : 0)

sb_model *sb_model_create(sb_backend *be, const sb_model_config *cfg, int B, int training) {
    sb_model *m = calloc(1, sizeof *m);
    m->be = be;
    m->cfg = *cfg;
    const int pairs = cfg->n_seqs == 2;
    m->B = pairs ? 2 * B : B; /* the encoder runs on every sequence */
    m->head_in = pairs ? 4 * cfg->d_model : cfg->d_model;
    m->training = training;
    m->L_act = training ? cfg->n_layers : 1;
    B = m->B;
    const size_t T = cfg->seq_len, D = cfg->d_model, H = cfg->n_heads, Dh = cfg->d_head,
                 HD = H * Dh, F = cfg->d_ffn, C = cfg->n_classes, La = m->L_act, BT = (size_t)B * T;
    m->R = cfg->token_level ? (int)((size_t)B * T) : pairs ? B / 2 : B;
    const size_t R = m->R;
    fill_param_sizes(m);
    m->params = be->alloc(be, sizeof(float) * m->num_params);
    m->p = point_params(m, m->params);
    if (training) {
        m->grads = be->alloc(be, sizeof(float) * m->num_params);
        m->g = point_params(m, m->grads);
    }
    /* every activation buffer, allocated (zeroed) here and freed in
     * sb_model_destroy from the same list; a size of 0 leaves it NULL */
#define ALLOC_BUFFER(field, bytes)                                  \
    {                                                              \
        const size_t n_ = (bytes);                                 \
        m->field = n_ > 0 ? be->alloc(be, n_) : NULL;              \
    }
    MODEL_BUFFERS(ALLOC_BUFFER)
#undef ALLOC_BUFFER
    m->calls = pairs ? 2 : 1;
    m->attn_state = calloc(La * m->calls, sizeof(void *));
    for (size_t i = 0; i < La * m->calls; i++)
        m->attn_state[i] = cfg->attn->state_create(be, &cfg->attn_cfg, B / m->calls, (int)T, training);
    return m;
}

void sb_model_destroy(sb_model *m) {
    if (!m) return;
    sb_backend *be = m->be;
    for (int i = 0; i < m->L_act * m->calls; i++) m->cfg.attn->state_destroy(be, m->attn_state[i]);
    free(m->attn_state);
    be->free(be, m->params);
    be->free(be, m->grads);
#define FREE_BUFFER(field, bytes) be->free(be, m->field);
    MODEL_BUFFERS(FREE_BUFFER)
#undef FREE_BUFFER
    free(m);
}

size_t sb_model_num_params(const sb_model *m) { return m->num_params; }
float *sb_model_params(sb_model *m) { return m->params; }
float *sb_model_grads(sb_model *m) { return m->grads; }
size_t sb_model_param_size(const sb_model *m, int which) { return m->sizes[which]; }
sb_param_ptrs sb_model_param_ptrs(sb_model *m) { return m->p; }
const sb_model_config *sb_model_config_of(const sb_model *m) { return &m->cfg; }
const float *sb_model_logits(const sb_model *m) { return m->a.logits; }
const float *sb_model_row_losses(const sb_model *m) { return m->a.row_loss; }

/* ---------------------------------------------------------------- init */

static void fill_uniform(float *x, size_t n, float bound, sb_rng_reader *r) {
    for (size_t i = 0; i < n; i++) x[i] = (2.0f * sb_rng_next_unit(r) - 1.0f) * bound;
}
static void fill_normal(float *x, size_t n, float std, sb_rng_reader *r) {
    for (size_t i = 0; i < n; i++) x[i] = std * sb_rng_next_normal(r);
}
static void fill_const(float *x, size_t n, float v) {
    for (size_t i = 0; i < n; i++) x[i] = v;
}

void sb_model_init_params(sb_model *m, uint64_t seed) {
    const sb_model_config *c = &m->cfg;
    const int D = c->d_model, HD = c->n_heads * c->d_head, F = c->d_ffn;
    /* bounds of torch.nn.Linear's default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) */
    float fan_in[SB_P_COUNT] = {0};
    fan_in[SB_P_WQKV] = fan_in[SB_P_BQKV] = (float)D;
    fan_in[SB_P_WO] = fan_in[SB_P_BO] = (float)HD;
    fan_in[SB_P_W1] = fan_in[SB_P_B1] = (float)D;
    fan_in[SB_P_W2] = fan_in[SB_P_B2] = (float)F;
    fan_in[SB_P_HW1] = fan_in[SB_P_HB1] = (float)m->head_in;
    fan_in[SB_P_HW2] = fan_in[SB_P_HB2] = (float)F;
    for (int i = 0; i < SB_P_COUNT; i++) {
        sb_rng_reader r;
        sb_rng_reader_init(&r, sb_rng_make(seed, SB_RNG_INIT, (uint32_t)i, 0, 0, 0));
        float *x = m->p.t[i];
        size_t n = m->sizes[i];
        switch (i) {
        case SB_P_TOK:
        case SB_P_POS: fill_normal(x, n, 0.02f, &r); break;
        case SB_P_LN1G: case SB_P_LN2G: case SB_P_LNFG: fill_const(x, n, 1.0f); break;
        case SB_P_LN1B: case SB_P_LN2B: case SB_P_LNFB: fill_const(x, n, 0.0f); break;
        case SB_P_ATTN:
            for (int l = 0; l < c->n_layers; l++)
                if (l == 0 || !c->attn->params_shared_across_layers)
                    c->attn->init_params(&c->attn_cfg, x + attn_offset(m, l), &r);
            break;
        default: fill_uniform(x, n, 1.0f / sqrtf(fan_in[i]), &r); break;
        }
    }
    if (c->attn->qv_without_bias)
        for (int l = 0; l < c->n_layers; l++)
            for (int v = 0; v < 2; v++) fill_const(m->params + qv_bias_start(m, l, v), (size_t)HD, 0.0f);
}

/* ---------------------------------------------------------------- forward */

static sb_rng_stream dropout_stream(const sb_model *m, int layer, int site) {
    return sb_rng_make(m->last_seed, SB_RNG_DROPOUT, m->last_step, (uint32_t)layer, (uint32_t)site, 0);
}

/* Layer l's attention call `part` (0, or 1 for a pair's second sequences),
 * on its stored activations la: the call's B/calls sequences start `part`
 * blocks in. Its random streams carry the part where a stream's head byte
 * (kept by sb_rng_derive) goes, so part 0's draws are those of a one-call
 * model and part 1's are independent of them. */
static sb_attn_call attn_call(sb_model *m, int l, int la, int part) {
    const sb_model_config *c = &m->cfg;
    const int Bc = m->B / m->calls;
    const size_t sz = (size_t)m->B * c->seq_len * c->n_heads * c->d_head, off = (size_t)part * sz / m->calls;
    sb_attn_call call = {
        .B = Bc, .H = c->n_heads, .N = c->seq_len, .D = c->d_head,
        .q = m->a.qh + la * sz + off, .k = m->a.kh + la * sz + off, .v = m->a.vh + la * sz + off,
        .key_mask = m->a.mask + (size_t)part * Bc * c->seq_len, .out = m->a.atth + la * sz + off,
        .training = m->last_training,
        .rng = sb_rng_make(m->last_seed, SB_RNG_ATTN_DROPOUT, m->last_step, (uint32_t)l, (uint32_t)part, 0),
        .rng_attn = sb_rng_make(m->last_seed, SB_RNG_ATTN, m->last_step, (uint32_t)l, (uint32_t)part, 0),
    };
    return call;
}

/* The retrieval head's input (LRA's dual encoder): pooled [2R,D] holds the
 * first sequences' encodings u then the second ones' v; pair [R,4D] =
 * [u, v, u*v, u-v]. Tiny next to the encoder, so plain loops. */
static void pair_features_forward(float *pair, const float *pooled, int R, int D) {
    for (int r = 0; r < R; r++) {
        const float *u = pooled + (size_t)r * D, *v = pooled + (size_t)(R + r) * D;
        float *o = pair + (size_t)r * 4 * D;
        for (int i = 0; i < D; i++) o[i] = u[i], o[D + i] = v[i], o[2 * D + i] = u[i] * v[i], o[3 * D + i] = u[i] - v[i];
    }
}

/* dpooled += d pair / d pooled */
static void pair_features_backward(float *dpooled, const float *dpair, const float *pooled, int R, int D) {
    for (int r = 0; r < R; r++) {
        const float *u = pooled + (size_t)r * D, *v = pooled + (size_t)(R + r) * D, *g = dpair + (size_t)r * 4 * D;
        float *du = dpooled + (size_t)r * D, *dv = dpooled + (size_t)(R + r) * D;
        for (int i = 0; i < D; i++) {
            du[i] += g[i] + g[2 * D + i] * v[i] + g[3 * D + i];
            dv[i] += g[D + i] + g[2 * D + i] * u[i] - g[3 * D + i];
        }
    }
}

sb_forward_result sb_model_forward(sb_model *m, const int32_t *ids, const float *mask,
                                   const int32_t *labels, int training, uint64_t seed,
                                   uint32_t step) {
    sb_backend *be = m->be;
    const sb_model_config *c = &m->cfg;
    activations *a = &m->a;
    const int B = m->B, T = c->seq_len, D = c->d_model, H = c->n_heads, Dh = c->d_head,
              HD = H * Dh, F = c->d_ffn, C = c->n_classes, R = m->R, BT = B * T;
    const float p = training ? c->dropout : 0.0f;
    m->last_training = training;
    m->last_seed = seed;
    m->last_step = step;
    be->copy(be, a->ids, ids, sizeof(int32_t) * BT);
    be->copy(be, a->mask, mask, sizeof(float) * BT);
    be->copy(be, a->labels, labels, sizeof(int32_t) * R);

    be->embedding_forward(be, a->tmp, a->ids, m->p.t[SB_P_TOK], m->p.t[SB_P_POS], B, T, D);
    be->dropout_forward(be, a->x0, a->tmp, (size_t)BT * D, p, dropout_stream(m, EMBED_LAYER, SITE_EMBED));

    const float *x = a->x0; /* residual stream entering the layer, [B,T,D] */
    for (int l = 0; l < c->n_layers; l++) {
        const size_t la = m->training ? (size_t)l : 0;
        const size_t oD = la * BT * D, oR = la * BT, oHD = la * BT * HD, oF = la * BT * F;
        float *ln1 = a->ln1 + oD, *qkv = a->qkv + la * BT * 3 * HD, *attm = a->attm + oHD;
        float *res1 = a->res1 + oD, *ln2 = a->ln2 + oD, *fc1 = a->fc1 + oF, *gelud = a->gelud + oF;
        float *res2 = a->res2 + oD;
        /* attention sub-block */
        be->layernorm_forward(be, ln1, a->ln1_mean + oR, a->ln1_rstd + oR, x,
                              m->p.t[SB_P_LN1G] + l * D, m->p.t[SB_P_LN1B] + l * D, BT, D, c->ln_eps);
        sb_linear_forward(be, qkv, ln1, m->p.t[SB_P_WQKV] + (size_t)l * 3 * HD * D,
                          m->p.t[SB_P_BQKV] + (size_t)l * 3 * HD, BT, D, 3 * HD);
        be->heads_split(be, a->qh + oHD, qkv, 3 * HD, B, T, H, Dh, 0);
        be->heads_split(be, a->kh + oHD, qkv + HD, 3 * HD, B, T, H, Dh, 0);
        be->heads_split(be, a->vh + oHD, qkv + 2 * HD, 3 * HD, B, T, H, Dh, 0);
        for (int part = 0; part < m->calls; part++) {
            sb_attn_call call = attn_call(m, l, (int)la, part);
            c->attn->forward(be, m->attn_state[la * m->calls + part], &c->attn_cfg,
                             m->p.t[SB_P_ATTN] + attn_offset(m, l), &call);
        }
        be->heads_merge(be, attm, HD, a->atth + oHD, B, T, H, Dh, 0);
        sb_linear_forward(be, a->tmp, attm, m->p.t[SB_P_WO] + (size_t)l * D * HD,
                          m->p.t[SB_P_BO] + l * D, BT, HD, D);
        be->dropout_forward(be, a->tmp, a->tmp, (size_t)BT * D, p, dropout_stream(m, l, SITE_ATTN_OUT));
        be->add(be, res1, x, a->tmp, (size_t)BT * D);
        /* FFN sub-block */
        be->layernorm_forward(be, ln2, a->ln2_mean + oR, a->ln2_rstd + oR, res1,
                              m->p.t[SB_P_LN2G] + l * D, m->p.t[SB_P_LN2B] + l * D, BT, D, c->ln_eps);
        sb_linear_forward(be, fc1, ln2, m->p.t[SB_P_W1] + (size_t)l * F * D, m->p.t[SB_P_B1] + l * F,
                          BT, D, F);
        be->gelu_forward(be, gelud, fc1, (size_t)BT * F);
        be->dropout_forward(be, gelud, gelud, (size_t)BT * F, p, dropout_stream(m, l, SITE_FFN_HIDDEN));
        sb_linear_forward(be, a->tmp, gelud, m->p.t[SB_P_W2] + (size_t)l * D * F,
                          m->p.t[SB_P_B2] + l * D, BT, F, D);
        be->dropout_forward(be, a->tmp, a->tmp, (size_t)BT * D, p, dropout_stream(m, l, SITE_FFN_OUT));
        be->add(be, res2, res1, a->tmp, (size_t)BT * D);
        x = res2;
    }
    be->layernorm_forward(be, a->final_, a->lnf_mean, a->lnf_rstd, x, m->p.t[SB_P_LNFG],
                          m->p.t[SB_P_LNFB], BT, D, c->ln_eps);
    be->mask_rows(be, a->final_, a->mask, BT, D);
    const float *head_in = a->final_;
    if (!c->token_level) {
        be->mean_pool_forward(be, a->pooled, a->final_, B, T, D);
        head_in = a->pooled;
        if (a->pair) {
            pair_features_forward(a->pair, a->pooled, R, D);
            head_in = a->pair;
        }
    }
    sb_linear_forward(be, a->h1r, head_in, m->p.t[SB_P_HW1], m->p.t[SB_P_HB1], R, m->head_in, F);
    be->relu_forward(be, a->h1r, a->h1r, (size_t)R * F);
    sb_linear_forward(be, a->logits, a->h1r, m->p.t[SB_P_HW2], m->p.t[SB_P_HB2], R, F, C);
    be->cross_entropy(be, a->row_loss, NULL, a->correct, a->logits, a->labels, R, C, 1.0f);

    sb_forward_result res = {0, 0, 0};
    for (int r = 0; r < R; r++) {
        if (a->labels[r] < 0) continue;
        res.loss_sum += a->row_loss[r];
        res.correct += a->correct[r];
        res.counted++;
    }
    return res;
}

/* ---------------------------------------------------------------- backward */

void sb_model_zero_grad(sb_model *m) { m->be->zero(m->be, m->grads, sizeof(float) * m->num_params); }

void sb_model_backward(sb_model *m, float loss_scale) {
    if (!m->training) {
        sb_fatal(3, "internal error: backward on an inference model");
    }
    sb_backend *be = m->be;
    const sb_model_config *c = &m->cfg;
    activations *a = &m->a;
    grad_activations *ga = &m->ga;
    sb_param_ptrs P = m->p, G = m->g;
    const int B = m->B, T = c->seq_len, D = c->d_model, H = c->n_heads, Dh = c->d_head,
              HD = H * Dh, F = c->d_ffn, C = c->n_classes, R = m->R, BT = B * T;
    const float p = m->last_training ? c->dropout : 0.0f;
    const size_t nD = (size_t)BT * D, nF = (size_t)BT * F, nHD = (size_t)BT * HD;
#define ZERO(ptr, n) be->zero(be, ptr, sizeof(float) * (n))

    /* head: dlogits = scale (softmax - onehot) */
    ZERO(ga->dlogits, (size_t)R * C);
    be->cross_entropy(be, a->row_loss, ga->dlogits, NULL, a->logits, a->labels, R, C, loss_scale);
    ZERO(ga->dh1r, (size_t)R * F);
    sb_linear_backward(be, ga->dh1r, G.t[SB_P_HW2], G.t[SB_P_HB2], ga->dlogits, a->h1r, P.t[SB_P_HW2], R, F, C);
    ZERO(ga->dh1, (size_t)R * F);
    be->relu_backward(be, ga->dh1, a->h1r, ga->dh1r, (size_t)R * F);
    ZERO(ga->dtmp, nD); /* dtmp = d final_ [B,T,D] */
    if (c->token_level) {
        sb_linear_backward(be, ga->dtmp, G.t[SB_P_HW1], G.t[SB_P_HB1], ga->dh1, a->final_, P.t[SB_P_HW1], R, D, F);
    } else {
        ZERO(ga->dpooled, (size_t)B * D);
        if (a->pair) {
            ZERO(ga->dpair, (size_t)R * 4 * D);
            sb_linear_backward(be, ga->dpair, G.t[SB_P_HW1], G.t[SB_P_HB1], ga->dh1, a->pair, P.t[SB_P_HW1], R,
                               4 * D, F);
            pair_features_backward(ga->dpooled, ga->dpair, a->pooled, R, D);
        } else {
            sb_linear_backward(be, ga->dpooled, G.t[SB_P_HW1], G.t[SB_P_HB1], ga->dh1, a->pooled, P.t[SB_P_HW1], R, D, F);
        }
        be->mean_pool_backward(be, ga->dtmp, ga->dpooled, B, T, D);
    }
    be->mask_rows(be, ga->dtmp, a->mask, BT, D);
    const size_t last = m->training ? (size_t)(c->n_layers - 1) : 0;
    ZERO(ga->dres, nD);
    be->layernorm_backward(be, ga->dres, G.t[SB_P_LNFG], G.t[SB_P_LNFB], ga->dtmp, a->res2 + last * nD,
                           P.t[SB_P_LNFG], a->lnf_mean, a->lnf_rstd, BT, D);

    for (int l = c->n_layers - 1; l >= 0; l--) {
        const size_t oD = (size_t)l * nD, oR = (size_t)l * BT, oHD = (size_t)l * nHD, oF = (size_t)l * nF;
        const float *x = l == 0 ? a->x0 : a->res2 + oD - nD;
        /* FFN: res2 = res1 + drop(W2 drop(GELU(W1 LN2(res1)))) ; dres holds d res2 */
        ZERO(ga->dtmp, nD);
        be->dropout_backward(be, ga->dtmp, ga->dres, nD, p, dropout_stream(m, l, SITE_FFN_OUT));
        ZERO(ga->dffa, nF);
        sb_linear_backward(be, ga->dffa, G.t[SB_P_W2] + (size_t)l * D * F, G.t[SB_P_B2] + l * D, ga->dtmp,
                           a->gelud + oF, P.t[SB_P_W2] + (size_t)l * D * F, BT, F, D);
        ZERO(ga->dffb, nF);
        be->dropout_backward(be, ga->dffb, ga->dffa, nF, p, dropout_stream(m, l, SITE_FFN_HIDDEN));
        ZERO(ga->dffa, nF);
        be->gelu_backward(be, ga->dffa, a->fc1 + oF, ga->dffb, nF);
        ZERO(ga->dln, nD);
        sb_linear_backward(be, ga->dln, G.t[SB_P_W1] + (size_t)l * F * D, G.t[SB_P_B1] + l * F, ga->dffa,
                           a->ln2 + oD, P.t[SB_P_W1] + (size_t)l * F * D, BT, D, F);
        be->layernorm_backward(be, ga->dres, G.t[SB_P_LN2G] + l * D, G.t[SB_P_LN2B] + l * D, ga->dln,
                               a->res1 + oD, P.t[SB_P_LN2G] + l * D, a->ln2_mean + oR, a->ln2_rstd + oR, BT, D);
        /* attention: res1 = x + drop(Wo merge(Attn(split(Wqkv LN1(x))))) ; dres holds d res1 */
        ZERO(ga->dtmp, nD);
        be->dropout_backward(be, ga->dtmp, ga->dres, nD, p, dropout_stream(m, l, SITE_ATTN_OUT));
        ZERO(ga->dattm, nHD);
        sb_linear_backward(be, ga->dattm, G.t[SB_P_WO] + (size_t)l * D * HD, G.t[SB_P_BO] + l * D, ga->dtmp,
                           a->attm + oHD, P.t[SB_P_WO] + (size_t)l * D * HD, BT, HD, D);
        be->heads_split(be, ga->datth, ga->dattm, HD, B, T, H, Dh, 0);
        ZERO(ga->dqh, nHD);
        ZERO(ga->dkh, nHD);
        ZERO(ga->dvh, nHD);
        for (int part = 0; part < m->calls; part++) {
            /* the regulariser's density is the mean over layers and over a
             * pair's two calls (the reference averages the two sequences') */
            sb_attn_call call = attn_call(m, l, l, part);
            const size_t off = (size_t)part * nHD / m->calls;
            sb_attn_grads g = {.dq = ga->dqh + off, .dk = ga->dkh + off, .dv = ga->dvh + off, .dout = ga->datth + off,
                               .density_weight = m->density_weight / (float)(c->n_layers * m->calls)};
            c->attn->backward(be, m->attn_state[l * m->calls + part], &c->attn_cfg,
                              P.t[SB_P_ATTN] + attn_offset(m, l), G.t[SB_P_ATTN] + attn_offset(m, l), &call, &g);
        }
        ZERO(ga->dqkv, 3 * nHD);
        be->heads_merge(be, ga->dqkv, 3 * HD, ga->dqh, B, T, H, Dh, 1);
        be->heads_merge(be, ga->dqkv + HD, 3 * HD, ga->dkh, B, T, H, Dh, 1);
        be->heads_merge(be, ga->dqkv + 2 * HD, 3 * HD, ga->dvh, B, T, H, Dh, 1);
        ZERO(ga->dln, nD);
        sb_linear_backward(be, ga->dln, G.t[SB_P_WQKV] + (size_t)l * 3 * HD * D, G.t[SB_P_BQKV] + (size_t)l * 3 * HD,
                           ga->dqkv, a->ln1 + oD, P.t[SB_P_WQKV] + (size_t)l * 3 * HD * D, BT, D, 3 * HD);
        be->layernorm_backward(be, ga->dres, G.t[SB_P_LN1G] + l * D, G.t[SB_P_LN1B] + l * D, ga->dln, x,
                               P.t[SB_P_LN1G] + l * D, a->ln1_mean + oR, a->ln1_rstd + oR, BT, D);
    }
    ZERO(ga->dtmp, nD);
    be->dropout_backward(be, ga->dtmp, ga->dres, nD, p, dropout_stream(m, EMBED_LAYER, SITE_EMBED));
    be->embedding_backward(be, G.t[SB_P_TOK], G.t[SB_P_POS], ga->dtmp, a->ids, B, T, D);
#undef ZERO
}

int sb_model_density(sb_model *m, float *out) {
    if (!m->cfg.attn->density) return 0;
    const size_t per_call = (size_t)m->B / m->calls * m->cfg.n_heads;
    for (int l = 0; l < m->L_act; l++)
        for (int part = 0; part < m->calls; part++)
            m->cfg.attn->density(m->attn_state[l * m->calls + part],
                                 out + (size_t)l * m->B * m->cfg.n_heads + part * per_call);
    return 1;
}

void sb_model_set_density_weight(sb_model *m, float weight) { m->density_weight = weight; }
