/* Performer (FAVOR+) as the LRA reference code runs it: the Nyströmformer
 * repo's `attention_performer.py` calls performer_pytorch's FastAttention
 * (mlpen/Nystromformer, `LRA/code/`). We follow
 * performer_pytorch v1.1.x (SBM pins v1.1.4), per (example, head):
 *   Q' = Q / d^¼,  K' = K · mask / d^¼,  V' = V · mask            (NYS wrapper)
 *   x~ = x' · d^-¼ (softmax_kernel's data_normalizer), so x~ = x / √d
 *   φ(x~) = M^-½ (exp(ω x~ − |x~|²/2 − c) + 1e-4)                   [N, M]
 *     c = the row's max of ω x~ for queries, the max over all rows and
 *     features of the (example, head) for keys (v1.1.x; v0.15 took the max
 *     over the whole tensor, all examples and heads); both are .detach()ed in
 *     the reference, so backward holds them constant, as autograd does
 *   out = φ(Q) (φ(K)ᵀ V') / (φ(Q) · Σ_j φ(K_j))
 * The features approximate exp(q·k/d), not exp(q·k/√d): the reference applies
 * the d^-¼ scaling twice. `performer_kernel: "paper"` applies it once (x~ =
 * x / d^¼, exp(q·k/√d), the Performer paper's softmax kernel); everything else
 * is the same.
 * Padding: pad keys are zeroed *before* φ, as the reference does, so each
 * still adds M^-½ (exp(−c) + 1e-4) per feature to the normaliser Σ_j φ(K_j)
 * (and takes part in the keys' max as a row of zeros); pad values are zeroed,
 * so pad keys add nothing to the numerator. Pad query rows are computed.
 * No attention dropout (FastAttention has none; attn_dropout is ignored).
 *
 * Parameter: ω [M, D] (M = performer_features), one per layer shared by all
 * heads, drawn once at initialisation and never redrawn (the reference
 * registers it as a buffer; only the Performer wrapper, unused here, redraws):
 * blocks of D rows, each the transpose of the Q of a QR decomposition of a D×D
 * standard Gaussian matrix (the last block cut to M mod D rows), row i then
 * scaled by the norm of a fresh Gaussian D-vector (scaling = 0). Our QR is
 * Gram-Schmidt, i.e. R with a positive diagonal (LAPACK's signs may differ:
 * some rows of ω flip sign, the same distribution of directions). ω is a
 * `frozen` tensor of the parameter block: backward never writes its
 * gradient, and the optimiser skips it (sb_model_trainable_ranges), so not
 * even weight decay changes it.
 * Cost O(N M D) per head. */
#include <math.h>
#include <stdlib.h>
#include "baselines/key_sum_norm.h"
#include "core/attention.h"

typedef struct {
    int M;
    float *phiq, *phik;      /* [B,H,N,M] */
    float *vm;               /* [B,H,N,D] V' */
    float *kv;               /* [B,H,M,D] φ(K)ᵀ V' */
    sb_key_sum_norm norm;    /* Σ_j φ(K_j), the denominators (no eps) */
    float *dphi;             /* [B,H,N,M] backward scratch */
    float *dnum, *dvm;       /* [B,H,N,D] */
    float *dkv;              /* [B,H,M,D] */
} performer_state;

static size_t performer_param_count(const sb_attn_config *cfg) {
    return (size_t)cfg->performer_features * cfg->d_head;
}

static int performer_param_layout(const sb_attn_config *cfg, sb_param_desc *out) {
    out[0] = (sb_param_desc){.name = "omega", .rank = 2, .dims = {cfg->performer_features, cfg->d_head},
                             .offset = 0, .frozen = 1};
    return 1;
}

