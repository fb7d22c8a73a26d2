#include "core/sbm_sampling.h"

double sb_alias_build(sb_alias_slot *t, const float *w, int n, void *work) {
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += w[i];
    if (n == 0) return 0.0;
    if (!(sum > 0.0)) { /* all zero: a caller never draws from it; make it uniform */
        for (int i = 0; i < n; i++) t[i].threshold = 0xFFFFFFFFu, t[i].alias = i;
        return sum;
    }
    double *res = work;                        /* [n] residual scaled weights */
    int32_t *small = (int32_t *)(res + n), *large = small + n;
    int ns = 0, nl = 0;
    const double scale = (double)n / sum;
    for (int i = 0; i < n; i++) {
        res[i] = (double)w[i] * scale;
        t[i].alias = i;
        if (res[i] < 1.0) small[ns++] = i;
        else large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
        int s = small[--ns], l = large[nl - 1];
        double th = res[s] * 4294967296.0;
        t[s].alias = l;
        t[s].threshold = th >= 4294967295.0 ? 0xFFFFFFFFu : (uint32_t)th;
        res[l] -= 1.0 - res[s];
        if (res[l] < 1.0) {
            nl--;
            small[ns++] = l;
        }
    }
    /* what is left has weight 1 up to rounding: always accept */
    while (nl > 0) t[large[--nl]].threshold = 0xFFFFFFFFu;
    while (ns > 0) t[small[--ns]].threshold = 0xFFFFFFFFu;
    return sum;
}

static double unit(sb_rng_reader *r) {
    uint32_t a = sb_rng_next_u32(r), b = sb_rng_next_u32(r);
    return sb_u64_to_unit(a, b);
}

int64_t sb_poisson(sb_rng_reader *r, double lambda) {
    if (!(lambda > 0.0)) return 0;
    if (lambda < 10.0) { /* inversion by sequential search */
        double u = unit(r), p = exp(-lambda), cdf = p;
        int64_t k = 0;
        while (u > cdf && k < 1000) {
            k++;
            p *= lambda / (double)k;
            cdf += p;
        }
        return k;
    }
    const double slam = sqrt(lambda), loglam = log(lambda);
    const double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
    const double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2.0);
    for (;;) {
        double U = unit(r) - 0.5, V = unit(r);
        double us = 0.5 - fabs(U);
        double k = floor((2.0 * a / us + b) * U + lambda + 0.43);
        if (us >= 0.07 && V <= vr) return (int64_t)k;
        if (k < 0.0 || (us < 0.013 && V > us)) continue;
        if (log(V) + log(invalpha) - log(a / (us * us) + b) <= -lambda + k * loglam - lgamma(k + 1.0))
            return (int64_t)k;
    }
}

void sb_rng_fill(const sb_rng_stream *s, uint32_t first_block, size_t nblocks, uint32_t *out) {
    const sb_philox_key key = s->key;
    const uint32_t c1 = s->c1, c2 = s->c2, c3 = s->c3;
#pragma omp simd
    for (size_t i = 0; i < nblocks; i++) {
        sb_philox_ctr c = {{first_block + (uint32_t)i, c1, c2, c3}};
        sb_philox_ctr r = sb_philox4x32_10(c, key);
        out[4 * i] = r.v[0];
        out[4 * i + 1] = r.v[1];
        out[4 * i + 2] = r.v[2];
        out[4 * i + 3] = r.v[3];
    }
}
