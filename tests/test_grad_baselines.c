/* Finite-difference gradient checks of the efficient-attention baselines
 * (the files in baselines/) through the attention interface: L = Σ out · R, with a
 * padded tail in one example, against dQ, dK, dV and every trained parameter's
 * gradient from backward; frozen tensors (Performer's omega) must get none.
 * Inputs are kept at least 0.3 away from 0, where linear attention's elu+1
 * has a second-derivative jump that a difference of step 1/8 (reaching 2/8)
 * must not straddle. Error floor 1e-2: the float forward leaves ~5e-5 of
 * noise in each difference, which a smaller floor would report as error on
 * tiny gradients. Each variant's settings are scaled to N = 12. Last, every
 * variant at the LRA settings gives the same bits on 1, 2 and 3 threads. */
#include "core/attention.h"
#include "core/backend.h"
#include "tests/test_util.h"

enum { B = 2, H = 2, N = 12, D = 6 };
#define SZ ((size_t)B * H * N * D)

typedef struct {
    const char *name;
    sb_attn_config cfg; /* settings besides n_heads, d_head, max_len */
    float step;         /* finite-difference step */
    const char *label;  /* in the report, when not the name */
    int pad_rows_vary;  /* pad queries attend to pads (reformer_pytorch): changing pad keys and values
                           may change pad rows; real rows are checked */
} variant_case;

static const variant_case cases[] = {
    {"linear", {0}, 1.0f / 8, NULL, 0},
    {"linear", {.linear_form = 1}, 1.0f / 8, "linear, paper's normalised form", 0},
    /* E ~ N(0, 0.02): a step of 1/8 is 6x its entries and the difference
     * quotient's truncation error shows (E: 1e-1 at 1/8, 5e-4 at 1/32) */
    {"linformer", {.linformer_k = 5}, 1.0f / 32, NULL, 0},
    /* Performer with performer_kernel bit 2 (test only): no max stabiliser
     * (c = 0). The reference detaches the maxes c, so its gradient (ours, equal
     * to PyTorch autograd to 4e-7 in the fixture) is not the derivative of the
     * forward: they differ through the 1e-4 term (7% on dQ here). Without c
     * the function is smooth and backward is its exact derivative. */
    {"performer", {.performer_features = 16, .performer_kernel = 2}, 1.0f / 8, NULL, 0},
    /* Reformer: the bucket argmax is discontinuous in Q. With 1 chunk before,
     * steps of 1/32 and 1/64 flip a bucket (errors of O(1)) and 1/128 drowns
     * in float noise (7e-3). With 5 chunks before, each chunk sees all 2 x 12 / 4 =
     * 6 chunks, so the output no longer depends on the buckets (the hashing,
     * sort, gathers, masks, key normalisation and round combination all
     * still run); the bucket-dependent windows are checked by the fixture. */
    {"reformer", {.reformer_hashes = 2, .reformer_chunk = 4, .reformer_chunks_before = 5}, 1.0f / 8,
     "reformer, nys form", 0},
    /* reformer_pytorch's form ("sbm", reformer_form 1), the same way: N must
     * be a multiple of 2 chunks, so chunks of 3 (4 buckets), 2 x 4 chunks,
     * each seeing all 8; pads are hashed and masked as queries too (a pad
     * query sees only its own position, twice); plus to_out's W and b. The
     * masks' order and values and the D^-1/2 are checked by the fixtures. */
    {"reformer", {.reformer_form = 1, .reformer_hashes = 2, .reformer_chunk = 3, .reformer_chunks_before = 7},
     1.0f / 8, "reformer, sbm form", 1},
    /* N = 12 <= chunk: FullQKAttention (pad queries uniform over all keys) */
    {"reformer", {.reformer_form = 1, .reformer_hashes = 2, .reformer_chunk = 16}, 1.0f / 8,
     "reformer, sbm form, full path", 1},
    /* landmark path, 3 segments of 4 (example 1's last one all padding). Six
     * Newton-Schulz steps make Z a polynomial of degree 4^6 in A and amplify
     * float rounding: at m = 4 or 6 no step keeps both truncation (1/8) and
     * rounding (1/32) under 5e-3; m = 3, 1/16 does (max 2e-3). The exact
     * check is the PyTorch fixture (m = 4 of N = 16, 2e-5). */
    {"nystrom", {.nystrom_landmarks = 3, .nystrom_conv = 5}, 1.0f / 16, NULL, 0},
    /* m = N: the exact-softmax path */
    {"nystrom", {.nystrom_landmarks = 12, .nystrom_conv = 3}, 1.0f / 8, "nystrom, exact path", 0},
};

