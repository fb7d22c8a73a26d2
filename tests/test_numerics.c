/* Numerics of the shared scalar kernels and the row ops at extreme inputs:
 * sb_expf / sb_erff accuracy, the masked softmax row, LayerNorm forward;
 * and the products, against double. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "core/backend.h"
#include "core/cpu/cpu_ops.h"
#include "core/kernels_inline.h"
#include "core/optim.h"
#include "tests/test_util.h"

/* sb_expf against exp in double, over a dense sweep. */
static void test_expf(void) {
    double max_rel = 0.0, max_rel_libm = 0.0;
    float worst = 0.0f;
    const long steps = 20000000; /* step ~8.75e-6 over [-87, 88] */
    for (long i = 0; i <= steps; i++) {
        float x = (float)(-87.0 + 175.0 * (double)i / (double)steps);
        if (x > 88.0f) x = 88.0f;
        double ref = exp((double)x);
        float y = sb_expf(x);
        double e = fabs((double)y - ref) / ref;
        if (!(e <= max_rel)) {
            max_rel = e;
            worst = x;
        }
        double el = fabs((double)y - (double)expf(x)) / (double)expf(x);
        if (!(el <= max_rel_libm)) max_rel_libm = el;
    }
    char name[96];
    snprintf(name, sizeof name, "sb_expf rel err vs exp over [-87,88] (at %.4f)", worst);
    tu_report(name, max_rel, 4e-7);
    tu_report("sb_expf rel err vs libm expf over [-87,88]", max_rel_libm, 4e-7);
    tu_check(sb_expf(0.0f) == 1.0f, "sb_expf(0) == 1 exactly");

    /* exactly zero below -87.3, down to -inf */
    long nonzero = 0;
    long tried = 0;
    for (float x = nextafterf(-87.3f, -INFINITY); x > -87.5f; x = nextafterf(x, -INFINITY), tried++)
        nonzero += sb_expf(x) != 0.0f; /* every float just below the cut */
    for (float x = -87.5f; x > -1e30f; x *= 1.001f, tried++) nonzero += sb_expf(x) != 0.0f;
    const float far[] = {-1e4f, -1e30f, -FLT_MAX, -INFINITY};
    for (size_t i = 0; i < sizeof far / sizeof far[0]; i++) nonzero += sb_expf(far[i]) != 0.0f;
    tu_check(nonzero == 0, "sb_expf(x) == 0 exactly for x < -87.3 (%ld of %ld nonzero)", nonzero, tried);
    /* NaN in, NaN out, without converting NaN to an integer on the way (the
     * sanitizer build catches that: -fsanitize=float-cast-overflow) */
    volatile float nan_in = NAN;
    tu_check(isnan(sb_expf(nan_in)) && sb_expf(INFINITY) == sb_expf(88.0f), "sb_expf(NaN) is NaN, sb_expf(inf) = sb_expf(88)");
}

static void test_erff(void) {
    double max_abs = 0.0, max_abs_libm = 0.0;
    const long steps = 4000000;
    for (long i = 0; i <= steps; i++) {
        float x = (float)(-10.0 + 20.0 * (double)i / (double)steps);
        float y = sb_erff(x);
        double e = fabs((double)y - erf((double)x)), el = fabs((double)y - (double)erff(x));
        if (!(e <= max_abs)) max_abs = e;
        if (!(el <= max_abs_libm)) max_abs_libm = el;
    }
    /* A&S 7.1.26 itself is within 1.5e-7, but evaluated in float the final
     * 1 - y*t*exp(-x^2) cancels near x = 0: measured 5.5e-7 at x = -0.036
     * (3.2e-7 for |x| >= 0.5). */
    tu_report("sb_erff abs err vs erf over [-10,10]", max_abs, 7.5e-7);
    tu_report("sb_erff abs err vs libm erff over [-10,10]", max_abs_libm, 7.5e-7);
    tu_check(sb_erff(INFINITY) == 1.0f && sb_erff(-INFINITY) == -1.0f && sb_erff(0.0f) == 0.0f,
             "sb_erff(+-inf) = +-1, sb_erff(0) = 0");
}

