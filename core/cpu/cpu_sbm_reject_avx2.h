/* The SBM sampler's rejection loops on AVX2: 8 tries per step, bit-identical
 * to their scalar forms in cpu_sbm_sample.c (same words, same arithmetic,
 * the accepted candidates kept in try order). Each try is a coin flip the
 * branch predictor cannot learn, and the scalar loops were latency-bound on
 * their table lookups; here the lookups are gathers and the accepted lanes
 * are left-packed into the output. Outputs need 8 slots of slack: a step
 * stores all 8 lanes and advances by the accepted count. */
#ifndef SB_CPU_SBM_REJECT_AVX2_H
#define SB_CPU_SBM_REJECT_AVX2_H
#ifdef __AVX2__

#include <immintrin.h>
#include <stdint.h>
#include "core/sbm_sampling.h"

/* For each 8-bit lane mask, the indices of its set lanes, ascending, one per
 * byte (unused bytes 0). */
static const uint64_t sb_left_pack_lut[256] = {
    0x0000000000000000ull, 0x0000000000000000ull, 0x0000000000000001ull, 0x0000000000000100ull,
    0x0000000000000002ull, 0x0000000000000200ull, 0x0000000000000201ull, 0x0000000000020100ull,
    0x0000000000000003ull, 0x0000000000000300ull, 0x0000000000000301ull, 0x0000000000030100ull,
    0x0000000000000302ull, 0x0000000000030200ull, 0x0000000000030201ull, 0x0000000003020100ull,
    0x0000000000000004ull, 0x0000000000000400ull, 0x0000000000000401ull, 0x0000000000040100ull,
    0x0000000000000402ull, 0x0000000000040200ull, 0x0000000000040201ull, 0x0000000004020100ull,
    0x0000000000000403ull, 0x0000000000040300ull, 0x0000000000040301ull, 0x0000000004030100ull,
    0x0000000000040302ull, 0x0000000004030200ull, 0x0000000004030201ull, 0x0000000403020100ull,
    0x0000000000000005ull, 0x0000000000000500ull, 0x0000000000000501ull, 0x0000000000050100ull,
    0x0000000000000502ull, 0x0000000000050200ull, 0x0000000000050201ull, 0x0000000005020100ull,
    0x0000000000000503ull, 0x0000000000050300ull, 0x0000000000050301ull, 0x0000000005030100ull,
    0x0000000000050302ull, 0x0000000005030200ull, 0x0000000005030201ull, 0x0000000503020100ull,
    0x0000000000000504ull, 0x0000000000050400ull, 0x0000000000050401ull, 0x0000000005040100ull,
    0x0000000000050402ull, 0x0000000005040200ull, 0x0000000005040201ull, 0x0000000504020100ull,
    0x0000000000050403ull, 0x0000000005040300ull, 0x0000000005040301ull, 0x0000000504030100ull,
    0x0000000005040302ull, 0x0000000504030200ull, 0x0000000504030201ull, 0x0000050403020100ull,
    0x0000000000000006ull, 0x0000000000000600ull, 0x0000000000000601ull, 0x0000000000060100ull,
    0x0000000000000602ull, 0x0000000000060200ull, 0x0000000000060201ull, 0x0000000006020100ull,
    0x0000000000000603ull, 0x0000000000060300ull, 0x0000000000060301ull, 0x0000000006030100ull,
    0x0000000000060302ull, 0x0000000006030200ull, 0x0000000006030201ull, 0x0000000603020100ull,
    0x0000000000000604ull, 0x0000000000060400ull, 0x0000000000060401ull, 0x0000000006040100ull,
    0x0000000000060402ull, 0x0000000006040200ull, 0x0000000006040201ull, 0x0000000604020100ull,
    0x0000000000060403ull, 0x0000000006040300ull, 0x0000000006040301ull, 0x0000000604030100ull,
    0x0000000006040302ull, 0x0000000604030200ull, 0x0000000604030201ull, 0x0000060403020100ull,
    0x0000000000000605ull, 0x0000000000060500ull, 0x0000000000060501ull, 0x0000000006050100ull,
    0x0000000000060502ull, 0x0000000006050200ull, 0x0000000006050201ull, 0x0000000605020100ull,
    0x0000000000060503ull, 0x0000000006050300ull, 0x0000000006050301ull, 0x0000000605030100ull,
    0x0000000006050302ull, 0x0000000605030200ull, 0x0000000605030201ull, 0x0000060503020100ull,
    0x0000000000060504ull, 0x0000000006050400ull, 0x0000000006050401ull, 0x0000000605040100ull,
    0x0000000006050402ull, 0x0000000605040200ull, 0x0000000605040201ull, 0x0000060504020100ull,
    0x0000000006050403ull, 0x0000000605040300ull, 0x0000000605040301ull, 0x0000060504030100ull,
    0x0000000605040302ull, 0x0000060504030200ull, 0x0000060504030201ull, 0x0006050403020100ull,
    0x0000000000000007ull, 0x0000000000000700ull, 0x0000000000000701ull, 0x0000000000070100ull,
    0x0000000000000702ull, 0x0000000000070200ull, 0x0000000000070201ull, 0x0000000007020100ull,
    0x0000000000000703ull, 0x0000000000070300ull, 0x0000000000070301ull, 0x0000000007030100ull,
    0x0000000000070302ull, 0x0000000007030200ull, 0x0000000007030201ull, 0x0000000703020100ull,
    0x0000000000000704ull, 0x0000000000070400ull, 0x0000000000070401ull, 0x0000000007040100ull,
    0x0000000000070402ull, 0x0000000007040200ull, 0x0000000007040201ull, 0x0000000704020100ull,
    0x0000000000070403ull, 0x0000000007040300ull, 0x0000000007040301ull, 0x0000000704030100ull,
    0x0000000007040302ull, 0x0000000704030200ull, 0x0000000704030201ull, 0x0000070403020100ull,
    0x0000000000000705ull, 0x0000000000070500ull, 0x0000000000070501ull, 0x0000000007050100ull,
    0x0000000000070502ull, 0x0000000007050200ull, 0x0000000007050201ull, 0x0000000705020100ull,
    0x0000000000070503ull, 0x0000000007050300ull, 0x0000000007050301ull, 0x0000000705030100ull,
    0x0000000007050302ull, 0x0000000705030200ull, 0x0000000705030201ull, 0x0000070503020100ull,
    0x0000000000070504ull, 0x0000000007050400ull, 0x0000000007050401ull, 0x0000000705040100ull,
    0x0000000007050402ull, 0x0000000705040200ull, 0x0000000705040201ull, 0x0000070504020100ull,
    0x0000000007050403ull, 0x0000000705040300ull, 0x0000000705040301ull, 0x0000070504030100ull,
    0x0000000705040302ull, 0x0000070504030200ull, 0x0000070504030201ull, 0x0007050403020100ull,
    0x0000000000000706ull, 0x0000000000070600ull, 0x0000000000070601ull, 0x0000000007060100ull,
    0x0000000000070602ull, 0x0000000007060200ull, 0x0000000007060201ull, 0x0000000706020100ull,
    0x0000000000070603ull, 0x0000000007060300ull, 0x0000000007060301ull, 0x0000000706030100ull,
    0x0000000007060302ull, 0x0000000706030200ull, 0x0000000706030201ull, 0x0000070603020100ull,
    0x0000000000070604ull, 0x0000000007060400ull, 0x0000000007060401ull, 0x0000000706040100ull,
    0x0000000007060402ull, 0x0000000706040200ull, 0x0000000706040201ull, 0x0000070604020100ull,
    0x0000000007060403ull, 0x0000000706040300ull, 0x0000000706040301ull, 0x0000070604030100ull,
    0x0000000706040302ull, 0x0000070604030200ull, 0x0000070604030201ull, 0x0007060403020100ull,
    0x0000000000070605ull, 0x0000000007060500ull, 0x0000000007060501ull, 0x0000000706050100ull,
    0x0000000007060502ull, 0x0000000706050200ull, 0x0000000706050201ull, 0x0000070605020100ull,
    0x0000000007060503ull, 0x0000000706050300ull, 0x0000000706050301ull, 0x0000070605030100ull,
    0x0000000706050302ull, 0x0000070605030200ull, 0x0000070605030201ull, 0x0007060503020100ull,
    0x0000000007060504ull, 0x0000000706050400ull, 0x0000000706050401ull, 0x0000070605040100ull,
    0x0000000706050402ull, 0x0000070605040200ull, 0x0000070605040201ull, 0x0007060504020100ull,
    0x0000000706050403ull, 0x0000070605040300ull, 0x0000070605040301ull, 0x0007060504030100ull,
    0x0000070605040302ull, 0x0007060504030200ull, 0x0007060504030201ull, 0x0706050403020100ull,
};

