/* Helpers shared by the unit tests: check reporting, error metrics, test data
 * from Philox, and a central finite-difference gradient checker.
 *
 * Every check prints one line "PASS|FAIL  name  measured  (limit)"; a test
 * program ends with `return tu_finish();`, nonzero when any check failed. */
#ifndef SB_TEST_UTIL_H
#define SB_TEST_UTIL_H

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/philox.h"

/* ---------------------------------------------------------------- reporting */

static inline int *tu_failures_(void) {
    static int failures = 0;
    return &failures;
}

/* Records a check with a measured value and its limit (pass: measured <= limit). */
static inline int tu_report(const char *name, double measured, double limit) {
    int ok = measured <= limit; /* NaN fails */
    printf("%s  %-44s max err %.3e  (tol %.1e)\n", ok ? "PASS" : "FAIL", name, measured, limit);
    if (!ok) ++*tu_failures_();
    return ok;
}

/* Records a boolean check; the format names it. */
static inline int tu_check(int ok, const char *fmt, ...) {
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    printf("%s  %s\n", ok ? "PASS" : "FAIL", name);
    if (!ok) ++*tu_failures_();
    return ok;
}

/* Removes a test's fixture folder, or keeps it (and says where) when
 * SBM_KEEP_FIXTURE is set, for a look after a failure. */
static inline void tu_remove_fixture(const char *root) {
    if (getenv("SBM_KEEP_FIXTURE")) {
        printf("fixture kept in %s\n", root);
        return;
    }
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
}

static inline int tu_finish(void) {
    int f = *tu_failures_();
    if (f) printf("%d check(s) FAILED\n", f);
    else printf("all checks passed\n");
    return f ? 1 : 0;
}

/* ---------------------------------------------------------------- metrics */

/* |a-b| / max(floor, |a|+|b|): relative for values of normal size, an
 * absolute error (scaled by 1/floor) for values near zero. */
static inline double tu_rel_err_floor(double a, double b, double floor) {
    double den = fabs(a) + fabs(b);
    return fabs(a - b) / (den > floor ? den : floor);
}

/* The default metric: floor 1e-3. */
static inline double tu_rel_err(double a, double b) { return tu_rel_err_floor(a, b, 1e-3); }

/* Max of tu_rel_err_floor over n pairs. */
static inline double tu_max_rel_err_floor(const float *a, const float *b, size_t n, double floor) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = tu_rel_err_floor(a[i], b[i], floor);
        if (!(e <= m)) m = e; /* NaN propagates */
    }
    return m;
}

/* Max of tu_rel_err over n pairs. */
static inline double tu_max_rel_err(const float *a, const float *b, size_t n) {
    return tu_max_rel_err_floor(a, b, n, 1e-3);
}

/* The larger of two errors, where a NaN (a missing or broken value) wins:
 * fmax would drop it and let a check pass. */
static inline double tu_worse(double a, double b) { return isnan(a) || b <= a ? a : b; }

static inline double tu_max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - (double)b[i]);
        if (!(e <= m)) m = e;
    }
    return m;
}

/* sum_i a[i] * b[i] in double: the random-projection loss L = sum(out * R). */
static inline double tu_dot(const float *a, const float *b, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * (double)b[i];
    return s;
}

/* ---------------------------------------------------------------- data */

/* Test data streams: (seed, purpose SB_RNG_DATA_TEST, step = which tensor). */
static inline sb_rng_reader tu_rng(uint32_t which) {
    sb_rng_reader r;
    sb_rng_reader_init(&r, sb_rng_make(0x5EEDC0DEull, SB_RNG_DATA_TEST, which, 0, 0, 0));
    return r;
}

/* x[i] ~ U(lo, hi) from stream `which`. */
static inline void tu_fill_uniform(float *x, size_t n, float lo, float hi, uint32_t which) {
    sb_rng_reader r = tu_rng(which);
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * sb_rng_next_unit(&r);
}

/* x[i] ~ N(0, std^2) from stream `which`. */
static inline void tu_fill_normal(float *x, size_t n, float std, uint32_t which) {
    sb_rng_reader r = tu_rng(which);
    for (size_t i = 0; i < n; i++) x[i] = std * sb_rng_next_normal(&r);
}