/* Masked softmax in double: the reference for one row. */
static void softmax_ref(double *out, const float *s, const float *mask, int n) {
    double mx = -INFINITY;
    for (int j = 0; j < n; j++)
        if (!mask || mask[j] > 0.0f) mx = s[j] > mx ? s[j] : mx;
    double sum = 0.0;
    for (int j = 0; j < n; j++) {
        out[j] = (!mask || mask[j] > 0.0f) && mx > -INFINITY ? exp((double)s[j] - mx) : 0.0;
        sum += out[j];
    }
    for (int j = 0; j < n; j++) out[j] = sum > 0.0 ? out[j] / sum : 0.0;
}

typedef struct {
    double max_err, max_sum_err;
    int nonfinite;
} softmax_stats;

/* Runs one row through sb_cpu_softmax_row_masked and compares it with the
 * reference; the row sum is 1 unless no key is real (then 0). */
static void softmax_case(softmax_stats *st, const float *s, const float *mask, int n) {
    float *y = tu_dup(s, (size_t)n);
    double *ref = malloc(sizeof(double) * (size_t)n);
    sb_cpu_softmax_row_masked(y, mask, n);
    softmax_ref(ref, s, mask, n);
    double sum = 0.0, ref_sum = 0.0;
    for (int j = 0; j < n; j++) {
        if (!isfinite(y[j])) st->nonfinite++;
        double e = fabs((double)y[j] - ref[j]);
        if (!(e <= st->max_err)) st->max_err = e;
        sum += y[j];
        ref_sum += ref[j];
    }
    double se = fabs(sum - ref_sum);
    if (!(se <= st->max_sum_err)) st->max_sum_err = se;
    free(y);
    free(ref);
}

