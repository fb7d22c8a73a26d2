/* Philox4x32-10 on 16 consecutive blocks at once, shared by the kernels that
 * need many random words (dropout factors, the SBM sampler's word streams).
 * Bit-identical to sb_philox4x32_10 (core/philox.h), which costs ~10 ns a
 * block scalar. sb_philox16_fill gives the 64 words in stream order:
 * with AVX-512 (sb_philox16_avx512, 8 blocks per register), with AVX2
 * (sb_philox16_avx2, 4 blocks per register: 0.8-1.0 ns a word on this
 * project's AVX2 machine, where GCC's own vectorisation of the portable
 * loops took 4.5), else portable. */
#ifndef SB_CPU_PHILOX16_H
#define SB_CPU_PHILOX16_H

#include <stdint.h>
#include "core/philox.h"
#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

/* Portable: blocks idx0 .. idx0+15 (mod 2^32) of s, c[w][l] = word w of
 * block idx0 + l. */
static inline void sb_philox16(const sb_rng_stream *s, uint32_t idx0, uint32_t c[4][16]) {
    for (int l = 0; l < 16; l++) {
        c[0][l] = idx0 + (uint32_t)l;
        c[1][l] = s->c1;
        c[2][l] = s->c2;
        c[3][l] = s->c3;
    }
    uint32_t k0 = s->key.v[0], k1 = s->key.v[1];
    for (int r = 0; r < 10; r++) {
        for (int l = 0; l < 16; l++) {
            uint64_t p0 = (uint64_t)SB_PHILOX_M0 * c[0][l], p1 = (uint64_t)SB_PHILOX_M1 * c[2][l];
            uint32_t n0 = (uint32_t)(p1 >> 32) ^ c[1][l] ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c[3][l] ^ k1;
            c[1][l] = (uint32_t)p1;
            c[3][l] = (uint32_t)p0;
            c[0][l] = n0;
            c[2][l] = n2;
        }
        k0 += SB_PHILOX_W0;
        k1 += SB_PHILOX_W1;
    }
}

#if defined(__AVX2__)
/* Four chains of 4 blocks, one block per 64-bit lane with its words in the
 * low 32 bits (_mm256_mul_epu32 reads only those, so the high halves may
 * hold garbage throughout); the 64 words of blocks idx0 .. idx0+15 (mod
 * 2^32) go to out in stream order. */
static inline void sb_philox16_avx2(const sb_rng_stream *s, uint32_t idx0, uint32_t out[64]) {
    const __m256i M0 = _mm256_set1_epi64x(SB_PHILOX_M0), M1 = _mm256_set1_epi64x(SB_PHILOX_M1);
    const __m256i lane = _mm256_setr_epi64x(0, 1, 2, 3);
    __m256i c[4][4];
    for (int h = 0; h < 4; h++) {
        c[h][0] = _mm256_add_epi32(_mm256_set1_epi64x((uint32_t)(idx0 + 4u * (uint32_t)h)), lane);
        c[h][1] = _mm256_set1_epi64x(s->c1);
        c[h][2] = _mm256_set1_epi64x(s->c2);
        c[h][3] = _mm256_set1_epi64x(s->c3);
    }
    uint32_t k0 = s->key.v[0], k1 = s->key.v[1];
    for (int r = 0; r < 10; r++) {
        const __m256i K0 = _mm256_set1_epi64x(k0), K1 = _mm256_set1_epi64x(k1);
        for (int h = 0; h < 4; h++) {
            const __m256i p0 = _mm256_mul_epu32(c[h][0], M0), p1 = _mm256_mul_epu32(c[h][2], M1);
            c[h][0] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), c[h][1]), K0);
            c[h][2] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), c[h][3]), K1);
            c[h][1] = p1;
            c[h][3] = p0;
        }
        k0 += SB_PHILOX_W0;
        k1 += SB_PHILOX_W1;
    }
    const __m256i lo32 = _mm256_set1_epi64x(0xFFFFFFFFll);
    for (int h = 0; h < 4; h++) {
        /* per block (64-bit lane): words 0,1 and words 2,3 */
        const __m256i w01 = _mm256_or_si256(_mm256_and_si256(c[h][0], lo32), _mm256_slli_epi64(c[h][1], 32));
        const __m256i w23 = _mm256_or_si256(_mm256_and_si256(c[h][2], lo32), _mm256_slli_epi64(c[h][3], 32));
        const __m256i b02 = _mm256_unpacklo_epi64(w01, w23), b13 = _mm256_unpackhi_epi64(w01, w23);
        _mm256_storeu_si256((__m256i *)(out + 16 * h), _mm256_permute2x128_si256(b02, b13, 0x20));
        _mm256_storeu_si256((__m256i *)(out + 16 * h + 8), _mm256_permute2x128_si256(b02, b13, 0x31));
    }
}
#endif

