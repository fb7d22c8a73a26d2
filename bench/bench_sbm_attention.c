/* SBM attention against full attention, one attention call at a time.
 *
 * Shapes of issue #3: n = 4096 tokens, d_h = 32, k = 128 clusters, 4
 * (example, head) pairs. The SBM parameters are set so that every edge
 * probability is about the same p, chosen to hit a target density ρ: the
 * sampler keeps an edge with probability 1 - exp(-p) (fastRG), so
 * p = -ln(1 - ρ); δ = 0 so training and inference sample the same density.
 * For each density it prints forward (inference) and forward+backward
 * (training) time, the share of each part, the tracked peak memory of the
 * attention (state + scratch, not Q/K/V) at inference and in training (state
 * created, forward and backward; the gradients' buffers are the caller's; the
 * peak over every call, since a call can hold what the one before left), then
 * the least-squares fit of time
 * against edges and the break-even density against full attention.
 *
 *   bench_sbm_attention [--n 4096] [--d 32] [--k 128] [--pairs 4] [--reps 3]
 *                       [--threads N] [--no-bernoulli] [--no-full] [--density X]
 *   (--density X: only that target; --no-full: skip full attention, for profiling) */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench/bench_args.h"
#include "core/attention.h"
#include "core/cpu/cpu_philox16.h"
#include "core/sbm_attention.h"

typedef struct {
    double fwd, train;     /* best seconds over reps */
    double mem_fwd;        /* tracked peak bytes above the inputs, inference */
    double mem_train;      /* likewise, training (state, forward, backward) */
    double edges, density; /* sampled edges of the last inference call */
    double parts[SB_SBM_PART_COUNT];     /* training: mean seconds per call in each part */
    double inf_parts[SB_SBM_PART_COUNT]; /* inference, likewise */
} result;

static void fill(float *x, size_t n, sb_rng_reader *r, float scale) {
    for (size_t i = 0; i < n; i++) x[i] = scale * sb_rng_next_normal(r);
}

/* Make every membership about sqrt(p): logits ≈ beta along one direction. */
static void set_sbm_params(const sb_attn_config *cfg, float *params, double p, sb_rng_reader *r) {
    const int D = cfg->d_head, k = cfg->sbm_k, H = cfg->n_heads;
    double m = sqrt(p);
    float beta = (float)log(m / (1.0 - m));
    float *C = params, *w1 = C + (size_t)H * k * D, *b1 = w1 + D * D, *w2 = b1 + D, *b2 = w2 + D * D;
    for (int i = 0; i < H * k; i++)
        for (int d = 0; d < D; d++) C[(size_t)i * D + d] = (d == 0 ? 1.0f : 0.0f) + 0.02f * sb_rng_next_normal(r);
    fill(w1, (size_t)D * D, r, 0.2f);
    fill(b1, D, r, 0.2f);
    fill(w2, (size_t)D * D, r, 0.002f);
    for (int d = 0; d < D; d++) b2[d] = d == 0 ? beta : 0.0f;
}

