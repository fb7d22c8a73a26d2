/* Gradient checks of every backend op with a backward, against central finite
 * differences of a random-projection loss L = sum(out * R) (accumulated in
 * double; R fixed), plus the accumulate (+=) contract: a second identical
 * backward doubles every gradient.
 *
 * Tolerances are on tu_rel_err = |a-b| / max(1e-3, |a|+|b|) and sit a few
 * times above the errors measured on this data (see the report lines); a
 * dropped factor such as 1/sqrt(D) or 1/(1-p) gives errors of 0.1 or more. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include "core/backend.h"
#include "core/kernels_inline.h"
#include "core/layers.h"
#include "tests/test_util.h"

/* A second backward into the same buffers must double them; only the float
 * rounding of the accumulating adds may differ. */
#define ACC_TOL 2e-5 /* measured <= 3.7e-6 (attention dk summed over row blocks) */
/* Maximum FD points per tensor (sampled beyond this). */
#define MAX_FD 300
/* FD steps (powers of two, see tu_fd_one): maps linear in the checked input
 * have no truncation error, so a long step shrinks the float noise. */
#define H_LINEAR 0.125f
#define H_SMOOTH 0.0625f
/* Tolerances on tu_rel_err. Gradients below ~1e-2 are compared nearly in
 * absolute terms (the 1e-3 floor), where the forward's float rounding over
 * 1/h dominates; measured maxima are in the report lines. */
#define TOL_LINEAR 2e-3 /* measured <= 3.9e-4 (linear dW) */
#define TOL_SMOOTH 5e-3 /* measured <= 1.7e-3 (cross-entropy), 1.3e-3 (attention dk) */

/* FD-checks the analytic gradient g1 of `loss` w.r.t. x[n] (step h, at most
 * max_fd sampled points, error floor `floor`, tolerance tol) and that a
 * second backward doubled it (g2 == 2 g1). */
static void check_grad_n(const char *what, tu_loss_fn loss, void *ctx, float *x, const float *g1,
                         const float *g2, size_t n, float h, double tol, size_t max_fd,
                         double floor) {
    static uint32_t which = 0;
    char name[128];
    snprintf(name, sizeof name, "%s vs FD", what);
    tu_report_fd(name, tu_fd_check(loss, ctx, x, g1, n, h, max_fd, which++, floor), tol);
    snprintf(name, sizeof name, "%s accumulates (+=)", what);
    tu_report(name, tu_doubling_err(g1, g2, n), ACC_TOL);
}

static void check_grad(const char *what, tu_loss_fn loss, void *ctx, float *x, const float *g1,
                       const float *g2, size_t n, float h, double tol) {
    check_grad_n(what, loss, ctx, x, g1, g2, n, h, tol, MAX_FD, 1e-3);
}

/* ---------------------------------------------------------------- linear */

typedef struct {
    sb_backend *be;
    float *in, *W, *b, *out, *R; /* in [rows,I], W [O,I], b [O], out R [rows,O] */
    int rows, I, O;
} linear_ctx;

static double linear_loss(void *p) {
    linear_ctx *c = p;
    sb_linear_forward(c->be, c->out, c->in, c->W, c->b, c->rows, c->I, c->O);
    return tu_dot(c->out, c->R, (size_t)c->rows * c->O);
}

static void test_linear(sb_backend *be) {
    enum { ROWS = 6, I = 5, O = 7 };
    float in[ROWS * I], W[O * I], b[O], out[ROWS * O], R[ROWS * O];
    float din[ROWS * I] = {0}, dW[O * I] = {0}, db[O] = {0};
    float din1[ROWS * I], dW1[O * I], db1[O];
    tu_fill_normal(in, ROWS * I, 1.0f, 1);
    tu_fill_normal(W, O * I, 0.5f, 2);
    tu_fill_normal(b, O, 0.5f, 3);
    tu_fill_normal(R, ROWS * O, 1.0f, 4);
    linear_ctx c = {be, in, W, b, out, R, ROWS, I, O};
    linear_loss(&c);
    for (int pass = 0; pass < 2; pass++) {
        sb_linear_backward(be, din, dW, db, R, in, W, ROWS, I, O);
        if (pass == 0) {
            memcpy(din1, din, sizeof din);
            memcpy(dW1, dW, sizeof dW);
            memcpy(db1, db, sizeof db);
        }
    }
    check_grad("linear din", linear_loss, &c, in, din1, din, ROWS * I, H_LINEAR, TOL_LINEAR);
    check_grad("linear dW", linear_loss, &c, W, dW1, dW, O * I, H_LINEAR, TOL_LINEAR);
    check_grad("linear db", linear_loss, &c, b, db1, db, O, H_LINEAR, TOL_LINEAR);
}