/* The flat-pair loop's lanes hold tries 0, 1, 4, 5, 2, 3, 6, 7 (see
 * sb_flat_pairs_avx2): for each 8-bit lane mask, the indices of its set
 * lanes in try order, one per byte (unused bytes 0). */
static const uint64_t sb_left_pack_lut_flat[256] = {
    0x0000000000000000ull, 0x0000000000000000ull, 0x0000000000000001ull, 0x0000000000000100ull,
    0x0000000000000002ull, 0x0000000000000200ull, 0x0000000000000201ull, 0x0000000000020100ull,
    0x0000000000000003ull, 0x0000000000000300ull, 0x0000000000000301ull, 0x0000000000030100ull,
    0x0000000000000302ull, 0x0000000000030200ull, 0x0000000000030201ull, 0x0000000003020100ull,
    0x0000000000000004ull, 0x0000000000000400ull, 0x0000000000000401ull, 0x0000000000040100ull,
    0x0000000000000204ull, 0x0000000000020400ull, 0x0000000000020401ull, 0x0000000002040100ull,
    0x0000000000000304ull, 0x0000000000030400ull, 0x0000000000030401ull, 0x0000000003040100ull,
    0x0000000000030204ull, 0x0000000003020400ull, 0x0000000003020401ull, 0x0000000302040100ull,
    0x0000000000000005ull, 0x0000000000000500ull, 0x0000000000000501ull, 0x0000000000050100ull,
    0x0000000000000205ull, 0x0000000000020500ull, 0x0000000000020501ull, 0x0000000002050100ull,
    0x0000000000000305ull, 0x0000000000030500ull, 0x0000000000030501ull, 0x0000000003050100ull,
    0x0000000000030205ull, 0x0000000003020500ull, 0x0000000003020501ull, 0x0000000302050100ull,
    0x0000000000000504ull, 0x0000000000050400ull, 0x0000000000050401ull, 0x0000000005040100ull,
    0x0000000000020504ull, 0x0000000002050400ull, 0x0000000002050401ull, 0x0000000205040100ull,
    0x0000000000030504ull, 0x0000000003050400ull, 0x0000000003050401ull, 0x0000000305040100ull,
    0x0000000003020504ull, 0x0000000302050400ull, 0x0000000302050401ull, 0x0000030205040100ull,
    0x0000000000000006ull, 0x0000000000000600ull, 0x0000000000000601ull, 0x0000000000060100ull,
    0x0000000000000602ull, 0x0000000000060200ull, 0x0000000000060201ull, 0x0000000006020100ull,
    0x0000000000000603ull, 0x0000000000060300ull, 0x0000000000060301ull, 0x0000000006030100ull,
    0x0000000000060302ull, 0x0000000006030200ull, 0x0000000006030201ull, 0x0000000603020100ull,
    0x0000000000000604ull, 0x0000000000060400ull, 0x0000000000060401ull, 0x0000000006040100ull,
    0x0000000000060204ull, 0x0000000006020400ull, 0x0000000006020401ull, 0x0000000602040100ull,
    0x0000000000060304ull, 0x0000000006030400ull, 0x0000000006030401ull, 0x0000000603040100ull,
    0x0000000006030204ull, 0x0000000603020400ull, 0x0000000603020401ull, 0x0000060302040100ull,
    0x0000000000000605ull, 0x0000000000060500ull, 0x0000000000060501ull, 0x0000000006050100ull,
    0x0000000000060205ull, 0x0000000006020500ull, 0x0000000006020501ull, 0x0000000602050100ull,
    0x0000000000060305ull, 0x0000000006030500ull, 0x0000000006030501ull, 0x0000000603050100ull,
    0x0000000006030205ull, 0x0000000603020500ull, 0x0000000603020501ull, 0x0000060302050100ull,
    0x0000000000060504ull, 0x0000000006050400ull, 0x0000000006050401ull, 0x0000000605040100ull,
    0x0000000006020504ull, 0x0000000602050400ull, 0x0000000602050401ull, 0x0000060205040100ull,
    0x0000000006030504ull, 0x0000000603050400ull, 0x0000000603050401ull, 0x0000060305040100ull,
    0x0000000603020504ull, 0x0000060302050400ull, 0x0000060302050401ull, 0x0006030205040100ull,
    0x0000000000000007ull, 0x0000000000000700ull, 0x0000000000000701ull, 0x0000000000070100ull,
    0x0000000000000702ull, 0x0000000000070200ull, 0x0000000000070201ull, 0x0000000007020100ull,
    0x0000000000000703ull, 0x0000000000070300ull, 0x0000000000070301ull, 0x0000000007030100ull,
    0x0000000000070302ull, 0x0000000007030200ull, 0x0000000007030201ull, 0x0000000703020100ull,
    0x0000000000000704ull, 0x0000000000070400ull, 0x0000000000070401ull, 0x0000000007040100ull,
    0x0000000000070204ull, 0x0000000007020400ull, 0x0000000007020401ull, 0x0000000702040100ull,
    0x0000000000070304ull, 0x0000000007030400ull, 0x0000000007030401ull, 0x0000000703040100ull,
    0x0000000007030204ull, 0x0000000703020400ull, 0x0000000703020401ull, 0x0000070302040100ull,
    0x0000000000000705ull, 0x0000000000070500ull, 0x0000000000070501ull, 0x0000000007050100ull,
    0x0000000000070205ull, 0x0000000007020500ull, 0x0000000007020501ull, 0x0000000702050100ull,
    0x0000000000070305ull, 0x0000000007030500ull, 0x0000000007030501ull, 0x0000000703050100ull,
    0x0000000007030205ull, 0x0000000703020500ull, 0x0000000703020501ull, 0x0000070302050100ull,
    0x0000000000070504ull, 0x0000000007050400ull, 0x0000000007050401ull, 0x0000000705040100ull,
    0x0000000007020504ull, 0x0000000702050400ull, 0x0000000702050401ull, 0x0000070205040100ull,
    0x0000000007030504ull, 0x0000000703050400ull, 0x0000000703050401ull, 0x0000070305040100ull,
    0x0000000703020504ull, 0x0000070302050400ull, 0x0000070302050401ull, 0x0007030205040100ull,
    0x0000000000000706ull, 0x0000000000070600ull, 0x0000000000070601ull, 0x0000000007060100ull,
    0x0000000000070602ull, 0x0000000007060200ull, 0x0000000007060201ull, 0x0000000706020100ull,
    0x0000000000070603ull, 0x0000000007060300ull, 0x0000000007060301ull, 0x0000000706030100ull,
    0x0000000007060302ull, 0x0000000706030200ull, 0x0000000706030201ull, 0x0000070603020100ull,
    0x0000000000070604ull, 0x0000000007060400ull, 0x0000000007060401ull, 0x0000000706040100ull,
    0x0000000007060204ull, 0x0000000706020400ull, 0x0000000706020401ull, 0x0000070602040100ull,
    0x0000000007060304ull, 0x0000000706030400ull, 0x0000000706030401ull, 0x0000070603040100ull,
    0x0000000706030204ull, 0x0000070603020400ull, 0x0000070603020401ull, 0x0007060302040100ull,
    0x0000000000070605ull, 0x0000000007060500ull, 0x0000000007060501ull, 0x0000000706050100ull,
    0x0000000007060205ull, 0x0000000706020500ull, 0x0000000706020501ull, 0x0000070602050100ull,
    0x0000000007060305ull, 0x0000000706030500ull, 0x0000000706030501ull, 0x0000070603050100ull,
    0x0000000706030205ull, 0x0000070603020500ull, 0x0000070603020501ull, 0x0007060302050100ull,
    0x0000000007060504ull, 0x0000000706050400ull, 0x0000000706050401ull, 0x0000070605040100ull,
    0x0000000706020504ull, 0x0000070602050400ull, 0x0000070602050401ull, 0x0007060205040100ull,
    0x0000000706030504ull, 0x0000070603050400ull, 0x0000070603050401ull, 0x0007060305040100ull,
    0x0000070603020504ull, 0x0007060302050400ull, 0x0007060302050401ull, 0x0706030205040100ull,
};