static result time_variant(sb_backend *be, const sb_attention_ops *ops, const sb_attn_config *cfg,
                           const float *params, float *dparams, const sb_attn_call *base, float *dq, float *dk,
                           float *dv, const float *dout, int reps) {
    result res = {1e30, 1e30, 0, 0, 0, 0, {0}, {0}};
    /* inference on an inference state (what evaluation holds), training on a training one */
    int64_t live0 = be->mem.live_bytes;
    sb_mem_reset_peak(&be->mem);
    void *st = ops->state_create(be, cfg, base->B, base->N, 0);
    sb_attn_call c = *base;
    sb_attn_grads g = {.dq = dq, .dk = dk, .dv = dv, .dout = dout, .density_weight = 0.0f};
    for (int r = 0; r <= reps; r++) { /* r = 0 warms up */
        c.training = 0;
        c.rng_attn.c1 = (uint32_t)r;
        if (r == 1) sb_sbm_profile_reset();
        double t0 = omp_get_wtime();
        ops->forward(be, st, cfg, params, &c);
        double t1 = omp_get_wtime();
        if (r > 0 && t1 - t0 < res.fwd) res.fwd = t1 - t0;
    }
    /* the peak over every call: a later call can hold what an earlier one left */
    res.mem_fwd = (double)(be->mem.peak_bytes - live0);
    sb_sbm_profile_get(res.inf_parts);
    for (int i = 0; i < SB_SBM_PART_COUNT; i++) res.inf_parts[i] /= reps;
    if (ops->density) {
        float *d = malloc(sizeof(float) * base->B * base->H);
        ops->density(st, d);
        res.density = 0;
        for (int i = 0; i < base->B * base->H; i++) res.density += d[i];
        res.density /= base->B * base->H;
        res.edges = res.density * base->B * base->H * (double)base->N * base->N;
        free(d);
    }
    ops->state_destroy(be, st);
    live0 = be->mem.live_bytes;
    sb_mem_reset_peak(&be->mem);
    st = ops->state_create(be, cfg, base->B, base->N, 1);
    sb_sbm_profile_reset();
    for (int r = 0; r <= reps; r++) {
        c.training = 1;
        c.rng_attn.c1 = 1000u + (uint32_t)r;
        if (r == 1) sb_sbm_profile_reset();
        double t0 = omp_get_wtime();
        ops->forward(be, st, cfg, params, &c);
        ops->backward(be, st, cfg, params, dparams, &c, &g);
        double t1 = omp_get_wtime();
        if (r > 0 && t1 - t0 < res.train) res.train = t1 - t0;
    }
    res.mem_train = (double)(be->mem.peak_bytes - live0); /* over every step, as for inference */
    sb_sbm_profile_get(res.parts);
    for (int i = 0; i < SB_SBM_PART_COUNT; i++) res.parts[i] /= reps;
    ops->state_destroy(be, st);
    return res;
}

/* Sampling alone against an SDDMM alone on the sampled graph (the issue's
 * goal: sampling costs no more than the SDDMM at the same density), best of
 * reps each. Memberships sqrt(p) times a uniform jitter in [0.8, 1.2] and a
 * uniform block matrix: every edge probability is about p, and rows and
 * clusters are flat, as the memberships set_sbm_params makes. q, kk: [pairs,
 * n, D] queries and keys for the SDDMM. */
static void time_sampling_vs_sddmm(sb_backend *be, int pairs, int n, int D, int k, double p, const float *q,
                                   const float *kk, int reps, double *t_sample, double *t_sddmm, double *edges,
                                   double *words) {
    const size_t nk = (size_t)pairs * n * k;
    float *qh = malloc(sizeof(float) * nk), *kh = malloc(sizeof(float) * nk), *S = malloc(sizeof(float) * k * k);
    sb_rng_reader r;
    sb_rng_reader_init(&r, sb_rng_make(2, SB_RNG_INIT, 0, 0, 0, 0));
    const float m = (float)sqrt(p);
    for (size_t i = 0; i < nk; i++)
        qh[i] = m * (0.8f + 0.4f * sb_rng_next_unit(&r)), kh[i] = m * (0.8f + 0.4f * sb_rng_next_unit(&r));
    for (int i = 0; i < k * k; i++) S[i] = 1.0f / ((float)k * k);
    sb_csr g = {0};
    *t_sample = *t_sddmm = 1e30;
    float *scores = NULL;
    int64_t scores_cap = 0;
    for (int rep = 0; rep <= reps; rep++) { /* rep 0 warms up */
        be->rng_words = 0;
        double t0 = omp_get_wtime();
        be->sbm_sample(be, &g, qh, kh, S, NULL, pairs, 1, n, k, 0.0f, 0, SB_SAMPLER_FASTRG,
                       sb_rng_make(3, SB_RNG_ATTN, (uint32_t)rep, 0, 0, 0));
        double t1 = omp_get_wtime();
        if (g.nnz >= scores_cap) {
            free(scores);
            scores_cap = g.nnz + 1;
            scores = malloc(sizeof(float) * (size_t)scores_cap);
        }
        be->sddmm(be, scores, &g, q, kk, D);
        double t2 = omp_get_wtime();
        if (rep > 0 && t1 - t0 < *t_sample) *t_sample = t1 - t0;
        if (rep > 0 && t2 - t1 < *t_sddmm) *t_sddmm = t2 - t1;
    }
    *edges = (double)g.nnz;
    *words = (double)be->rng_words;
    sb_csr_free(be, &g);
    free(qh), free(kh), free(S), free(scores);
}

