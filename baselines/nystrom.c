/* Nyströmformer attention (Xiong et al. 2021) as the LRA reference code runs
 * it (Nyströmformer repo mlpen/Nystromformer, `LRA/code/attention_nystrom.py`).
 * Per (example, head),
 * with m = cfg->nystrom_landmarks, T = cfg->nystrom_conv, L = N/m:
 *   Q, K ← Q·mask / D^{1/4}, K·mask / D^{1/4}
 *   Q̃, K̃ = means of m contiguous segments of L rows (zeroed pads included)
 *   F = softmax(Q K̃ᵀ)  [N,m],  A = softmax(Q̃ K̃ᵀ)  [m,m],
 *   Bk = softmax(Q̃ Kᵀ − 1e9 (1 − mask))  [m,N]
 *   Z = pinv(A): 6 Newton–Schulz steps Z ← ¼ Z (13I − AZ(15I − AZ(7I − AZ)))
 *       from Z₀ = Aᵀ / c, c = max over the WHOLE tensor (all examples and
 *       heads) of A's column sums (the reference's "original" option)
 *   out = F Z (Bk V) + conv(V·mask)
 * If m = N the reference computes exact attention instead, and so does this:
 *   out = softmax(Q Kᵀ − 1e9 (1 − mask)) V + conv(V·mask)   (Q, K scaled as above).
 * conv is torch's Conv2d(H, H, (T,1), padding (T/2,0), groups=H, bias=False):
 * one T-tap filter per head along the sequence, shared over the D channels;
 * parameter `conv` [H,T], init as torch's default (kaiming_uniform_(a=√5),
 * i.e. U(−1/√T, 1/√T)); T = 0: no convolution, no parameters.
 *
 * Backward is by hand and exact, including the reference's autograd path
 * through c: dc = −Σ(dZ₀ ∘ Aᵀ)/c² reaches every row of the arg-max column
 * (spread evenly over exact ties, as torch.max does). Training keeps the pinv
 * iterates Z₀..Z₅ and every step's products P = A Z, U = 7I − P, S and Y
 * (30 m×m matrices), so backward recomputes nothing: it runs the 8 m×m×m
 * GEMMs per step of the reference's autograd, except for the last step,
 * whose gradients have rank D and run as thin products (pinv_last_backward).
 * Z₆ is never formed: Z₆ (Bk V) = Z₅ (¼ Y₅ (Bk V)). Only these two ends of
 * the chain are reassociated: reassociating inside it (e.g. P_{t+1} = ¼ P_t Y_t,
 * applying all the Y's to Bk V instead of forming Z, or symmetrising P)
 * saves more GEMMs but moves outputs and gradients by up to 3e-5 from
 * PyTorch's (the fixture allows 2e-5; six steps amplify the rounding of a
 * different order ~1000×). At the ends the error stays that of the
 * reference order (under 5e-6 on the fixture).
 *
 * Follows the reference (not the paper) in: landmark means over the padded
 * length (pads count as zero rows), no mask on F and A, the global max in Z₀,
 * the association (F Z)(Bk V) is evaluated as F (Z (Bk V)) (cheaper, same
 * product), and no attention dropout (the reference has none;
 * cfg->attn_dropout is ignored). Pad keys and values never change the output:
 * K and V·mask are zero there and Bk gives them weight exp(−1e9) = 0.
 *
 * Lengths: N must be a multiple of m with m ≤ N (the reference reshapes into
 * m segments); sb_nystrom_check() is the variant's validate hook, so a
 * manifest with a bad setting fails when it is expanded, and state_create /
 * forward abort with the same message (exit 2) for direct callers, since
 * they cannot return errors. T must be odd (an even T
 * changes the output length in torch).
 *
 * Cost per (example, head), in cblas GEMMs batched over B·H: scores 2·(2NmD +
 * m²D), softmaxes 5Nm + 5m² + 6mN, pinv 23·2m³ = 46m³, Bk V 2mND, Z₅(¼Y₅BkV)
 * 4m²D, F(.) 2NmD, conv ≈ 2TND — O(N m D + m³); backward ≈ 2× that (the
 * pinv backward is 5·8 m×m×m GEMMs and ~19 thin m×m×D ones).
 * Exact path: 4N²D + 6N² forward.
 * Memory O(N(m + D) + m²) per (example, head) (~36 m×m matrices when
 * training); exact path O(N²). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/attention.h"
#include "core/fatal.h"

enum { PINV_ITERS = 6 };

/* 0 if sequences of N tokens work with cfg's landmarks and convolution;
 * otherwise -1 and a message in err (ops->validate). */