/* The lanes of v selected by mask, moved to the front in order. */
static inline __m256i sb_left_pack_avx2(__m256i v, unsigned mask) {
    const __m256i perm = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)sb_left_pack_lut[mask]));
    return _mm256_permutevar8x32_epi32(v, perm);
}

/* Lane l of x times n (64-bit), split: the high words (multiply-shift: a
 * slot below n) and the low words. */
static inline void sb_mul_split_avx2(__m256i x, __m256i n, __m256i *hi, __m256i *lo) {
    const __m256i pe = _mm256_mul_epu32(x, n), po = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), n);
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(pe, 32), po, 0xAA);
    *lo = _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA);
}

/* sb_mul_split_avx2 by a fixed n, with two shifts when n is a power of two
 * (the same words: x 2^s splits into x >> (32 - s) and x << s; for n = 1 the
 * count 32 gives 0, as _mm256_srl_epi32 does for counts of 32 or more, where
 * C's >> would be undefined). */
typedef struct {
    __m256i n;
    __m128i hi_shift, lo_shift;
    int log2;   /* s when n = 2^s, else -1 */
} sb_split_by;

static inline sb_split_by sb_split_by_make(uint32_t n) {
    const int log2 = n != 0 && (n & (n - 1)) == 0 ? __builtin_ctz(n) : -1, s = log2 < 0 ? 0 : log2;
    return (sb_split_by){_mm256_set1_epi32((int)n), _mm_cvtsi32_si128(32 - s), _mm_cvtsi32_si128(s), log2};
}

