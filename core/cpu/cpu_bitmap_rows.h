/* A sampled row's bitmap of keys read back as ascending positions: the last
 * step of the fastRG sampler's merge (cpu_sbm_sample.c), in a header so the
 * tests can hold the AVX-512 form against the portable one word by word.
 *
 * Both take words[0 .. nw), write the positions of their set bits (bit b of
 * word x is position 64 x + b) in ascending order to out, clear the words
 * and return how many; both write past that count (garbage the caller's next
 * row overwrites), so out needs slack: STEP slots for the portable form,
 * SB_BITS_AVX512_SLACK for the AVX-512 one. */
#ifndef SB_CPU_BITMAP_ROWS_H
#define SB_CPU_BITMAP_ROWS_H

#include <stdint.h>

/* Portable: each word writes STEP positions per round whatever its count
 * (the next lowest bit, or garbage past the count), at least one round even
 * when empty, and advances by its popcount: the round count is almost always
 * one, where a branch per bit (or per empty word) mispredicted at most words. */
static inline __attribute__((always_inline)) int64_t sb_bits_to_positions(uint64_t *words, int nw, int32_t *out,
                                                                             const int STEP) {
    int64_t len = 0;
    for (int x = 0; x < nw; x++) {
        uint64_t b = words[x];
        words[x] = 0;
        const int cnt = __builtin_popcountll(b);
        int q = 0;
        do {
            for (int u = 0; u < STEP; u++) {
                /* | 1 << 63: defined for b == 0, and the same lowest bit otherwise */
                out[len + q + u] = x * 64 + __builtin_ctzll(b | (1ull << 63));
                b &= b - 1;
            }
            q += STEP;
        } while (q < cnt);
        len += cnt;
    }
    return len;
}

/* The portable read-back as the sampler runs it for a row marked from nd
 * draws: rounds of 8 once words average above 2 bits (a popcount past 4 is
 * then common), of 4 below. */
static inline int64_t sb_bits_to_positions_portable(uint64_t *words, int nw, int64_t nd, int32_t *out) {
    return nd > 2 * (int64_t)nw ? sb_bits_to_positions(words, nw, out, 8) : sb_bits_to_positions(words, nw, out, 4);
}

#ifdef __AVX512VBMI2__
#include <immintrin.h>

#define SB_BITS_AVX512_SLACK 16

/* AVX-512: one byte compress per word packs the indices of its set bits
 * (0..63, ascending) into the low bytes; each group of 16 widens to 32 bits,
 * gets the word's base added and is stored whole. A word with at most 16 set
 * bits (all of them below about 25% density) is one compress, one widening
 * and one store, where the portable form spends a count-trailing-zeros and a
 * store per position and per empty slot of its rounds: 0.37 against 1.23 ns
 * per position at 5% density, 1.90 against 4.37 at 1%, 0.11 against 0.57 at
 * 20% (bench_sampler_kernels --density, one Zen 4 core, rows of 4096 bits). */
static inline __attribute__((always_inline)) int64_t sb_bits_to_positions_avx512(uint64_t *words, int nw, int32_t *out) {
    const __m512i bit_index = _mm512_set_epi8(63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46,
                                              45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28,
                                              27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10,
                                              9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    int64_t len = 0;
    for (int x = 0; x < nw; x++) {
        const uint64_t b = words[x];
        words[x] = 0;
        const int cnt = __builtin_popcountll(b);
        /* packed = the compress merged into a fresh zero. Not the intrinsic
         * _mm512_maskz_compress_epi8: Zen 4's zero-masked compress waits on
         * its destination's old value, which chained every word to the
         * last (2.3x slower at 5%), and GCC turns a merge into a zero mask
         * when the merged value is zero; a zeroing idiom then a merge
         * does not wait */
        __m512i packed = _mm512_setzero_si512();
        __asm__("vpcompressb %1, %0%{%2%}" : "+v"(packed) : "v"(bit_index), "Yk"((__mmask64)b));
        const __m512i base = _mm512_set1_epi32(x * 64);
        _mm512_storeu_si512(out + len, _mm512_add_epi32(_mm512_cvtepu8_epi32(_mm512_castsi512_si128(packed)), base));
        for (int g = 1; 16 * g < cnt; g++) {
            /* group g's 16 bytes are 32-bit lanes 4g .. 4g+3: bring them down */
            const __m512i down = _mm512_permutexvar_epi32(_mm512_add_epi32(lane, _mm512_set1_epi32(4 * g)), packed);
            _mm512_storeu_si512(out + len + 16 * g,
                                _mm512_add_epi32(_mm512_cvtepu8_epi32(_mm512_castsi512_si128(down)), base));
        }
        len += cnt;
    }
    return len;
}
#endif

#endif
