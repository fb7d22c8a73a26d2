/* SBM graph sampling on the CPU: fastRG (Rohe et al. 2018) in O(n k + k² + m)
 * per graph, generated row by row, and the dense Bernoulli sampler of the
 * public code in O(n² k).
 *
 * fastRG draws, for every triple (query i, block pair (a,b), key j), a
 * Poisson(Q̂_ia S_ab K̂_jb) number of edges i->j; summed over (a,b) that is
 * Poisson(p_ij) edges per pair, independently. We generate these points row
 * by row, which yields the same distribution and needs no scatter of edges
 * into rows afterwards. With R the real positions and ck_b = Σ_{j∈R} K̂_jb:
 *   u_a = Σ_b S_ab ck_b,  row i's rate λ_i = Σ_a Q̂_ia u_a,
 *   N_i ~ Poisson(λ_i); each of its edges: (a,b) ~ Q̂_ia S_ab ck_b, for a flat
 *   row by rejection (propose from S_ab ck_b, accept with Q̂_ia / max Q̂_i),
 *   for a peaked one a from a guide table over the row's cumulative weights,
 *   then b | a ~ S_ab ck_b (an alias table per a),
 *   j | b ~ K̂_jb / ck_b (rejection from a uniform slot for a flat cluster,
 *   an alias table for a peaked one; see REJECT_MAX).
 * δ adds Poisson(δ |R|) edges per real row, uniform over R, i.e. p_ij + δ.
 * Duplicates merge: P(i->j present) = 1 - exp(-(p_ij + δ)). Per graph this
 * is O(|R| k) for the column sums and the rows' weights, O(k²) for u and the
 * block tables, and O(1) expected per drawn edge.
 *
 * Three passes per graph keep the random table lookups in cache: (1) every
 * row draws its counts and each edge's cluster pair (a, b), keeping b; then,
 * for each chunk of CHUNK_ROWS rows, (2) cluster by cluster, a pool of as
 * many keys as the chunk's edges chose b is drawn (the cluster's acceptance
 * column, |R| bytes, stays in L1, where drawing the keys row by row jumped
 * across all k columns), and (3) every row of the chunk takes its keys from
 * the pools of its edges' clusters in order, and merges them. A chunk's
 * pools and cluster choices stay in L2 (one pool per cluster for the whole
 * graph did not). Pool draws are i.i.d. given the counts, so handing them
 * out in a fixed order keeps every edge's key independent with the right
 * law. Chunks are also the unit of parallel work within a graph, for calls
 * with fewer graphs than threads (sample_fastrg_all).
 *
 * Random words: the graph's Philox stream is split in two halves. Row i owns
 * blocks [i W, (i+1) W), W = 2^31 / (n rounded up to a power of two): its
 * Poisson counts read the last POISSON_BLOCKS of that range and its cluster
 * pairs and δ keys the rest. The pool of chunk c and cluster b reads blocks
 * from 2^31 + (c k + b) 2^31 / (chunks times k, rounded up to a power of
 * two). A graph's sample does not depend on the thread count.
 *
 * The draws' loops are branchless where the outcome is a coin flip: a
 * rejection try writes its candidate and advances by its verdict, and a
 * row's bitmap is read back a fixed number of positions per word. */
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/cpu/cpu_ops.h"
#include "core/sbm_sampling.h"
#include "core/cpu/cpu_bitmap_rows.h"
#include "core/cpu/cpu_philox16.h"
#include "core/cpu/cpu_sbm_reject_avx2.h"
#include "core/fatal.h"

#define ROW_BLOCKS 16      /* Philox blocks generated per refill of a row's words */
#define POISSON_BLOCKS 64  /* the end of each row's range, for its Poisson counts */
#define REJECT_MAX 4.0f    /* rejection sampling while max/mean weight is below this */
#define CHUNK_ROWS 256     /* rows per chunk of passes 2-3 (fixed: it shapes the draws) */

typedef struct {
    int32_t *cols;   /* this graph's sorted unique columns, row by row */
    int64_t nnz;
} graph_edges;

/* Free several scratch buffers at once. */
static void free_all(sb_mem_tracker *mem, void *const *p, int n) {
    for (int i = 0; i < n; i++) sb_cpu_scratch_free(mem, p[i]);
}
#define FREE_ALL(mem, ...) \
    free_all(mem, (void *const[]){__VA_ARGS__}, (int)(sizeof((void *[]){__VA_ARGS__}) / sizeof(void *)))

/* Grow a scratch array of `len` used elements of `elem` bytes to hold at
 * least `need`. */
static void *grow(sb_mem_tracker *mem, void *a, size_t elem, int64_t len, int64_t *cap, int64_t need) {
    if (need <= *cap) return a;
    int64_t nc = need + need / 2 + 1024;
    void *b = sb_cpu_scratch_alloc(mem, elem * (size_t)nc);
    if (len) memcpy(b, a, elem * (size_t)len);
    sb_cpu_scratch_free(mem, a);
    *cap = nc;
    return b;
}

/* Philox blocks each of `count` ranges gets in half of the block space:
 * 2^31 / (count rounded up to a power of two). */
static uint32_t range_blocks(int count) {
    uint64_t p = 1;
    while (p < (uint64_t)count) p *= 2;
    return (uint32_t)((1ull << 31) / p);
}

/* out[0 .. 4 nblocks) = blocks first .. first+nblocks-1 of s, as sb_rng_fill,
 * 16 blocks at a time in vector lanes (core/cpu/cpu_philox16.h). */
static void fill_words(const sb_rng_stream *s, uint32_t first, size_t nblocks, uint32_t *out) {
    size_t b = 0;
    for (; b + 16 <= nblocks; b += 16) sb_philox16_fill(s, first + (uint32_t)b, out + 4 * b);
    if (b < nblocks) sb_rng_fill(s, first + (uint32_t)b, nblocks - b, out + 4 * b);
}

/* The words of one row's (or key pool's) range, ROW_BLOCKS blocks at a time:
 * the vectorised Philox's unit. A row or pool leaves half a refill unused at
 * its end on average, so smaller refills waste fewer words; the words used
 * do not depend on the refill size while ranges are multiples of it (they
 * are: powers of two of at least 32 blocks, less POISSON_BLOCKS for rows).
 * Should a row use up its range (W - POISSON_BLOCKS blocks: 64 at n = 2^24,
 * about 100 flat edges; 2^19 - 64 at n = 4096), it continues on a stream
 * whose key is perturbed, which keeps the draws independent. */
