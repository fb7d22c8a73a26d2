/* Statistical tests of the SBM graph samplers (core/cpu/cpu_sbm_sample.c)
 * and their parts (alias tables, Poisson variates).
 *
 * Each distributional check is a chi-square (or z) statistic compared with a
 * bound about five standard deviations above its expectation, so a correct
 * sampler fails with probability below 1e-6 while a wrong probability, a lost
 * block coupling or an off-by-one shows up by orders of magnitude. All draws
 * are seeded, so the outcome is fixed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/backend.h"
#include "core/cpu/cpu_bitmap_rows.h"
#include "core/cpu/cpu_sbm_reject_avx2.h"
#include "core/sbm_sampling.h"
#include "tests/test_util.h"

/* chi-square bound for `dof` degrees of freedom: mean + 5 standard deviations */
static double chi2_bound(int dof) { return dof + 5.0 * sqrt(2.0 * dof); }

static void test_alias(void) {
    enum { N = 11, DRAWS = 400000 };
    float w[N];
    tu_fill_uniform(w, N, 0.0f, 1.0f, 1);
    w[3] = 0.0f; /* a zero weight is never drawn */
    w[7] = 5.0f; /* a heavy one */
    sb_alias_slot t[N];
    char work[SB_ALIAS_WORK_BYTES(N)];
    double sum = sb_alias_build(t, w, N, work);
    long count[N] = {0};
    sb_rng_reader r = tu_rng(2);
    for (int i = 0; i < DRAWS; i++) count[sb_alias_draw(t, N, sb_rng_next_u32(&r))]++;
    double chi2 = 0.0;
    int dof = -1;
    for (int i = 0; i < N; i++) {
        double e = DRAWS * w[i] / sum;
        if (e > 0) chi2 += (count[i] - e) * (count[i] - e) / e, dof++;
    }
    tu_report("alias table: chi-square of 400k draws / bound", chi2 / chi2_bound(dof), 1.0);
    tu_check(count[3] == 0, "alias table: zero weight never drawn (%ld)", count[3]);
}

static void test_poisson(void) {
    const double lambdas[] = {0.3, 4.0, 9.99, 10.0, 37.5, 1000.0, 250000.0};
    for (size_t l = 0; l < sizeof lambdas / sizeof lambdas[0]; l++) {
        const double lam = lambdas[l];
        const int n = 100000;
        sb_rng_reader r = tu_rng(100 + (uint32_t)l);
        double s = 0, ss = 0;
        for (int i = 0; i < n; i++) {
            double x = (double)sb_poisson(&r, lam);
            s += x, ss += x * x;
        }
        double mean = s / n, var = ss / n - mean * mean;
        /* z of the mean; the variance ratio's sd is about sqrt((2 + 1/lam)/n) */
        double z = fabs(mean - lam) / sqrt(lam / n);
        double zv = fabs(var / lam - 1.0) / sqrt((2.0 + 1.0 / lam) / n);
        char name[96];
        snprintf(name, sizeof name, "Poisson(%g): |z| of mean, variance ratio", lam);
        tu_report(name, tu_worse(z, zv), 5.0);
    }
    /* the whole pmf at a small mean (inversion) and at two rejection-sampled
     * ones; 4M draws, enough to see a squeeze bound of the PTRS sampler off
     * by 0.02 (a mean shift of about 0.01 at 30) */
    const double lams[] = {4.0, 30.0, 1000.0};
    for (int l = 0; l < 3; l++) {
        const double lam = lams[l];
        enum { MAXK = 1400, DRAWS = 4000000 };
        static long count[MAXK + 1];
        memset(count, 0, sizeof count);
        sb_rng_reader r = tu_rng(200 + (uint32_t)l);
        for (int i = 0; i < DRAWS; i++) {
            int64_t x = sb_poisson(&r, lam);
            count[x > MAXK ? MAXK : x]++;
        }
        double chi2 = 0.0, logp = -lam;
        int dof = -1;
        for (int x = 0; x < MAXK; x++) {
            double e = DRAWS * exp(logp);
            if (e >= 5.0) chi2 += (count[x] - e) * (count[x] - e) / e, dof++;
            logp += log(lam) - log(x + 1.0);
        }
        char name[96];
        snprintf(name, sizeof name, "Poisson(%g) pmf: chi-square / bound", lam);
        tu_report(name, chi2 / chi2_bound(dof), 1.0);
    }
}

/* A small SBM: COPIES copies of one graph's memberships so one call draws
 * COPIES independent graphs (each example has its own stream). Three shapes:
 * n = 6 (dense rows), n = 130 with low rates (rows of a few edges, so
 * the sampler's sparse-row merge is exercised), and n = 600, whose rows
 * span three of the sampler's 256-row chunks (the last one partial). */
enum { NMAX = 600, K = 8 }; /* 8 clusters: the row sampler's guide table walks several */
static int N = 6, COPIES = 4000, CALLS = 5;

typedef struct {
    float qhat[NMAX * K], khat[NMAX * K], S[K * K], mask[NMAX];
    double p[NMAX * NMAX]; /* Q̂ S K̂ᵀ in double */
} small_sbm;

/* p[i,j] = Q̂_i S K̂_jᵀ in double, for memberships with k clusters [N, k]. */
static void edge_probs(const float *qhat, const float *khat, const float *S, int k, double *p) {
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double acc = 0;
            for (int a = 0; a < k; a++)
                for (int b = 0; b < k; b++) acc += (double)qhat[i * k + a] * S[a * k + b] * khat[j * k + b];
            p[i * N + j] = acc;
        }
}

static void make_small(small_sbm *m, float hi) {
    tu_fill_uniform(m->qhat, (size_t)N * K, 0.05f, hi, 10);
    tu_fill_uniform(m->khat, (size_t)N * K, 0.05f, hi, 11);
    float logits[K * K];
    tu_fill_normal(logits, K * K, 1.0f, 12);
    double z = 0;
    for (int i = 0; i < K * K; i++) z += exp(logits[i]);
    for (int i = 0; i < K * K; i++) m->S[i] = (float)(exp(logits[i]) / z);
    for (int i = 0; i < N; i++) m->mask[i] = i == 4 ? 0.0f : 1.0f; /* position 4 is padding */
    edge_probs(m->qhat, m->khat, m->S, K, m->p);
}