/* ---------------------------------------------------------------- layernorm */

typedef struct {
    sb_backend *be;
    float *in, *gamma, *beta, *out, *mean, *rstd, *R; /* in out R [rows,C]; gamma beta [C] */
    int rows, C;
} layernorm_ctx;

static double layernorm_loss(void *p) {
    layernorm_ctx *c = p;
    c->be->layernorm_forward(c->be, c->out, c->mean, c->rstd, c->in, c->gamma, c->beta,
                             (size_t)c->rows, c->C, 1e-5f);
    return tu_dot(c->out, c->R, (size_t)c->rows * c->C);
}

static void test_layernorm(sb_backend *be) {
    enum { ROWS = 5, C = 37 }; /* two 16-lane blocks and a tail in the kernel */
    float in[ROWS * C], gamma[C], beta[C], out[ROWS * C], mean[ROWS], rstd[ROWS], R[ROWS * C];
    float din[ROWS * C] = {0}, dg[C] = {0}, db[C] = {0}, din1[ROWS * C], dg1[C], db1[C];
    tu_fill_normal(in, ROWS * C, 1.0f, 10);
    for (int i = 0; i < ROWS * C; i++) in[i] += 0.5f;
    tu_fill_uniform(gamma, C, 0.5f, 1.5f, 11);
    tu_fill_normal(beta, C, 0.5f, 12);
    tu_fill_normal(R, ROWS * C, 1.0f, 13);
    layernorm_ctx c = {be, in, gamma, beta, out, mean, rstd, R, ROWS, C};
    layernorm_loss(&c);
    for (int pass = 0; pass < 2; pass++) {
        be->layernorm_backward(be, din, dg, db, R, in, gamma, mean, rstd, ROWS, C);
        if (pass == 0) {
            memcpy(din1, din, sizeof din);
            memcpy(dg1, dg, sizeof dg);
            memcpy(db1, db, sizeof db);
        }
    }
    check_grad("layernorm din", layernorm_loss, &c, in, din1, din, ROWS * C, H_SMOOTH, TOL_SMOOTH);
    check_grad("layernorm dgamma", layernorm_loss, &c, gamma, dg1, dg, C, H_LINEAR, TOL_LINEAR);
    check_grad("layernorm dbeta", layernorm_loss, &c, beta, db1, db, C, H_LINEAR, TOL_LINEAR);
}

/* ---------------------------------------------------------------- activations */

enum { ACT_GELU, ACT_RELU, ACT_SIGMOID, ACT_SOFTMAX_ROWS };
static const char *const act_names[] = {"gelu", "relu", "sigmoid", "softmax_rows"};

typedef struct {
    sb_backend *be;
    float *in, *out, *R; /* [n] = [rows, cols] for softmax_rows */
    size_t n;
    int kind, cols;
} act_ctx;

static double act_loss(void *p) {
    act_ctx *c = p;
    sb_backend *be = c->be;
    switch (c->kind) {
    case ACT_GELU: be->gelu_forward(be, c->out, c->in, c->n); break;
    case ACT_RELU: be->relu_forward(be, c->out, c->in, c->n); break;
    case ACT_SIGMOID: be->sigmoid_forward(be, c->out, c->in, c->n); break;
    default: /* in place on a copy */
        memcpy(c->out, c->in, c->n * sizeof(float));
        be->softmax_rows(be, c->out, c->n / (size_t)c->cols, c->cols);
    }
    return tu_dot(c->out, c->R, c->n);
}