typedef struct {
    sb_rng_stream s;
    uint32_t base, next, end;
    int pos;
    int64_t generated;   /* words filled so far */
    uint32_t buf[4 * ROW_BLOCKS];
} row_words;

static void row_words_init(row_words *r, sb_rng_stream s, uint32_t base, uint32_t blocks) {
    r->s = s, r->base = base, r->next = base, r->end = base + blocks, r->pos = 4 * ROW_BLOCKS, r->generated = 0;
}

/* Refills the words once they are used up: then r->buf[r->pos ..
 * 4 ROW_BLOCKS) are the next words. */
static inline void row_words_ready(row_words *r) {
    if (r->pos == 4 * ROW_BLOCKS) {
        if (r->end - r->next < ROW_BLOCKS) {
            r->s.key.v[1] += 0x9E3779B9u;
            r->next = r->base;
        }
        fill_words(&r->s, r->next, ROW_BLOCKS, r->buf);
        r->next += ROW_BLOCKS;
        r->pos = 0;
        r->generated += 4 * ROW_BLOCKS;
    }
}

static inline uint32_t row_word(row_words *r) {
    row_words_ready(r);
    return r->buf[r->pos++];
}

/* For a table or range of n entries, slot << 32 | the 32 bits after it (an
 * alias table's keep-or-alias decision): one word's multiply-shift up to
 * SB_ONE_WORD_MAX entries, two words' past it (see core/sbm_sampling.h). */
static inline uint64_t row_product(row_words *r, uint32_t n) {
    if (n <= SB_ONE_WORD_MAX) return (uint64_t)row_word(r) * n;
    const uint32_t x = row_word(r), y = row_word(r);
    return sb_mul_shift2(x, y, n);
}

/* What every row of one graph draws from: the key side per cluster b and the
 * block tables per query cluster a. */
typedef struct {
    int k, nr, n;
    const int32_t *real;   /* [nr] real positions (the identity when nr == n) */
    const float *khat;     /* [n,k] */
    float *u;              /* [k] u_a = Σ_b S_ab ck_b */
    sb_alias_slot *tb;     /* [k,k] row a: b ~ S_ab ck_b */
    sb_alias_slot *tab;    /* [k*k] the pair (a,b) ~ S_ab ck_b, for rows that draw a by rejection */
    float u_sum;           /* Σ_a u_a */
    float *kmax;           /* [k] max over R of K̂_:b (rejection), or 0: use the table (the graph's) */
    uint16_t *kq16;        /* [k,nr] floor(65536 K̂_jb / kmax_b), capped at 65535, cluster-major:
                            * the rejection test's first 16 bits, so all but 1 try in 65536
                            * read a cached column (8 KB at n = 4096) instead of K̂ */
    int32_t *kslot;        /* [k] cluster b's alias table in tk, when kmax[b] == 0 */
    sb_alias_slot *tk;     /* [peaked clusters, nr] */
} graph_tables;

/* Key column sums ck and maxima kmax over the real positions: O(|R| k).
 * Summed in float alone, once a sum passes about 2^22 each add rounds by as
 * much as a membership and the errors pile up (n = 2^24, memberships near
 * 0.4: 15% too many edges; n = 2^22: 3% too few). So each KEY_SUMS_ROWS rows
 * are summed in float (a partial of at most 32: off by under 2^-15 of it)
 * and the partials in double; KEY_SUMS_BLOCK columns at a time (stack
 * blocks). Adding every row in double instead made sampling 4% slower. */
#define KEY_SUMS_BLOCK 256
#define KEY_SUMS_ROWS 32
static void key_sums(const float *khat, const int32_t *real, int nr, int k, float *ck, float *kmax) {
    double acc[KEY_SUMS_BLOCK];
    float part[KEY_SUMS_BLOCK];
    for (int b0 = 0; b0 < k; b0 += KEY_SUMS_BLOCK) {
        const int nb = k - b0 < KEY_SUMS_BLOCK ? k - b0 : KEY_SUMS_BLOCK;
        float *mx = kmax + b0;
        for (int b = 0; b < nb; b++) acc[b] = 0.0, mx[b] = 0.0f;
        for (int r0 = 0; r0 < nr; r0 += KEY_SUMS_ROWS) {
            const int r1 = nr - r0 < KEY_SUMS_ROWS ? nr : r0 + KEY_SUMS_ROWS;
            for (int b = 0; b < nb; b++) part[b] = 0.0f;
            for (int r = r0; r < r1; r++) {
                const float *kr = khat + (size_t)real[r] * k + b0;
#pragma omp simd
                for (int b = 0; b < nb; b++) part[b] += kr[b], mx[b] = kr[b] > mx[b] ? kr[b] : mx[b];
            }
            for (int b = 0; b < nb; b++) acc[b] += (double)part[b];
        }
        for (int b = 0; b < nb; b++) ck[b0 + b] = (float)acc[b];
    }
}

/* The query side's tables (pass 1): u, the block tables tb and tab. */
static void block_tables_build(graph_tables *t, const float *S, const float *ck, int k, sb_mem_tracker *mem) {
    t->u = sb_cpu_scratch_alloc(mem, sizeof(float) * k);
    t->tb = sb_cpu_scratch_alloc(mem, sizeof(sb_alias_slot) * (size_t)k * k);
    t->tab = sb_cpu_scratch_alloc(mem, sizeof(sb_alias_slot) * (size_t)k * k);
    float *st = sb_cpu_scratch_alloc(mem, sizeof(float) * (size_t)k * k);
    void *work = sb_cpu_scratch_alloc(mem, SB_ALIAS_WORK_BYTES(k * k));
    for (int a = 0; a < k; a++) {
        float ua = 0.0f;
        for (int b = 0; b < k; b++) st[(size_t)a * k + b] = S[(size_t)a * k + b] * ck[b], ua += st[(size_t)a * k + b];
        t->u[a] = ua;
        sb_alias_build(t->tb + (size_t)a * k, st + (size_t)a * k, k, work);
    }
    t->u_sum = (float)sb_alias_build(t->tab, st, k * k, work);
    FREE_ALL(mem, st, work);
}

/* Whether cluster b's keys come from an alias table: its weights are peaked
 * (rejection would need REJECT_MAX tries or more on average), or so small
 * (below FLT_MIN, sigmoid logits under about -87) that the 16-bit table's
 * scale 1/kmax would overflow. */