/* Memberships that reveal each row's cluster draw: S diagonal and key j
 * (nearly) in cluster j alone, so edge i -> j counts how often row i drew
 * a = j. Rows 0-2 flat (memberships rising, falling, alternating), rows 3-5
 * peaked on the last, a middle and the first cluster (the guide-table
 * path), rows 6-7 flat at random. Random memberships average a wrong
 * acceptance scale or guide threshold away; these do not. */
static void make_revealing(small_sbm *m) {
    memset(m->S, 0, sizeof m->S);
    for (int a = 0; a < K; a++) m->S[a * K + a] = 0.5f;
    for (int j = 0; j < N; j++)
        for (int b = 0; b < K; b++) m->khat[j * K + b] = b == j ? 1.0f : 0.01f;
    tu_fill_uniform(m->qhat, (size_t)N * K, 0.05f, 0.95f, 90);
    for (int a = 0; a < K; a++) {
        m->qhat[0 * K + a] = 0.1f + 0.8f * a / (K - 1.0f);
        m->qhat[1 * K + a] = 0.9f - 0.8f * a / (K - 1.0f);
        m->qhat[2 * K + a] = a % 2 ? 0.9f : 0.15f;
        m->qhat[3 * K + a] = a == K - 1 ? 0.95f : 0.01f;
        m->qhat[4 * K + a] = a == K / 2 ? 0.9f : 0.05f;
        m->qhat[5 * K + a] = a == 0 ? 0.95f : 0.01f;
    }
    for (int i = 0; i < N; i++) m->mask[i] = 1.0f;
    edge_probs(m->qhat, m->khat, m->S, K, m->p);
}

/* Draw COPIES*CALLS graphs of memberships qhat, khat [N, k] and block
 * matrix S [k, k]; count edges per (i,j); check CSR invariants. */
static int draw_counts_k(sb_backend *be, const float *qhat, const float *khat, const float *S, const float *m_mask,
                         int k, int sampler, float delta, int self_loops, long *count) {
    float *qh = tu_alloc((size_t)COPIES * N * k), *kh = tu_alloc((size_t)COPIES * N * k);
    float *mask = tu_alloc((size_t)COPIES * N);
    for (int c = 0; c < COPIES; c++) {
        memcpy(qh + (size_t)c * N * k, qhat, sizeof(float) * N * k);
        memcpy(kh + (size_t)c * N * k, khat, sizeof(float) * N * k);
        memcpy(mask + (size_t)c * N, m_mask, sizeof(float) * N);
    }
    memset(count, 0, sizeof(long) * (size_t)N * N);
    sb_csr g = {0};
    int ok = 1;
    for (int call = 0; call < CALLS; call++) {
        be->sbm_sample(be, &g, qh, kh, S, mask, COPIES, 1, N, k, delta, self_loops, sampler,
                       sb_rng_make(77, SB_RNG_ATTN, (uint32_t)call, 0, 0, 0));
        ok &= g.row_ptr[0] == 0 && g.row_ptr[(size_t)COPIES * N] == g.nnz;
        for (size_t r = 0; r < (size_t)COPIES * N; r++) {
            ok &= g.row_ptr[r + 1] >= g.row_ptr[r];
            for (int64_t e = g.row_ptr[r]; e < g.row_ptr[r + 1]; e++) {
                int j = g.col[e];
                ok &= j >= 0 && j < N && (e == g.row_ptr[r] || g.col[e - 1] < j); /* sorted, unique */
                count[(r % N) * N + j]++;
            }
        }
        /* the transpose lists the same edges by key, rows ascending */
        be->csr_transpose(be, &g);
        for (size_t key = 0; key < (size_t)COPIES * N; key++)
            for (int64_t t = g.col_ptr[key]; t < g.col_ptr[key + 1]; t++) {
                int64_t e = g.perm[t];
                ok &= g.col[e] == (int)(key % N) && e >= g.row_ptr[(key / N) * N + g.row_of[t]] &&
                      e < g.row_ptr[(key / N) * N + g.row_of[t] + 1];
                ok &= t == g.col_ptr[key] || g.row_of[t - 1] < g.row_of[t];
            }
    }
    sb_csr_free(be, &g);
    free(qh), free(kh), free(mask);
    return ok;
}

static int draw_counts(sb_backend *be, const small_sbm *m, int sampler, float delta, int self_loops, long *count) {
    return draw_counts_k(be, m->qhat, m->khat, m->S, m->mask, K, sampler, delta, self_loops, count);
}

/* chi-square over the real pairs against the per-edge probability prob(p) */
static double edge_chi2(const small_sbm *m, const long *count, double (*prob)(double p, double d), double delta,
                        int self_loops, int *dof, long *pad_edges, long *missing_loops) {
    const double T = (double)COPIES * CALLS;
    double chi2 = 0.0;
    *dof = 0;
    *pad_edges = 0;
    *missing_loops = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            long c = count[i * N + j];
            if (m->mask[i] == 0.0f || m->mask[j] == 0.0f) {
                *pad_edges += c;
                continue;
            }
            if (self_loops && i == j) {
                *missing_loops += (long)T - c;
                continue;
            }
            double pi = prob(m->p[i * N + j], delta);
            if (pi >= 1.0) {
                *missing_loops += (long)T - c;
                continue;
            }
            chi2 += (c - T * pi) * (c - T * pi) / (T * pi * (1.0 - pi));
            ++*dof;
        }
    return chi2;
}

static double prob_poisson(double p, double d) { return 1.0 - exp(-(p + d)); }
static double prob_bernoulli(double p, double d) { return p + d < 1.0 ? p + d : 1.0; }

static void test_sampler(sb_backend *be, const small_sbm *m, int sampler, float delta, int self_loops,
                         const char *name) {
    long *count = calloc((size_t)N * N, sizeof(long));
    int ok = draw_counts(be, m, sampler, delta, self_loops, count);
    int dof;
    long pads, loops;
    double chi2 = edge_chi2(m, count, sampler == SB_SAMPLER_FASTRG ? prob_poisson : prob_bernoulli, delta,
                            self_loops, &dof, &pads, &loops);
    char full[160];
    snprintf(full, sizeof full, "%s: edge frequencies chi2/bound", name);
    tu_report(full, chi2 / chi2_bound(dof), 1.0);
    tu_check(ok, "%s: CSR sorted, unique, transpose consistent", name);
    tu_check(pads == 0, "%s: no edge touches a padded position (%ld found)", name, pads);
    if (self_loops) tu_check(loops == 0, "%s: every real position has its self-loop (%ld missing)", name, loops);
    free(count);
}