#if defined(__AVX512F__)
/* Two chains of 8 blocks, one block per 64-bit lane with its words in the
 * low 32 bits: _mm512_mul_epu32 reads only those, so the high halves may hold
 * garbage throughout. */

/* Blocks idx0 .. idx0+15 (mod 2^32) of s: c[h][w] holds word w of block
 * idx0 + 8h + lane in the low 32 bits of each 64-bit lane. */
static inline void sb_philox16_avx512(const sb_rng_stream *s, uint32_t idx0, __m512i c[2][4]) {
    const __m512i M0 = _mm512_set1_epi64(SB_PHILOX_M0), M1 = _mm512_set1_epi64(SB_PHILOX_M1);
    const __m512i lane = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
    for (int h = 0; h < 2; h++) {
        c[h][0] = _mm512_add_epi32(_mm512_set1_epi64((uint32_t)(idx0 + 8u * (uint32_t)h)), lane);
        c[h][1] = _mm512_set1_epi64(s->c1);
        c[h][2] = _mm512_set1_epi64(s->c2);
        c[h][3] = _mm512_set1_epi64(s->c3);
    }
    uint32_t k0 = s->key.v[0], k1 = s->key.v[1];
    for (int r = 0; r < 10; r++) {
        const __m512i K0 = _mm512_set1_epi64(k0), K1 = _mm512_set1_epi64(k1);
        for (int h = 0; h < 2; h++) {
            __m512i p0 = _mm512_mul_epu32(c[h][0], M0), p1 = _mm512_mul_epu32(c[h][2], M1);
            /* 0x96: a ^ b ^ c */
            __m512i n0 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p1, 32), c[h][1], K0, 0x96);
            __m512i n2 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p0, 32), c[h][3], K1, 0x96);
            c[h][1] = p1;
            c[h][3] = p0;
            c[h][0] = n0;
            c[h][2] = n2;
        }
        k0 += SB_PHILOX_W0;
        k1 += SB_PHILOX_W1;
    }
}

/* The 16 blocks of sb_philox16_avx512 as words in stream order:
 * a[0] = blocks 0-3 of chain 0, a[1] = blocks 4-7, a[2], a[3] likewise of
 * chain 1; each 64-bit lane holds two consecutive words of one block. */
static inline void sb_philox16_words(const __m512i c[2][4], __m512i a[4]) {
    const __m512i lo32 = _mm512_set1_epi64(0xFFFFFFFFu);
    const __m512i ia = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11);
    const __m512i ib = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
    for (int h = 0; h < 2; h++) {
        /* per block: w01 = words 0,1; w23 = words 2,3 */
        __m512i w01 = _mm512_or_si512(_mm512_and_si512(c[h][0], lo32), _mm512_slli_epi64(c[h][1], 32));
        __m512i w23 = _mm512_or_si512(_mm512_and_si512(c[h][2], lo32), _mm512_slli_epi64(c[h][3], 32));
        a[2 * h] = _mm512_permutex2var_epi64(w01, ia, w23);
        a[2 * h + 1] = _mm512_permutex2var_epi64(w01, ib, w23);
    }
}

#endif /* __AVX512F__ */

/* The 64 words of blocks idx0 .. idx0+15 (mod 2^32) of s, in stream order. */
static inline void sb_philox16_fill(const sb_rng_stream *s, uint32_t idx0, uint32_t out[64]) {
#if defined(__AVX512F__)
    __m512i c[2][4], w[4];
    sb_philox16_avx512(s, idx0, c);
    sb_philox16_words(c, w);
    for (int q = 0; q < 4; q++) _mm512_storeu_si512((void *)(out + 16 * q), w[q]);
#elif defined(__AVX2__)
    sb_philox16_avx2(s, idx0, out);
#else
    uint32_t c[4][16];
    sb_philox16(s, idx0, c);
    for (int l = 0; l < 16; l++)
        for (int q = 0; q < 4; q++) out[4 * l + q] = c[q][l];
#endif
}

#endif