static int key_cluster_peaked(float kmax, float ck, int nr) {
    return kmax * (float)nr > REJECT_MAX * ck || kmax < FLT_MIN;
}

/* The key side's tables (pass 2). Memberships are sigmoids, usually flat
 * across positions, so a cluster's keys come by rejection from a uniform slot
 * (accept with K̂_jb / max), which needs fewer than REJECT_MAX tries on
 * average and only the 16-bit column kq16; a peaked cluster gets an alias
 * table instead, and its kmax entry becomes 0 (kmax is the graph's, used up
 * here). */
static void key_tables_build(graph_tables *t, const float *ck, float *kmax, sb_mem_tracker *mem) {
    const int k = t->k, nr = t->nr;
    const float *khat = t->khat;
    const int32_t *real = t->real;
    t->kmax = kmax;
    t->kslot = sb_cpu_scratch_alloc(mem, sizeof(int32_t) * k);
    int peaked = 0;
    for (int b = 0; b < k; b++) peaked += key_cluster_peaked(t->kmax[b], ck[b], nr);
    t->tk = sb_cpu_scratch_alloc(mem, sizeof(sb_alias_slot) * ((size_t)peaked * nr + 1));
    if (peaked) {
        float *col = sb_cpu_scratch_alloc(mem, sizeof(float) * (size_t)nr);
        void *work = sb_cpu_scratch_alloc(mem, SB_ALIAS_WORK_BYTES(nr));
        peaked = 0;
        for (int b = 0; b < k; b++) {
            if (!key_cluster_peaked(t->kmax[b], ck[b], nr)) continue;
            for (int r = 0; r < nr; r++) col[r] = khat[(size_t)real[r] * k + b];
            t->kslot[b] = peaked;
            sb_alias_build(t->tk + (size_t)peaked++ * nr, col, nr, work);
            t->kmax[b] = 0.0f;
        }
        FREE_ALL(mem, col, work);
    }
    /* +1 entry: the AVX2 key loop reads 4 bytes a lookup */
    t->kq16 = sb_cpu_scratch_alloc(mem, sizeof(uint16_t) * ((size_t)nr * k + 1));
    /* 32 rows at a time: quantised along each row of K̂ (vectorised) into a
     * row-major tile, then transposed from L1, so the writes fill whole
     * cache lines */
    float *inv = sb_cpu_scratch_alloc(mem, sizeof(float) * k);
    uint16_t *tile = sb_cpu_scratch_alloc(mem, sizeof(uint16_t) * 32 * (size_t)k);
    /* (K̂ / kmax) 65536 as (K̂ (1/kmax)) 65536: the same value as K̂ (65536/kmax),
     * a power of two apart, without overflow (kmax >= FLT_MIN here) */
    for (int b = 0; b < k; b++) inv[b] = t->kmax[b] > 0.0f ? 1.0f / t->kmax[b] : 0.0f;
    for (int r0 = 0; r0 < nr; r0 += 32) {
        const int rows = nr - r0 < 32 ? nr - r0 : 32;
        for (int r = 0; r < rows; r++) {
            const float *kr = khat + (size_t)real[r0 + r] * k;
            uint16_t *tr = tile + (size_t)r * k;
#pragma omp simd
            for (int b = 0; b < k; b++) {
                const float f = kr[b] * inv[b] * 65536.0f;
                tr[b] = (uint16_t)(int32_t)(f < 65535.0f ? f : 65535.0f); /* NaN (a NaN membership) -> 65535 */
            }
        }
        for (int b = 0; b < k; b++) {
            uint16_t *q = t->kq16 + (size_t)b * nr + r0;
            for (int r = 0; r < rows; r++) q[r] = tile[(size_t)r * k + b];
        }
    }
    FREE_ALL(mem, inv, tile);
}

static void block_tables_free(graph_tables *t, sb_mem_tracker *mem) {
    FREE_ALL(mem, t->u, t->tb, t->tab);
}

static void key_tables_free(graph_tables *t, sb_mem_tracker *mem) {
    FREE_ALL(mem, t->kslot, t->tk, t->kq16);
}

/* Draws count key endpoints j ~ K̂_jb over the real positions into out. A
 * rejection try takes one word: its multiply-shift by nr gives the slot, the
 * low 32 bits of the product the acceptance uniform u (as in sb_alias_draw:
 * exact to within nr / 2^32, so past SB_ONE_WORD_MAX positions a try takes
 * two words, as row_product). Its top 16 bits r16 decide against the 16-bit
 * table alone unless r16 == q16 (1 try in 65536), where u is compared with
 * K̂_jb / max itself: r16 < q16 means u < q16/65536 <= K̂/max, accept;
 * r16 > q16 means u >= (q16+1)/65536 > K̂/max, reject; so the test is exact
 * up to the float rounding of q16 itself (about one part in 2^23 of the
 * acceptance). (An 8-bit table tied 1 try in 256, and each tie read K̂ from
 * memory, often a cache miss: perf put a tenth of pass 2-3's samples on that
 * load at 5%; the measured gain was smaller than the runs' noise.) Every try
 * writes its candidate and advances by its verdict, without a branch: the
 * verdict is a coin flip the predictor cannot learn. With AVX2, 8 tries a
 * step (cpu_sbm_reject_avx2.h), with the same draws; out then needs 8 slots
 * of slack. keys_scalar: the tries on words[0 .. nw), until *e reaches want;
 * returns the words used. */
static int keys_scalar(const graph_tables *t, int b, const uint32_t *words, int nw, int32_t *out, int64_t *e,
                       int64_t want) {
    const float mx = t->kmax[b];
    const uint16_t *q16b = t->kq16 + (size_t)b * t->nr;
    int64_t at = *e;
    int i = 0;
    /* past SB_ONE_WORD_MAX positions a try takes two words (the range's
     * words come in pairs: a pool starts at a refill, and refills hold an
     * even number) */
    const int two = t->nr > SB_ONE_WORD_MAX;
    for (; i + two < nw && at < want; i += 1 + two) {
        const uint64_t p = two ? sb_mul_shift2(words[i], words[i + 1], (uint32_t)t->nr)
                               : (uint64_t)words[i] * (uint32_t)t->nr;
        const uint32_t slot = (uint32_t)(p >> 32), low = (uint32_t)p;
        const uint32_t r16 = low >> 16, q16 = q16b[slot];
        const int32_t j = t->real[slot];
        out[at] = j;
        if (__builtin_expect(r16 == q16, 0))
            at += (float)(low >> 8) * (mx * (1.0f / 16777216.0f)) < t->khat[(size_t)j * t->k + b];
        else
            at += r16 < q16;
    }
    *e = at;
    return i;
}