/* The same stream gives the same graphs whatever the thread count: G copies
 * of m's graph (different streams), drawn on 2 threads and on 1. With fewer
 * than 4 graphs on 2 threads, the sampler splits each graph's row chunks
 * among several tasks (with 3 chunks: 1 graph in 3 parts, 3 in 2). */
static void check_thread_invariance(sb_backend *be, const small_sbm *m, const char *name, int G) {
    float *mask = tu_alloc((size_t)G * N), *qh = tu_alloc((size_t)G * N * K), *kh = tu_alloc((size_t)G * N * K);
    for (int g = 0; g < G; g++) {
        memcpy(mask + (size_t)g * N, m->mask, sizeof(float) * N);
        memcpy(qh + (size_t)g * N * K, m->qhat, sizeof(float) * N * K);
        memcpy(kh + (size_t)g * N * K, m->khat, sizeof(float) * N * K);
    }
    sb_csr a = {0}, b = {0};
    const sb_rng_stream s = sb_rng_make(5, SB_RNG_ATTN, 1, 0, 0, 0);
    be->sbm_sample(be, &a, qh, kh, m->S, mask, G, 1, N, K, 0.1f, 0, SB_SAMPLER_FASTRG, s);
    sb_cpu_set_threads(1);
    be->sbm_sample(be, &b, qh, kh, m->S, mask, G, 1, N, K, 0.1f, 0, SB_SAMPLER_FASTRG, s);
    sb_cpu_set_threads(2);
    int same = a.nnz == b.nnz && !memcmp(a.row_ptr, b.row_ptr, sizeof(int64_t) * ((size_t)G * N + 1)) &&
               !memcmp(a.col, b.col, sizeof(int32_t) * (size_t)a.nnz);
    tu_check(same, "%s: same stream, same %d graph(s) on 2 threads and on 1 (%lld edges)", name, G, (long long)a.nnz);
    sb_csr_free(be, &a), sb_csr_free(be, &b);
    free(mask), free(qh), free(kh);
}

/* Rows of different 256-row chunks draw their keys from different pools. With
 * every membership equal, each pair is an edge with probability
 * q = 1 - exp(-c²) independently, so two rows share on average n q² keys.
 * Pools shared across chunks (the failure this guards against) would hand
 * the first row of each chunk the same first keys of every cluster: an
 * overlap of most of a row. Compared over 200 graphs: row 0 with row 256
 * (the next chunk) and with row 1 (the same chunk). */
static void test_chunk_independence(sb_backend *be) {
    enum { NC = 600, G = 40, CALLS_C = 5 };
    const float c = 0.28f;
    float *qh = tu_alloc((size_t)G * NC * K), *S = tu_alloc(K * K);
    for (size_t i = 0; i < (size_t)G * NC * K; i++) qh[i] = c;
    for (int i = 0; i < K * K; i++) S[i] = 1.0f / (K * K);
    const double q = 1.0 - exp(-(double)c * c), expect = NC * q * q;
    double sum_next = 0.0, sum_same = 0.0;
    sb_csr g = {0};
    for (int call = 0; call < CALLS_C; call++) {
        be->sbm_sample(be, &g, qh, qh, S, NULL, G, 1, NC, K, 0.0f, 0, SB_SAMPLER_FASTRG,
                       sb_rng_make(8, SB_RNG_ATTN, (uint32_t)call, 0, 0, 0));
        for (int gi = 0; gi < G; gi++) {
            const int64_t *rp = g.row_ptr + (size_t)gi * NC;
            unsigned char in0[NC] = {0};
            for (int64_t e = rp[0]; e < rp[1]; e++) in0[g.col[e]] = 1;
            for (int64_t e = rp[1]; e < rp[2]; e++) sum_same += in0[g.col[e]];
            for (int64_t e = rp[256]; e < rp[257]; e++) sum_next += in0[g.col[e]];
        }
    }
    const double T = (double)G * CALLS_C, sd = sqrt(expect / T); /* an overlap is about Poisson(expect) */
    char name[160];
    snprintf(name, sizeof name, "fastRG, n 600: keys shared by rows of different chunks, %.2f vs %.2f expected (sigmas)",
             sum_next / T, expect);
    tu_report(name, fabs(sum_next / T - expect) / sd, 5.0);
    snprintf(name, sizeof name, "fastRG, n 600: keys shared by rows of one chunk, %.2f vs %.2f expected (sigmas)",
             sum_same / T, expect);
    tu_report(name, fabs(sum_same / T - expect) / sd, 5.0);
    sb_csr_free(be, &g);
    free(qh), free(S);
}

/* The AVX2 rejection kernels against scalar loops written here from their
 * definitions (cpu_sbm_reject_avx2.h), on random words: the same accepted
 * values and the same words used, for targets reached in the first step,
 * mid-step, at a step's end and never, k a power of two or not; the key
 * kernel with ties (the driver hands a step with a tie to the scalar loop,
 * as draw_keys does). This is what makes the sampler's graphs the same with
 * and without AVX2. */
#ifdef __AVX2__
/* One key try by its definition (draw_keys): writes the candidate to *out,
 * returns 1 if accepted; counts ties in *ties when given. */
static int key_try(uint32_t word, int nr, const uint16_t *q16, const int32_t *real, const float *kh, float mx,
                   int32_t *out, int *ties) {
    const uint64_t p = (uint64_t)word * (uint32_t)nr;
    const uint32_t slot = (uint32_t)(p >> 32), low = (uint32_t)p, r16 = low >> 16;
    *out = real[slot];
    if (ties) *ties += r16 == q16[slot];
    return r16 == q16[slot] ? (float)(low >> 8) * (mx * (1.0f / 16777216.0f)) < kh[slot] : r16 < q16[slot];
}
#endif