typedef struct {
    sb_backend *be;
    const sb_attention_ops *ops;
    sb_attn_config cfg;
    void *state;
    float q[SZ], k[SZ], v[SZ], R[SZ], out[SZ], mask[B * N];
    float *params;
} ctx_t;

static sb_attn_call make_call(ctx_t *c) {
    sb_attn_call call = {.B = B, .H = H, .N = N, .D = D, .q = c->q, .k = c->k, .v = c->v, .key_mask = c->mask,
                         .out = c->out, .training = 1, .rng = sb_rng_make(9, SB_RNG_ATTN_DROPOUT, 0, 0, 0, 0),
                         .rng_attn = sb_rng_make(9, SB_RNG_ATTN, 0, 0, 0, 0)};
    return call;
}

static double loss(void *vc) {
    ctx_t *c = vc;
    sb_attn_call call = make_call(c);
    c->ops->forward(c->be, c->state, &c->cfg, c->params, &call);
    return tu_dot(c->out, c->R, SZ);
}

static void check(sb_backend *be, const variant_case *vc) {
    static ctx_t c;
    const char *name = vc->label ? vc->label : vc->name;
    c.be = be;
    c.ops = sb_attention_find(vc->name);
    if (!tu_check(c.ops && c.ops->forward, "%s: variant registered and implemented", name)) return;
    c.cfg = vc->cfg;
    c.cfg.n_heads = H, c.cfg.d_head = D, c.cfg.max_len = N;
    const size_t np = c.ops->param_count(&c.cfg);
    c.params = tu_alloc(np + 1);
    sb_rng_reader r = tu_rng(70);
    c.ops->init_params(&c.cfg, c.params, &r);
    tu_fill_normal(c.q, SZ, 1.0f, 71), tu_fill_normal(c.k, SZ, 1.0f, 72), tu_fill_normal(c.v, SZ, 1.0f, 73);
    tu_fill_normal(c.R, SZ, 1.0f, 74);
    for (size_t i = 0; i < SZ; i++) {
        c.q[i] += c.q[i] < 0 ? -0.3f : 0.3f;
        c.k[i] += c.k[i] < 0 ? -0.3f : 0.3f;
    }
    for (int i = 0; i < B * N; i++) c.mask[i] = i >= N + 8 ? 0.0f : 1.0f;
    c.state = c.ops->state_create(be, &c.cfg, B, N, 1);
    float *dq = tu_alloc(SZ), *dk = tu_alloc(SZ), *dv = tu_alloc(SZ), *dp = tu_alloc(np + 1);
    sb_attn_call call = make_call(&c);
    c.ops->forward(be, c.state, &c.cfg, c.params, &call);
    sb_attn_grads g = {.dq = dq, .dk = dk, .dv = dv, .dout = c.R};
    c.ops->backward(be, c.state, &c.cfg, c.params, dp, &call, &g);
    struct { const char *what; float *x, *g; size_t n; } t[10] = {{"dQ", c.q, dq, SZ}, {"dK", c.k, dk, SZ}, {"dV", c.v, dv, SZ}};
    int nt = 3;
    sb_param_desc desc[8];
    const int nd = c.ops->param_layout ? c.ops->param_layout(&c.cfg, desc) : 0;
    tu_check(np == 0 || nd > 0, "%s: its %zu parameters are described by param_layout", name, np);
    for (int i = 0; i < nd; i++) {
        size_t n = 1;
        for (int j = 0; j < desc[i].rank; j++) n *= (size_t)desc[i].dims[j];
        if (desc[i].frozen) {
            int zero = 1;
            for (size_t j = 0; j < n; j++) zero &= dp[desc[i].offset + j] == 0.0f;
            tu_check(zero, "%s: frozen %s gets no gradient", name, desc[i].name);
        } else {
            t[nt].what = desc[i].name, t[nt].x = c.params + desc[i].offset, t[nt].g = dp + desc[i].offset, t[nt].n = n;
            nt++;
        }
    }
    for (int i = 0; i < nt; i++) {
        tu_fd_result res = tu_fd_check(loss, &c, t[i].x, t[i].g, t[i].n, vc->step, 100000, (uint32_t)i, 1e-2);
        char label[96];
        snprintf(label, sizeof label, "%s: %s vs finite differences", name, t[i].what);
        tu_report_fd(label, res, 5e-3);
    }
    /* padded keys never influence the output (of a real query, where pad
     * queries attend to pads): change them, compare */
    loss(&c); /* the unperturbed output (the last FD evaluation was perturbed) */
    float before[SZ];
    memcpy(before, c.out, sizeof before);
    for (int h = 0; h < H; h++)
        for (int n = 8; n < N; n++)
            for (int d = 0; d < D; d++) {
                size_t x = (((size_t)1 * H + h) * N + n) * D + d;
                c.k[x] += 3.0f, c.v[x] -= 2.0f;
            }
    loss(&c);
    int same = 1, pad_changed = 0;
    for (size_t i = 0; i < SZ; i++) {
        const int real = c.mask[(i / ((size_t)H * N * D)) * N + (i / D) % N] != 0.0f;
        if (real || !vc->pad_rows_vary) same &= before[i] == c.out[i];
        else pad_changed |= before[i] != c.out[i];
    }
    tu_check(same, "%s: padded keys and values do not change any %soutput", name,
             vc->pad_rows_vary ? "real query's " : "");
    if (vc->pad_rows_vary) tu_check(pad_changed, "%s: ... but do change pad queries' outputs", name);
    c.ops->state_destroy(be, c.state);
    free(dq), free(dk), free(dv), free(dp), free(c.params);
}