static void draw_keys(const graph_tables *t, int b, row_words *w, int32_t *out, int64_t count) {
    if (!(t->kmax[b] > 0.0f)) {
        const sb_alias_slot *tk = t->tk + (size_t)t->kslot[b] * t->nr;
        for (int64_t e = 0; e < count; e++) out[e] = t->real[sb_alias_pick(tk, row_product(w, (uint32_t)t->nr))];
        return;
    }
#ifdef __AVX2__
    const int32_t *real = t->nr == t->n ? NULL : t->real; /* all positions real: the slot is the key */
#endif
    for (int64_t e = 0; e < count;) {
        row_words_ready(w);
        const uint32_t *words = w->buf + w->pos;
        const int nw = 4 * ROW_BLOCKS - w->pos;
#ifdef __AVX2__
        /* 8 tries a step; a step with a tie (or a tail) goes one by one; two-word tries only one by one */
        int used;
        if (t->nr <= SB_ONE_WORD_MAX) {
            used = sb_reject_keys_avx2(t->kq16 + (size_t)b * t->nr, real, (uint32_t)t->nr, words, nw & ~7, out,
                                       &e, count);
            if (e < count) used += keys_scalar(t, b, words + used, nw - used < 8 ? nw - used : 8, out, &e, count);
        } else {
            used = keys_scalar(t, b, words, nw, out, &e, count);
        }
#else
        const int used = keys_scalar(t, b, words, nw, out, &e, count);
#endif
        w->pos += used;
    }
}

/* A row's drawn keys become its sorted, unique keys in one of two ways,
 * chosen by their count nd: many are marked in an n-bit bitmap and read back
 * in order (O(nd + n/64)); a few (at most 2 sqrt(n/64)) are sorted by
 * insertion (O(nd²) <= O(n/64)). */
static int merge_by_bitmap(int64_t nd, int words) { return nd * nd > 4 * (int64_t)words; }

static inline void bitmap_mark(uint64_t *bits, int32_t j) { bits[j >> 6] |= 1ull << (j & 63); }

/* The bitmap's keys (marked from nd draws) in order into out, clearing it.
 * out has room slots, room >= nd + 8 (the chunk's bound leaves 8 after its
 * draws). Returns how many. */
static int64_t bitmap_read_row(uint64_t *bits, int words, int64_t nd, int32_t *out, int64_t room) {
#ifdef __AVX512VBMI2__
    /* the last row of a chunk may lack the 16 slots of slack */
    if (room >= nd + SB_BITS_AVX512_SLACK) return sb_bits_to_positions_avx512(bits, words, out);
#endif
    (void)room;
    return sb_bits_to_positions_portable(bits, words, nd, out);
}

/* Sorts d[0..nd) by insertion and writes its distinct keys to out. Returns
 * how many. */
static int64_t sort_unique_row(int32_t *d, int64_t nd, int32_t *out) {
    for (int64_t p = 1; p < nd; p++) {
        const int32_t v = d[p];
        int64_t q = p - 1;
        while (q >= 0 && d[q] > v) d[q + 1] = d[q], q--;
        d[q + 1] = v;
    }
    int64_t len = 0;
    for (int64_t p = 0; p < nd; p++)
        if (p == 0 || d[p] != d[p - 1]) out[len++] = d[p];
    return len;
}

/* One chunk's draws, from pass 1 to passes 2-3. */
typedef struct {
    uint16_t *bsel;         /* [bsel_len] each SBM edge's key cluster, row by row */
    int32_t *dkeys;         /* [dk_len] each δ edge's key, row by row */
    int64_t bsel_len, bsel_cap, dk_len, dk_cap;
    int64_t bound;          /* edges before merging (at least the chunk's merged edges), plus
                             * bitmap_read_row's slack: its room in the column array */
    int64_t at, len;        /* its offset in the column array (from the bounds), its merged edges */
    int64_t words;          /* random words its rows and pools generated */
} chunk_draws;

/* One graph's state across the passes. */
typedef struct {
    sb_rng_stream s;        /* the graph's stream */
    int nr, nchunks;
    int32_t *real;          /* [nr] real positions */
    int32_t *ne, *ndl;      /* [nr] each real row's SBM and δ edges */
    float *ck, *kmax;       /* [k] key column sums and maxima (kmax 0 where an alias table serves) */
    graph_tables t;         /* the block tables in pass 1, the key tables in passes 2-3 */
    chunk_draws *ch;        /* [nchunks] */
    const float *S;         /* its head's block matrix */
    omp_lock_t lock;        /* the first of its tasks in a pass builds that pass's tables, */
    int ready, parts_left;  /* the last one frees them */
} graph_draws;

/* Pass 1 for real row r (position i, memberships qi): its counts into d->ne[r]
 * and d->ndl[r], each SBM edge's key cluster b onto its chunk's cd->bsel and
 * each δ edge's key onto cd->dkeys. lam: the row's rate Σ_a Q̂_ia u_a; qmax: max_a
 * Q̂_ia. W: blocks of a row's range; cdf and guide: k-float and k-int
 * scratch. */