static inline float *tu_alloc(size_t n) {
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) {
        fprintf(stderr, "test: out of memory\n");
        exit(2);
    }
    return p;
}

static inline float *tu_dup(const float *x, size_t n) {
    float *p = tu_alloc(n);
    memcpy(p, x, n * sizeof(float));
    return p;
}

/* ---------------------------------------------------------------- finite differences */

/* A scalar loss of the current contents of the tensors a test perturbs. */
typedef double (*tu_loss_fn)(void *ctx);

typedef struct {
    double max_rel;   /* max tu_rel_err_floor(analytic, numeric, floor) */
    double max_abs;   /* max |analytic - numeric| */
    size_t checked;
} tu_fd_result;

/* dL/dx[i] by the fourth-order central difference
 *   (8 (L(x+h) - L(x-h)) - (L(x+2h) - L(x-2h))) / 12h,
 * i.e. Richardson's extrapolation of the steps h and 2h: truncation O(h^4),
 * so h can be large enough (1/32 .. 1/8) that the float rounding of the
 * forward pass, amplified by 1/h, stays small. Use a power-of-two h so x +- h
 * is (nearly) exact in float. x is restored. */
static inline double tu_fd_one(tu_loss_fn loss, void *ctx, float *x, size_t i, float h) {
    const float x0 = x[i];
    double l[4];
    const float steps[4] = {h, -h, 2.0f * h, -2.0f * h};
    for (int k = 0; k < 4; k++) {
        x[i] = x0 + steps[k];
        l[k] = loss(ctx);
    }
    x[i] = x0;
    return (8.0 * (l[0] - l[1]) - (l[2] - l[3])) / (12.0 * (double)h);
}

/* Compares the analytic gradient g[n] of loss w.r.t. x[n] with tu_fd_one
 * of step h, at every index when n <= max_checks, else at max_checks indices
 * drawn from stream `which`; errors by tu_rel_err_floor with `floor` (1e-3
 * unless the FD noise of the loss calls for more). */
static inline tu_fd_result tu_fd_check(tu_loss_fn loss, void *ctx, float *x, const float *g,
                                       size_t n, float h, size_t max_checks, uint32_t which,
                                       double floor) {
    tu_fd_result r = {0.0, 0.0, 0};
    sb_rng_reader rng = tu_rng(0x10000u + which);
    size_t count = n <= max_checks ? n : max_checks;
    for (size_t c = 0; c < count; c++) {
        size_t i = n <= max_checks ? c : (size_t)sb_u32_below(sb_rng_next_u32(&rng), (uint32_t)n);
        double fd = tu_fd_one(loss, ctx, x, i, h);
        double e = tu_rel_err_floor(g[i], fd, floor), a = fabs(g[i] - fd);
        if (!(e <= r.max_rel)) r.max_rel = e;
        if (!(a <= r.max_abs)) r.max_abs = a;
        r.checked++;
    }
    return r;
}

/* Backward ops accumulate: after one backward left g1 (a copy) and a second,
 * identical backward left g2 in the same buffers, g2 must be 2 * g1. Returns
 * the max tu_rel_err_floor(g2, 2 g1, floor). */
static inline double tu_doubling_err_floor(const float *g1, const float *g2, size_t n, double floor) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = tu_rel_err_floor(g2[i], 2.0 * (double)g1[i], floor);
        if (!(e <= m)) m = e;
    }
    return m;
}

/* The same with tu_rel_err's floor. */
static inline double tu_doubling_err(const float *g1, const float *g2, size_t n) {
    return tu_doubling_err_floor(g1, g2, n, 1e-3);
}

/* Reports an FD result against a relative-error tolerance. */
static inline int tu_report_fd(const char *name, tu_fd_result r, double tol) {
    char full[256];
    snprintf(full, sizeof full, "%s (%zu pts, abs %.1e)", name, r.checked, r.max_abs);
    return tu_report(full, r.max_rel, tol);
}

#endif
