/* Philox4x32-10 and the draws built on it: Random123 known answers, the
 * uniform float mapping, dropout keep statistics, and the regeneration
 * property backward passes rely on (any sub-range of a stream's draws equals
 * the same elements of the whole range), also for the CPU backend's
 * vectorised generator. */
#include <math.h>
#include <stdio.h>
#include "core/backend.h"
#include "core/cpu/cpu_ops.h"
#include "core/cpu/cpu_philox16.h"
#include "core/kernels_inline.h"
#include "core/philox.h"
#include "tests/test_util.h"

/* Random123 kat_vectors, "philox4x32 10" lines: counter, key -> output. */
static void test_known_answers(void) {
    static const struct {
        uint32_t ctr[4], key[2], out[4];
    } kat[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}},
        {{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
         {0xffffffffu, 0xffffffffu},
         {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}},
        {{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
         {0xa4093822u, 0x299f31d0u},
         {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}},
    };
    for (size_t t = 0; t < sizeof kat / sizeof kat[0]; t++) {
        sb_philox_ctr c = {{kat[t].ctr[0], kat[t].ctr[1], kat[t].ctr[2], kat[t].ctr[3]}};
        sb_philox_key k = {{kat[t].key[0], kat[t].key[1]}};
        sb_philox_ctr o = sb_philox4x32_10(c, k);
        int ok = 1;
        for (int w = 0; w < 4; w++) ok &= o.v[w] == kat[t].out[w];
        tu_check(ok, "philox4x32-10 known answer %zu: %08x %08x %08x %08x", t, o.v[0], o.v[1],
                 o.v[2], o.v[3]);
    }
}

/* The sequential reader returns the stream's blocks word by word. */
static void test_reader(void) {
    sb_rng_stream s = sb_rng_make(1234567890123ull, SB_RNG_DATA_TRAIN, 7, 3, 2, 99);
    sb_rng_reader r;
    sb_rng_reader_init(&r, s);
    int ok = 1;
    for (uint32_t b = 0; b < 50; b++) {
        sb_philox_ctr blk = sb_rng_block(&s, b);
        for (int w = 0; w < 4; w++) ok &= sb_rng_next_u32(&r) == blk.v[w];
    }
    tu_check(ok, "rng reader yields blocks 0..49 in word order");
}

/* sb_u32_to_unit maps every input strictly inside (0,1); the low 8 bits are
 * discarded, so all 2^24 classes are covered by x = k << 8 | 0xFF. */
static void test_unit_interval(void) {
    uint64_t bad = 0;
    float lo = 1.0f, hi = 0.0f;
    for (uint64_t k = 0; k < (1u << 24); k++) {
        uint32_t hi_bits = (uint32_t)(k << 8);
        float u0 = sb_u32_to_unit(hi_bits), u1 = sb_u32_to_unit(hi_bits | 0xFFu);
        bad += !(u0 > 0.0f && u0 < 1.0f) + !(u1 > 0.0f && u1 < 1.0f);
        lo = u0 < lo ? u0 : lo;
        hi = u1 > hi ? u1 : hi;
    }
    tu_check(bad == 0, "sb_u32_to_unit in (0,1) for all 2^24 classes (%llu outside; min %.9g max %.9g)",
             (unsigned long long)bad, lo, hi);
}

/* Kept fraction of 1e6 dropout draws within 5 sigma of the exact keep
 * probability 1 - round(p*65536)/65536; kept values equal the scale exactly. */
static void test_dropout_fraction(void) {
    const size_t n = 1000000;
    float *f = tu_alloc(n);
    const float ps[] = {0.1f, 0.3f, 0.5f, 0.9f};
    for (size_t t = 0; t < sizeof ps / sizeof ps[0]; t++) {
        float p = ps[t];
        uint32_t thr = sb_dropout_threshold(p);
        float scale = sb_dropout_scale(p);
        sb_rng_stream s = sb_rng_make(42, SB_RNG_DROPOUT, (uint32_t)t, 1, 2, 0);
        sb_dropout_factors(&s, 0, n, thr, scale, f);
        size_t kept = 0, other = 0;
        for (size_t i = 0; i < n; i++) {
            kept += f[i] == scale;
            other += f[i] != scale && f[i] != 0.0f;
        }
        double q = 1.0 - (double)thr / 65536.0;
        double frac = (double)kept / (double)n, sigma = sqrt(q * (1.0 - q) / (double)n);
        char name[96];
        snprintf(name, sizeof name, "dropout p=%.1f kept fraction %.6f vs %.6f (sigmas)", p, frac, q);
        tu_report(name, fabs(frac - q) / sigma, 5.0);
        tu_check(other == 0, "dropout p=%.1f factors are exactly 0 or 1/(1-p)", p);
    }
    tu_check(sb_dropout_threshold(0.0f) == 0 && sb_dropout_threshold(1.0f) == 65536u,
             "dropout threshold: p=0 keeps all, p=1 drops all");
    free(f);
}

/* Regeneration: a range of factors equals the same elements generated in two
 * pieces split at an unaligned point, and the backend's chunked dropout
 * applies exactly the factors of the whole stream. */