static inline void sb_split(const sb_split_by *by, __m256i x, __m256i *hi, __m256i *lo) {
    if (by->log2 >= 0) {
        *hi = _mm256_srl_epi32(x, by->hi_shift), *lo = _mm256_sll_epi32(x, by->lo_shift);
    } else {
        sb_mul_split_avx2(x, by->n, hi, lo);
    }
}

/* The thresholds and aliases of table slots slot[0..8), each slot's 8 bytes
 * one element of a 64-bit gather: 8 elements in all, where a gather of the
 * thresholds and one of the aliases load 16 (pair tries 16% faster in
 * bench_sampler_kernels on Zen 4; one 512-bit gather of all 8 was slower). */
static inline void sb_alias_gather_avx2(const sb_alias_slot *tab, __m256i slot, __m256i *thr, __m256i *ali) {
    /* lanes 0, 1, 4, 5 in the low half, 2, 3, 6, 7 in the high one: the
     * in-lane shuffles below then put every lane back in place */
    const __m256i idx = _mm256_permute4x64_epi64(slot, 0xD8);
    const long long *t64 = (const long long *)tab;
    const __m256 lo = _mm256_castsi256_ps(_mm256_i32gather_epi64(t64, _mm256_castsi256_si128(idx), 8));
    const __m256 hi = _mm256_castsi256_ps(_mm256_i32gather_epi64(t64, _mm256_extracti128_si256(idx, 1), 8));
    *thr = _mm256_castps_si256(_mm256_shuffle_ps(lo, hi, 0x88)); /* the low words: thresholds */
    *ali = _mm256_castps_si256(_mm256_shuffle_ps(lo, hi, 0xDD)); /* the high words: aliases */
}