/* Performer's omega at initialisation, M = 2D = 32 rows of D = 16: the
 * reference's gaussian_orthogonal_random_matrix(scaling = 0), i.e. blocks of
 * D orthogonal unit rows, each row then scaled by the norm of a fresh Gaussian
 * D-vector, so the row norms are chi-distributed with D degrees of freedom.
 * Bounds: float rounding leaves |cos| between rows of a block near 1e-7
 * (limit 1e-4); the mean of the M squared norms is a chi-square with M D =
 * 512 degrees of freedom divided by M, mean D = 16 and standard deviation
 * sqrt(2 M D) / M = 1, so [D/2, 2D] is 8 deviations wide on the near side
 * (unit rows give exactly 1); M chi_16 norms all within 1e-3 of each other
 * has probability below 1e-30. */
static void check_performer_init(void) {
    enum { PD = 16, PM = 2 * PD };
    const sb_attention_ops *ops = sb_attention_find("performer");
    sb_attn_config cfg = {.n_heads = 2, .d_head = PD, .max_len = N, .performer_features = PM};
    if (!tu_check(ops && ops->param_count(&cfg) == (size_t)PM * PD, "performer init: omega is [M, D] = [%d, %d]",
                  PM, PD))
        return;
    float *w = tu_alloc((size_t)PM * PD), *w2 = tu_alloc((size_t)PM * PD), *w3 = tu_alloc((size_t)PM * PD);
    sb_rng_reader r = tu_rng(90), r2 = tu_rng(90), r3 = tu_rng(91);
    ops->init_params(&cfg, w, &r);
    ops->init_params(&cfg, w2, &r2);
    ops->init_params(&cfg, w3, &r3);
    double norm[PM], worst_cos = 0.0, ms = 0.0, lo = INFINITY, hi = 0.0;
    for (int i = 0; i < PM; i++) {
        norm[i] = sqrt(tu_dot(w + (size_t)i * PD, w + (size_t)i * PD, PD));
        ms += norm[i] * norm[i] / PM;
        lo = fmin(lo, norm[i]), hi = fmax(hi, norm[i]);
    }
    for (int i = 0; i < PM; i++)
        for (int j = 0; j < PM; j++)
            if (i != j && i / PD == j / PD) {
                const double cs = fabs(tu_dot(w + (size_t)i * PD, w + (size_t)j * PD, PD)) / (norm[i] * norm[j]);
                if (!(cs <= worst_cos)) worst_cos = cs; /* NaN propagates */
            }
    tu_report("performer init: rows of a D-block orthogonal (|cos|)", worst_cos, 1e-4);
    tu_check(ms >= 0.5 * PD && ms <= 2.0 * PD, "performer init: mean squared row norm %.2f in [D/2, 2D] = [%d, %d]",
             ms, PD / 2, 2 * PD);
    tu_check(hi - lo > 1e-3, "performer init: row norms vary (chi_D: %.3f .. %.3f), not all 1", lo, hi);
    tu_check(!memcmp(w, w2, sizeof(float) * PM * PD), "performer init: the same seed gives the same omega");
    tu_check(memcmp(w, w3, sizeof(float) * PM * PD) != 0, "performer init: another seed gives another omega");
    free(w), free(w2), free(w3);
}

/* One training call (forward and backward) at the LRA settings, n = 1024,
 * d_h = 32, one example of 2 heads (fewer than the threads, where products
 * and loops split differently), a padded tail: outs[0..4] get the output, dQ,
 * dK, dV and the parameters' gradient. */