static void act_backward(act_ctx *c, float *din) {
    sb_backend *be = c->be;
    switch (c->kind) {
    case ACT_GELU: be->gelu_backward(be, din, c->in, c->R, c->n); break;
    case ACT_RELU: be->relu_backward(be, din, c->out, c->R, c->n); break;
    case ACT_SIGMOID: be->sigmoid_backward(be, din, c->out, c->R, c->n); break;
    default: be->softmax_rows_backward(be, din, c->out, c->R, c->n / (size_t)c->cols, c->cols);
    }
}

static void test_activations(sb_backend *be) {
    enum { N = 200, COLS = 20 };
    float in[N], out[N], R[N], din[N], din1[N];
    tu_fill_normal(R, N, 1.0f, 21);
    for (int kind = ACT_GELU; kind <= ACT_SOFTMAX_ROWS; kind++) {
        tu_fill_uniform(in, N, -3.0f, 3.0f, 20);
        if (kind == ACT_RELU) /* 2h = 1/16 < 0.1: no FD step crosses the kink */
            for (int i = 0; i < N; i++) in[i] += in[i] < 0.0f ? -0.1f : 0.1f;
        act_ctx c = {be, in, out, R, N, kind, COLS};
        act_loss(&c);
        memset(din, 0, sizeof din);
        act_backward(&c, din);
        memcpy(din1, din, sizeof din);
        act_backward(&c, din);
        char name[64];
        snprintf(name, sizeof name, "%s din", act_names[kind]);
        check_grad(name, act_loss, &c, in, din1, din, N, 0.03125f,
                   kind == ACT_RELU ? TOL_LINEAR : TOL_SMOOTH);
    }
}

/* ---------------------------------------------------------------- dropout */

typedef struct {
    sb_backend *be;
    float *in, *out, *R; /* [n] */
    size_t n;
    float p;
    sb_rng_stream s;
} dropout_ctx;

static double dropout_loss(void *p) {
    dropout_ctx *c = p;
    c->be->dropout_forward(c->be, c->out, c->in, c->n, c->p, c->s);
    return tu_dot(c->out, c->R, c->n);
}

/* Dropout is a fixed diagonal map for a fixed stream: backward must apply
 * exactly the forward's factors (bit for bit), in place or not. */
static void test_dropout(sb_backend *be) {
    enum { N = 3001 }; /* two 1024-element chunks and a ragged tail */
    float *in = tu_alloc(N), *out = tu_alloc(N), *R = tu_alloc(N), *ones = tu_alloc(N);
    float *f = tu_alloc(N), *din = tu_alloc(N), *din1 = tu_alloc(N), *inplace = tu_alloc(N);
    tu_fill_normal(in, N, 1.0f, 30);
    tu_fill_normal(R, N, 1.0f, 31);
    for (int i = 0; i < N; i++) ones[i] = 1.0f;
    const float ps[] = {0.0f, 0.3f};
    for (int k = 0; k < 2; k++) {
        float p = ps[k];
        sb_rng_stream s = sb_rng_make(99, SB_RNG_DROPOUT, 4, 1, 2, 0);
        dropout_ctx c = {be, in, out, R, N, p, s};
        be->dropout_forward(be, f, ones, N, p, s); /* the factors */
        dropout_loss(&c);
        memcpy(inplace, in, N * sizeof(float));
        be->dropout_forward(be, inplace, inplace, N, p, s);
        memset(din, 0, N * sizeof(float));
        for (int pass = 0; pass < 2; pass++) {
            be->dropout_backward(be, din, R, N, p, s);
            if (pass == 0) memcpy(din1, din, N * sizeof(float));
        }
        int exact = 1, dropped = 0;
        for (int i = 0; i < N; i++) {
            exact &= out[i] == in[i] * f[i] && din1[i] == R[i] * f[i] && inplace[i] == out[i];
            dropped += f[i] == 0.0f;
        }
        tu_check(exact, "dropout p=%.1f: out = in*f, din = dout*f exactly, in place too (%d of %d dropped)",
                 p, dropped, N);
        char name[64];
        snprintf(name, sizeof name, "dropout p=%.1f din", p);
        check_grad(name, dropout_loss, &c, in, din1, din, N, H_LINEAR, TOL_LINEAR);
    }
    free(in), free(out), free(R), free(ones), free(f), free(din), free(din1), free(inplace);
}