static void test_reject_kernels(void) {
#ifdef __AVX2__
    enum { NW = 128, KMAX = 128 };
    const int wants[] = {1, 3, 7, 8, 9, 20, 40, 200};
    sb_rng_reader r = tu_rng(31);
    int flat_ok = 1, keys_ok = 1, ties = 0;
    for (int trial = 0; trial < 40; trial++) {
        uint32_t words[NW];
        for (int i = 0; i < NW; i++) words[i] = sb_rng_next_u32(&r);
        /* flat rows' pairs over k² slots */
        /* odd trials k = 128; even ones 5..11, and k = 1, 2, 4 (one shift
         * count of 32, powers of two) every eighth */
        const int k = trial % 2 ? KMAX : trial % 8 == 0 ? 1 << (trial / 8 % 3) : 5 + trial % 7;
        static sb_alias_slot tab[KMAX * KMAX];
        static float w[KMAX * KMAX];
        static char work[SB_ALIAS_WORK_BYTES(KMAX * KMAX)];
        float qi[KMAX], qmax = 0.0f;
        for (int i = 0; i < k * k; i++) w[i] = sb_rng_next_unit(&r);
        sb_alias_build(tab, w, k * k, work);
        for (int a = 0; a < k; a++) qi[a] = 0.05f + sb_rng_next_unit(&r), qmax = qi[a] > qmax ? qi[a] : qmax;
        const float scale = qmax * (1.0f / 16777216.0f);
        for (size_t c = 0; c < sizeof wants / sizeof wants[0]; c++) {
            uint16_t ref[NW + 8], got[NW + 8];
            int64_t e = 0, e2 = 0;
            int used = 0;
            for (; used + 2 <= NW && e < wants[c]; used += 2) {
                const int32_t ab = sb_alias_draw(tab, (uint32_t)(k * k), words[used]);
                ref[e] = (uint16_t)(ab % k);
                e += (float)(words[used + 1] >> 8) * scale < qi[ab / k];
            }
            const int used2 = sb_flat_pairs_avx2(tab, (uint32_t)(k * k), k, qi, scale, words, NW, got, &e2, wants[c]);
            flat_ok &= e == e2 && used == used2 && !memcmp(ref, got, sizeof(uint16_t) * (size_t)e);
        }
        /* keys over nr positions by a 16-bit table, ties resolved on K̂; every
         * third trial without padding (real the identity, passed as NULL), and
         * four trials with nr a power of two (1, 64, 256, 1024), unpadded */
        const int pow2_nr[] = {1, 64, 256, 1024}, pow2 = trial % 10 == 3;
        const int nr = pow2 ? pow2_nr[trial / 10] : 37 + trial * 13, identity = trial % 3 == 0 || pow2;
        uint16_t *q16 = malloc(sizeof(uint16_t) * ((size_t)nr + 1));
        int32_t *real = malloc(sizeof(int32_t) * (size_t)nr);
        float *kh = malloc(sizeof(float) * (size_t)nr), mx = 0.0f;
        for (int j = 0; j < nr; j++)
            kh[j] = sb_rng_next_unit(&r), mx = kh[j] > mx ? kh[j] : mx, real[j] = identity ? j : 3 * j + 1;
        for (int j = 0; j < nr; j++) {
            const float f = kh[j] * (65536.0f / mx);
            q16[j] = (uint16_t)(f >= 65535.0f ? 65535.0f : f);
        }
        /* plant ties: make some words hit their slot's 16-bit value */
        for (int i = trial % 5; i < NW; i += 9) {
            const uint64_t p = (uint64_t)words[i] * (uint32_t)nr;
            const uint32_t slot = (uint32_t)(p >> 32), inv = (uint32_t)(((uint64_t)slot << 32) / (uint32_t)nr);
            words[i] = inv + (((uint32_t)q16[slot] << 16) + 12345u) / (uint32_t)nr + 1u;
        }
        for (size_t c = 0; c < sizeof wants / sizeof wants[0]; c++) {
            int32_t ref[NW + 8], got[NW + 8];
            int64_t e = 0, e2 = 0;
            int used = 0;
            for (; used < NW && e < wants[c]; used++) e += key_try(words[used], nr, q16, real, kh, mx, ref + e, &ties);
            int used2 = 0;
            while (used2 < NW && e2 < wants[c]) {
                used2 += sb_reject_keys_avx2(q16, identity ? NULL : real, (uint32_t)nr, words + used2,
                                             (NW - used2) & ~7, got, &e2, wants[c]);
                for (int i = 0; i < 8 && used2 < NW && e2 < wants[c]; i++, used2++)
                    e2 += key_try(words[used2], nr, q16, real, kh, mx, got + e2, NULL);
            }
            keys_ok &= e == e2 && used == used2 && !memcmp(ref, got, sizeof(int32_t) * (size_t)e);
        }
        free(q16), free(real), free(kh);
    }
    tu_check(flat_ok, "AVX2 flat-row pair tries: the scalar loop's pairs and words, 320 cases");
    tu_check(keys_ok && ties > 100, "AVX2 key tries: the scalar loop's keys and words, 320 cases (%d ties)", ties);
#else
    printf("SKIP  AVX2 rejection kernels: not an AVX2 build\n");
#endif
}

/* The AVX2 flat kernel where random words rarely go: (1) every slot ab of
 * k² at k = 41 (where the float quotient ab / k first undershoots), 3433
 * (first overshoots) and 4095, on a uniform table that always keeps its slot
 * and with every try accepted: b must be ab % k (the quotient's corrections
 * are dead code at the k the random cases use); (2) acceptance words exactly
 * at q_a (u == q_a / qmax): the scalar loop's strict u < q_a rejects them. */