/* Where the want-th (1-based) set bit of mask is, plus one. */
static inline int sb_through_nth_bit(unsigned mask, int64_t want) {
    while (--want > 0) mask &= mask - 1;
    return __builtin_ctz(mask) + 1;
}

/* Flat-row pair tries on words[0 .. nw) (nw a multiple of 16; try t reads
 * words 2t and 2t+1): the pair ab from the alias table tab over kk = k²
 * slots, accepted when (float)(word >> 8) * scale < qi[ab / k]; b = ab % k
 * of each accepted try goes to out[*e++], until *e reaches want. Needs
 * k <= 4096 (ab exact in float). Returns the words used: through the try of
 * the last accepted pair, or all nw. */
static inline int sb_flat_pairs_avx2(const sb_alias_slot *tab, uint32_t kk, int k, const float *qi, float scale,
                                     const uint32_t *words, int nw, uint16_t *out, int64_t *e, int64_t want) {
    const __m256i vk = _mm256_set1_epi32(k), vk1 = _mm256_set1_epi32(k - 1);
    const sb_split_by by_kk = sb_split_by_make(kk); /* k a power of two: shifts */
    const __m256i sign = _mm256_set1_epi32((int)0x80000000u), zero = _mm256_setzero_si256();
    const __m256 invk = _mm256_set1_ps(1.0f / (float)k), vscale = _mm256_set1_ps(scale);
    const int log2k = by_kk.log2 < 0 ? -1 : by_kk.log2 / 2; /* k² = 2^s exactly when k = 2^(s/2) */
    const __m128i vlog2k = _mm_cvtsi32_si128(log2k < 0 ? 0 : log2k);
    for (int i = 0; i + 16 <= nw; i += 16) {
        /* words 2t (the pair) and 2t+1 (the acceptance) of tries t = 0..7, split
         * by in-lane shuffles: the lanes hold tries 0, 1, 4, 5, 2, 3, 6, 7 (the
         * lane-crossing permutes into try order took 14% of a try, measured) */
        const __m256 w0 = _mm256_loadu_ps((const float *)(words + i));
        const __m256 w1 = _mm256_loadu_ps((const float *)(words + i + 8));
        const __m256i xa = _mm256_castps_si256(_mm256_shuffle_ps(w0, w1, 0x88));
        const __m256i xu = _mm256_castps_si256(_mm256_shuffle_ps(w0, w1, 0xDD));
        __m256i slot, low;
        sb_split(&by_kk, xa, &slot, &low);
        /* sb_alias_draw: the slot if low < its threshold (unsigned), else its alias */
        __m256i thr, ali;
        sb_alias_gather_avx2(tab, slot, &thr, &ali);
        const __m256i keep = _mm256_cmpgt_epi32(_mm256_xor_si256(thr, sign), _mm256_xor_si256(low, sign));
        const __m256i ab = _mm256_blendv_epi8(ali, slot, keep);
        /* a = ab / k, b = ab % k: a shift and a mask for k a power of two (the
         * default 128; 11% of a try, measured), else a float estimate corrected
         * by one either way */
        __m256i a, b;
        if (log2k >= 0) {
            a = _mm256_srl_epi32(ab, vlog2k), b = _mm256_and_si256(ab, vk1);
        } else {
            a = _mm256_cvttps_epi32(_mm256_mul_ps(_mm256_cvtepi32_ps(ab), invk));
            b = _mm256_sub_epi32(ab, _mm256_mullo_epi32(a, vk));
            const __m256i neg = _mm256_cmpgt_epi32(zero, b);
            a = _mm256_add_epi32(a, neg), b = _mm256_add_epi32(b, _mm256_and_si256(neg, vk));
            const __m256i big = _mm256_cmpgt_epi32(b, vk1);
            a = _mm256_sub_epi32(a, big), b = _mm256_sub_epi32(b, _mm256_and_si256(big, vk));
        }
        const __m256 u = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(xu, 8)), vscale);
        const __m256 qa = _mm256_i32gather_ps(qi, a, 4);
        const unsigned lanes = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(u, qa, _CMP_LT_OQ));
        const __m256i order = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)sb_left_pack_lut_flat[lanes]));
        const __m256i packed = _mm256_permutevar8x32_epi32(b, order);
        _mm_storeu_si128((__m128i *)(out + *e), _mm_packus_epi32(_mm256_castsi256_si128(packed),
                                                                 _mm256_extracti128_si256(packed, 1)));
        const int got = __builtin_popcount(lanes);
        if (*e + got >= want) {
            /* the accepted tries as a try-order mask: lanes 2, 3 hold tries 4, 5 and back */
            const unsigned acc = (lanes & 0xC3u) | ((lanes & 0x0Cu) << 2) | ((lanes & 0x30u) >> 2);
            const int through = sb_through_nth_bit(acc, want - *e);
            *e = want;
            return i + 2 * through;
        }
        *e += got;
    }
    return nw & ~15;
}

