/* The fastRG sampler's inner loops alone, on one thread, in cache: the
 * vectorised Philox generator, the flat rows' cluster-pair tries and the
 * flat clusters' key tries (core/cpu/cpu_sbm_reject_avx2.h), per word or
 * per try, and the read-back of a row's bitmap of keys as sorted positions
 * (core/cpu/cpu_bitmap_rows.h), per position, at --density of nr bits set.
 * These are the numbers the sampler's commits quote; the whole sampler is
 * timed by bench_sbm_attention.
 *
 *   bench_sampler_kernels [--k 128] [--nr 4096] [--density 0.05] [--reps 50] [--rounds 3]
 *
 * Each figure is the best of reps passes over 64 Ki words, and each kernel
 * runs `rounds` times interleaved with the others, so a slow spell of the
 * machine shows up as one disagreeing round instead of a biased figure. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench/bench_args.h"
#include "core/cpu/cpu_bitmap_rows.h"
#include "core/cpu/cpu_philox16.h"
#include "core/cpu/cpu_sbm_reject_avx2.h"
#include "core/philox.h"
#include "core/sbm_sampling.h"

enum { WORDS = 1 << 16, BITMAP_ROWS = 64 };

/* Best seconds of reps calls of f(arg). */
static double best_of(int reps, void (*f)(void *), void *arg) {
    double best = 1e30;
    for (int r = 0; r <= reps; r++) { /* r = 0 warms up */
        const double t0 = omp_get_wtime();
        f(arg);
        const double t = omp_get_wtime() - t0;
        if (r > 0 && t < best) best = t;
    }
    return best;
}

typedef struct {
    uint32_t *words;        /* [WORDS] random words */
    int k, nr;
    sb_alias_slot *tab;     /* [k*k] the pair table */
    float *qi, scale;       /* [k] a flat row's memberships, its acceptance scale */
    uint16_t *q16;          /* [nr + 2] a flat cluster's 16-bit acceptance table */
    int32_t *real;          /* [nr] real positions (3j/2: a third of the positions padded out) */
    uint16_t *pairs;        /* [WORDS + 16] pair output */
    int32_t *keys;          /* [WORDS + 8] key output */
    int nw;                 /* 64-bit words of a bitmap row, (nr + 63) / 64 */
    uint64_t *rows, *row;   /* [BITMAP_ROWS, nw] bitmaps of keys; [nw] the one being read back */
    int32_t *positions;     /* [nr + 16] read-back output */
    int64_t row_set[BITMAP_ROWS]; /* bits set per row (the portable form's rounds depend on it) */
} kernels;

static volatile uint32_t philox_sink; /* keeps the Philox words live */

static void philox_pass(void *arg) {
    const sb_rng_stream s = sb_rng_make(11, SB_RNG_ATTN, 0, 0, 0, 0);
    (void)arg;
    uint32_t buf[64], sink = 0;
    for (uint32_t b = 0; b < WORDS / 64; b++) {
        sb_philox16_fill(&s, 16 * b, buf);
        sink ^= buf[b & 63];
    }
    philox_sink = sink;
}

#ifdef __AVX2__
static void flat_pairs_pass(void *arg) {
    kernels *K = arg;
    int64_t e = 0;
    sb_flat_pairs_avx2(K->tab, (uint32_t)(K->k * K->k), K->k, K->qi, K->scale, K->words, WORDS, K->pairs, &e, WORDS);
}

/* Key tries over the whole word array; a step with a tie goes one word at a
 * time past it, as draw_keys hands it to the scalar loop. */
static void keys_pass(kernels *K, const int32_t *real) {
    int64_t e = 0;
    int used = 0;
    while (used + 8 <= WORDS) {
        used += sb_reject_keys_avx2(K->q16, real, (uint32_t)K->nr, K->words + used, (WORDS - used) & ~7, K->keys,
                                    &e, WORDS);
        if (used + 8 <= WORDS) used++; /* a tie: skip a word (the pass accepts fewer than WORDS keys) */
    }
}
static void keys_identity_pass(void *arg) { keys_pass(arg, NULL); }
static void keys_gather_pass(void *arg) {
    kernels *K = arg;
    keys_pass(K, K->real);
}
#endif

/* Every bitmap row copied and read back, as the sampler reads a row it has
 * marked (the copies' cost is in both figures; the portable form's rounds
 * chosen by the row's count, as the sampler chooses them by its draws). */
static void readback_pass(kernels *K, int avx512) {
    for (int r = 0; r < BITMAP_ROWS; r++) {
        memcpy(K->row, K->rows + (size_t)r * K->nw, sizeof(uint64_t) * (size_t)K->nw);
#ifdef __AVX512VBMI2__
        if (avx512) {
            sb_bits_to_positions_avx512(K->row, K->nw, K->positions);
            continue;
        }
#endif
        (void)avx512;
        sb_bits_to_positions_portable(K->row, K->nw, K->row_set[r], K->positions);
    }
}
static void readback_portable_pass(void *arg) { readback_pass(arg, 0); }
#ifdef __AVX512VBMI2__
static void readback_avx512_pass(void *arg) { readback_pass(arg, 1); }
#endif