static void test_flat_kernel_edges(void) {
#ifdef __AVX2__
    const int ks[] = {41, 3433, 4095};
    long bad = 0;
    for (int t = 0; t < 3; t++) {
        const int k = ks[t];
        const uint32_t kk = (uint32_t)(k * k);
        sb_alias_slot *tab = malloc(sizeof(sb_alias_slot) * kk);
        for (uint32_t ab = 0; ab < kk; ab++) tab[ab].threshold = 0xFFFFFFFFu, tab[ab].alias = (int32_t)ab;
        float *qi = tu_alloc((size_t)k + 8);
        for (int a = 0; a < k + 8; a++) qi[a] = 1.0f;
        uint32_t words[16];
        uint16_t out[16];
        for (uint32_t ab0 = 0; ab0 < kk; ab0 += 8) {
            for (int l = 0; l < 8; l++) {
                const uint64_t ab = ab0 + l < kk ? ab0 + l : kk - 1;
                words[2 * l] = (uint32_t)(((ab << 32) + kk - 1) / kk); /* the smallest word whose slot is ab */
                words[2 * l + 1] = 0;                                   /* u = 0: accepted */
            }
            int64_t e = 0;
            sb_flat_pairs_avx2(tab, kk, k, qi, 1.0f / 16777216.0f, words, 16, out, &e, 8);
            for (int l = 0; l < 8; l++) bad += e != 8 || out[l] != (ab0 + l < kk ? ab0 + l : kk - 1) % (uint32_t)k;
        }
        free(tab), free(qi);
    }
    tu_check(bad == 0, "AVX2 flat kernel: b = ab %% k for every slot at k = 41, 3433, 4095 (%ld wrong)", bad);
    enum { KT = 8 };
    sb_alias_slot tab[KT * KT];
    float w[KT * KT], qi[KT + 8];
    static char work[SB_ALIAS_WORK_BYTES(KT * KT)];
    for (int i = 0; i < KT * KT; i++) w[i] = 1.0f;
    sb_alias_build(tab, w, KT * KT, work);
    for (int a = 0; a < KT + 8; a++) qi[a] = a == 0 ? 1.0f : 0.5f;
    sb_rng_reader r = tu_rng(95);
    uint32_t words[64];
    for (int i = 0; i < 64; i++) words[i] = i % 2 ? 0x80000000u : sb_rng_next_u32(&r); /* u = 0.5 exactly */
    const float scale = 1.0f / 16777216.0f;
    uint16_t ref[40], got[40];
    int64_t e = 0, e2 = 0;
    int used = 0;
    for (; used + 2 <= 64 && e < 20; used += 2) {
        const int32_t ab = sb_alias_draw(tab, KT * KT, words[used]);
        ref[e] = (uint16_t)(ab % KT);
        e += (float)(words[used + 1] >> 8) * scale < qi[ab / KT];
    }
    const int used2 = sb_flat_pairs_avx2(tab, KT * KT, KT, qi, scale, words, 64, got, &e2, 20);
    tu_check(e == e2 && used == used2 && !memcmp(ref, got, sizeof(uint16_t) * (size_t)e),
             "AVX2 flat kernel at u == q_a: the scalar loop's verdicts (%lld and %lld accepted, %d and %d words)",
             (long long)e, (long long)e2, used, used2);
#else
    printf("SKIP  AVX2 flat kernel edge cases: not an AVX2 build\n");
#endif
}

/* be->rng_words, the words fastRG reports generating (the benchmark's
 * words per edge), replayed from the graph. Equal memberships c and a
 * uniform block matrix make every rate c², every row and cluster flat and
 * every rejection try accepted (its test compares with the maximum itself).
 * Each row's count is Poisson(λ = n c² = 6), drawn by inversion from one
 * uniform: one Philox block, 4 words. A row with edges (a row without has
 * drawn none: no δ, no self-loops) uses 2 words per drawn edge, at most
 * about 20 of them, so exactly one 64-word refill. What is left is the key
 * pools': one word per drawn edge plus each (chunk, cluster) pool's unused
 * refill tail, under 64; drawn edges exceed merged ones by the duplicates,
 * about 0.5% at this rate. Dropping or doubling any of the three sources
 * breaks one of the checks (4 x rows is 32 mod 64 here). */
static void test_word_count(sb_backend *be) {
    enum { NW = 600, G = 9 };
    const float c = 0.1f;
    float *qh = tu_alloc((size_t)G * NW * K), *S = tu_alloc(K * K);
    for (size_t i = 0; i < (size_t)G * NW * K; i++) qh[i] = c;
    for (int i = 0; i < K * K; i++) S[i] = 1.0f / (K * K);
    sb_csr g = {0};
    be->rng_words = 5;
    be->sbm_sample(be, &g, qh, qh, S, NULL, G, 1, NW, K, 0.0f, 0, SB_SAMPLER_FASTRG,
                   sb_rng_make(9, SB_RNG_ATTN, 0, 0, 0, 0));
    const int64_t words = be->rng_words - 5, rows = (int64_t)G * NW, pools = (int64_t)G * 3 * K; /* 3 chunks */
    int64_t nonempty = 0;
    for (int64_t r = 0; r < rows; r++) nonempty += g.row_ptr[r + 1] > g.row_ptr[r];
    const int64_t pool_words = words - 4 * rows - 64 * nonempty;
    const double pool_max = 1.02 * (double)g.nnz + 64.0 * (double)pools;
    tu_check(pool_words % 64 == 0 && pool_words >= g.nnz && (double)pool_words <= pool_max,
             "fastRG reports the words it generated: %lld = 4 x %lld rows (Poisson) + 64 x %lld rows with edges + "
             "%lld for the key pools (%lld edges, %lld pools)",
             (long long)words, (long long)rows, (long long)nonempty, (long long)pool_words, (long long)g.nnz,
             (long long)pools);
    sb_csr_free(be, &g);
    free(qh), free(S);
}

/* δ keys past SB_ONE_WORD_MAX real positions take two words each: with no
 * SBM edges (memberships 0) and about 100 δ edges a row at n = 70003, the
 * words generated are at least 4 a row (its Poisson counts) plus 2 per
 * merged edge. A one-word δ key (biased by at most n / 2^32, below what any
 * frequency test sees) uses half. */
static void test_delta_two_words(sb_backend *be) {
    enum { NL = 70003 };
    float *q = tu_alloc(NL), S[1] = {0.5f};
    memset(q, 0, sizeof(float) * NL);
    sb_csr g = {0};
    be->rng_words = 0;
    be->sbm_sample(be, &g, q, q, S, NULL, 1, 1, NL, 1, 100.0f / NL, 0, SB_SAMPLER_FASTRG,
                   sb_rng_make(14, SB_RNG_ATTN, 0, 0, 0, 0));
    tu_check(be->rng_words >= 4LL * NL + 2 * g.nnz && g.nnz > 50LL * NL,
             "δ keys past 65536 positions take two words: %lld words >= 4 x rows + 2 x %lld edges",
             (long long)be->rng_words, (long long)g.nnz);
    sb_csr_free(be, &g);
    free(q);
}

