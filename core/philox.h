/* Philox4x32-10 counter-based random numbers (Salmon et al., SC'11).
 *
 * Every random draw in sbmbench is a pure function of (seed, purpose, step,
 * layer, head, example, index), so a run is reproducible bit for bit, a
 * resumed run draws exactly what the uninterrupted run would have drawn, and
 * a backward pass can regenerate a forward pass's dropout mask instead of
 * storing it. The arithmetic is written once as inline functions usable from
 * C and CUDA (SB_HD), so CPU tests exercise the GPU's math. */
#ifndef SB_PHILOX_H
#define SB_PHILOX_H

#include <stdint.h>
#include "core/hd.h"

typedef struct { uint32_t v[4]; } sb_philox_ctr;
typedef struct { uint32_t v[2]; } sb_philox_key;

/* What a stream of random numbers is for; part of the counter, so streams with
 * different purposes never overlap. Append only: the values are baked into
 * every checkpoint's reproducibility. */
typedef enum {
    SB_RNG_INIT = 1,        /* parameter initialisation */
    SB_RNG_DATA_TRAIN = 2,  /* generated training data / shuffles */
    SB_RNG_DATA_DEV = 3,
    SB_RNG_DATA_TEST = 4,
    SB_RNG_DROPOUT = 5,     /* hidden dropout */
    SB_RNG_ATTN_DROPOUT = 6,
    SB_RNG_ATTN = 7,        /* attention-internal draws (graph sampling, hashes) */
} sb_rng_purpose;

SB_HD static inline uint32_t sb_mulhilo32(uint32_t a, uint32_t b, uint32_t *hi) {
    uint64_t p = (uint64_t)a * (uint64_t)b;
    *hi = (uint32_t)(p >> 32);
    return (uint32_t)p;
}

/* Philox4x32's round multipliers and Weyl key increments (Salmon et al. 2011). */
#define SB_PHILOX_M0 0xD2511F53u
#define SB_PHILOX_M1 0xCD9E8D57u
#define SB_PHILOX_W0 0x9E3779B9u
#define SB_PHILOX_W1 0xBB67AE85u

/* One Philox4x32 block: 10 rounds over the counter under the key. */
SB_HD static inline sb_philox_ctr sb_philox4x32_10(sb_philox_ctr c, sb_philox_key k) {
    const uint32_t M0 = SB_PHILOX_M0, M1 = SB_PHILOX_M1;
    const uint32_t W0 = SB_PHILOX_W0, W1 = SB_PHILOX_W1;
    for (int r = 0; r < 10; r++) {
        uint32_t hi0, hi1;
        uint32_t lo0 = sb_mulhilo32(M0, c.v[0], &hi0);
        uint32_t lo1 = sb_mulhilo32(M1, c.v[2], &hi1);
        sb_philox_ctr n;
        n.v[0] = hi1 ^ c.v[1] ^ k.v[0];
        n.v[1] = lo1;
        n.v[2] = hi0 ^ c.v[3] ^ k.v[1];
        n.v[3] = lo0;
        c = n;
        k.v[0] += W0;
        k.v[1] += W1;
    }
    return c;
}

/* A stream: a key and the three fixed counter words; word 0 is the index. */
typedef struct {
    sb_philox_key key;
    uint32_t c1, c2, c3;
} sb_rng_stream;

/* layer and head must be < 256; purpose < 256; step and example < 2^32. */
SB_HD static inline sb_rng_stream sb_rng_make(uint64_t seed, uint32_t purpose, uint32_t step,
                                              uint32_t layer, uint32_t head, uint32_t example) {
    sb_rng_stream s;
    s.key.v[0] = (uint32_t)seed;
    s.key.v[1] = (uint32_t)(seed >> 32);
    s.c1 = step;
    s.c2 = (purpose << 24) | ((layer & 0xFFu) << 16) | ((head & 0xFFu) << 8);
    s.c3 = example;
    return s;
}

/* Block `idx` of the stream: four independent uniform 32-bit words. */
SB_HD static inline sb_philox_ctr sb_rng_block(const sb_rng_stream *s, uint32_t idx) {
    sb_philox_ctr c = {{idx, s->c1, s->c2, s->c3}};
    return sb_philox4x32_10(c, s->key);
}

/* Uniform float in (0,1): 23 random bits, exact in float, never 0 or 1
 * (24 bits + 0.5 rounds up to exactly 1 for the top inputs). */
SB_HD static inline float sb_u32_to_unit(uint32_t x) {
    return ((float)(x >> 9) + 0.5f) * (1.0f / 8388608.0f);
}

/* Uniform integer in [0, n) by multiply-shift (bias below n / 2^32). */
SB_HD static inline uint32_t sb_u32_below(uint32_t x, uint32_t n) {
    return (uint32_t)(((uint64_t)x * n) >> 32);
}

/* Sequential reader over a stream, for code that needs a variable number of
 * draws (initialisation, generators). Not for hot loops: those index blocks. */
typedef struct {
    sb_rng_stream s;
    uint32_t next_block;
    uint32_t buf[4];
    int avail;
} sb_rng_reader;

void sb_rng_reader_init(sb_rng_reader *r, sb_rng_stream s);
uint32_t sb_rng_next_u32(sb_rng_reader *r);
float sb_rng_next_unit(sb_rng_reader *r);
float sb_rng_next_normal(sb_rng_reader *r); /* Box-Muller, one value per call */

#endif