static void row_pairs(graph_draws *d, chunk_draws *cd, const graph_tables *t, int r, const float *qi, float lam, float qmax,
                      float delta, uint32_t W, float *cdf, int32_t *guide, sb_mem_tracker *mem) {
    const int k = t->k, i = d->real[r];
    const sb_rng_stream s = d->s;
    sb_rng_reader pr;
    sb_rng_reader_init(&pr, s);
    pr.next_block = (uint32_t)i * W + (W - POISSON_BLOCKS);
    const int64_t ne = sb_poisson(&pr, (double)lam);
    const int64_t nd = delta > 0.0f ? sb_poisson(&pr, (double)delta * t->nr) : 0;
    cd->words += 4 * (int64_t)(pr.next_block - (uint32_t)i * W - (W - POISSON_BLOCKS));
    d->ne[r] = (int32_t)ne, d->ndl[r] = (int32_t)nd;
    row_words w;
    row_words_init(&w, s, (uint32_t)i * W, W - POISSON_BLOCKS);
    if (ne > 0) {
        /* rarely grows: the first guess is the expected count; +8: the AVX2
         * flat loop stores 8 lanes a step */
        cd->bsel = grow(mem, cd->bsel, sizeof(uint16_t), cd->bsel_len, &cd->bsel_cap, cd->bsel_len + ne + 8);
        uint16_t *out = cd->bsel + cd->bsel_len;
        if (qmax * t->u_sum <= REJECT_MAX * lam) {
            /* a flat row: propose the pair (a,b) ~ S_ab ck_b from the graph's
             * table, accept with Q̂_ia / max_a Q̂_ia: O(k) per row, 2 words a
             * try; each try writes b and advances by its verdict (no branch) */
            const float scale = qmax * (1.0f / 16777216.0f);
            const uint32_t kk = (uint32_t)(k * k);
            /* a pair table past SB_ONE_WORD_MAX (k > 256): 3 words a try,
             * the pair from two (row_product), then the acceptance */
            for (int64_t e = 0; kk > SB_ONE_WORD_MAX && e < ne;) {
                const int32_t ab = sb_alias_pick(t->tab, row_product(&w, kk));
                out[e] = (uint16_t)(ab % k);
                e += (float)(row_word(&w) >> 8) * scale < qi[ab / k];
            }
            for (int64_t e = 0; kk <= SB_ONE_WORD_MAX && e < ne;) {
                row_words_ready(&w);
                const uint32_t *words = w.buf + w.pos;
                const int nw = 4 * ROW_BLOCKS - w.pos;
                int used = 0;
#ifdef __AVX2__
                /* 8 tries a step, the same draws (cpu_sbm_reject_avx2.h) */
                used = sb_flat_pairs_avx2(t->tab, kk, k, qi, scale, words, nw & ~15, out, &e, ne);
#endif
                for (; used + 2 <= nw && e < ne; used += 2) {
                    const int32_t ab = sb_alias_draw(t->tab, kk, words[used]);
                    out[e] = (uint16_t)(ab % k);
                    e += (float)(words[used + 1] >> 8) * scale < qi[ab / k];
                }
                w.pos += used;
            }
        } else {
            /* a peaked row: a from the row's cumulative weights through a guide
             * table (a bucket's first cluster, so a draw walks O(1) clusters),
             * then b | a from the block table */
            float acc = 0.0f;
            for (int a = 0; a < k; a++) acc += qi[a] * t->u[a], cdf[a] = acc;
            const float cl = acc, step = cl / (float)k;
            for (int b = 0, a = 0; b < k; b++) {
                const float thr = (float)b * step;
                while (a < k - 1 && cdf[a] <= thr) a++;
                guide[b] = a;
            }
            for (int64_t e = 0; e < ne; e++) {
                const uint32_t x24 = row_word(&w) >> 8;
                const float x = (float)x24 * (1.0f / 16777216.0f) * cl;
                int a = guide[((uint64_t)x24 * (uint32_t)k) >> 24];
                while (a < k - 1 && cdf[a] <= x) a++;
                out[e] = (uint16_t)sb_alias_draw(t->tb + (size_t)a * k, (uint32_t)k, row_word(&w));
            }
        }
        cd->bsel_len += ne;
    }
    if (nd > 0) {
        cd->dkeys = grow(mem, cd->dkeys, sizeof(int32_t), cd->dk_len, &cd->dk_cap, cd->dk_len + nd);
        for (int64_t e = 0; e < nd; e++) cd->dkeys[cd->dk_len + e] = t->real[row_product(&w, (uint32_t)t->nr) >> 32];
        cd->dk_len += nd;
    }
    cd->words += w.generated;
}

/* A graph's setup: its real positions and chunks. O(n). */
static void graph_begin(graph_draws *d, const float *khat, const float *S, const float *km, int n, int k,
                        sb_rng_stream s, sb_mem_tracker *mem) {
    memset(d, 0, sizeof *d);
    d->s = s, d->S = S;
    d->real = sb_cpu_scratch_alloc(mem, sizeof(int32_t) * (size_t)(n + 1));
    for (int i = 0; i < n; i++)
        if (!km || km[i] > 0.0f) d->real[d->nr++] = i;
    const int nr = d->nr;
    d->nchunks = (nr + CHUNK_ROWS - 1) / CHUNK_ROWS;
    d->ch = sb_cpu_scratch_alloc(mem, sizeof(chunk_draws) * (size_t)(d->nchunks + 1));
    memset(d->ch, 0, sizeof(chunk_draws) * (size_t)(d->nchunks + 1));
    d->ck = sb_cpu_scratch_alloc(mem, sizeof(float) * k), d->kmax = sb_cpu_scratch_alloc(mem, sizeof(float) * k);
    d->ne = sb_cpu_scratch_alloc(mem, sizeof(int32_t) * (size_t)(nr + 1));
    d->ndl = sb_cpu_scratch_alloc(mem, sizeof(int32_t) * (size_t)(nr + 1));
    d->t = (graph_tables){.k = k, .nr = nr, .n = n, .real = d->real, .khat = khat};
    omp_init_lock(&d->lock);
}

/* Pass 1's tables of a graph: the key column sums and maxima, and the block
 * tables. O(|R| k + k²). */
static void pass1_tables_build(graph_draws *d, sb_mem_tracker *mem) {
    key_sums(d->t.khat, d->real, d->nr, d->t.k, d->ck, d->kmax);
    block_tables_build(&d->t, d->S, d->ck, d->t.k, mem);
}

static void pass1_tables_free(graph_draws *d, sb_mem_tracker *mem) { block_tables_free(&d->t, mem); }

static void pass23_tables_build(graph_draws *d, sb_mem_tracker *mem) { key_tables_build(&d->t, d->ck, d->kmax, mem); }

static void pass23_tables_free(graph_draws *d, sb_mem_tracker *mem) { key_tables_free(&d->t, mem); }

/* A task's hold on its graph's tables for a pass: the first to come builds
 * them (the others wait on the lock), the last to go frees them. Every task
 * of the pass takes and releases, so the tables are freed exactly once, by a
 * thread that saw them built. */
static void tables_acquire(graph_draws *d, void (*build)(graph_draws *, sb_mem_tracker *), sb_mem_tracker *mem) {
    omp_set_lock(&d->lock);
    if (!d->ready && d->nr > 0) build(d, mem);
    d->ready = 1;
    omp_unset_lock(&d->lock);
}