/* ---------------------------------------------------------------- embedding */

typedef struct {
    sb_backend *be;
    const int32_t *ids;               /* [B,T] */
    float *tok, *pos, *out, *R;       /* [V,C], [P,C], [B,T,C] */
    int B, T, C;
} embed_ctx;

static double embed_loss(void *p) {
    embed_ctx *c = p;
    c->be->embedding_forward(c->be, c->out, c->ids, c->tok, c->pos, c->B, c->T, c->C);
    return tu_dot(c->out, c->R, (size_t)c->B * c->T * c->C);
}

static void test_embedding(sb_backend *be) {
    enum { B = 2, T = 5, C = 4, V = 7, P = 6 };
    const int32_t ids[B * T] = {3, 1, 3, 0, 6, 1, 1, 5, 3, 0}; /* repeats; id 2 and 4 unused */
    float tok[V * C], pos[P * C], out[B * T * C], R[B * T * C];
    float dtok[V * C] = {0}, dpos[P * C] = {0}, dtok1[V * C], dpos1[P * C];
    tu_fill_normal(tok, V * C, 1.0f, 40);
    tu_fill_normal(pos, P * C, 1.0f, 41);
    tu_fill_normal(R, B * T * C, 1.0f, 42);
    embed_ctx c = {be, ids, tok, pos, out, R, B, T, C};
    embed_loss(&c);
    for (int pass = 0; pass < 2; pass++) {
        be->embedding_backward(be, dtok, dpos, R, ids, B, T, C);
        if (pass == 0) {
            memcpy(dtok1, dtok, sizeof dtok);
            memcpy(dpos1, dpos, sizeof dpos);
        }
    }
    check_grad("embedding dtok", embed_loss, &c, tok, dtok1, dtok, V * C, H_LINEAR, TOL_LINEAR);
    check_grad("embedding dpos", embed_loss, &c, pos, dpos1, dpos, P * C, H_LINEAR, TOL_LINEAR);
}

/* ---------------------------------------------------------------- mean pool */

typedef struct {
    sb_backend *be;
    float *in, *out, *R; /* [B,T,C], [B,C] */
    int B, T, C;
} pool_ctx;

static double pool_loss(void *p) {
    pool_ctx *c = p;
    c->be->mean_pool_forward(c->be, c->out, c->in, c->B, c->T, c->C);
    return tu_dot(c->out, c->R, (size_t)c->B * c->C);
}

static void test_mean_pool(sb_backend *be) {
    enum { B = 3, T = 5, C = 4 };
    float in[B * T * C], out[B * C], R[B * C], din[B * T * C] = {0}, din1[B * T * C];
    tu_fill_normal(in, B * T * C, 1.0f, 50);
    tu_fill_normal(R, B * C, 1.0f, 51);
    pool_ctx c = {be, in, out, R, B, T, C};
    pool_loss(&c);
    for (int pass = 0; pass < 2; pass++) {
        be->mean_pool_backward(be, din, R, B, T, C);
        if (pass == 0) memcpy(din1, din, sizeof din);
    }
    check_grad("mean_pool din", pool_loss, &c, in, din1, din, B * T * C, H_LINEAR, TOL_LINEAR);
}

/* ---------------------------------------------------------------- cross-entropy */

typedef struct {
    sb_backend *be;
    float *logits, *loss; /* [rows,C], [rows] */
    const int32_t *labels;
    int rows, C;
    float scale;
} ce_ctx;