static int sb_nystrom_check(const sb_attn_config *cfg, int N, char *err, size_t errlen) {
    const int m = cfg->nystrom_landmarks, T = cfg->nystrom_conv;
    if (m < 1 || m > N || N % m != 0) {
        snprintf(err, errlen,
                 "nystrom: the sequence length %d must be a multiple of nystrom_landmarks %d (and at least it)", N, m);
        return -1;
    }
    if (T < 0 || (T > 0 && T % 2 == 0)) {
        snprintf(err, errlen, "nystrom: nystrom_conv %d must be odd (or 0 for no convolution)", T);
        return -1;
    }
    return 0;
}

static void check_or_die(const sb_attn_config *cfg, int N) {
    char err[256];
    if (sb_nystrom_check(cfg, N, err, sizeof err)) {
        sb_fatal(2, "%s", err);
    }
}

typedef struct {
    int B, N, m, exact, training;
    float *qs, *ks;        /* [G,N,D] scaled, masked Q and K */
    float *ql, *kl;        /* [G,m,D] landmarks */
    float *F, *A, *Bk;     /* [G,N,m], [G,m,m], [G,m,N] softmax kernels */
    float *Z;              /* [6 (training) or 2, G, m, m] pinv iterates Z₀..Z₅ (Z₆ is never formed) */
    float *colsum;         /* [G,m] column sums of A */
    float c;               /* their max */
    float *P, *U, *S, *Y;  /* [6 (training) or 1, G, m, m] each Newton–Schulz step's products */
    float *R;              /* [G,m,4D] columns S₅ bv | U₅ bv | bv = Bk V | ¼ Y₅ bv (last step's factors) */
    float *w;              /* [G,m,D] Z₆ bv = Z₅ (¼ Y₅ bv) */
    float *probs;          /* exact path: [G,N,N] */
    /* gradients */
    float *dF, *dFs, *dA, *dAs, *dBk, *dBs; /* shaped as F, A, Bk */
    float *dZn, *dZc, *dY, *dP, *dR;        /* [G,m,m] */
    float *L;                               /* [G,m,4D] columns Aᵀ Lp | dw */
    float *Lp, *ZR;                         /* [G,m,3D] ¼[−a | b | −c] (pinv_last_backward), Z₅ R */
    float *dbv, *dql, *dkl;                 /* [G,m,D] */
    float *dqs, *dks;                       /* [G,N,D] */
    float *dprobs, *dscores;                /* exact path: [G,N,N] */
} nystrom_state;

static size_t nystrom_param_count(const sb_attn_config *cfg) {
    return (size_t)cfg->n_heads * (cfg->nystrom_conv > 0 ? cfg->nystrom_conv : 0);
}

static int nystrom_param_layout(const sb_attn_config *cfg, sb_param_desc *out) {
    if (cfg->nystrom_conv <= 0) return 0;
    out[0] = (sb_param_desc){.name = "conv", .rank = 2, .dims = {cfg->n_heads, cfg->nystrom_conv}, .offset = 0};
    return 1;
}

/* torch Conv2d default: kaiming_uniform_(a=√5), fan_in = (H/groups)·T·1 = T -> U(−1/√T, 1/√T) */
static void nystrom_init_params(const sb_attn_config *cfg, float *params, sb_rng_reader *rng) {
    const size_t n = nystrom_param_count(cfg);
    const float bound = cfg->nystrom_conv > 0 ? 1.0f / sqrtf((float)cfg->nystrom_conv) : 0.0f;
    for (size_t i = 0; i < n; i++) params[i] = (2.0f * sb_rng_next_unit(rng) - 1.0f) * bound;
}