/* Tables past SB_ONE_WORD_MAX slots draw from two words as one 64-bit
 * uniform X = x 2^32 + y: sb_mul_shift2 must be the top 64 bits of X n / 2^32
 * exactly, so the slot is floor(X n / 2^64) and the alias decision reads the
 * fraction's next 32 bits. Checked against 128-bit arithmetic. */
static void test_two_word_draws(void) {
    sb_rng_reader r = tu_rng(31);
    const uint32_t sizes[] = {1, 3, 65536, 65537, 90000, 1000003, 1u << 24, (1u << 24) - 1, 4294967295u};
    long bad = 0, bad_pick = 0;
    for (int t = 0; t < 200000; t++) {
        const uint32_t x = sb_rng_next_u32(&r), y = sb_rng_next_u32(&r);
        const uint32_t n = t < 9 * 1000 ? sizes[t % 9] : 1 + sb_rng_next_u32(&r) % (1u << 24);
        const unsigned __int128 X = ((unsigned __int128)x << 32) | y;
        const uint64_t exact = (uint64_t)((X * n) >> 32), got = sb_mul_shift2(x, y, n);
        bad += got != exact;
    }
    /* the alias decision, on a 2-slot table whose slots keep below th (else take the other) */
    for (int t = 0; t < 20000; t++) {
        const uint32_t x = sb_rng_next_u32(&r), y = sb_rng_next_u32(&r), th = sb_rng_next_u32(&r);
        const unsigned __int128 X = ((unsigned __int128)x << 32) | y, P = X * 2;
        const int slot = (int)(P >> 64), keep = (uint32_t)(P >> 32) < th;
        const sb_alias_slot tab[2] = {{th, 1}, {th, 0}};
        bad_pick += sb_alias_pick(tab, sb_mul_shift2(x, y, 2)) != (keep ? slot : 1 - slot);
    }
    tu_check(bad == 0, "two-word draws: sb_mul_shift2 is the top of the 96-bit product (%ld wrong of 200000)", bad);
    tu_check(bad_pick == 0, "two-word draws: the alias decision reads the fraction's next 32 bits (%ld wrong)",
             bad_pick);
}

enum { KB = 300 };

/* Edge frequencies of k = 300 memberships [N, KB] against 1 - exp(-p). */
static void large_pair_case(sb_backend *be, const float *qh, const float *kh, const float *S, int padded,
                            const char *name) {
    static small_sbm m; /* its p and mask; the memberships are the caller's */
    for (int i = 0; i < N; i++) m.mask[i] = i == padded ? 0.0f : 1.0f;
    edge_probs(qh, kh, S, KB, m.p);
    long *count = calloc((size_t)N * N, sizeof(long));
    const int ok = draw_counts_k(be, qh, kh, S, m.mask, KB, SB_SAMPLER_FASTRG, 0.0f, 0, count);
    int dof;
    long pads, loops;
    const double chi2 = edge_chi2(&m, count, prob_poisson, 0.0, 0, &dof, &pads, &loops);
    char full[160];
    snprintf(full, sizeof full, "%s: edge frequencies chi2/bound", name);
    tu_report(full, chi2 / chi2_bound(dof), 1.0);
    tu_check(ok && pads == 0, "%s: CSR sorted and unique, no edge at a padded position (%ld)", name, pads);
    free(count);
}

/* k = 300: the pair table has k² = 90000 slots, past SB_ONE_WORD_MAX, so
 * flat rows try pairs with three words (two for the pair, one for the
 * acceptance). Random memberships, then revealing ones: S pairs cluster a
 * with a + 150 only, key j owns clusters 50j .. 50j + 49, and rows put 0.1
 * on one half of the clusters and 0.9 on the other, so which key group a
 * row reaches shows which a its tries accepted. */
static void test_large_pair_table(sb_backend *be) {
    N = 6, COPIES = 500, CALLS = 4;
    float *qh = tu_alloc((size_t)N * KB), *kh = tu_alloc((size_t)N * KB), *S = tu_alloc((size_t)KB * KB);
    tu_fill_uniform(qh, (size_t)N * KB, 0.05f, 0.95f, 40);
    tu_fill_uniform(kh, (size_t)N * KB, 0.05f, 0.95f, 41);
    tu_fill_normal(S, (size_t)KB * KB, 1.0f, 42);
    double z = 0.0;
    for (int i = 0; i < KB * KB; i++) z += exp(S[i]);
    for (int i = 0; i < KB * KB; i++) S[i] = (float)(exp(S[i]) / z);
    large_pair_case(be, qh, kh, S, 2, "fastRG, k 300 (pair table past one word)");
    memset(S, 0, sizeof(float) * KB * KB);
    for (int a = 0; a < KB; a++) S[a * KB + (a + KB / 2) % KB] = 0.006f;
    for (int j = 0; j < N; j++)
        for (int b = 0; b < KB; b++) kh[j * KB + b] = b / 50 == j ? 1.0f : 0.01f;
    tu_fill_uniform(qh, (size_t)N * KB, 0.05f, 0.95f, 92);
    for (int a = 0; a < KB; a++) qh[a] = a < KB / 2 ? 0.1f : 0.9f, qh[KB + a] = a < KB / 2 ? 0.9f : 0.1f;
    large_pair_case(be, qh, kh, S, -1, "fastRG, k 300, revealing memberships");
    free(qh), free(kh), free(S);
}

/* n = 70003 with 3 padded positions: 70000 real keys, past SB_ONE_WORD_MAX,
 * so key tries, key alias tables and δ keys draw from two words. Two key
 * clusters: 0 peaked (ten keys 200 times heavier: an alias table), 1 flat
 * (rejection); every row the same, so key j's in-degree is Binomial(rows,
 * 1 - exp(-(p_j + δ))): a chi-square over all real keys. */