/* rows of `out` [D,D] = columns of Q from the Gram-Schmidt QR of a Gaussian D×D matrix */
static void orthogonal_block(float *out, int D, sb_rng_reader *rng) {
    double *a = malloc(sizeof(double) * D * D); /* a[i*D + j]: row i, column j */
    for (int i = 0; i < D * D; i++) a[i] = sb_rng_next_normal(rng);
    for (int j = 0; j < D; j++) { /* modified Gram-Schmidt over columns */
        for (int p = 0; p < j; p++) {
            double dot = 0.0;
            for (int i = 0; i < D; i++) dot += a[i * D + p] * a[i * D + j];
            for (int i = 0; i < D; i++) a[i * D + j] -= dot * a[i * D + p];
        }
        double nrm = 0.0;
        for (int i = 0; i < D; i++) nrm += a[i * D + j] * a[i * D + j];
        nrm = sqrt(nrm);
        for (int i = 0; i < D; i++) a[i * D + j] /= nrm;
    }
    for (int j = 0; j < D; j++) /* Qᵀ: row j = column j */
        for (int i = 0; i < D; i++) out[j * D + i] = (float)a[i * D + j];
    free(a);
}

static void performer_init_params(const sb_attn_config *cfg, float *params, sb_rng_reader *rng) {
    const int M = cfg->performer_features, D = cfg->d_head;
    float *blk = malloc(sizeof(float) * D * D);
    for (int r0 = 0; r0 < M; r0 += D) {
        orthogonal_block(blk, D, rng);
        const int rows = M - r0 < D ? M - r0 : D;
        for (int i = 0; i < rows * D; i++) params[(size_t)r0 * D + i] = blk[i];
    }
    free(blk);
    for (int i = 0; i < M; i++) {
        double nrm = 0.0;
        for (int d = 0; d < D; d++) {
            double g = sb_rng_next_normal(rng);
            nrm += g * g;
        }
        for (int d = 0; d < D; d++) params[(size_t)i * D + d] *= (float)sqrt(nrm);
    }
}

static void *performer_state_create(sb_backend *be, const sb_attn_config *cfg, int B, int N, int training) {
    performer_state *s = calloc(1, sizeof *s);
    const int M = s->M = cfg->performer_features, D = cfg->d_head, H = cfg->n_heads;
    const size_t G = (size_t)B * H, nm = G * N * M, nd = G * N * D;
    s->phiq = be->alloc(be, sizeof(float) * nm);
    s->phik = be->alloc(be, sizeof(float) * nm);
    s->vm = be->alloc(be, sizeof(float) * nd);
    s->kv = be->alloc(be, sizeof(float) * G * M * D);
    sb_ksn_init(be, &s->norm, (int)G, N, M, D, 0.0f, training);
    if (training) {
        s->dphi = be->alloc(be, sizeof(float) * nm);
        s->dnum = be->alloc(be, sizeof(float) * nd);
        s->dvm = be->alloc(be, sizeof(float) * nd);
        s->dkv = be->alloc(be, sizeof(float) * G * M * D);
    }
    return s;
}

static void performer_state_destroy(sb_backend *be, void *state) {
    performer_state *s = state;
    if (!s) return;
    float *b[] = {s->phiq, s->phik, s->vm, s->kv, s->dphi, s->dnum, s->dvm, s->dkv};
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) be->free(be, b[i]);
    sb_ksn_free(be, &s->norm);
    free(s);
}

/* performer_kernel: 0 = reference, 1 = paper (manifest values); the value 2 (bit 1), set
 * only by tests, drops the max stabiliser c (c = 0), which makes the forward
 * smooth so finite differences can check backward exactly. */
enum { KERNEL_PAPER = 1, KERNEL_NO_STABILISER = 2 };

/* x~ = x · scale: d^-½ (reference, the d^-¼ of the wrapper and of softmax_kernel) or d^-¼ (paper) */
static float feature_scale(const sb_attn_config *cfg, int D) {
    return cfg->performer_kernel & KERNEL_PAPER ? 1.0f / powf((float)D, 0.25f) : 1.0f / sqrtf((float)D);
}