/* scale * sum of the counted rows' losses */
static double ce_loss(void *p) {
    ce_ctx *c = p;
    c->be->cross_entropy(c->be, c->loss, NULL, NULL, c->logits, c->labels, (size_t)c->rows, c->C, 1.0f);
    double s = 0.0;
    for (int r = 0; r < c->rows; r++)
        if (c->labels[r] >= 0) s += c->loss[r];
    return c->scale * s;
}

static void test_cross_entropy(sb_backend *be) {
    enum { ROWS = 7, C = 5 };
    const int32_t labels[ROWS] = {0, -1, 4, 2, -1, 1, 3};
    float logits[ROWS * C], loss[ROWS], dl[ROWS * C] = {0}, dl1[ROWS * C];
    uint8_t correct[ROWS];
    tu_fill_normal(logits, ROWS * C, 3.0f, 60);
    logits[3 * C + 2] = 20.0f; /* row 3: confidently right */
    ce_ctx c = {be, logits, loss, labels, ROWS, C, 0.7f};
    for (int pass = 0; pass < 2; pass++) {
        be->cross_entropy(be, loss, dl, correct, logits, labels, ROWS, C, c.scale);
        if (pass == 0) memcpy(dl1, dl, sizeof dl);
    }
    check_grad("cross_entropy dlogits (scale 0.7)", ce_loss, &c, logits, dl1, dl, ROWS * C, H_SMOOTH, TOL_SMOOTH);
    int ok = 1;
    for (int r = 0; r < ROWS; r++) {
        int arg = 0;
        for (int k = 1; k < C; k++) arg = logits[r * C + k] > logits[r * C + arg] ? k : arg;
        if (labels[r] < 0) {
            ok &= loss[r] == 0.0f && correct[r] == 0;
            for (int k = 0; k < C; k++) ok &= dl1[r * C + k] == 0.0f;
        } else {
            ok &= correct[r] == (arg == labels[r]) && loss[r] >= 0.0f;
        }
    }
    tu_check(ok && correct[3] == 1, "cross_entropy: ignored rows (label -1) have zero loss and gradient; correct = argmax hit");
}

/* ---------------------------------------------------------------- head layout */

/* heads_merge is the adjoint (here: inverse permutation) of heads_split, on
 * strided rows as the model's fused QKV uses them. */
static void test_heads_layout(sb_backend *be) {
    enum { B = 2, T = 3, H = 2, D = 4, HD = H * D, STRIDE = 3 * HD, NSRC = B * T * STRIDE, NH = B * H * T * D };
    float src[NSRC], y[NH], split[NH], merged[NSRC], twice[NH];
    tu_fill_normal(src, NSRC, 1.0f, 70);
    tu_fill_normal(y, NH, 1.0f, 71);
    const float *k_part = src + HD; /* the "K" third of each fused row */
    be->heads_split(be, split, k_part, STRIDE, B, T, H, D, 0);
    /* <split(x), y> == <x, merge(y)> */
    memset(merged, 0, sizeof merged);
    be->heads_merge(be, merged + HD, STRIDE, y, B, T, H, D, 1);
    double lhs = tu_dot(split, y, NH), rhs = tu_dot(src, merged, NSRC);
    tu_report("heads_split/merge adjoint <split x,y> = <x,merge y>", fabs(lhs - rhs) / (fabs(lhs) + 1e-30), 1e-12);
    /* merge(split(x)) reproduces the K columns and leaves Q and V alone */
    memset(merged, 0, sizeof merged);
    be->heads_merge(be, merged + HD, STRIDE, split, B, T, H, D, 0);
    int ok = 1;
    for (int r = 0; r < B * T; r++)
        for (int j = 0; j < STRIDE; j++)
            ok &= merged[r * STRIDE + j] == (j >= HD && j < 2 * HD ? src[r * STRIDE + j] : 0.0f);
    tu_check(ok, "heads_merge(heads_split(x)) == x on the strided columns, others untouched");
    /* accumulate flags add */
    memcpy(twice, split, sizeof twice);
    be->heads_split(be, twice, k_part, STRIDE, B, T, H, D, 1);
    tu_report("heads_split accumulate=1 adds (+=)", tu_doubling_err(split, twice, NH), 0.0);
    float once[NSRC];
    memcpy(once, merged, sizeof once);
    be->heads_merge(be, merged + HD, STRIDE, split, B, T, H, D, 1);
    tu_report("heads_merge accumulate=1 adds (+=)", tu_doubling_err(once, merged, NSRC), 0.0);
}