static void tables_release(graph_draws *d, void (*release)(graph_draws *, sb_mem_tracker *), sb_mem_tracker *mem) {
    int left;
#pragma omp atomic capture seq_cst
    left = --d->parts_left;
    if (left == 0 && d->nr > 0) release(d, mem);
}

/* The end of the chunk of real rows that starts at r0. */
static int chunk_end(const graph_draws *d, int r0) { return d->nr - r0 < CHUNK_ROWS ? d->nr : r0 + CHUNK_ROWS; }

/* Pass 1 for chunk c of a graph: every row's rate λ_i and largest membership,
 * then its counts and cluster pairs. The expected SBM edges Σ_i λ_i are the
 * first guess of the chunk's size. */
static void chunk_pass1(graph_draws *d, int c, const float *qhat, int n, float delta, int self_loops,
                        sb_mem_tracker *mem) {
    const graph_tables *t = &d->t;
    const int k = t->k, r0 = c * CHUNK_ROWS, r1 = chunk_end(d, r0);
    chunk_draws *cd = &d->ch[c];
    float lam[CHUNK_ROWS], qmax[CHUNK_ROWS];
    double expect = 0.0;
    for (int r = r0; r < r1; r++) {
        const float *qi = qhat + (size_t)d->real[r] * k;
        float l = 0.0f, mx = 0.0f;
#pragma omp simd reduction(+ : l) reduction(max : mx)
        for (int a = 0; a < k; a++) l += qi[a] * t->u[a], mx = qi[a] > mx ? qi[a] : mx;
        lam[r - r0] = l, qmax[r - r0] = mx;
        expect += l > 0.0f ? l : 0.0f; /* a NaN rate (NaN memberships) draws no edges (sb_poisson) */
    }
    cd->bsel_cap = (int64_t)(expect * 1.05) + 64;
    cd->bsel = sb_cpu_scratch_alloc(mem, sizeof(uint16_t) * (size_t)cd->bsel_cap);
    float *cdf = sb_cpu_scratch_alloc(mem, sizeof(float) * k);
    int32_t *guide = sb_cpu_scratch_alloc(mem, sizeof(int32_t) * k);
    const uint32_t W = range_blocks(n);
    for (int r = r0; r < r1; r++)
        row_pairs(d, cd, t, r, qhat + (size_t)d->real[r] * k, lam[r - r0], qmax[r - r0], delta, W, cdf, guide, mem);
    cd->bound = cd->bsel_len + cd->dk_len + (self_loops ? r1 - r0 : 0) + 8;
    FREE_ALL(mem, cdf, guide);
}

/* Passes 2 and 3 for chunk c of a graph: the chunk's key pools, then each of
 * its rows' keys, merged into cols (room for the chunk's bound); row_len[n]
 * gets the degrees of its rows. Frees the chunk's draws. */
static void chunk_pass23(graph_draws *d, int c, int n, int self_loops, int32_t *cols, int64_t *row_len,
                         sb_mem_tracker *mem) {
    const graph_tables *t = &d->t;
    const int k = t->k, r0 = c * CHUNK_ROWS, r1 = chunk_end(d, r0);
    chunk_draws *cd = &d->ch[c];
    /* pass 2: per cluster, a pool of keys as long as the chunk's edges that chose it */
    const uint32_t WP = range_blocks(d->nchunks * k);
    int64_t *pool_at = sb_cpu_scratch_alloc(mem, sizeof(int64_t) * (size_t)(k + 1));
    memset(pool_at, 0, sizeof(int64_t) * (size_t)(k + 1));
    /* local copies: the counters' stores could alias cd's fields */
    const uint16_t *bsel = cd->bsel;
    const int32_t *dkeys = cd->dkeys;
    const int64_t nsel = cd->bsel_len;
    for (int64_t e = 0; e < nsel; e++) pool_at[bsel[e] + 1]++;
    for (int b = 0; b < k; b++) pool_at[b + 1] += pool_at[b];
    int32_t *pool = sb_cpu_scratch_alloc(mem, sizeof(int32_t) * (size_t)(nsel + 8)); /* draw_keys' slack */
    for (int b = 0; b < k; b++) {
        if (pool_at[b + 1] == pool_at[b]) continue;
        row_words w;
        row_words_init(&w, d->s, (1u << 31) + (uint32_t)(c * k + b) * WP, WP);
        draw_keys(t, b, &w, pool + pool_at[b], pool_at[b + 1] - pool_at[b]);
        cd->words += w.generated;
    }
    /* pass 3: the chunk's rows take their keys in order, then merge; a bitmap
     * row marks them as they come and is read back straight into cols (the
     * chunk's bound leaves the slack) */
    const int words = (n + 63) / 64;
    uint64_t *bits = sb_cpu_scratch_alloc(mem, sizeof(uint64_t) * (size_t)words);
    memset(bits, 0, sizeof(uint64_t) * (size_t)words);
    int64_t draw_cap = 0, eb = 0, ed = 0, nnz = 0;
    int32_t *draws = NULL;
    for (int r = r0; r < r1; r++) {
        const int ne = d->ne[r], ndl = d->ndl[r];
        const int64_t total = (int64_t)ne + ndl + (self_loops ? 1 : 0);
        if (total == 0) continue;
        int64_t len;
        if (merge_by_bitmap(total, words)) {
            for (int e = 0; e < ne; e++, eb++) bitmap_mark(bits, pool[pool_at[bsel[eb]]++]);
            for (int e = 0; e < ndl; e++, ed++) bitmap_mark(bits, dkeys[ed]);
            if (self_loops) bitmap_mark(bits, d->real[r]);
            len = bitmap_read_row(bits, words, total, cols + nnz, cd->bound - nnz);
        } else {
            draws = grow(mem, draws, sizeof(int32_t), 0, &draw_cap, total);
            int64_t m = 0;
            for (int e = 0; e < ne; e++, eb++) draws[m++] = pool[pool_at[bsel[eb]]++];
            for (int e = 0; e < ndl; e++, ed++) draws[m++] = dkeys[ed];
            if (self_loops) draws[m++] = d->real[r];
            len = sort_unique_row(draws, m, cols + nnz);
        }
        row_len[d->real[r]] = len;
        nnz += len;
    }
    cd->len = nnz;
    FREE_ALL(mem, pool_at, pool, bits, draws, cd->bsel, cd->dkeys);
}