static void test_softmax(void) {
    softmax_stats st = {0, 0, 0};
    enum { N = 8 };
    const float ones[N] = {1, 1, 1, 1, 1, 1, 1, 1};
    const float rows[][N] = {
        {1e30f, -1e30f, 0.0f, 1e30f, -1e30f, 5.0f, -5.0f, 1e30f},
        {-1e30f, -1e30f, -1e30f, -1e30f, -1e30f, -1e30f, -1e30f, -1e30f},
        {88.0f, -88.0f, 88.0f, 0.0f, 87.9f, -87.9f, 44.0f, 88.0f},
        {0.0f, -1e4f, -2e4f, -3e4f, -4e4f, -5e4f, -6e4f, -7e4f},
        {-1e4f, -1e4f + 1.0f, -1e4f + 2.0f, -2e4f, -1e4f - 100.0f, -1e4f, -1e4f, -1e4f},
        {3.25f, 3.25f, 3.25f, 3.25f, 3.25f, 3.25f, 3.25f, 3.25f},
        {-87.0f, -87.2f, -87.4f, 0.0f, -200.0f, -1e30f, -FLT_MAX, -1e38f},
        {FLT_MAX, -FLT_MAX, 0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f},
    };
    const int nrows = (int)(sizeof rows / sizeof rows[0]);
    for (int r = 0; r < nrows; r++) softmax_case(&st, rows[r], NULL, N);
    for (int r = 0; r < nrows; r++) softmax_case(&st, rows[r], ones, N);

    /* masks: padded keys, one real key, no real key */
    const float pad_mask[N] = {1, 1, 1, 0, 1, 0, 0, 1};
    for (int r = 0; r < nrows; r++) softmax_case(&st, rows[r], pad_mask, N);
    float one_key[N] = {0};
    int one_ok = 1, zero_ok = 1;
    const float none[N] = {0};
    for (int r = 0; r < nrows; r++) {
        for (int k = 0; k < N; k++) {
            float y[N];
            memcpy(y, rows[r], sizeof y);
            memset(one_key, 0, sizeof one_key);
            one_key[k] = 1.0f;
            sb_cpu_softmax_row_masked(y, one_key, N);
            for (int j = 0; j < N; j++) one_ok &= y[j] == (j == k ? 1.0f : 0.0f);
        }
        float y[N];
        memcpy(y, rows[r], sizeof y);
        sb_cpu_softmax_row_masked(y, none, N);
        for (int j = 0; j < N; j++) zero_ok &= y[j] == 0.0f && !signbit(y[j]);
    }
    tu_check(one_ok, "softmax: one real key gets exactly 1.0, pads exactly 0");
    tu_check(zero_ok, "softmax: fully masked row is all +0.0");
    /* all-equal row is exactly uniform */
    float eq[N];
    memcpy(eq, rows[5], sizeof eq);
    sb_cpu_softmax_row_masked(eq, NULL, N);
    int uni = 1;
    for (int j = 0; j < N; j++) uni &= eq[j] == 1.0f / N;
    tu_check(uni, "softmax: all-equal row is exactly 1/n");

    /* random rows with random masks, narrow to wide spreads. Rows longer than
     * 256 keys get a looser sum tolerance: the float sum of n exps carries
     * ~sqrt(n) ulp of error into every probability (measured over 200 rows:
     * 5.2e-7 at n=256, 1.2e-6 at n=1000, 2.7e-6 at n=4096). */
    softmax_stats long_st = {0, 0, 0};
    const int lens[] = {1, 2, 7, 15, 16, 17, 64, 65, 256, 1000, 1024, 4096};
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        int n = lens[li];
        softmax_stats *dst = n > 256 ? &long_st : &st;
        float *s = tu_alloc((size_t)n), *m = tu_alloc((size_t)n);
        const float spreads[] = {1e-3f, 1.0f, 30.0f, 1e4f};
        for (size_t si = 0; si < sizeof spreads / sizeof spreads[0]; si++) {
            tu_fill_normal(s, (size_t)n, spreads[si], (uint32_t)(100 + li * 10 + si));
            tu_fill_uniform(m, (size_t)n, 0.0f, 1.0f, (uint32_t)(200 + li * 10 + si));
            for (int j = 0; j < n; j++) m[j] = m[j] < 0.3f ? 0.0f : 1.0f;
            softmax_case(dst, s, NULL, n);
            softmax_case(dst, s, m, n);
        }
        free(s);
        free(m);
    }
    tu_report("softmax n<=256 vs double reference (abs)", st.max_err, 1e-6);
    tu_report("softmax n<=256 row sum vs 1 (abs)", st.max_sum_err, 1e-6);
    tu_report("softmax n=1000..4096 vs double reference (abs)", long_st.max_err, 1e-6);
    tu_report("softmax n=1000..4096 row sum vs 1 (abs)", long_st.max_sum_err, 6e-6);
    tu_check(st.nonfinite + long_st.nonfinite == 0, "softmax: no NaN/inf in any output (%d)",
             st.nonfinite + long_st.nonfinite);
}

/* LayerNorm in double on the float inputs. */
static void layernorm_ref(double *out, const float *x, const float *g, const float *b, int C,
                          float eps) {
    double m = 0.0, v = 0.0;
    for (int c = 0; c < C; c++) m += x[c];
    m /= C;
    for (int c = 0; c < C; c++) v += ((double)x[c] - m) * ((double)x[c] - m);
    v /= C;
    double s = 1.0 / sqrt(v + (double)eps);
    for (int c = 0; c < C; c++) out[c] = ((double)x[c] - m) * s * g[c] + b[c];
}

/* Runs rows x C through the backend's LayerNorm (gamma, beta [C]) into out;
 * returns the max abs error against the double reference and counts
 * non-finite outputs. */