/* ---------------------------------------------------------------- dense attention */

typedef struct {
    sb_backend *be;
    float *q, *k, *v, *out, *R; /* [B,H,N,D] */
    float *probs;               /* [B,H,N,N] */
    const float *mask;          /* [B,N] */
    int B, H, N, D;
    float p;
    sb_rng_stream s;
} attn_ctx;

static double attn_loss(void *p) {
    attn_ctx *c = p;
    c->be->dense_attention_forward(c->be, c->out, c->probs, c->q, c->k, c->v, c->mask, c->B, c->H,
                                   c->N, c->D, c->p, c->s);
    return tu_dot(c->out, c->R, (size_t)c->B * c->H * c->N * c->D);
}

/* out = (dropout(softmax(q kᵀ / sqrt(D) masked)) v in double, with the dropout
 * factors of element (i, j) taken from stream derive(s, b, h) at i*N + j. */
static double attn_reference_err(const attn_ctx *c) {
    const int N = c->N, D = c->D;
    double *row = malloc(sizeof(double) * (size_t)N), max_err = 0.0;
    float *f = tu_alloc((size_t)N);
    const uint32_t thr = sb_dropout_threshold(c->p);
    for (int b = 0; b < c->B; b++)
        for (int h = 0; h < c->H; h++) {
            size_t off = ((size_t)b * c->H + h) * N * D;
            sb_rng_stream s = sb_rng_derive(c->s, (uint32_t)b, (uint32_t)h);
            for (int i = 0; i < N; i++) {
                double mx = -INFINITY, sum = 0.0;
                for (int j = 0; j < N; j++) {
                    double dot = 0.0;
                    for (int d = 0; d < D; d++) dot += (double)c->q[off + i * D + d] * c->k[off + j * D + d];
                    row[j] = c->mask[b * N + j] > 0.0f ? dot / sqrt((double)D) : -INFINITY;
                    mx = row[j] > mx ? row[j] : mx;
                }
                for (int j = 0; j < N; j++) {
                    row[j] = mx > -INFINITY && row[j] > -INFINITY ? exp(row[j] - mx) : 0.0;
                    sum += row[j];
                }
                if (c->p > 0.0f)
                    sb_dropout_factors(&s, (uint64_t)i * N, (size_t)N, thr, sb_dropout_scale(c->p), f);
                for (int d = 0; d < D; d++) {
                    double o = 0.0;
                    for (int j = 0; j < N; j++)
                        o += (sum > 0.0 ? row[j] / sum : 0.0) * (c->p > 0.0f ? f[j] : 1.0) * c->v[off + j * D + d];
                    double e = fabs(o - c->out[off + i * D + d]);
                    if (!(e <= max_err)) max_err = e;
                }
            }
        }
    free(row);
    free(f);
    return max_err;
}

/* One attention configuration: forward vs reference, dq dk dv vs FD and the
 * accumulate contract, exact zeros for padded keys and key-less examples. */