enum { TN = 1024, TD = 32, TH = 2 };
#define TSZ ((size_t)TH * TN * TD)
static void threads_call(sb_backend *be, const sb_attention_ops *ops, const sb_attn_config *cfg, size_t np,
                         float *outs[5]) {
    float *q = tu_alloc(TSZ), *k = tu_alloc(TSZ), *v = tu_alloc(TSZ), *dout = tu_alloc(TSZ), *params = tu_alloc(np + 1);
    float mask[TN];
    tu_fill_normal(q, TSZ, 1.0f, 81), tu_fill_normal(k, TSZ, 1.0f, 82), tu_fill_normal(v, TSZ, 1.0f, 83);
    tu_fill_normal(dout, TSZ, 1.0f, 84);
    for (int i = 0; i < TN; i++) mask[i] = i < TN - 100 ? 1.0f : 0.0f;
    sb_rng_reader r = tu_rng(80);
    ops->init_params(cfg, params, &r);
    void *state = ops->state_create(be, cfg, 1, TN, 1);
    sb_attn_call call = {.B = 1, .H = TH, .N = TN, .D = TD, .q = q, .k = k, .v = v, .key_mask = mask,
                         .out = outs[0], .training = 1, .rng = sb_rng_make(9, SB_RNG_ATTN_DROPOUT, 0, 0, 0, 0),
                         .rng_attn = sb_rng_make(9, SB_RNG_ATTN, 0, 0, 0, 0)};
    ops->forward(be, state, cfg, params, &call);
    sb_attn_grads g = {.dq = outs[1], .dk = outs[2], .dv = outs[3], .dout = dout};
    ops->backward(be, state, cfg, params, outs[4], &call, &g);
    ops->state_destroy(be, state);
    free(q), free(k), free(v), free(dout), free(params);
}

/* Every variant's output and gradients are the same bit for bit on 1, 2 and
 * 3 threads: a resumed run continues exactly on the same thread count, and
 * a run's results do not depend on the machine's core count. */
static void check_threads(sb_backend *be, const char *name, sb_attn_config cfg, const char *label) {
    const sb_attention_ops *ops = sb_attention_find(name);
    cfg.n_heads = TH, cfg.d_head = TD, cfg.max_len = TN, cfg.attn_dropout = 0.1f;
    const size_t np = ops->param_count(&cfg), n[5] = {TSZ, TSZ, TSZ, TSZ, np + 1};
    float *ref[5], *got[5];
    for (int i = 0; i < 5; i++) ref[i] = tu_alloc(n[i]), got[i] = tu_alloc(n[i]);
    sb_cpu_set_threads(2);
    threads_call(be, ops, &cfg, np, ref);
    static const char *what[5] = {"output", "dQ", "dK", "dV", "parameter gradients"};
    for (int threads = 1; threads <= 3; threads += 2) {
        sb_cpu_set_threads(threads);
        for (int i = 0; i < 5; i++) memset(got[i], 0, sizeof(float) * n[i]);
        threads_call(be, ops, &cfg, np, got);
        for (int i = 0; i < 5; i++)
            tu_check(!memcmp(ref[i], got[i], sizeof(float) * n[i]), "%s at n = %d: %s the same on 2 threads and on %d",
                     label, TN, what[i], threads);
    }
    sb_cpu_set_threads(2);
    for (int i = 0; i < 5; i++) free(ref[i]), free(got[i]);
}

int main(int argc, char **argv) {
    sb_backend *be = sb_backend_cpu_create(2);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (argc < 2 || !strcmp(argv[1], cases[i].name)) check(be, &cases[i]);
    if (argc < 2 || !strcmp(argv[1], "performer")) check_performer_init();
    /* the LRA settings (experiments/config.c's defaults, 64 landmarks as the
     * reference's LRA configs) */
    const struct { const char *name; sb_attn_config cfg; const char *label; } lra[] = {
        {"full", {0}, NULL},
        {"linear", {0}, NULL},
        {"linformer", {.linformer_k = 256}, NULL},
        {"performer", {.performer_features = 256}, NULL},
        {"reformer", {.reformer_hashes = 2, .reformer_chunk = 64, .reformer_chunks_before = 1}, "reformer, nys form"},
        {"reformer", {.reformer_form = 1, .reformer_hashes = 2, .reformer_chunk = 64, .reformer_chunks_before = 1},
         "reformer, sbm form"},
        {"nystrom", {.nystrom_landmarks = 64, .nystrom_conv = 35}, NULL},
    };
    for (size_t i = 0; i < sizeof lra / sizeof lra[0]; i++)
        if (argc < 2 || !strcmp(argv[1], lra[i].name))
            check_threads(be, lra[i].name, lra[i].cfg, lra[i].label ? lra[i].label : lra[i].name);
    sb_backend_destroy(be);
    return tu_finish();
}