static void test_dropout_regeneration(void) {
    const uint32_t thr = sb_dropout_threshold(0.3f);
    const float scale = sb_dropout_scale(0.3f);
    sb_rng_stream s = sb_rng_make(7, SB_RNG_ATTN_DROPOUT, 11, 5, 0, 3);
    const size_t n = 5000;
    float *whole = tu_alloc(n), *parts = tu_alloc(n);
    static const struct { uint64_t first; size_t split; } cases[] = {
        {0, 13}, {5, 1}, {5, 3}, {3, 1024}, {1021, 999}, {(1ull << 32) - 3, 2500}, {8, 7}};
    int ok = 1;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint64_t first = cases[c].first;
        size_t k = cases[c].split;
        sb_dropout_factors(&s, first, n, thr, scale, whole);
        sb_dropout_factors(&s, first, k, thr, scale, parts);
        sb_dropout_factors(&s, first + k, n - k, thr, scale, parts + k);
        ok &= memcmp(whole, parts, n * sizeof(float)) == 0;
        /* element by element, too */
        for (size_t i = 0; i < n; i += 97) {
            float one;
            sb_dropout_factors(&s, first + i, 1, thr, scale, &one);
            ok &= one == whole[i];
        }
    }
    tu_check(ok, "dropout factors regenerate over unaligned splits (%zu cases)",
             sizeof cases / sizeof cases[0]);

    /* backend dropout (1024-element chunks, threaded) == the stream's factors */
    sb_backend *be = sb_backend_cpu_create(0);
    const size_t m = 3001; /* two full chunks and a ragged tail */
    float *ones = tu_alloc(m), *out = tu_alloc(m);
    for (size_t i = 0; i < m; i++) ones[i] = 1.0f;
    be->dropout_forward(be, out, ones, m, 0.3f, s);
    sb_dropout_factors(&s, 0, m, thr, scale, whole);
    tu_check(memcmp(out, whole, m * sizeof(float)) == 0,
             "backend dropout_forward applies the stream's factors (n=%zu)", m);
    /* a different stream gives a different mask */
    sb_rng_stream s2 = sb_rng_derive(s, 1, 0);
    sb_dropout_factors(&s2, 0, m, thr, scale, parts);
    tu_check(memcmp(parts, whole, m * sizeof(float)) != 0, "derived stream gives a different mask");
    sb_backend_destroy(be);
    free(ones);
    free(out);
    free(whole);
    free(parts);
}

/* The CPU backend's many-blocks-at-once generator (AVX-512 or portable lanes)
 * is bit-identical to the scalar reference, for every alignment, length and
 * threshold, including block indices that wrap mod 2^32. */
static void test_cpu_factors_match(void) {
    const size_t nmax = 2000;
    float *ref = tu_alloc(nmax), *fast = tu_alloc(nmax);
    const float ps[] = {0.0f, 0.1f, 0.5f, 0.999f, 1.0f};
    const uint64_t firsts[] = {0, 1, 7, 8, 9, 127, 128, 1000003, (1ull << 35) - 517};
    const size_t lens[] = {0, 1, 5, 8, 120, 128, 129, 255, 256, 1000, 2000};
    size_t cases = 0, bad = 0;
    for (size_t pi = 0; pi < sizeof ps / sizeof ps[0]; pi++)
        for (size_t fi = 0; fi < sizeof firsts / sizeof firsts[0]; fi++)
            for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
                uint32_t thr = sb_dropout_threshold(ps[pi]);
                float scale = sb_dropout_scale(ps[pi]);
                sb_rng_stream s = sb_rng_make(0xABCDEF0123ull, SB_RNG_ATTN_DROPOUT, (uint32_t)fi, 3,
                                              (uint32_t)li, (uint32_t)pi);
                size_t n = lens[li];
                for (size_t i = 0; i < nmax; i++) fast[i] = ref[i] = -1.0f; /* canaries */
                sb_dropout_factors(&s, firsts[fi], n, thr, scale, ref);
                sb_cpu_dropout_factors(&s, firsts[fi], n, thr, scale, fast);
                bad += memcmp(ref, fast, nmax * sizeof(float)) != 0;
                cases++;
            }
    tu_check(bad == 0, "sb_cpu_dropout_factors bit-identical to sb_dropout_factors (%zu of %zu cases differ)",
             bad, cases);
    free(ref);
    free(fast);
}

/* The CPU backend's 16-blocks-at-once word fill (AVX-512, AVX2 or portable,
 * whichever this build uses) gives the scalar blocks' words in stream order,
 * also where the block index wraps mod 2^32; so do the portable kernel and,
 * where it is compiled, the AVX2 one, whichever the fill selects. */
static void test_cpu_word_fill(void) {
    const uint32_t starts[] = {0, 1, 15, 16, 1000003, 0xFFFFFFF5u};
    sb_rng_stream s = sb_rng_make(0x1234ABCD5678ull, SB_RNG_ATTN, 9, 2, 1, 77);
    int bad = 0;
    for (size_t t = 0; t < sizeof starts / sizeof starts[0]; t++) {
        uint32_t w[64];
        sb_philox16_fill(&s, starts[t], w);
        uint32_t c[4][16]; /* the portable kernel, whichever the build selects */
        sb_philox16(&s, starts[t], c);
#if defined(__AVX2__)
        uint32_t w2[64]; /* the AVX2 kernel, also where AVX-512 is selected */
        sb_philox16_avx2(&s, starts[t], w2);
#endif
        for (uint32_t b = 0; b < 16; b++) {
            sb_philox_ctr blk = sb_rng_block(&s, starts[t] + b);
            for (int q = 0; q < 4; q++) {
                bad += (w[4 * b + q] != blk.v[q]) + (c[q][b] != blk.v[q]);
#if defined(__AVX2__)
                bad += w2[4 * b + q] != blk.v[q];
#endif
            }
        }
    }
    tu_check(bad == 0, "sb_philox16_fill and the portable and AVX2 kernels equal the scalar blocks (%d words differ)", bad);
}

int main(void) {
    test_known_answers();
    test_reader();
    test_unit_interval();
    test_dropout_fraction();
    test_dropout_regeneration();
    test_cpu_factors_match();
    test_cpu_word_fill();
    return tu_finish();
}