static void *nystrom_state_create(sb_backend *be, const sb_attn_config *cfg, int B, int N, int training) {
    check_or_die(cfg, N);
    nystrom_state *s = calloc(1, sizeof *s);
    const int m = cfg->nystrom_landmarks;
    s->B = B, s->N = N, s->m = m, s->exact = m == N, s->training = training;
    const size_t G = (size_t)B * cfg->n_heads, D = cfg->d_head, nd = G * N * D, md = G * m * D, mm = G * m * m;
#define F32(n) be->alloc(be, sizeof(float) * (n))
    s->qs = F32(nd), s->ks = F32(nd);
    if (training) s->dqs = F32(nd), s->dks = F32(nd);
    if (s->exact) {
        s->probs = F32(G * N * N);
        if (training) s->dprobs = F32(G * N * N), s->dscores = F32(G * N * N);
        return s;
    }
    s->ql = F32(md), s->kl = F32(md), s->R = F32(4 * md), s->w = F32(md);
    s->F = F32(G * N * m), s->A = F32(mm), s->Bk = F32(G * m * N);
    s->Z = F32((training ? PINV_ITERS : 2) * mm);
    s->colsum = F32(G * m);
    const size_t kept = training ? PINV_ITERS : 1;
    s->P = F32(kept * mm), s->U = F32(kept * mm), s->S = F32(kept * mm), s->Y = F32(kept * mm);
    if (training) {
        s->dF = F32(G * N * m), s->dFs = F32(G * N * m);
        s->dA = F32(mm), s->dAs = F32(mm);
        s->dBk = F32(G * m * N), s->dBs = F32(G * m * N);
        s->dZn = F32(mm), s->dZc = F32(mm), s->dY = F32(mm), s->dP = F32(mm), s->dR = F32(mm);
        s->L = F32(4 * md), s->Lp = F32(3 * md), s->ZR = F32(3 * md);
        s->dbv = F32(md), s->dql = F32(md), s->dkl = F32(md);
    }
#undef F32
    return s;
}

static void nystrom_state_destroy(sb_backend *be, void *state) {
    nystrom_state *s = state;
    if (!s) return;
    float *b[] = {s->qs, s->ks, s->ql, s->kl, s->F, s->A, s->Bk, s->Z, s->colsum, s->P, s->U, s->S, s->Y,
                  s->R, s->w, s->probs, s->dF, s->dFs, s->dA, s->dAs, s->dBk, s->dBs, s->dZn, s->dZc,
                  s->dY, s->dP, s->dR, s->L, s->Lp, s->ZR, s->dbv, s->dql, s->dkl, s->dqs, s->dks, s->dprobs,
                  s->dscores};
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) be->free(be, b[i]);
    free(s);
}

/* The pinv iterate t (t = 0..5); without training only two are kept. */
static float *iterate(const nystrom_state *s, int t, int G) {
    const size_t mm = (size_t)G * s->m * s->m;
    return s->Z + (size_t)(s->training ? t : t % 2) * mm;
}

/* Step t's product X (s->P, U, S or Y) [G,m,m]; without training one set is reused. */
static float *product(const nystrom_state *s, float *X, int t, int G) {
    return X + (size_t)(s->training ? t : 0) * G * s->m * s->m;
}

/* Newton–Schulz step t's products from Zt: P = A Zt, U = 7I − P,
 * S = 15I − P U, Y = 13I − P S (the reference's KV, and its brackets). */
static void ns_products(sb_backend *be, nystrom_state *s, const float *Zt, int t, int G) {
    const int m = s->m;
    const size_t mm = (size_t)m * m;
    float *P = product(s, s->P, t, G), *U = product(s, s->U, t, G), *S = product(s, s->S, t, G),
          *Y = product(s, s->Y, t, G);
    be->gemm_batched(be, 0, 0, m, m, m, 1.0f, s->A, m, mm, Zt, m, mm, 0.0f, P, m, mm, G);
    be->diag_sub(be, U, P, 7.0f, G, m);
    be->gemm_batched(be, 0, 0, m, m, m, 1.0f, P, m, mm, U, m, mm, 0.0f, S, m, mm, G);
    be->diag_sub(be, S, S, 15.0f, G, m);
    be->gemm_batched(be, 0, 0, m, m, m, 1.0f, P, m, mm, S, m, mm, 0.0f, Y, m, mm, G);
    be->diag_sub(be, Y, Y, 13.0f, G, m);
}