/* A graph's teardown (after passes 2-3). */
static void graph_end(graph_draws *d, sb_mem_tracker *mem) {
    omp_destroy_lock(&d->lock);
    FREE_ALL(mem, d->real, d->ne, d->ndl, d->ck, d->kmax, d->ch);
}

/* Dense Bernoulli for one graph: P = Q̂ (K̂ Sᵀ)ᵀ row block by row block.
 * Row i reads Philox blocks [i ceil(n/4), (i+1) ceil(n/4)), all inside the
 * 32-bit block counter while n <= SB_BERNOULLI_MAX_N (2^17: n ceil(n/4) =
 * 2^32); past it rows would reuse earlier rows' words, so the entry point
 * refuses such n (its O(n² k) cost rules them out anyway). */
#define SB_BERNOULLI_MAX_N (1 << 17)
static graph_edges sample_bernoulli(const float *qhat, const float *khat, const float *S, const float *key_mask,
                                    int n, int k, float delta, int self_loops, sb_rng_stream s,
                                    int64_t *row_len, sb_mem_tracker *mem) {
    graph_edges g;
    float *W = sb_cpu_scratch_alloc(mem, sizeof(float) * (size_t)n * k);
    sb_cpu_gemm_serial(0, 1, n, k, k, 1.0f, khat, k, S, k, 0.0f, W, k); /* W = K̂ Sᵀ */
    enum { RB = 32 };
    float *P = sb_cpu_scratch_alloc(mem, sizeof(float) * RB * (size_t)n);
    const uint32_t blocks_per_row = (uint32_t)(n + 3) / 4;
    uint32_t *words = sb_cpu_scratch_alloc(mem, sizeof(uint32_t) * 4 * blocks_per_row);
    int64_t cap = 0, nnz = 0;
    g.cols = grow(mem, NULL, sizeof(int32_t), 0, &cap, 1024);
    for (int i0 = 0; i0 < n; i0 += RB) {
        int rb = n - i0 < RB ? n - i0 : RB;
        sb_cpu_gemm_serial(0, 1, rb, n, k, 1.0f, qhat + (size_t)i0 * k, k, W, k, 0.0f, P, n);
        for (int r = 0; r < rb; r++) {
            int i = i0 + r;
            row_len[i] = 0;
            if (key_mask && key_mask[i] <= 0.0f) continue; /* padded query: no row */
            g.cols = grow(mem, g.cols, sizeof(int32_t), nnz, &cap, nnz + n); /* room for a full row */
            fill_words(&s, (uint32_t)i * blocks_per_row, blocks_per_row, words);
            const float *p = P + (size_t)r * n;
            int64_t start = nnz;
            for (int j = 0; j < n; j++) {
                if (key_mask && key_mask[j] <= 0.0f) continue;
                float pr = p[j] + delta;
                if (sb_u32_to_unit(words[j]) < pr || (self_loops && j == i)) g.cols[nnz++] = j;
            }
            row_len[i] = nnz - start;
        }
    }
    g.nnz = nnz;
    FREE_ALL(mem, W, P, words);
    return g;
}

/* The CSR's row pointers from its rows' degrees [G n], and its edge count. */
static void set_rows(sb_csr *csr, int64_t nnz, const int64_t *row_len) {
    csr->nnz = nnz;
    csr->row_ptr[0] = 0;
    for (size_t r = 0; r < (size_t)csr->n_graphs * csr->n; r++) csr->row_ptr[r + 1] = csr->row_ptr[r] + row_len[r];
}

/* Graph g = (example b, head h)'s inputs: its memberships [n,k], its head's
 * block matrix, its example's key mask, and its random stream. */
typedef struct {
    const float *qhat, *khat, *S, *key_mask;
    sb_rng_stream s;
} graph_inputs;

static graph_inputs graph_slice(int g, int H, int n, int k, const float *qhat, const float *khat, const float *S,
                                const float *key_mask, sb_rng_stream base) {
    const int b = g / H, h = g % H;
    return (graph_inputs){qhat + (size_t)g * n * k, khat + (size_t)g * n * k, S + (size_t)h * k * k,
                          key_mask ? key_mask + (size_t)b * n : NULL, sb_rng_derive(base, (uint32_t)b, (uint32_t)h)};
}

/* One pass over every graph's chunks as (graph, part) tasks, P parts of
 * contiguous chunks per graph; each task holds its graph's tables for the
 * pass (tables_acquire). */
typedef enum { PASS_1, PASS_23 } fastrg_pass;

static void run_fastrg_pass(fastrg_pass pass, graph_draws *gd, int G, int P, const float *qhat, int n, int k,
                            float delta, int self_loops, sb_csr *csr, int64_t *row_len, sb_mem_tracker *mem) {
    for (int g = 0; g < G; g++) gd[g].ready = 0, gd[g].parts_left = P;
#pragma omp parallel for schedule(dynamic, 1)
    for (int t = 0; t < G * P; t++) {
        const int g = t / P, part = t % P;
        graph_draws *d = &gd[g];
        const int c0 = (int)((int64_t)d->nchunks * part / P), c1 = (int)((int64_t)d->nchunks * (part + 1) / P);
        if (pass == PASS_1) {
            tables_acquire(d, pass1_tables_build, mem);
            for (int c = c0; c < c1; c++) chunk_pass1(d, c, qhat + (size_t)g * n * k, n, delta, self_loops, mem);
            tables_release(d, pass1_tables_free, mem);
        } else {
            tables_acquire(d, pass23_tables_build, mem);
            for (int c = c0; c < c1; c++)
                chunk_pass23(d, c, n, self_loops, csr->col + d->ch[c].at, row_len + (size_t)g * n, mem);
            tables_release(d, pass23_tables_free, mem);
        }
    }
}

/* fastRG for all graphs, written straight into the CSR. Pass 1 for every
 * graph gives an upper bound on each chunk's edges, the column array is
 * reserved for their sum, passes 2-3 write each chunk's merged rows at its
 * bound's offset, and one sequential sweep closes the gaps duplicates left.
 * (Sampling each graph into its own buffer and copying would hold every
 * edge twice at the peak.)
 *
 * With fewer graphs than about two per thread, each graph's chunks are split
 * among several tasks (sb_cpu_parts_per_graph), so every thread has work;
 * otherwise a task is a whole graph, whose tables then stay in one core's
 * cache. Which thread runs a chunk does not change its draws: each row and
 * each chunk's key pools own their Philox ranges. */