static void attention_case(sb_backend *be, int B, int H, int N, int D, const float *mask, float p,
                           size_t max_fd, double floor) {
    const size_t n = (size_t)B * H * N * D, nn = (size_t)B * H * N * N;
    float *q = tu_alloc(n), *k = tu_alloc(n), *v = tu_alloc(n), *out = tu_alloc(n), *R = tu_alloc(n);
    float *probs = tu_alloc(nn), *g[3], *g1[3];
    for (int t = 0; t < 3; t++) g[t] = tu_alloc(n), g1[t] = tu_alloc(n);
    tu_fill_normal(q, n, 1.0f, 80);
    tu_fill_normal(k, n, 1.0f, 81);
    tu_fill_normal(v, n, 1.0f, 82);
    tu_fill_normal(R, n, 1.0f, 83);
    attn_ctx c = {be, q, k, v, out, R, probs, mask, B, H, N, D, p,
                  sb_rng_make(5, SB_RNG_ATTN_DROPOUT, 3, 1, 0, 0)};
    char tag[64], name[128];
    snprintf(tag, sizeof tag, "attention B%d H%d N%d D%d p=%.1f", B, H, N, D, p);
    attn_loss(&c);
    snprintf(name, sizeof name, "%s forward vs double (abs)", tag);
    tu_report(name, attn_reference_err(&c), 2e-6);
    for (int pass = 0; pass < 2; pass++) {
        be->dense_attention_backward(be, g[0], g[1], g[2], R, probs, q, k, v, B, H, N, D, p, c.s);
        if (pass == 0)
            for (int t = 0; t < 3; t++) memcpy(g1[t], g[t], n * sizeof(float));
    }
    /* exact zeros: every output and gradient of a key-less example, and dk dv
     * of every padded key */
    int zeros = 1;
    for (int b = 0; b < B; b++) {
        int real = 0;
        for (int j = 0; j < N; j++) real += mask[b * N + j] > 0.0f;
        for (int h = 0; h < H; h++)
            for (int j = 0; j < N; j++)
                for (int d = 0; d < D; d++) {
                    size_t e = (((size_t)b * H + h) * N + j) * D + d;
                    if (!real) zeros &= out[e] == 0.0f && g1[0][e] == 0.0f;
                    if (mask[b * N + j] <= 0.0f) zeros &= g1[1][e] == 0.0f && g1[2][e] == 0.0f;
                }
    }
    tu_check(zeros, "%s: padded keys get dk = dv = 0, key-less examples out = dq = 0", tag);
    const char *names[3] = {"dq", "dk", "dv"};
    float *x[3] = {q, k, v};
    for (int t = 0; t < 3; t++) {
        snprintf(name, sizeof name, "%s %s", tag, names[t]);
        check_grad_n(name, attn_loss, &c, x[t], g1[t], g[t], n, H_SMOOTH, TOL_SMOOTH, max_fd, floor);
    }
    free(q), free(k), free(v), free(out), free(R), free(probs);
    for (int t = 0; t < 3; t++) free(g[t]), free(g1[t]);
}

/* The backward's dQ, dK and dV are the same bit for bit on 1, 2 and 8
 * threads (8 oversubscribes a small machine, which is fine here), for one
 * pair (a task per slab of rows) and for 3 pairs (a task per pair on 1 and 2
 * threads, per slab on 8), each of n rows. */