/* Key tries by rejection on words[0 .. nw) (nw a multiple of 8; try t reads
 * word t), as draw_keys: the slot from the word's multiply-shift by nr, the
 * top 16 bits r16 of the low word against the 16-bit table q16b[slot];
 * r16 < q16 accepts, r16 > q16 rejects. A step with a tie (r16 == q16 in
 * some lane, about 1 in 8192 steps) is left to the scalar loop: returns
 * there with the words used before it. Accepted keys real[slot] go to
 * out[*e++] until *e reaches want; real NULL: the slot is the key (no
 * padded positions), one gather fewer a step. q16b is read 4 bytes at a
 * time: 2 bytes past its end must be readable. Returns the words used (all
 * nw if no tie stopped it, or through the try of the last accepted key). */
static inline int sb_reject_keys_avx2(const uint16_t *q16b, const int32_t *real, uint32_t nr, const uint32_t *words,
                                      int nw, int32_t *out, int64_t *e, int64_t want) {
    const __m256i half = _mm256_set1_epi32(0xFFFF);
    const sb_split_by by_nr = sb_split_by_make(nr); /* nr a power of two (e.g. nr = n = 2^m): shifts */
    for (int i = 0; i + 8 <= nw; i += 8) {
        __m256i slot, low;
        sb_split(&by_nr, _mm256_loadu_si256((const __m256i *)(words + i)), &slot, &low);
        const __m256i r16 = _mm256_srli_epi32(low, 16);
        const __m256i q16 = _mm256_and_si256(_mm256_i32gather_epi32((const int *)q16b, slot, 2), half);
        if (!_mm256_testz_si256(_mm256_cmpeq_epi32(r16, q16), _mm256_cmpeq_epi32(r16, r16))) return i;
        const unsigned acc = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(q16, r16)));
        const __m256i j = real ? _mm256_i32gather_epi32(real, slot, 4) : slot;
        _mm256_storeu_si256((__m256i *)(out + *e), sb_left_pack_avx2(j, acc));
        const int got = __builtin_popcount(acc);
        if (*e + got >= want) {
            const int through = sb_through_nth_bit(acc, want - *e);
            *e = want;
            return i + through;
        }
        *e += got;
    }
    return nw & ~7;
}

#endif /* __AVX2__ */
#endif