/* Generating `words` Philox words alone, 64 at a time into a buffer that
 * stays in L1 as the sampler's refills do, on all threads; best of reps.
 * The floor under the sampler's time for its words. */
static volatile uint32_t philox_sink; /* keeps the words live */

static double time_philox(double words, int reps) {
    const int64_t units = (int64_t)ceil(words / 64.0);
    const sb_rng_stream s = sb_rng_make(5, SB_RNG_ATTN, 0, 0, 0, 0);
    double best = 1e30;
    uint32_t sink = 0;
    for (int rep = 0; rep <= reps; rep++) { /* rep 0 warms up */
        const double t0 = omp_get_wtime();
#pragma omp parallel reduction(^ : sink)
        {
            uint32_t buf[64];
#pragma omp for schedule(static)
            for (int64_t u = 0; u < units; u++) {
                sb_philox16_fill(&s, (uint32_t)(16 * u), buf);
                sink ^= buf[u & 63];
            }
        }
        const double t = omp_get_wtime() - t0;
        if (rep > 0 && t < best) best = t;
    }
    philox_sink = sink;
    return best;
}

/* Each of the first n parts' share of their total time. */
static void print_shares(const double *parts, int n) {
    double tot = 0;
    for (int p = 0; p < n; p++) tot += parts[p];
    for (int p = 0; p < n; p++) printf(" %5.1f%%", tot > 0 ? 100 * parts[p] / tot : 0.0);
}

/* least squares y = a + b x; returns R² */
static double fit(const double *x, const double *y, int n, double *a, double *b) {
    double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
    for (int i = 0; i < n; i++) sx += x[i], sy += y[i], sxx += x[i] * x[i], sxy += x[i] * y[i], syy += y[i] * y[i];
    *b = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    *a = (sy - *b * sx) / n;
    double ss_tot = syy - sy * sy / n, ss_res = 0;
    for (int i = 0; i < n; i++) ss_res += (y[i] - *a - *b * x[i]) * (y[i] - *a - *b * x[i]);
    return 1.0 - ss_res / ss_tot;
}