static void sample_fastrg_all(sb_backend *be, sb_csr *csr, const float *qhat, const float *khat, const float *S,
                              const float *key_mask, int B, int H, int n, int k, float delta, int self_loops,
                              sb_rng_stream base) {
    const int G = B * H, max_chunks = (n + CHUNK_ROWS - 1) / CHUNK_ROWS;
    const int64_t max_pools = ((int64_t)1 << 31) / ROW_BLOCKS;
    if ((int64_t)max_chunks * k > max_pools) {
        /* each (chunk, cluster) key pool's Philox range would be shorter
         * than one refill of its words, so neighbouring pools would overlap */
        sb_fatal(2, "fastRG sampling supports (n / %d) * k up to %lld (got n = %d, k = %d)", CHUNK_ROWS,
                 (long long)max_pools, n, k);
    }
    sb_mem_tracker *mem = &be->mem;
    const int P = sb_cpu_parts_per_graph(G, max_chunks);
    graph_draws *gd = sb_cpu_scratch_alloc(mem, sizeof(graph_draws) * (size_t)G);
    int64_t flops = 0;
#pragma omp parallel for schedule(static) reduction(+ : flops)
    for (int g = 0; g < G; g++) {
        const graph_inputs in = graph_slice(g, H, n, k, qhat, khat, S, key_mask, base);
        graph_begin(&gd[g], in.khat, in.S, in.key_mask, n, k, in.s, mem);
        /* per membership 4: the key column sum and maximum (2), the row's
         * rate and maximum (2; a peaked row's cumulative weights and the 16-bit
         * table's scaling are not counted); per block 5: S ck (2) and the
         * alias tables (3) */
        flops += 4LL * gd[g].nr * k + 5LL * k * k;
    }
    be->flops.total += flops;
    be->flops.sparse += flops;
    run_fastrg_pass(PASS_1, gd, G, P, qhat, n, k, delta, self_loops, csr, NULL, mem);
    int64_t reserve = 0; /* each chunk's offset, from the bounds */
    for (int g = 0; g < G; g++)
        for (int c = 0; c < gd[g].nchunks; c++) gd[g].ch[c].at = reserve, reserve += gd[g].ch[c].bound;
    sb_csr_reserve(be, csr, G, n, reserve);
    int64_t *row_len = sb_cpu_scratch_alloc(mem, sizeof(int64_t) * (size_t)G * n);
    memset(row_len, 0, sizeof(int64_t) * (size_t)G * n);
    run_fastrg_pass(PASS_23, gd, G, P, qhat, n, k, delta, self_loops, csr, row_len, mem);
    int64_t nnz = 0;
    for (int g = 0; g < G; g++) {
        for (int c = 0; c < gd[g].nchunks; c++) {
            const chunk_draws *cd = &gd[g].ch[c];
            if (cd->len && nnz != cd->at) memmove(csr->col + nnz, csr->col + cd->at, sizeof(int32_t) * (size_t)cd->len);
            nnz += cd->len;
            be->rng_words += cd->words;
        }
        graph_end(&gd[g], mem);
    }
    set_rows(csr, nnz, row_len);
    FREE_ALL(mem, gd, row_len);
}

/* The dense Bernoulli sampler for all graphs: each into its own list, then
 * copied into the CSR. */
static void sample_bernoulli_all(sb_backend *be, sb_csr *csr, const float *qhat, const float *khat, const float *S,
                                 const float *key_mask, int B, int H, int n, int k, float delta, int self_loops,
                                 sb_rng_stream base) {
    const int G = B * H;
    sb_mem_tracker *mem = &be->mem;
    graph_edges *ge = sb_cpu_scratch_alloc(mem, sizeof(graph_edges) * (size_t)G);
    int64_t *row_len = sb_cpu_scratch_alloc(mem, sizeof(int64_t) * (size_t)G * n);
#pragma omp parallel for schedule(dynamic, 1)
    for (int g = 0; g < G; g++) {
        const graph_inputs in = graph_slice(g, H, n, k, qhat, khat, S, key_mask, base);
        ge[g] = sample_bernoulli(in.qhat, in.khat, in.S, in.key_mask, n, k, delta, self_loops, in.s,
                                 row_len + (size_t)g * n, mem);
    }
    const int64_t f = (int64_t)G * (2LL * n * k * k + 2LL * n * n * k + (int64_t)n * n);
    be->flops.total += f;
    be->flops.sparse += f;
    int64_t nnz = 0;
    for (int g = 0; g < G; g++) nnz += ge[g].nnz;
    sb_csr_reserve(be, csr, G, n, nnz);
    set_rows(csr, nnz, row_len);
#pragma omp parallel for schedule(static)
    for (int g = 0; g < G; g++) {
        if (ge[g].nnz) memcpy(csr->col + csr->row_ptr[(size_t)g * n], ge[g].cols, sizeof(int32_t) * (size_t)ge[g].nnz);
        sb_cpu_scratch_free(mem, ge[g].cols);
    }
    sb_cpu_scratch_free(mem, ge);
    sb_cpu_scratch_free(mem, row_len);
}

void sb_cpu_sbm_sample(sb_backend *be, sb_csr *csr, const float *qhat, const float *khat, const float *S,
                       const float *key_mask, int B, int H, int n, int k, float delta, int self_loops,
                       int sampler, sb_rng_stream base) {
    if (n > (1 << 24)) /* each row's Philox range would be too short */
        sb_fatal(2, "SBM sampling supports sequences of up to 2^24 tokens (got %d)", n);
    if (k < 1 || k > 4096) /* the manifests' bound; the pair index (k² slots) stays well inside 32 bits */
        sb_fatal(2, "SBM sampling supports 1 to 4096 clusters (got k = %d)", k);
    if (sampler == SB_SAMPLER_BERNOULLI && n > SB_BERNOULLI_MAX_N)
        sb_fatal(2, "the dense Bernoulli sampler supports sequences of up to %d tokens (got %d); use the fastRG sampler",
                 SB_BERNOULLI_MAX_N, n);
    if (sampler == SB_SAMPLER_BERNOULLI)
        sample_bernoulli_all(be, csr, qhat, khat, S, key_mask, B, H, n, k, delta, self_loops, base);
    else
        sample_fastrg_all(be, csr, qhat, khat, S, key_mask, B, H, n, k, delta, self_loops, base);
}