static void attention_thread_invariance(sb_backend *be, int n_rows, const float *mask) {
    const int threads[3] = {1, 2, 8}, saved = omp_get_max_threads();
    for (int pairs = 1; pairs <= 3; pairs += 2) {
        const size_t n = (size_t)pairs * n_rows * 2, nn = (size_t)pairs * n_rows * n_rows;
        float *q = tu_alloc(n), *k = tu_alloc(n), *v = tu_alloc(n), *R = tu_alloc(n), *out = tu_alloc(n);
        float *probs = tu_alloc(nn), *g[3][3];
        tu_fill_normal(q, n, 1.0f, 90), tu_fill_normal(k, n, 1.0f, 91), tu_fill_normal(v, n, 1.0f, 92);
        tu_fill_normal(R, n, 1.0f, 93);
        const sb_rng_stream s = sb_rng_make(6, SB_RNG_ATTN_DROPOUT, 1, 0, 0, 0);
        be->dense_attention_forward(be, out, probs, q, k, v, mask, pairs, 1, n_rows, 2, 0.3f, s);
        /* inference (no probabilities kept: one block of rows per thread) gives the same output */
        float *out_inf = tu_alloc(n);
        const int64_t live = be->mem.live_bytes;
        sb_mem_reset_peak(&be->mem);
        be->dense_attention_forward(be, out_inf, NULL, q, k, v, mask, pairs, 1, n_rows, 2, 0.3f, s);
        const int64_t held = be->mem.peak_bytes - live, block = (int64_t)sizeof(float) * (n_rows < 128 ? n_rows : 128) *
                                                                 n_rows * omp_get_max_threads();
        tu_check(!memcmp(out, out_inf, n * sizeof(float)) && held == 2 * block,
                 "attention forward, %d pair(s) of %d rows, without probabilities: the same output bit for bit, "
                 "holding 2 x %lld bytes (scores and dropout blocks), not %zu", pairs, n_rows, (long long)block,
                 nn * sizeof(float));
        free(out_inf);
        for (int run = 0; run < 3; run++) {
            sb_cpu_set_threads(threads[run]);
            for (int t = 0; t < 3; t++) g[run][t] = tu_alloc(n);
            be->dense_attention_backward(be, g[run][0], g[run][1], g[run][2], R, probs, q, k, v, pairs, 1, n_rows, 2,
                                         0.3f, s);
        }
        sb_cpu_set_threads(saved);
        int same = 1;
        for (int run = 1; run < 3; run++)
            for (int t = 0; t < 3; t++) same &= !memcmp(g[0][t], g[run][t], n * sizeof(float));
        tu_check(same, "attention backward, %d pair(s) of %d rows: dq dk dv the same on 1, 2 and 8 threads", pairs,
                 n_rows);
        free(q), free(k), free(v), free(R), free(out), free(probs);
        for (int r = 0; r < 3; r++)
            for (int t = 0; t < 3; t++) free(g[r][t]);
    }
}

static void test_attention(sb_backend *be) {
    /* example 0: two padded keys; 1: all real; 2: no real key */
    enum { B = 3, N = 6 };
    const float mask[B * N] = {1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0};
    /* one example of 300 rows: several blocks of query rows for any block
     * size of 64, 128 or 256 (the kernel's ATT_ROWS), padded keys in the
     * middle and at the end; FD sampled. A key's gradient sums over 300
     * queries, whose float rounding puts 2e-5 (optimised build) to 5e-5
     * (unoptimised, sanitizer build) of noise into its difference quotient:
     * gradients below 2e-2 are compared absolutely (floor 2e-2). */
    enum { N2 = 300 };
    float mask2[N2];
    for (int j = 0; j < N2; j++) mask2[j] = (j < 290 || j == 295) && j != 100 ? 1.0f : 0.0f;
    const float ps[] = {0.0f, 0.3f};
    for (int i = 0; i < 2; i++) {
        attention_case(be, B, 2, N, 4, mask, ps[i], MAX_FD, 1e-3);
        attention_case(be, 1, 2, N2, 3, mask2, ps[i], 120, 2e-2);
    }
    /* N = 1100: three slabs of query rows (the kernel's ATT_SLAB_ROWS, 512),
     * whose dK and dV sums are formed apart and added in order. One pair on 2
     * threads makes each slab a task of its own; 3 pairs give a task per
     * pair, summing its slabs in one buffer. FD sampled, dropout on. */
    enum { N3 = 1100 };
    float mask3[3 * N3];
    for (int j = 0; j < 3 * N3; j++) mask3[j] = j % N3 == 7 ? 0.0f : 1.0f;
    attention_case(be, 1, 1, N3, 2, mask3, 0.3f, 40, 2e-2);
    attention_case(be, 3, 1, N3, 2, mask3, 0.3f, 40, 2e-2);
    attention_thread_invariance(be, N3, mask3);
}

int main(void) {
    sb_backend *be = sb_backend_cpu_create(0);
    test_linear(be);
    test_layernorm(be);
    test_activations(be);
    test_dropout(be);
    test_embedding(be);
    test_mean_pool(be);
    test_cross_entropy(be);
    test_heads_layout(be);
    test_attention(be);
    sb_backend_destroy(be);
    return tu_finish();
}