/* Backward of the last Newton–Schulz step and of w = Z₆ bv, Z₆ = ¼ Z₅ Y₅,
 * in factored form: d Z₆ = dw bvᵀ has rank D, and so has every gradient of
 * the step. With a = Z₅ᵀ dw, b = Pᵀ a, c = Pᵀ b (P, U, S, Y of step 5):
 *   dY = ¼ a bvᵀ, dR = Pᵀ dY = ¼ b bvᵀ,  dP = −dY Sᵀ + dR Uᵀ − Pᵀ dR = Lp Rᵀ
 *   with Lp = ¼[−a | b | −c], R = [S bv | U bv | bv];  dbv = Z₆ᵀ dw = ¼ Y₅ᵀ a
 *   dA = dP Z₅ᵀ = Lp (Z₅ R)ᵀ,  d Z₅ = ¼ dw (Y₅ bv)ᵀ + Aᵀ dP = [Aᵀ Lp | dw] [R | ¼ Y₅ bv]ᵀ
 * Products with m×D and m×3D factors replace the step's 8 m×m×m GEMMs
 * (~2m²·19D instead of 16m³). dw is in L's last D columns; writes dbv, dA
 * and dZn = d Z₅. */
static void pinv_last_backward(sb_backend *be, nystrom_state *s, int G, int D) {
    const int m = s->m, t = PINV_ITERS - 1, D3 = 3 * D, D4 = 4 * D;
    const size_t mm = (size_t)m * m, md = (size_t)m * D, md3 = 3 * md, md4 = 4 * md;
    const float *Z5 = iterate(s, t, G), *P = product(s, s->P, t, G), *U = product(s, s->U, t, G),
                *S = product(s, s->S, t, G), *Y = product(s, s->Y, t, G), *dw = s->L + 3 * D, *bv = s->R + 2 * D;
    float *a4 = s->Lp, *b4 = s->Lp + D, *c4 = s->Lp + 2 * D; /* −¼a, ¼b, −¼c */
    be->gemm_batched(be, 1, 0, m, D, m, -0.25f, Z5, m, mm, dw, D4, md4, 0.0f, a4, D3, md3, G);
    be->gemm_batched(be, 1, 0, m, D, m, -1.0f, P, m, mm, a4, D3, md3, 0.0f, b4, D3, md3, G);
    be->gemm_batched(be, 1, 0, m, D, m, -1.0f, P, m, mm, b4, D3, md3, 0.0f, c4, D3, md3, G);
    be->gemm_batched(be, 1, 0, m, D, m, -1.0f, Y, m, mm, a4, D3, md3, 0.0f, s->dbv, D, md, G);
    be->gemm_batched(be, 0, 0, m, D, m, 1.0f, S, m, mm, bv, D4, md4, 0.0f, s->R, D4, md4, G);
    be->gemm_batched(be, 0, 0, m, D, m, 1.0f, U, m, mm, bv, D4, md4, 0.0f, s->R + D, D4, md4, G);
    be->gemm_batched(be, 0, 0, m, D3, m, 1.0f, Z5, m, mm, s->R, D4, md4, 0.0f, s->ZR, D3, md3, G);
    be->gemm_batched(be, 0, 1, m, m, D3, 1.0f, s->Lp, D3, md3, s->ZR, D3, md3, 0.0f, s->dA, m, mm, G);
    be->gemm_batched(be, 1, 0, m, D3, m, 1.0f, s->A, m, mm, s->Lp, D3, md3, 0.0f, s->L, D4, md4, G);
    be->gemm_batched(be, 0, 1, m, m, D4, 1.0f, s->L, D4, md4, s->R, D4, md4, 0.0f, s->dZn, m, mm, G);
}