static double layernorm_case(sb_backend *be, float *out, const float *x, const float *g,
                             const float *b, int rows, int C, float eps, int *nonfinite) {
    float *mean = tu_alloc((size_t)rows), *rstd = tu_alloc((size_t)rows);
    be->layernorm_forward(be, out, mean, rstd, x, g, b, (size_t)rows, C, eps);
    double *ref = malloc(sizeof(double) * (size_t)C), max_err = 0.0;
    for (int r = 0; r < rows; r++) {
        layernorm_ref(ref, x + (size_t)r * C, g, b, C, eps);
        for (int c = 0; c < C; c++) {
            float y = out[(size_t)r * C + c];
            if (!isfinite(y)) ++*nonfinite;
            double e = fabs((double)y - ref[c]);
            if (!(e <= max_err)) max_err = e;
        }
    }
    free(ref);
    free(mean);
    free(rstd);
    return max_err;
}

/* One row width C (a multiple of the kernel's 16 lanes, or not). */
static void test_layernorm_width(sb_backend *be, int C) {
    enum { ROWS = 16 };
    const float eps = 1e-5f;
    float *x = tu_alloc((size_t)ROWS * C), *out = tu_alloc((size_t)ROWS * C);
    float *g = tu_alloc((size_t)C), *b = tu_alloc((size_t)C);
    tu_fill_uniform(g, (size_t)C, 0.5f, 1.5f, 300);
    tu_fill_uniform(b, (size_t)C, -1.0f, 1.0f, 301);
    int nonfinite = 0;
    char name[112];

    tu_fill_normal(x, (size_t)ROWS * C, 1.0f, 310);
    snprintf(name, sizeof name, "layernorm C=%d ordinary rows vs double (abs)", C);
    tu_report(name, layernorm_case(be, out, x, g, b, ROWS, C, eps, &nonfinite), 5e-6);

    /* large offset, small spread: neither the mean nor the variance may lose
     * the spread's digits to the offset (at 1e4 a float's ulp is ~1e-3) */
    const float offsets[] = {1e4f, -3e4f};
    const float spreads[] = {1.0f, 0.1f, 0.01f, 1e-3f};
    double off_err = 0.0;
    for (size_t o = 0; o < sizeof offsets / sizeof offsets[0]; o++)
        for (size_t s = 0; s < sizeof spreads / sizeof spreads[0]; s++) {
            tu_fill_normal(x, (size_t)ROWS * C, spreads[s], (uint32_t)(320 + s));
            for (int i = 0; i < ROWS * C; i++) x[i] += offsets[o];
            off_err = tu_worse(off_err, layernorm_case(be, out, x, g, b, ROWS, C, eps, &nonfinite));
        }
    snprintf(name, sizeof name, "layernorm C=%d offsets 1e4,-3e4 spreads 1..1e-3 vs double (abs)", C);
    tu_report(name, off_err, 5e-6);

    /* constant rows -> beta */
    const float consts[] = {0.0f, 1.0f, -7.5f, 0.1f, 3.14159f, 1e4f, 7e7f, -1e15f};
    double const_err = 0.0;
    for (size_t k = 0; k < sizeof consts / sizeof consts[0]; k++) {
        for (int i = 0; i < ROWS * C; i++) x[i] = consts[k];
        layernorm_case(be, out, x, g, b, ROWS, C, eps, &nonfinite);
        for (int r = 0; r < ROWS; r++)
            const_err = tu_worse(const_err, tu_max_abs_diff(out + (size_t)r * C, b, (size_t)C));
    }
    snprintf(name, sizeof name, "layernorm C=%d constant rows (0.1 .. -1e15) -> beta (abs)", C);
    tu_report(name, const_err, 1e-6);

    /* huge values: squares (1e30 * C) stay below FLT_MAX */
    tu_fill_normal(x, (size_t)ROWS * C, 1e15f, 330);
    snprintf(name, sizeof name, "layernorm C=%d values ~1e15 vs double (abs)", C);
    tu_report(name, layernorm_case(be, out, x, g, b, ROWS, C, eps, &nonfinite), 5e-6);
    tu_check(nonfinite == 0, "layernorm C=%d: no NaN/inf at extreme inputs (%d)", C, nonfinite);
    free(x);
    free(out);
    free(g);
    free(b);
}