int main(int argc, char **argv) {
    int n = 4096, D = 32, k = 128, pairs = 4, reps = 3, threads = 0, bernoulli = 1, with_full = 1;
    double only = 0.0; /* --density X: just that target (for profiling) */
    for (int i = 1; i < argc; i++) {
        if (bench_int(argc, argv, &i, "--n", &n) || bench_int(argc, argv, &i, "--d", &D) ||
            bench_int(argc, argv, &i, "--k", &k) || bench_int(argc, argv, &i, "--pairs", &pairs) ||
            bench_int(argc, argv, &i, "--reps", &reps) || bench_int(argc, argv, &i, "--threads", &threads) ||
            bench_double(argc, argv, &i, "--density", &only) || bench_flag(argv, i, "--no-bernoulli", &bernoulli, 0) ||
            bench_flag(argv, i, "--no-full", &with_full, 0)) /* --no-full: profiling SBM alone, ratios print as 0 */
            continue;
        fprintf(stderr, "usage: %s [--n N] [--d D] [--k K] [--pairs P] [--reps R] [--threads T] [--no-bernoulli] [--no-full] [--density X]\n", argv[0]);
        return 2;
    }
    if (n < 2 || D < 1 || k < 1 || pairs < 1 || reps < 1 || only < 0.0 || only >= 1.0) {
        fprintf(stderr, "%s: sizes and reps must be positive (n at least 2) and --density in (0, 1)\n", argv[0]);
        return 2;
    }
    sb_backend *be = sb_backend_cpu_create(threads);
    const size_t sz = (size_t)pairs * n * D;
    float *q = be->alloc(be, sizeof(float) * sz), *kk = be->alloc(be, sizeof(float) * sz);
    float *v = be->alloc(be, sizeof(float) * sz), *out = be->alloc(be, sizeof(float) * sz);
    float *dout = be->alloc(be, sizeof(float) * sz), *dq = be->alloc(be, sizeof(float) * sz);
    float *dk = be->alloc(be, sizeof(float) * sz), *dv = be->alloc(be, sizeof(float) * sz);
    sb_rng_reader r;
    sb_rng_reader_init(&r, sb_rng_make(1, SB_RNG_INIT, 0, 0, 0, 0));
    fill(q, sz, &r, 1.0f), fill(kk, sz, &r, 1.0f), fill(v, sz, &r, 1.0f), fill(dout, sz, &r, 1.0f);
    sb_attn_config cfg = {.n_heads = 1, .d_head = D, .max_len = n, .attn_dropout = 0.0f, .sbm_k = k,
                          .sbm_delta = 0.0f, .sbm_sampler = SB_SAMPLER_FASTRG, .sbm_ste = 1, .sbm_ste_clip = 0.0f};
    sb_attn_call call = {.B = pairs, .H = 1, .N = n, .D = D, .q = q, .k = kk, .v = v, .out = out,
                         .rng = sb_rng_make(1, SB_RNG_ATTN_DROPOUT, 0, 0, 0, 0),
                         .rng_attn = sb_rng_make(1, SB_RNG_ATTN, 0, 0, 0, 0)};
    printf("one attention call: n=%d d_h=%d k=%d pairs=%d threads=%d, best of %d\n", n, D, k, pairs,
           omp_get_max_threads(), reps);
    const sb_attention_ops *full = sb_attention_find("full"), *sbm = sb_attention_find("sbm");
    result rf = {1e30, 1e30, 1e30, 1e30, 0, 0, {0}, {0}};
    if (with_full) rf = time_variant(be, full, &cfg, NULL, NULL, &call, dq, dk, dv, dout, reps);
    double full_fwd_max = rf.fwd, full_train_max = rf.train; /* the spread of full attention's timings */
    if (with_full)
        printf("\nfull attention: inference %.1f ms, training %.1f ms, attention memory %.1f MiB (inference), "
               "%.1f MiB (training)\n", 1e3 * rf.fwd, 1e3 * rf.train, rf.mem_fwd / 1048576.0, rf.mem_train / 1048576.0);
    else
        printf("\nfull attention: skipped (--no-full), so the ratios below print as 0\n");

    size_t np = sbm->param_count(&cfg);
    float *params = malloc(sizeof(float) * np), *dparams = calloc(np, sizeof(float));
    double targets[] = {0.01, 0.02, 0.05, 0.10, 0.20, 0.50};
    int nt = sizeof targets / sizeof targets[0];
    if (only > 0.0) targets[0] = only, nt = 1;
    double ex[16], yt[16], yi[16], dens[16];
    printf("\nSBM (fastRG, O(edges)):\n");
    printf("%8s %8s %10s %10s %8s %8s %9s %9s | inference share: %s %s %s | training share: %s %s %s %s\n",
           "target", "density", "infer ms", "train ms", "inf/full", "trn/full", "imem/full", "tmem/full", sb_sbm_part_names[0],
           sb_sbm_part_names[1], sb_sbm_part_names[2], sb_sbm_part_names[0], sb_sbm_part_names[1],
           sb_sbm_part_names[2], sb_sbm_part_names[3]);
    /* Full attention is timed again after each density, and each ratio
     * divides by the better of the two full timings around it: this VM's
     * speed drifts by 15% or more within a minute, and one full timing taken
     * minutes before could flatter or penalise a whole column. Using the
     * better one favours full attention (it gets twice the reps). */
    result rf_before = rf, rf_all = rf;
    for (int t = 0; t < nt; t++) {
        set_sbm_params(&cfg, params, -log(1.0 - targets[t]), &r);
        result rs = time_variant(be, sbm, &cfg, params, dparams, &call, dq, dk, dv, dout, reps);
        result rf_near = rf_before;
        if (with_full) {
            const result rf_after = time_variant(be, full, &cfg, NULL, NULL, &call, dq, dk, dv, dout, reps);
            rf_near.fwd = fmin(rf_before.fwd, rf_after.fwd), rf_near.train = fmin(rf_before.train, rf_after.train);
            rf_all.fwd = fmin(rf_all.fwd, rf_after.fwd), rf_all.train = fmin(rf_all.train, rf_after.train);
            full_fwd_max = fmax(full_fwd_max, rf_after.fwd), full_train_max = fmax(full_train_max, rf_after.train);
            rf_before = rf_after;
        }
        printf("%7.0f%% %7.2f%% %10.1f %10.1f %8.3f %8.3f %9.3f %9.3f |", 100 * targets[t], 100 * rs.density,
               1e3 * rs.fwd, 1e3 * rs.train, rs.fwd / rf_near.fwd, rs.train / rf_near.train, rs.mem_fwd / rf.mem_fwd,
               rs.mem_train / rf.mem_train);
        print_shares(rs.inf_parts, SB_SBM_PART_STE); /* inference has no STE */
        printf(" |");
        print_shares(rs.parts, SB_SBM_PART_COUNT);
        printf("\n");
        ex[t] = rs.edges, yt[t] = rs.train, yi[t] = rs.fwd, dens[t] = rs.density;
    }
    printf("\nsampling alone vs an SDDMM (q.k over the sampled edges, d_h=%d) alone:\n", D);
    printf("(words/edge: the random words the sampler generated per edge; Philox alone: generating that many\n"
           " words with the vectorised kernel and nothing else, a floor under the sampling time, a little low: the\n"
           " few words of each row's Poisson count come from the slower scalar generator)\n");
    printf("%8s %10s %12s %12s %14s %12s %10s %12s %13s\n", "target", "edges", "sampling ms", "SDDMM ms",
           "sampling/SDDMM", "sampling ns/edge", "words/edge", "Philox ms", "Philox/SDDMM");
    for (int t = 0; t < nt; t++) {
        double ts, td, m, w;
        time_sampling_vs_sddmm(be, pairs, n, D, k, -log(1.0 - targets[t]), q, kk, reps, &ts, &td, &m, &w);
        const double tp = time_philox(w, reps);
        printf("%7.0f%% %10.0f %12.1f %12.1f %14.2f %16.1f %10.2f %12.1f %13.2f\n", 100 * targets[t], m, 1e3 * ts,
               1e3 * td, ts / td, 1e9 * ts / m, w / m, 1e3 * tp, tp / td);
    }
    if (with_full)
        printf("\nfull attention over its %d timings: inference %.1f-%.1f ms, training %.1f-%.1f ms; the "
               "break-even uses the fastest\n", nt + 1, 1e3 * rf_all.fwd, 1e3 * full_fwd_max, 1e3 * rf_all.train,
               1e3 * full_train_max);
    if (nt >= 2 && with_full) { /* the fit needs two densities, the break-even full attention */
        double a, b;
        double r2t = fit(ex, yt, nt, &a, &b);
        double be_train = (rf_all.train - a) / b / ((double)pairs * n * n);
        printf("\ntraining time vs edges: %.3f ms + %.2f ns/edge, R^2 = %.4f; break-even density vs full: %.1f%%\n",
               1e3 * a, 1e9 * b, r2t, 100 * be_train);
        double r2i = fit(ex, yi, nt, &a, &b);
        double be_inf = (rf_all.fwd - a) / b / ((double)pairs * n * n);
        printf("inference time vs edges: %.3f ms + %.2f ns/edge, R^2 = %.4f; break-even density vs full: %.1f%%\n",
               1e3 * a, 1e9 * b, r2i, 100 * be_inf);
    }
    (void)dens;
    if (bernoulli) {
        printf("\nSBM with the dense Bernoulli sampler (the public code's O(n^2 k) sampling):\n");
        printf("%8s %8s %10s %10s %8s %8s\n", "target", "density", "infer ms", "train ms", "inf/full", "trn/full");
        cfg.sbm_sampler = SB_SAMPLER_BERNOULLI;
        for (int t = 0; t < nt; t++) {
            /* Bernoulli keeps an edge with probability p itself */
            set_sbm_params(&cfg, params, targets[t], &r);
            result rs = time_variant(be, sbm, &cfg, params, dparams, &call, dq, dk, dv, dout, reps);
            printf("%7.0f%% %7.2f%% %10.1f %10.1f %8.3f %8.3f\n", 100 * targets[t], 100 * rs.density, 1e3 * rs.fwd,
                   1e3 * rs.train, rs.fwd / rf_all.fwd, rs.train / rf_all.train);
        }
    }
    free(params), free(dparams);
    float *bufs[] = {q, kk, v, out, dout, dq, dk, dv};
    for (int i = 0; i < 8; i++) be->free(be, bufs[i]);
    sb_backend_destroy(be);
    return 0;
}