static void check_call(const nystrom_state *s, const sb_attn_config *cfg, const sb_attn_call *c) {
    check_or_die(cfg, c->N);
    if (c->B > s->B || c->N > s->N || (c->N == s->m) != s->exact) {
        sb_fatal(2, "nystrom: call [B=%d, N=%d] does not fit its state [B=%d, N=%d]", c->B, c->N, s->B, s->N);
    }
}

static void nystrom_forward(sb_backend *be, void *state, const sb_attn_config *cfg, const float *params,
                            const sb_attn_call *c) {
    nystrom_state *s = state;
    check_call(s, cfg, c);
    const int B = c->B, H = c->H, N = c->N, D = c->D, G = B * H, m = s->m, T = cfg->nystrom_conv;
    const size_t nd = (size_t)N * D, md = (size_t)m * D, mm = (size_t)m * m, nm = (size_t)N * m;
    const float scale = 1.0f / sqrtf(sqrtf((float)D));
    be->scale_mask_heads(be, s->qs, c->q, c->key_mask, B, H, N, D, scale, 0);
    be->scale_mask_heads(be, s->ks, c->k, c->key_mask, B, H, N, D, scale, 0);
    if (s->exact) {
        const size_t nn = (size_t)N * N;
        be->gemm_batched(be, 0, 1, N, N, D, 1.0f, s->qs, D, nd, s->ks, D, nd, 0.0f, s->probs, N, nn, G);
        be->softmax_keybias_rows(be, s->probs, c->key_mask, B, H, N, N);
        be->gemm_batched(be, 0, 0, N, D, N, 1.0f, s->probs, N, nn, c->v, D, nd, 0.0f, c->out, D, nd, G);
    } else {
        be->segment_mean_forward(be, s->ql, s->qs, G, N, m, D);
        be->segment_mean_forward(be, s->kl, s->ks, G, N, m, D);
        be->gemm_batched(be, 0, 1, N, m, D, 1.0f, s->qs, D, nd, s->kl, D, md, 0.0f, s->F, m, nm, G);
        /* plain softmaxes through the keybias op (mask NULL): its row kernel
         * vectorises on AVX2, softmax_rows's does not */
        be->softmax_keybias_rows(be, s->F, NULL, 1, G, N, m);
        be->gemm_batched(be, 0, 1, m, m, D, 1.0f, s->ql, D, md, s->kl, D, md, 0.0f, s->A, m, mm, G);
        be->softmax_keybias_rows(be, s->A, NULL, 1, G, m, m);
        be->gemm_batched(be, 0, 1, m, N, D, 1.0f, s->ql, D, md, s->ks, D, nd, 0.0f, s->Bk, N, nm, G);
        be->softmax_keybias_rows(be, s->Bk, c->key_mask, B, H, m, N);
        /* Z = pinv(A) */
        s->c = be->pinv_init_forward(be, iterate(s, 0, G), s->colsum, s->A, G, m);
        for (int t = 0; t < PINV_ITERS; t++) {
            const float *Zt = iterate(s, t, G);
            ns_products(be, s, Zt, t, G);
            if (t + 1 < PINV_ITERS)
                be->gemm_batched(be, 0, 0, m, m, m, 0.25f, Zt, m, mm, product(s, s->Y, t, G), m, mm, 0.0f,
                                 iterate(s, t + 1, G), m, mm, G);
        }
        /* Z₆ bv = Z₅ (¼ Y₅ bv): the last step's product with the m×D bv, not Z₆ itself */
        const int D4 = 4 * D;
        float *bv = s->R + 2 * D, *ybv = s->R + 3 * D; /* R's columns, ld 4D */
        be->gemm_batched(be, 0, 0, m, D, N, 1.0f, s->Bk, N, nm, c->v, D, nd, 0.0f, bv, D4, 4 * md, G); /* Bk V */
        be->gemm_batched(be, 0, 0, m, D, m, 0.25f, product(s, s->Y, PINV_ITERS - 1, G), m, mm, bv, D4, 4 * md, 0.0f,
                         ybv, D4, 4 * md, G);
        be->gemm_batched(be, 0, 0, m, D, m, 1.0f, iterate(s, PINV_ITERS - 1, G), m, mm, ybv, D4, 4 * md, 0.0f, s->w,
                         D, md, G);
        be->gemm_batched(be, 0, 0, N, D, m, 1.0f, s->F, m, nm, s->w, D, md, 0.0f, c->out, D, nd, G);  /* F (.) */
    }
    if (T > 0) be->seqconv_forward(be, c->out, c->v, c->key_mask, params, B, H, N, D, T);
}