static void test_layernorm(sb_backend *be) {
    test_layernorm_width(be, 64);
    test_layernorm_width(be, 50); /* 3 x 16 lanes + a tail of 2 */
}

/* C = alpha op(A) op(B) + beta C against double, for each transposition,
 * with padded leading dimensions; shapes: a thin one (700 x 40 x 50: its rows
 * go by tiles in the CPU backend, the last one partial), a square one (one
 * tile of 256 x 256 and partial ones), a wide one (200 x 700 x 64, as
 * Linformer's dE: tiles along the columns), a reduction (40 x 50 x 1500:
 * by slices of the inner dimension, the last one partial), one tile that
 * OpenBLAS would thread if called directly (200 x 200 x 200) and a product
 * small enough to be called directly (64 x 128 x 32). A batch of 3 likewise.
 * Every product (one, and a batch) is the same bit for bit on 1, 2 and 3
 * threads. */
static void test_gemm(sb_backend *be) {
    const int shapes[6][3] = {{700, 40, 50},  {300, 300, 300}, {200, 700, 64},
                              {40, 50, 1500}, {200, 200, 200}, {64, 128, 32}};
    for (int sh = 0; sh < 6; sh++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                const int M = shapes[sh][0], N = shapes[sh][1], K = shapes[sh][2], batch = 3;
                const int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 5, ldc = N + 7;
                const size_t sa = (size_t)(ta ? K : M) * lda, sbb = (size_t)(tb ? N : K) * ldb, sc = (size_t)M * ldc;
                float *A = tu_alloc(sa * batch), *B = tu_alloc(sbb * batch), *C = tu_alloc(sc * batch);
                float *C1 = tu_alloc(sc * batch), *C0 = tu_alloc(sc * batch);
                tu_fill_normal(A, sa * batch, 1.0f, 40), tu_fill_normal(B, sbb * batch, 1.0f, 41);
                tu_fill_normal(C0, sc * batch, 1.0f, 42);
                memcpy(C, C0, sizeof(float) * sc * batch);
                be->gemm_batched(be, ta, tb, M, N, K, 0.7f, A, lda, sa, B, ldb, sbb, 0.5f, C, ldc, sc, batch);
                memcpy(C1, C0, sizeof(float) * sc);
                be->gemm(be, ta, tb, M, N, K, 0.7f, A, lda, B, ldb, 0.5f, C1, ldc);
                double err = 0.0, single = 0.0;
                for (int i = 0; i < batch; i++)
                    for (int m = 0; m < M; m++)
                        for (int n = 0; n < N; n++) {
                            const float *a = A + i * sa, *b = B + i * sbb;
                            double acc = 0.0;
                            for (int q = 0; q < K; q++)
                                acc += (double)(ta ? a[(size_t)q * lda + m] : a[(size_t)m * lda + q]) *
                                       (tb ? b[(size_t)n * ldb + q] : b[(size_t)q * ldb + n]);
                            const size_t e = i * sc + (size_t)m * ldc + n;
                            const double want = 0.7 * acc + 0.5 * C0[e];
                            const double d = fabs(C[e] - want) / (1.0 + fabs(want));
                            err = tu_worse(err, d);
                            if (i == 0) single = tu_worse(single, fabs(C1[e] - want) / (1.0 + fabs(want)));
                        }
                char name[96];
                snprintf(name, sizeof name, "gemm %dx%dx%d ta %d tb %d: batch of 3 vs double", M, N, K, ta, tb);
                tu_report(name, err, 1e-4);
                snprintf(name, sizeof name, "gemm %dx%dx%d ta %d tb %d: one product vs double", M, N, K, ta, tb);
                tu_report(name, single, 1e-4);
                float *C2 = tu_alloc(sc * batch);
                for (int threads = 1; threads <= 3; threads += 2) {
                    memcpy(C2, C0, sizeof(float) * sc);
                    sb_cpu_set_threads(threads);
                    be->gemm(be, ta, tb, M, N, K, 0.7f, A, lda, B, ldb, 0.5f, C2, ldc);
                    tu_check(!memcmp(C1, C2, sizeof(float) * sc),
                             "gemm %dx%dx%d ta %d tb %d: the same on 2 threads and on %d", M, N, K, ta, tb, threads);
                    memcpy(C2, C0, sizeof(float) * sc * batch);
                    be->gemm_batched(be, ta, tb, M, N, K, 0.7f, A, lda, sa, B, ldb, sbb, 0.5f, C2, ldc, sc, batch);
                    sb_cpu_set_threads(2);
                    tu_check(!memcmp(C, C2, sizeof(float) * sc * batch),
                             "gemm %dx%dx%d ta %d tb %d: a batch of 3 the same on 2 threads and on %d", M, N, K, ta,
                             tb, threads);
                }
                free(C2);
                free(A), free(B), free(C), free(C1), free(C0);
            }
}