int main(int argc, char **argv) {
    int k = 128, nr = 4096, reps = 50, rounds = 3;
    double density = 0.05;
    for (int i = 1; i < argc; i++) {
        if (bench_int(argc, argv, &i, "--k", &k) || bench_int(argc, argv, &i, "--nr", &nr) ||
            bench_double(argc, argv, &i, "--density", &density) || bench_int(argc, argv, &i, "--reps", &reps) ||
            bench_int(argc, argv, &i, "--rounds", &rounds))
            continue;
        fprintf(stderr, "usage: %s [--k K] [--nr NR] [--density D] [--reps R] [--rounds N]\n", argv[0]);
        return 2;
    }
    if (k < 1 || k > 4096 || nr < 1 || nr > (1 << 24) || reps < 1 || rounds < 1 || !(density > 0.0 && density <= 1.0)) {
        fprintf(stderr, "%s: need 1 <= k <= 4096, 1 <= nr <= 2^24, 0 < density <= 1, reps and rounds >= 1\n",
                argv[0]);
        return 2;
    }
    kernels K = {.k = k, .nr = nr};
    K.words = malloc(sizeof(uint32_t) * WORDS);
    K.tab = malloc(sizeof(sb_alias_slot) * (size_t)k * k);
    K.qi = malloc(sizeof(float) * (size_t)k);
    K.q16 = malloc(sizeof(uint16_t) * ((size_t)nr + 2));
    K.real = malloc(sizeof(int32_t) * (size_t)nr);
    K.pairs = malloc(sizeof(uint16_t) * (WORDS + 16));
    K.keys = malloc(sizeof(int32_t) * (WORDS + 8));
    K.nw = (nr + 63) / 64;
    K.rows = calloc((size_t)BITMAP_ROWS * K.nw, sizeof(uint64_t));
    K.row = malloc(sizeof(uint64_t) * (size_t)K.nw);
    K.positions = malloc(sizeof(int32_t) * ((size_t)nr + 16));
    float *w = malloc(sizeof(float) * (size_t)k * k);
    void *work = malloc(SB_ALIAS_WORK_BYTES(k * k));
    /* flat weights, as the bench's memberships give: uniform in [0.5, 1.5]
     * for the table, [0.6, 1] for the row and the keys */
    sb_rng_reader r;
    sb_rng_reader_init(&r, sb_rng_make(12, SB_RNG_INIT, 0, 0, 0, 0));
    for (int i = 0; i < WORDS; i++) K.words[i] = sb_rng_next_u32(&r);
    for (int i = 0; i < k * k; i++) w[i] = 0.5f + sb_rng_next_unit(&r);
    sb_alias_build(K.tab, w, k * k, work);
    float qmax = 0.0f;
    for (int a = 0; a < k; a++) K.qi[a] = 0.6f + 0.4f * sb_rng_next_unit(&r), qmax = K.qi[a] > qmax ? K.qi[a] : qmax;
    K.scale = qmax * (1.0f / 16777216.0f);
    for (int j = 0; j < nr; j++) K.q16[j] = (uint16_t)(39321 + sb_rng_next_u32(&r) % 26214), K.real[j] = 3 * j / 2;
    K.q16[nr] = K.q16[nr + 1] = 0;
    int64_t set = 0; /* the bits set in all the rows */
    for (int i = 0; i < BITMAP_ROWS; i++) {
        K.row_set[i] = 0;
        for (int j = 0; j < nr; j++)
            if (sb_rng_next_unit(&r) < density) K.rows[(size_t)i * K.nw + j / 64] |= 1ull << (j % 64), K.row_set[i]++;
        set += K.row_set[i];
    }
    printf("sampler kernels, one thread, %d words a pass, best of %d per round: k = %d, nr = %d\n", WORDS, reps, k,
           nr);
#ifdef __AVX2__
    printf("%6s %14s %16s %18s %18s\n", "round", "Philox ns/word", "pair ns/try", "keys ns/try", "keys ns/try");
    printf("%6s %14s %16s %18s %18s\n", "", "", "(k^2 table)", "(no padding)", "(gathered keys)");
#else
    printf("%6s %14s   (not an AVX2 build: the vector try loops are not compiled)\n", "round", "Philox ns/word");
#endif
    const double per = set > 0 ? 1e9 / (double)set : 0.0;
    double *rb = malloc(sizeof(double) * 2 * (size_t)rounds); /* each round's read-back figures */
    for (int round = 1; round <= rounds; round++) {
        rb[2 * (round - 1)] = best_of(reps, readback_portable_pass, &K) * per;
#ifdef __AVX512VBMI2__
        rb[2 * (round - 1) + 1] = best_of(reps, readback_avx512_pass, &K) * per;
#endif
        const double tp = best_of(reps, philox_pass, &K) / WORDS;
#ifdef __AVX2__
        const double tf = best_of(reps, flat_pairs_pass, &K) / (WORDS / 2);
        const double ti = best_of(reps, keys_identity_pass, &K) / WORDS;
        const double tg = best_of(reps, keys_gather_pass, &K) / WORDS;
        printf("%6d %14.3f %16.3f %18.3f %18.3f\n", round, 1e9 * tp, 1e9 * tf, 1e9 * ti, 1e9 * tg);
#else
        printf("%6d %14.3f\n", round, 1e9 * tp);
#endif
    }
    printf("bitmap read-back, %d rows of %d bits, %.1f%% set, ns/position:\n", BITMAP_ROWS, nr,
           100.0 * (double)set / ((double)BITMAP_ROWS * nr));
    for (int round = 1; round <= rounds; round++) {
#ifdef __AVX512VBMI2__
        printf("read-back round %d: portable %.3f, AVX-512 %.3f\n", round, rb[2 * (round - 1)],
               rb[2 * (round - 1) + 1]);
#else
        printf("read-back round %d: portable %.3f (not an AVX-512 VBMI2 build)\n", round, rb[2 * (round - 1)]);
#endif
    }
    free(rb);
    free(K.words), free(K.tab), free(K.qi), free(K.q16), free(K.real), free(K.pairs), free(K.keys), free(w), free(work);
    free(K.rows), free(K.row), free(K.positions);
    return 0;
}