static void nystrom_backward(sb_backend *be, void *state, const sb_attn_config *cfg, const float *params,
                             float *dparams, const sb_attn_call *c, const sb_attn_grads *g) {
    nystrom_state *s = state;
    const int B = c->B, H = c->H, N = c->N, D = c->D, G = B * H, m = s->m, T = cfg->nystrom_conv;
    const size_t nd = (size_t)N * D, md = (size_t)m * D, mm = (size_t)m * m, nm = (size_t)N * m;
    const float scale = 1.0f / sqrtf(sqrtf((float)D));
    if (s->exact) {
        const size_t nn = (size_t)N * N;
        be->gemm_batched(be, 0, 1, N, N, D, 1.0f, g->dout, D, nd, c->v, D, nd, 0.0f, s->dprobs, N, nn, G);
        be->gemm_batched(be, 1, 0, N, D, N, 1.0f, s->probs, N, nn, g->dout, D, nd, 1.0f, g->dv, D, nd, G);
        be->zero(be, s->dscores, sizeof(float) * G * nn);
        be->softmax_rows_backward(be, s->dscores, s->probs, s->dprobs, (size_t)G * N, N);
        be->gemm_batched(be, 0, 0, N, D, N, 1.0f, s->dscores, N, nn, s->ks, D, nd, 0.0f, s->dqs, D, nd, G);
        be->gemm_batched(be, 1, 0, N, D, N, 1.0f, s->dscores, N, nn, s->qs, D, nd, 0.0f, s->dks, D, nd, G);
    } else {
        /* out = F w, w = Z₆ bv; dw in L's last columns */
        be->gemm_batched(be, 0, 1, N, m, D, 1.0f, g->dout, D, nd, s->w, D, md, 0.0f, s->dF, m, nm, G);
        be->gemm_batched(be, 1, 0, m, D, N, 1.0f, s->F, m, nm, g->dout, D, nd, 0.0f, s->L + 3 * D, 4 * D, 4 * md, G);
        pinv_last_backward(be, s, G, D); /* dbv, dA, dZn = d Z₅ */
        be->gemm_batched(be, 0, 1, m, N, D, 1.0f, s->dbv, D, md, c->v, D, nd, 0.0f, s->dBk, N, nm, G);
        be->gemm_batched(be, 1, 0, N, D, m, 1.0f, s->Bk, N, nm, s->dbv, D, md, 1.0f, g->dv, D, nd, G);
        /* the other steps, last first; dZn holds d Z_{t+1} */
        for (int t = PINV_ITERS - 2; t >= 0; t--) {
            const float *Zt = iterate(s, t, G), *P = product(s, s->P, t, G), *U = product(s, s->U, t, G),
                        *S = product(s, s->S, t, G), *Y = product(s, s->Y, t, G);
            /* Z' = ¼ Zt Y */
            be->gemm_batched(be, 0, 1, m, m, m, 0.25f, s->dZn, m, mm, Y, m, mm, 0.0f, s->dZc, m, mm, G);
            be->gemm_batched(be, 1, 0, m, m, m, 0.25f, Zt, m, mm, s->dZn, m, mm, 0.0f, s->dY, m, mm, G);
            /* Y = 13I − P S: dP = −dY Sᵀ, dS = −Pᵀ dY; S = 15I − R: dR = −dS */
            be->gemm_batched(be, 0, 1, m, m, m, -1.0f, s->dY, m, mm, S, m, mm, 0.0f, s->dP, m, mm, G);
            be->gemm_batched(be, 1, 0, m, m, m, 1.0f, P, m, mm, s->dY, m, mm, 0.0f, s->dR, m, mm, G);
            /* R = P U: dP += dR Uᵀ, dU = Pᵀ dR; U = 7I − P: dP −= dU */
            be->gemm_batched(be, 0, 1, m, m, m, 1.0f, s->dR, m, mm, U, m, mm, 1.0f, s->dP, m, mm, G);
            be->gemm_batched(be, 1, 0, m, m, m, -1.0f, P, m, mm, s->dR, m, mm, 1.0f, s->dP, m, mm, G);
            /* P = A Zt */
            be->gemm_batched(be, 0, 1, m, m, m, 1.0f, s->dP, m, mm, Zt, m, mm, 1.0f, s->dA, m, mm, G);
            be->gemm_batched(be, 1, 0, m, m, m, 1.0f, s->A, m, mm, s->dP, m, mm, 1.0f, s->dZc, m, mm, G);
            float *tmp = s->dZn;
            s->dZn = s->dZc, s->dZc = tmp;
        }
        be->pinv_init_backward(be, s->dA, s->dZn, s->A, s->colsum, s->c, G, m);
        /* the three softmaxes */
        be->zero(be, s->dFs, sizeof(float) * G * nm);
        be->softmax_rows_backward(be, s->dFs, s->F, s->dF, (size_t)G * N, m);
        be->zero(be, s->dAs, sizeof(float) * G * mm);
        be->softmax_rows_backward(be, s->dAs, s->A, s->dA, (size_t)G * m, m);
        be->zero(be, s->dBs, sizeof(float) * G * nm);
        be->softmax_rows_backward(be, s->dBs, s->Bk, s->dBk, (size_t)G * m, N);
        /* F: Q K̃ᵀ, A: Q̃ K̃ᵀ, Bk: Q̃ Kᵀ */
        be->gemm_batched(be, 0, 0, N, D, m, 1.0f, s->dFs, m, nm, s->kl, D, md, 0.0f, s->dqs, D, nd, G);
        be->gemm_batched(be, 1, 0, m, D, N, 1.0f, s->dFs, m, nm, s->qs, D, nd, 0.0f, s->dkl, D, md, G);
        be->gemm_batched(be, 0, 0, m, D, m, 1.0f, s->dAs, m, mm, s->kl, D, md, 0.0f, s->dql, D, md, G);
        be->gemm_batched(be, 1, 0, m, D, m, 1.0f, s->dAs, m, mm, s->ql, D, md, 1.0f, s->dkl, D, md, G);
        be->gemm_batched(be, 0, 0, m, D, N, 1.0f, s->dBs, N, nm, s->ks, D, nd, 1.0f, s->dql, D, md, G);
        be->gemm_batched(be, 1, 0, N, D, m, 1.0f, s->dBs, N, nm, s->ql, D, md, 0.0f, s->dks, D, nd, G);
        be->segment_mean_backward(be, s->dqs, s->dql, G, N, m, D);
        be->segment_mean_backward(be, s->dks, s->dkl, G, N, m, D);
    }
    be->scale_mask_heads(be, g->dq, s->dqs, c->key_mask, B, H, N, D, scale, 1);
    be->scale_mask_heads(be, g->dk, s->dks, c->key_mask, B, H, N, D, scale, 1);
    if (T > 0) be->seqconv_backward(be, g->dv, dparams, g->dout, c->v, c->key_mask, params, B, H, N, D, T);
}

const sb_attention_ops sb_attention_nystrom = {
    .name = "nystrom",
    .validate = sb_nystrom_check,
    .param_count = nystrom_param_count,
    .init_params = nystrom_init_params,
    .param_layout = nystrom_param_layout,
    .state_create = nystrom_state_create,
    .state_destroy = nystrom_state_destroy,
    .forward = nystrom_forward,
    .backward = nystrom_backward,
    .density = NULL,
};