/* The learning rate and beta1 against torch's OneCycleLR (1.13, linear
 * anneal, the reference's defaults; values printed by torch for 100 steps of
 * max_lr 1e-3): warmup of 10 (the ends of both phases, a point inside each)
 * and of 0 (pct_start 0: the first phase is empty). */
static void test_one_cycle(void) {
    sb_one_cycle s = {.max_lr = 1e-3, .total_steps = 100, .warmup_steps = 10, .div_factor = 25,
                      .final_div_factor = 1e4, .cycle_momentum = 1, .beta1_max = 0.95, .beta1_min = 0.85,
                      .beta1_fixed = 0.9};
    static const struct { int warmup, step; double lr, beta1; } want[] = {
        {10, 0, 4e-05, 0.95}, {10, 5, 0.0005733333333333334, 0.8944444444444444}, {10, 9, 0.001, 0.85},
        {10, 10, 0.0009888889333333334, 0.851111111111111}, {10, 50, 0.0005444462666666667, 0.8955555555555555},
        {10, 99, 4.000000000062981e-09, 0.95}, {0, 0, 0.00099000004, 0.851}, {0, 1, 0.00098000008, 0.852},
        {0, 99, 4.000000000062981e-09, 0.95},
    };
    double worst = 0.0;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        s.warmup_steps = want[i].warmup;
        double lr, b1;
        sb_one_cycle_at(&s, want[i].step, &lr, &b1);
        worst = tu_worse(worst, tu_worse(fabs(lr - want[i].lr) / want[i].lr, fabs(b1 - want[i].beta1)));
    }
    tu_report("one-cycle lr and beta1 vs torch's OneCycleLR (9 points)", worst, 1e-9);
    s.cycle_momentum = 0;
    double lr, b1;
    sb_one_cycle_at(&s, 5, &lr, &b1);
    tu_check(b1 == 0.9, "one-cycle without cycle_momentum: beta1 stays AdamW's (%g)", b1);
}

/* Three AdamW steps with changing lr and beta1 and weight decay 0.1 against
 * torch.optim.AdamW (float32; values printed by torch 1.13): the bias
 * correction with the current beta1, eps after the square root, decoupled
 * decay, and a zero gradient (the last entry's first step). */