static void test_large_key_range(sb_backend *be) {
    enum { NL = 70003, KL = 2 };
    float *qh = tu_alloc((size_t)NL * KL), *kh = tu_alloc((size_t)NL * KL), *mask = tu_alloc(NL);
    const float S[KL * KL] = {0.5f, 0.0f, 0.0f, 0.5f}, delta = 1e-4f;
    for (int i = 0; i < NL; i++) {
        mask[i] = (i == 5 || i == 40000 || i == NL - 1) ? 0.0f : 1.0f;
        qh[i * KL] = qh[i * KL + 1] = 1.0f;
        kh[i * KL] = (i % 7001 == 3 ? 200.0f : 1.0f) * 2e-4f; /* keys 3, 7004, ..., 63012: ten heavy ones */
        kh[i * KL + 1] = 4e-4f;
    }
    sb_csr g = {0};
    be->sbm_sample(be, &g, qh, kh, S, mask, 1, 1, NL, KL, delta, 0, SB_SAMPLER_FASTRG,
                   sb_rng_make(12, SB_RNG_ATTN, 0, 0, 0, 0));
    long *indeg = calloc(NL, sizeof(long));
    int ok = 1;
    long rows = 0;
    for (int i = 0; i < NL; i++) {
        rows += mask[i] > 0.0f;
        ok &= mask[i] > 0.0f || g.row_ptr[i + 1] == g.row_ptr[i];
        for (int64_t e = g.row_ptr[i]; e < g.row_ptr[i + 1]; e++) {
            ok &= g.col[e] >= 0 && g.col[e] < NL && (e == g.row_ptr[i] || g.col[e - 1] < g.col[e]);
            if (g.col[e] >= 0 && g.col[e] < NL) indeg[g.col[e]]++;
        }
    }
    double chi2 = 0.0, heavy = 0.0, heavy_expect = 0.0;
    int dof = 0;
    long pads = 0;
    for (int j = 0; j < NL; j++) {
        if (mask[j] == 0.0f) {
            pads += indeg[j];
            continue;
        }
        const double p = 0.5 * kh[j * KL] + 0.5 * kh[j * KL + 1] + delta, pi = 1.0 - exp(-p);
        chi2 += (indeg[j] - rows * pi) * (indeg[j] - rows * pi) / (rows * pi * (1.0 - pi));
        dof++;
        if (kh[j * KL] > 1e-3f) heavy += indeg[j], heavy_expect += rows * pi;
    }
    tu_report("fastRG, 70000 real keys (two-word key draws): key in-degrees chi2/bound", chi2 / chi2_bound(dof), 1.0);
    tu_check(fabs(heavy - heavy_expect) < 5.0 * sqrt(heavy_expect),
             "fastRG, 70000 real keys: the ten heavy keys get %.0f edges (expected %.0f)", heavy, heavy_expect);
    tu_check(ok && pads == 0, "fastRG, 70000 real keys: CSR sorted and unique, no padded row or key (%ld)", pads);
    sb_csr_free(be, &g);
    free(indeg), free(qh), free(kh), free(mask);
}

/* n = 2^22 keys, k = 1, memberships 0.4 ± 0.025: the edge count of the
 * first 8192 rows (rate 10 each; the other rows have none) is Poisson with
 * mean 81920 a call. The key column sum must not drift: summed in float, each
 * add past 2^22 rounds by a large part of a membership, and the count came
 * out 3% low (15 standard deviations over 3 calls; 15% high at n = 2^24). */
static void test_long_sequence_rates(sb_backend *be) {
    enum { NL = 1 << 22, ROWS = 8192, CALLS_L = 3 };
    float *qh = tu_alloc(NL), *kh = tu_alloc(NL);
    uint32_t st = 1;
    double ck = 0.0;
    for (int i = 0; i < NL; i++) {
        st = st * 1664525u + 1013904223u;
        kh[i] = 0.4f + 0.05f * ((float)(st >> 8) / 16777216.0f - 0.5f);
        ck += kh[i];
        qh[i] = i < ROWS ? 1.0f : 0.0f;
    }
    const float S = (float)(10.0 / ck);
    const double expect = (double)ROWS * S * ck * CALLS_L;
    sb_csr g = {0};
    long long total = 0;
    for (int c = 0; c < CALLS_L; c++) {
        be->sbm_sample(be, &g, qh, kh, &S, NULL, 1, 1, NL, 1, 0.0f, 0, SB_SAMPLER_FASTRG,
                       sb_rng_make(31, SB_RNG_ATTN, (uint32_t)c, 0, 0, 0));
        total += g.nnz;
    }
    /* duplicates: with 10 edges a row among 2^22 keys, about 1e-5 of them merge */
    const double z = ((double)total - expect) / sqrt(expect);
    tu_check(fabs(z) < 4.0, "fastRG, n = 2^22: %lld edges over %d calls, expected %.0f (z = %.1f)", total, CALLS_L,
             expect, z);
    sb_csr_free(be, &g);
    free(qh), free(kh);
}

/* The sampler refuses what it cannot draw correctly, with exit status 2 and
 * a message: k outside 1..4096, and the Bernoulli sampler past n = 2^17,
 * where its rows' Philox ranges would wrap. Each call runs in a child. */