static void performer_forward(sb_backend *be, void *state, const sb_attn_config *cfg, const float *params,
                              const sb_attn_call *c) {
    performer_state *s = state;
    const int B = c->B, H = c->H, N = c->N, D = c->D, M = s->M, G = B * H;
    const float sc = feature_scale(cfg, D);
    const size_t nd = (size_t)N * D, nm = (size_t)N * M, md = (size_t)M * D;
    const int plain = cfg->performer_kernel & KERNEL_NO_STABILISER;
    be->performer_features_forward(be, s->phiq, c->q, params, NULL, B, H, N, D, M, sc, plain ? 2 : 1);
    be->performer_features_forward(be, s->phik, c->k, params, c->key_mask, B, H, N, D, M, sc, plain ? 2 : 0);
    be->scale_mask_heads(be, s->vm, c->v, c->key_mask, B, H, N, D, 1.0f, 0);
    be->gemm_batched(be, 1, 0, M, D, N, 1.0f, s->phik, M, nm, s->vm, D, nd, 0.0f, s->kv, D, md, G); /* φ(K)ᵀV' */
    be->gemm_batched(be, 0, 0, N, D, M, 1.0f, s->phiq, M, nm, s->kv, D, md, 0.0f, c->out, D, nd, G);
    sb_ksn_forward(be, &s->norm, G, N, s->phiq, s->phik, c->out); /* / φ(Q)·Σφ(K) */
}

/* Uses the forward's output c->out (the caller keeps it until backward). */
static void performer_backward(sb_backend *be, void *state, const sb_attn_config *cfg, const float *params,
                               float *dparams, const sb_attn_call *c, const sb_attn_grads *g) {
    (void)dparams; /* omega is frozen: no gradient */
    performer_state *s = state;
    const int B = c->B, H = c->H, N = c->N, D = c->D, M = s->M, G = B * H;
    const float sc = feature_scale(cfg, D);
    const size_t nd = (size_t)N * D, nm = (size_t)N * M, md = (size_t)M * D;
    sb_ksn_backward(be, &s->norm, s->phiq, g->dout, c->out, s->dnum);
    be->gemm_batched(be, 1, 0, M, D, N, 1.0f, s->phiq, M, nm, s->dnum, D, nd, 0.0f, s->dkv, D, md, G); /* dKV */
    /* dφ(Q) = dnum KVᵀ + dden Σφ(K)ᵀ */
    be->gemm_batched(be, 0, 1, N, M, D, 1.0f, s->dnum, D, nd, s->kv, D, md, 0.0f, s->dphi, M, nm, G);
    sb_ksn_add_query_grad(be, &s->norm, s->dphi);
    be->performer_features_backward(be, g->dq, s->dphi, s->phiq, c->q, params, NULL, B, H, N, D, M, sc);
    /* dφ(K) = V' dKVᵀ + 1 dΣφ(K)ᵀ */
    be->gemm_batched(be, 0, 1, N, M, D, 1.0f, s->vm, D, nd, s->dkv, D, md, 0.0f, s->dphi, M, nm, G);
    sb_ksn_add_key_grad(be, &s->norm, s->dphi);
    be->performer_features_backward(be, g->dk, s->dphi, s->phik, c->k, params, c->key_mask, B, H, N, D, M, sc);
    /* dV' = φ(K) dKV */
    be->gemm_batched(be, 0, 0, N, D, M, 1.0f, s->phik, M, nm, s->dkv, D, md, 0.0f, s->dvm, D, nd, G);
    be->scale_mask_heads(be, g->dv, s->dvm, c->key_mask, B, H, N, D, 1.0f, 1);
}

const sb_attention_ops sb_attention_performer = {
    .name = "performer",
    .param_count = performer_param_count,
    .init_params = performer_init_params,
    .param_layout = performer_param_layout,
    .state_create = performer_state_create,
    .state_destroy = performer_state_destroy,
    .forward = performer_forward,
    .backward = performer_backward,
    .density = NULL,
};