static void test_adamw(sb_backend *be) {
    float p[4] = {0.5f, -1.25f, 2.0f, 0.0f}, m[4] = {0}, v[4] = {0};
    static const float g[3][4] = {{0.1f, -0.2f, 0.3f, 0.0f}, {-0.05f, 0.4f, 0.1f, 1e-3f}, {0.2f, 0.2f, -0.3f, -2.0f}};
    static const float lr[3] = {1e-2f, 5e-3f, 2e-3f}, b1[3] = {0.95f, 0.9f, 0.85f};
    static const double want[3][4] = {{0.489500105, -1.23874998, 1.98800004, 0},
                                      {0.489421785, -1.2407099, 1.9842397, -0.00371543085},
                                      {0.488165498, -1.24149442, 1.98435819, -0.00236915424}};
    double worst = 0.0;
    for (int t = 0; t < 3; t++) {
        be->adamw(be, p, g[t], m, v, 4, lr[t], b1[t], 0.999f, 1e-6f, 0.1f, t + 1);
        for (int i = 0; i < 4; i++) worst = tu_worse(worst, fabs(p[i] - want[t][i]) / (1.0 + fabs(want[t][i])));
    }
    tu_report("AdamW, 3 steps with cycling beta1 and decay, vs torch.optim.AdamW", worst, 1e-6);
}

/* Every elementwise op gives the same bits on 1 to 6 threads: the
 * polynomial exp's vector and scalar forms can differ in the last bit, so a
 * loop whose scalar tails fell where each thread's share ended (parallel for
 * simd) depended on the thread count (gelu backward: 1 of 131072 elements on
 * 3 and 6 threads for these inputs). Accumulating ops start from zero. */
static void test_elementwise_threads(sb_backend *be) {
    static const size_t sizes[2] = {131072, 262144 + 37};
    static const char *names[9] = {"gelu forward", "gelu backward", "sigmoid forward", "sigmoid backward", "add",
                                   "accumulate", "relu forward", "relu backward", "adamw"};
    for (int si = 0; si < 2; si++) {
        const size_t n = sizes[si];
        float *x = tu_alloc(n), *y = tu_alloc(n), *ref[9], *got = tu_alloc(n), *m = tu_alloc(n), *v = tu_alloc(n);
        tu_fill_normal(x, n, 3.0f, 1), tu_fill_normal(y, n, 1.0f, 2);
        int same[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
        for (int threads = 1; threads <= 6; threads++) {
            sb_cpu_set_threads(threads);
            for (int op = 0; op < 9; op++) {
                float *o = threads == 1 ? (ref[op] = tu_alloc(n)) : got;
                memset(o, 0, sizeof(float) * n);
                switch (op) {
                case 0: be->gelu_forward(be, o, x, n); break;
                case 1: be->gelu_backward(be, o, x, y, n); break;
                case 2: be->sigmoid_forward(be, o, x, n); break;
                case 3: be->sigmoid_backward(be, o, x, y, n); break;
                case 4: be->add(be, o, x, y, n); break;
                case 5: be->accumulate(be, o, x, n); break;
                case 6: be->relu_forward(be, o, x, n); break;
                case 7: be->relu_backward(be, o, x, y, n); break;
                case 8:
                    for (size_t i = 0; i < n; i++) o[i] = y[i], m[i] = 0.1f * x[i], v[i] = 0.01f * y[i] * y[i];
                    be->adamw(be, o, x, m, v, n, 1e-3f, 0.9f, 0.999f, 1e-6f, 0.01f, 3);
                    break;
                }
                if (threads > 1) same[op] &= !memcmp(ref[op], got, sizeof(float) * n);
            }
        }
        sb_cpu_set_threads(2);
        for (int op = 0; op < 9; op++) {
            tu_check(same[op], "%s of %zu elements: the same on 1 to 6 threads", names[op], n);
            free(ref[op]);
        }
        free(x), free(y), free(got), free(m), free(v);
    }
}

int main(void) {
    sb_backend *be = sb_backend_cpu_create(2);
    test_elementwise_threads(be);
    test_one_cycle();
    test_adamw(be);
    test_gemm(be);
    test_expf();
    test_erff();
    test_softmax();
    test_layernorm(be);
    sb_backend_destroy(be);
    return tu_finish();
}
