/* The random-graph pieces of SBM attention, written once for every backend
 * (SB_HD): Walker/Vose alias tables, Poisson variates, and the bulk Philox
 * draws the samplers consume.
 *
 * An alias table over w[0..n) stores for each slot a 32-bit acceptance
 * threshold and an alias; one uniform 32-bit word x draws a slot: the slot is
 * (x*n) >> 32 and the low 32 bits of x*n decide between the slot and its
 * alias. Given the slot those bits take about 2^32/n values, n apart, so a
 * slot's keep probability is exact only to within n/2^32, and an outcome's
 * probability (1/n per slot that leads to it, scaled by the keep or alias
 * share) to within about 2^-32 per such slot: n/2^31 of an average outcome's
 * probability, more of a lighter one's (n/(2^32 f) for f times the average).
 * That is 3e-5 of an average outcome at n = 2^16, but 0.8% at 2^24 (and a
 * reviewer's enumeration of all 2^32 words found 1.7% for a lighter one).
 * Tables of more than SB_ONE_WORD_MAX slots therefore draw from two words, x
 * and y, as the 64-bit uniform x 2^32 + y (sb_mul_shift2), which leaves
 * errors of about 2^-64 per slot. */
#ifndef SB_SBM_SAMPLING_H
#define SB_SBM_SAMPLING_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include "core/hd.h"
#include "core/philox.h"

typedef struct {
    uint32_t threshold; /* accept the slot itself when the low word is below this */
    int32_t alias;
} sb_alias_slot;

/* The largest table (or range) drawn from one 32-bit word. */
#define SB_ONE_WORD_MAX 65536

/* The slot and the next 32 bits of the fraction of (x 2^32 + y) n / 2^64, as
 * slot << 32 | bits: the product's top 64 bits, (x n + (y n >> 32)) (no
 * overflow: x n < 2^56). */
SB_HD static inline uint64_t sb_mul_shift2(uint32_t x, uint32_t y, uint32_t n) {
    return (uint64_t)x * n + (((uint64_t)y * n) >> 32);
}

/* p: slot << 32 | the bits that decide between the slot and its alias */
SB_HD static inline int32_t sb_alias_pick(const sb_alias_slot *t, uint64_t p) {
    uint32_t slot = (uint32_t)(p >> 32), low = (uint32_t)p;
    /* a select, not a branch: the comparison is a coin flip the predictor cannot learn */
    const int32_t keep = -(int32_t)(low < t[slot].threshold);
    return ((int32_t)slot & keep) | (t[slot].alias & ~keep);
}

/* One word, for tables of at most SB_ONE_WORD_MAX slots (larger ones:
 * sb_alias_pick(t, sb_mul_shift2(x, y, n)), two words). */
SB_HD static inline int32_t sb_alias_draw(const sb_alias_slot *t, uint32_t n, uint32_t x) {
    return sb_alias_pick(t, (uint64_t)x * n);
}

/* Build the table for weights w (non-negative) in O(n); work holds
 * SB_ALIAS_WORK_BYTES(n). Returns the weights' sum (0: table left uniform). */
#define SB_ALIAS_WORK_BYTES(n) ((size_t)(n) * (sizeof(double) + 2 * sizeof(int32_t)))
double sb_alias_build(sb_alias_slot *t, const float *w, int n, void *work);

/* Uniform double in (0,1) from two words. */
SB_HD static inline double sb_u64_to_unit(uint32_t a, uint32_t b) {
    uint64_t x = ((uint64_t)a << 21) ^ (uint64_t)b; /* 53 bits */
    x &= (1ULL << 53) - 1;
    return ((double)x + 0.5) * (1.0 / 9007199254740992.0);
}

/* Poisson(lambda) from a sequential reader: inversion below 10, Hörmann's
 * PTRS transformed rejection (as numpy) above. */
int64_t sb_poisson(sb_rng_reader *r, double lambda);

/* out[0 .. 4*nblocks) = Philox blocks first_block, first_block+1, ... of s. */
void sb_rng_fill(const sb_rng_stream *s, uint32_t first_block, size_t nblocks, uint32_t *out);

#endif