static void expect_refusal(sb_backend *be, int n, int k, int sampler, const char *what) {
    fflush(NULL);
    const pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr)) _exit(1);
        float *q = calloc((size_t)n * k, sizeof(float)), *S = calloc((size_t)k * k + 1, sizeof(float));
        sb_csr g = {0};
        be->sbm_sample(be, &g, q, q, S, NULL, 1, 1, n, k, 0.0f, 0, sampler, sb_rng_make(1, SB_RNG_ATTN, 0, 0, 0, 0));
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    tu_check(WIFEXITED(status) && WEXITSTATUS(status) == 2, "the sampler refuses %s (exit status %d)", what,
             WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* The AVX-512 bitmap read-back against the portable one (cpu_bitmap_rows.h),
 * which the sampler's graphs were checked with: the same positions in the
 * same order, the same count, every word cleared, on rows of 1 to 70 words
 * at densities from empty to full (a full word takes four groups of 16), and
 * nothing written past the count plus SB_BITS_AVX512_SLACK. */
static void test_bitmap_readback(void) {
#ifdef __AVX512VBMI2__
    enum { MAXW = 70, CAP = MAXW * 64 + 64 };
    const double dens[] = {0.0, 0.01, 0.05, 0.2, 0.26, 0.5, 0.9, 1.0};
    sb_rng_reader r = tu_rng(47);
    int ok = 1, cases = 0;
    for (int nw = 1; nw <= MAXW; nw++) {
        for (size_t di = 0; di < sizeof dens / sizeof dens[0]; di++) {
            uint64_t a[MAXW], b[MAXW];
            for (int x = 0; x < nw; x++) {
                uint64_t v = 0;
                for (int bit = 0; bit < 64; bit++) v |= (uint64_t)(sb_rng_next_unit(&r) < dens[di]) << bit;
                a[x] = b[x] = v;
            }
            static int32_t pa[CAP], pb[CAP];
            for (int i = 0; i < CAP; i++) pb[i] = -7; /* a guard everywhere */
            const int64_t na = sb_bits_to_positions(a, nw, pa, 8);
            const int64_t nb = sb_bits_to_positions_avx512(b, nw, pb);
            int cleared = 1, guarded = 1;
            for (int x = 0; x < nw; x++) cleared &= a[x] == 0 && b[x] == 0;
            for (int64_t i = na + SB_BITS_AVX512_SLACK; i < CAP; i++) guarded &= pb[i] == -7;
            ok &= na == nb && !memcmp(pa, pb, sizeof(int32_t) * (size_t)na) && cleared && guarded;
            cases++;
        }
    }
    tu_check(ok, "AVX-512 bitmap read-back: the portable form's positions, %d rows of 1-70 words, 0-100%% full", cases);
#else
    printf("SKIP  AVX-512 bitmap read-back: not an AVX-512 VBMI2 build\n");
#endif
}

int main(void) {
    sb_backend *be = sb_backend_cpu_create(0);
    test_two_word_draws();
    expect_refusal(be, 8, 0, SB_SAMPLER_FASTRG, "k = 0");
    expect_refusal(be, 8, 4097, SB_SAMPLER_FASTRG, "k = 4097");
    expect_refusal(be, (1 << 17) + 1, 1, SB_SAMPLER_BERNOULLI, "the Bernoulli sampler at n = 2^17 + 1");
    test_reject_kernels();
    test_flat_kernel_edges();
    test_bitmap_readback();
    test_alias();
    test_poisson();
    test_long_sequence_rates(be);
    static small_sbm m;
    make_small(&m, 0.95f);
    test_sampler(be, &m, SB_SAMPLER_FASTRG, 0.0f, 0, "fastRG");
    test_sampler(be, &m, SB_SAMPLER_FASTRG, 0.3f, 0, "fastRG, delta 0.3");
    test_sampler(be, &m, SB_SAMPLER_FASTRG, 0.05f, 1, "fastRG, delta 0.05, self-loops");
    {   /* peaked memberships: each cluster dominated by one position, so the
         * sampler uses alias tables instead of rejection for its endpoints */
        static small_sbm pk;
        pk = m;
        for (int i = 0; i < N; i++)
            for (int a = 0; a < K; a++)
                if (i != a) pk.qhat[i * K + a] *= 0.03f, pk.khat[i * K + a] *= 0.03f;
        edge_probs(pk.qhat, pk.khat, pk.S, K, pk.p);
        test_sampler(be, &pk, SB_SAMPLER_FASTRG, 0.02f, 0, "fastRG, peaked memberships (alias tables)");
    }
    {   /* rows whose cluster draws show in the edges (make_revealing) */
        N = 8;
        static small_sbm rv;
        make_revealing(&rv);
        test_sampler(be, &rv, SB_SAMPLER_FASTRG, 0.0f, 0, "fastRG, cluster-revealing memberships");
        N = 6;
    }
    test_sampler(be, &m, SB_SAMPLER_BERNOULLI, 0.0f, 0, "Bernoulli");
    test_sampler(be, &m, SB_SAMPLER_BERNOULLI, 0.2f, 1, "Bernoulli, delta 0.2, self-loops");
    {   /* δ alone: memberships zero, so every real pair has rate δ */
        static small_sbm z;
        z = m;
        memset(z.qhat, 0, sizeof z.qhat);
        memset(z.p, 0, sizeof z.p);
        test_sampler(be, &z, SB_SAMPLER_FASTRG, 0.1f, 0, "fastRG, zero memberships, delta 0.1");
        long *count = calloc((size_t)N * N, sizeof(long));
        draw_counts(be, &z, SB_SAMPLER_FASTRG, 0.0f, 0, count);
        long total = 0;
        for (int i = 0; i < N * N; i++) total += count[i];
        tu_check(total == 0, "fastRG: zero memberships and no delta give no edge (%ld)", total);
        free(count);
    }
    check_thread_invariance(be, &m, "fastRG, n 6", 3);
    {   /* n = 130, rates of a few percent: short rows */
        N = 130, COPIES = 400, CALLS = 5;
        static small_sbm w;
        make_small(&w, 0.3f);
        test_sampler(be, &w, SB_SAMPLER_FASTRG, 0.005f, 0, "fastRG, n 130, sparse rows");
        test_sampler(be, &w, SB_SAMPLER_FASTRG, 0.0f, 1, "fastRG, n 130, self-loops");
        /* dense rows at n = 130: the Bernoulli sampler's edge list grows many times */
        static small_sbm dn;
        make_small(&dn, 0.95f);
        test_sampler(be, &dn, SB_SAMPLER_BERNOULLI, 0.1f, 0, "Bernoulli, n 130, dense rows");
    }
    {   /* n = 600: several row chunks, each with its own key pools */
        N = 600, COPIES = 40, CALLS = 5;
        static small_sbm c;
        make_small(&c, 0.3f);
        test_sampler(be, &c, SB_SAMPLER_FASTRG, 0.01f, 1, "fastRG, n 600 (three row chunks), delta, self-loops");
        check_thread_invariance(be, &c, "fastRG, n 600", 3);
        check_thread_invariance(be, &c, "fastRG, n 600", 1);
        test_chunk_independence(be);
    }
    test_word_count(be);
    test_delta_two_words(be);
    test_large_pair_table(be);
    test_large_key_range(be);
    sb_backend_destroy(be);
    return tu_finish();
}
