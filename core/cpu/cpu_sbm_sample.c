/* SBM graph sampling on the CPU: fastRG (Rohe et al. 2018) in O(n k + k² + m)
 * per graph, and the dense Bernoulli sampler of the public code in O(n² k).
 *
 * fastRG for one graph, with Q̂, K̂ restricted to the real positions R:
 *   cq_a = Σ_i Q̂_ia, ck_b = Σ_j K̂_jb, S̃_ab = cq_a S_ab ck_b, λ = Σ S̃
 *   m ~ Poisson(λ); each edge: block (a,b) ~ S̃/λ, i ~ Q̂_:a / cq_a, j ~ K̂_:b / ck_b.
 * This draws Poisson(p_ij) edges i->j independently for every pair (Poisson
 * thinning), each with its block pair kept (the public code's pairing bug
 * loses it). δ adds Poisson(δ |R|²) edges uniform over R x R, i.e. p_ij + δ.
 * Duplicates merge: P(i->j present) = 1 - exp(-(p_ij + δ)).
 *
 * Graphs are independent and sampled in parallel. Random words come from the
 * graph's Philox stream by position (block pairs from block 0, query and key
 * endpoints from blocks 2^28 and 3·2^28, δ edges from 2^30, the Poisson totals
 * from 2^31), so a graph's sample does not depend on the thread count.
 * Endpoints of flat clusters come from rejection sampling, of peaked ones
 * from alias tables (see REJECT_MAX). */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/cpu/cpu_ops.h"
#include "core/sbm_sampling.h"

#define DELTA_BLOCK0 (1u << 30)
#define POISSON_BLOCK0 (1u << 31)
#define ENDPOINT_Q_BLOCK0 (1u << 28) /* query endpoints' words */
#define ENDPOINT_K_BLOCK0 (3u << 28) /* key endpoints' words */
#define WORD_CHUNK 4096 /* random words generated per batch */
#define REJECT_MAX 4.0f /* rejection sampling while max/mean weight is below this */

/* Sequential words of a stream from a given block, generated WORD_CHUNK
 * blocks at a time (vectorised Philox). buf holds 4*WORD_CHUNK words. */
typedef struct {
    sb_rng_stream s;
    uint32_t next_block;
    uint32_t *buf;
    int pos, len;
} word_reader;

static inline uint32_t next_word(word_reader *r) {
    if (r->pos == r->len) {
        sb_rng_fill(&r->s, r->next_block, WORD_CHUNK, r->buf);
        r->next_block += WORD_CHUNK;
        r->pos = 0;
        r->len = 4 * WORD_CHUNK;
    }
    return r->buf[r->pos++];
}

typedef struct {
    int32_t *cols;   /* this graph's sorted unique columns, row by row */
    int64_t nnz;
} graph_edges;

/* Scratch memory of the sampler, counted by the backend's tracker so that
 * peak-memory figures include it, but without cpu_alloc's zeroing (these
 * buffers are written before they are read). A 16-byte header keeps the
 * size for the matching talloc_free. */
static void *talloc(sb_mem_tracker *mem, size_t bytes) {
    char *p = malloc(bytes + 16);
    if (!p) {
        fprintf(stderr, "sbmbench: out of memory allocating %zu bytes (SBM sampler)\n", bytes);
        exit(3);
    }
    *(size_t *)p = bytes;
    sb_mem_note_alloc(mem, bytes);
    return p + 16;
}

static void talloc_free(sb_mem_tracker *mem, void *q) {
    if (!q) return;
    char *p = (char *)q - 16;
    sb_mem_note_free(mem, *(size_t *)p);
    free(p);
}

/* Per row: mark the row's columns in an n-bit bitmap, then read the set bits
 * back in order: sorted and merged in O(degree + n/64). bucket holds the
 * rows' columns back to back (row r at start[r] .. start[r+1]); the result
 * overwrites it in place, compacted, and row_len gets the merged degrees. */
static int64_t merge_rows(sb_mem_tracker *mem, int32_t *bucket, const int64_t *start, int n, int64_t *row_len, uint64_t *bits) {
    const int words = (n + 63) / 64;
    int32_t *row = talloc(mem, sizeof(int32_t) * (size_t)(words + 1)); /* a sparse row's entries */
    int64_t w = 0;
    for (int r = 0; r < n; r++) {
        const int64_t s = start[r], e = start[r + 1], first = w;
        if (s == e) {
            row_len[r] = 0;
            continue;
        }
        for (int64_t t = s; t < e; t++) bits[bucket[t] >> 6] |= 1ull << (bucket[t] & 63);
        if (e - s > words) { /* dense row: scan the whole bitmap */
            for (int x = 0; x < words; x++)
                for (uint64_t b = bits[x]; b; b &= b - 1) bucket[w++] = x * 64 + __builtin_ctzll(b);
            memset(bits, 0, sizeof(uint64_t) * (size_t)words);
        } else { /* sparse row (at most n/64 entries): visit only the words it touched */
            memcpy(row, bucket + s, sizeof(int32_t) * (size_t)(e - s)); /* output may overtake input */
            for (int64_t t = 0; t < e - s; t++) {
                int x = row[t] >> 6;
                uint64_t b = bits[x];
                bits[x] = 0;
                /* words are visited in the row's order; collect, then sort the short run */
                for (; b; b &= b - 1) bucket[w++] = x * 64 + __builtin_ctzll(b);
            }
            /* the words came in arbitrary order: insertion-sort the (short) row */
            for (int64_t i = first + 1; i < w; i++) {
                int32_t v = bucket[i];
                int64_t j = i - 1;
                while (j >= first && bucket[j] > v) bucket[j + 1] = bucket[j], j--;
                bucket[j + 1] = v;
            }
        }
        row_len[r] = w - first;
    }
    talloc_free(mem, row);
    return w;
}

/* fastRG for one graph. real[nr]: real positions. row_len[n] receives the
 * merged degrees; the columns come back in the result. Random words: block
 * of each edge, then the query endpoints cluster by cluster, then the key
 * endpoints, each a contiguous run of the stream. */
static graph_edges sample_fastrg(const float *qhat, const float *khat, const float *S, const int32_t *real,
                                 int nr, int n, int k, float delta, int self_loops, sb_rng_stream s,
                                 int64_t *row_len, sb_mem_tracker *mem) {
    graph_edges g = {NULL, 0};
    memset(row_len, 0, sizeof(int64_t) * (size_t)n);
    if (nr == 0) {
        g.cols = talloc(mem, sizeof(int32_t));
        return g;
    }
    /* per-cluster weights over real positions, cluster-major: wq[a*nr + r] */
    float *wq = talloc(mem, sizeof(float) * (size_t)k * nr), *wk = talloc(mem, sizeof(float) * (size_t)k * nr);
    for (int r = 0; r < nr; r++) {
        const float *qi = qhat + (size_t)real[r] * k, *ki = khat + (size_t)real[r] * k;
        for (int a = 0; a < k; a++) {
            wq[(size_t)a * nr + r] = qi[a];
            wk[(size_t)a * nr + r] = ki[a];
        }
    }
    /* Endpoint sampler per cluster: memberships are sigmoids, usually flat
     * across positions, so rejection from a uniform proposal (accept i with
     * probability w_i / max w) needs about max/mean < REJECT_MAX tries and no
     * table at all; a peaked cluster gets an alias table instead. */
    sb_alias_slot *tq = talloc(mem, sizeof(sb_alias_slot) * (size_t)k * nr);
    sb_alias_slot *tk = talloc(mem, sizeof(sb_alias_slot) * (size_t)k * nr);
    sb_alias_slot *tb = talloc(mem, sizeof(sb_alias_slot) * (size_t)k * k);
    void *work = talloc(mem, SB_ALIAS_WORK_BYTES(nr > k * k ? nr : k * k));
    float *cq = talloc(mem, sizeof(float) * k), *ck = talloc(mem, sizeof(float) * k);
    float *mq = talloc(mem, sizeof(float) * k), *mk = talloc(mem, sizeof(float) * k); /* max, or 0: use the table */
    float *st = talloc(mem, sizeof(float) * (size_t)k * k);
    for (int side = 0; side < 2; side++)
        for (int a = 0; a < k; a++) {
            const float *w = (side ? wk : wq) + (size_t)a * nr;
            float sum = 0.0f, mx = 0.0f;
#pragma omp simd reduction(+ : sum) reduction(max : mx)
            for (int r = 0; r < nr; r++) sum += w[r], mx = w[r] > mx ? w[r] : mx;
            float *c = side ? ck : cq, *m = side ? mk : mq;
            if (mx * (float)nr <= REJECT_MAX * sum) {
                c[a] = sum, m[a] = mx;
            } else {
                c[a] = (float)sb_alias_build((side ? tk : tq) + (size_t)a * nr, w, nr, work);
                m[a] = 0.0f;
            }
        }
    for (int a = 0; a < k; a++)
        for (int b = 0; b < k; b++) st[(size_t)a * k + b] = cq[a] * S[(size_t)a * k + b] * ck[b];
    double lambda = sb_alias_build(tb, st, k * k, work);

    sb_rng_reader rd;
    sb_rng_reader_init(&rd, s);
    rd.next_block = POISSON_BLOCK0;
    const int64_t m1 = sb_poisson(&rd, lambda);
    const int64_t m2 = delta > 0.0f ? sb_poisson(&rd, (double)delta * nr * nr) : 0;
    const int64_t m3 = self_loops ? nr : 0, m = m1 + m2 + m3;
    uint32_t *words = talloc(mem, sizeof(uint32_t) * WORD_CHUNK * 4);
    /* 1. block counts: m1 draws from S̃ */
    int64_t *cnt = talloc(mem, sizeof(int64_t) * (size_t)k * k);
    int64_t *na = talloc(mem, sizeof(int64_t) * (size_t)(k + 1)), *nb = talloc(mem, sizeof(int64_t) * (size_t)(k + 1));
    memset(cnt, 0, sizeof(int64_t) * (size_t)k * k);
    uint64_t word = 0; /* next word of the stream */
    for (int64_t e0 = 0; e0 < m1; e0 += 4 * WORD_CHUNK, word += 4 * WORD_CHUNK) {
        int64_t ne = m1 - e0 < 4 * WORD_CHUNK ? m1 - e0 : 4 * WORD_CHUNK;
        sb_rng_fill(&s, (uint32_t)(word / 4), (size_t)(ne + 3) / 4, words);
        for (int64_t e = 0; e < ne; e++) cnt[sb_alias_draw(tb, (uint32_t)(k * k), words[e])]++;
    }
    /* 2. endpoints, cluster by cluster: na[a] query draws from Q̂_:a, nb[b] key draws from K̂_:b */
    memset(na, 0, sizeof(int64_t) * (size_t)(k + 1)), memset(nb, 0, sizeof(int64_t) * (size_t)(k + 1));
    for (int a = 0; a < k; a++)
        for (int b = 0; b < k; b++) na[a + 1] += cnt[(size_t)a * k + b], nb[b + 1] += cnt[(size_t)a * k + b];
    for (int a = 0; a < k; a++) na[a + 1] += na[a], nb[a + 1] += nb[a];
    int32_t *qs = talloc(mem, sizeof(int32_t) * (size_t)m1), *ks = talloc(mem, sizeof(int32_t) * (size_t)m1);
    for (int side = 0; side < 2; side++) {
        const sb_alias_slot *t = side ? tk : tq;
        const float *wmax = side ? mk : mq, *w = side ? wk : wq;
        const int64_t *off = side ? nb : na;
        int32_t *out = side ? ks : qs;
        word_reader wr = {.s = s, .next_block = side ? ENDPOINT_K_BLOCK0 : ENDPOINT_Q_BLOCK0, .buf = words};
        for (int a = 0; a < k; a++) {
            const float *wa = w + (size_t)a * nr;
            if (wmax[a] > 0.0f) { /* rejection: uniform slot, accept with w / max */
                const float scale = wmax[a] * (1.0f / 16777216.0f);
                for (int64_t e = off[a]; e < off[a + 1];) {
                    uint32_t slot = sb_u32_below(next_word(&wr), (uint32_t)nr);
                    if ((float)(next_word(&wr) >> 8) * scale < wa[slot]) out[e++] = real[slot];
                }
            } else {
                for (int64_t e = off[a]; e < off[a + 1]; e++)
                    out[e] = real[sb_alias_draw(t + (size_t)a * nr, (uint32_t)nr, next_word(&wr))];
            }
        }
    }
    /* 3. δ edges, uniform over real x real (their own run of the stream) */
    int32_t *di = talloc(mem, sizeof(int32_t) * (size_t)(m2 + m3)), *dj = talloc(mem, sizeof(int32_t) * (size_t)(m2 + m3));
    for (int64_t e0 = 0; e0 < m2; e0 += 2 * WORD_CHUNK) {
        int64_t ne = m2 - e0 < 2 * WORD_CHUNK ? m2 - e0 : 2 * WORD_CHUNK;
        sb_rng_fill(&s, DELTA_BLOCK0 + (uint32_t)((uint64_t)e0 * 2 / 4), (size_t)(ne * 2 + 3) / 4, words);
        for (int64_t e = 0; e < ne; e++) {
            di[e0 + e] = real[sb_u32_below(words[2 * e], (uint32_t)nr)];
            dj[e0 + e] = real[sb_u32_below(words[2 * e + 1], (uint32_t)nr)];
        }
    }
    for (int r = 0; r < m3; r++) di[m2 + r] = dj[m2 + r] = real[r];
    /* 4. bucket the columns by row (pairing block (a,b)'s edges with the next
     *    unused endpoints of cluster a and of cluster b), then merge each row */
    int64_t *start = talloc(mem, sizeof(int64_t) * (size_t)(n + 1));
    memset(start, 0, sizeof(int64_t) * (size_t)(n + 1));
    for (int64_t e = 0; e < m1; e++) start[qs[e] + 1]++;
    for (int64_t e = 0; e < m2 + m3; e++) start[di[e] + 1]++;
    for (int r = 0; r < n; r++) start[r + 1] += start[r];
    int64_t *pos = row_len; /* insertion cursors, overwritten by merge_rows */
    for (int r = 0; r < n; r++) pos[r] = start[r];
    g.cols = talloc(mem, sizeof(int32_t) * (size_t)m);
    int64_t *qa = talloc(mem, sizeof(int64_t) * (size_t)k), *kb = talloc(mem, sizeof(int64_t) * (size_t)k);
    memcpy(qa, na, sizeof(int64_t) * (size_t)k), memcpy(kb, nb, sizeof(int64_t) * (size_t)k);
    for (int a = 0; a < k; a++)
        for (int b = 0; b < k; b++)
            for (int64_t c = cnt[(size_t)a * k + b]; c > 0; c--) {
                int32_t i = qs[qa[a]++], j = ks[kb[b]++];
                g.cols[pos[i]++] = j;
            }
    for (int64_t e = 0; e < m2 + m3; e++) g.cols[pos[di[e]]++] = dj[e];
    uint64_t *bits = talloc(mem, sizeof(uint64_t) * ((size_t)(n + 63) / 64));
    memset(bits, 0, sizeof(uint64_t) * ((size_t)(n + 63) / 64));
    g.nnz = merge_rows(mem, g.cols, start, n, row_len, bits);
    talloc_free(mem, wq), talloc_free(mem, wk), talloc_free(mem, tq), talloc_free(mem, tk), talloc_free(mem, tb), talloc_free(mem, work), talloc_free(mem, cq), talloc_free(mem, ck), talloc_free(mem, mq), talloc_free(mem, mk), talloc_free(mem, st);
    talloc_free(mem, words), talloc_free(mem, cnt), talloc_free(mem, na), talloc_free(mem, nb), talloc_free(mem, qs), talloc_free(mem, ks), talloc_free(mem, di), talloc_free(mem, dj), talloc_free(mem, start);
    talloc_free(mem, qa), talloc_free(mem, kb), talloc_free(mem, bits);
    return g;
}

/* Dense Bernoulli for one graph: P = Q̂ (K̂ Sᵀ)ᵀ row block by row block. */
static graph_edges sample_bernoulli(const float *qhat, const float *khat, const float *S, const float *key_mask,
                                    int n, int k, float delta, int self_loops, sb_rng_stream s,
                                    int64_t *row_len, sb_mem_tracker *mem) {
    graph_edges g;
    float *W = talloc(mem, sizeof(float) * (size_t)n * k);
    sb_cpu_gemm_serial(0, 1, n, k, k, 1.0f, khat, k, S, k, 0.0f, W, k); /* W = K̂ Sᵀ */
    enum { RB = 32 };
    float *P = talloc(mem, sizeof(float) * RB * (size_t)n);
    const uint32_t blocks_per_row = (uint32_t)(n + 3) / 4;
    uint32_t *words = talloc(mem, sizeof(uint32_t) * 4 * blocks_per_row);
    int64_t cap = 1024, nnz = 0;
    g.cols = talloc(mem, sizeof(int32_t) * (size_t)cap);
    for (int i0 = 0; i0 < n; i0 += RB) {
        int rb = n - i0 < RB ? n - i0 : RB;
        sb_cpu_gemm_serial(0, 1, rb, n, k, 1.0f, qhat + (size_t)i0 * k, k, W, k, 0.0f, P, n);
        for (int r = 0; r < rb; r++) {
            int i = i0 + r;
            row_len[i] = 0;
            if (key_mask && key_mask[i] <= 0.0f) continue; /* padded query: no row */
            if (cap - nnz < n) g.cols = realloc(g.cols, sizeof(int32_t) * (size_t)(cap = 2 * cap + n));
            sb_rng_fill(&s, (uint32_t)i * blocks_per_row, blocks_per_row, words);
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
    talloc_free(mem, W), talloc_free(mem, P), talloc_free(mem, words);
    return g;
}

void sb_cpu_sbm_sample(sb_backend *be, sb_csr *csr, const float *qhat, const float *khat, const float *S,
                       const float *key_mask, int B, int H, int n, int k, float delta, int self_loops,
                       int sampler, sb_rng_stream base) {
    const int G = B * H;
    sb_mem_tracker *mem = &be->mem;
    graph_edges *ge = talloc(mem, sizeof(graph_edges) * (size_t)G);
    int64_t *row_len = talloc(mem, sizeof(int64_t) * (size_t)G * n);
    int64_t flops = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : flops)
    for (int g = 0; g < G; g++) {
        int b = g / H, h = g % H;
        const float *km = key_mask ? key_mask + (size_t)b * n : NULL;
        const float *qh = qhat + (size_t)g * n * k, *kh = khat + (size_t)g * n * k, *Sh = S + (size_t)h * k * k;
        sb_rng_stream s = sb_rng_derive(base, (uint32_t)b, (uint32_t)h);
        if (sampler == SB_SAMPLER_BERNOULLI) {
            ge[g] = sample_bernoulli(qh, kh, Sh, km, n, k, delta, self_loops, s, row_len + (size_t)g * n, mem);
            flops += 2LL * n * k * k + 2LL * n * n * k + (int64_t)n * n;
        } else {
            int32_t *real = talloc(mem, sizeof(int32_t) * (size_t)n);
            int nr = 0;
            for (int i = 0; i < n; i++)
                if (!km || km[i] > 0.0f) real[nr++] = i;
            ge[g] = sample_fastrg(qh, kh, Sh, real, nr, n, k, delta, self_loops, s, row_len + (size_t)g * n, mem);
            /* column sums and alias tables 3 per weight (scale, compare, residual), S̃ 2 per block */
            flops += 2LL * 3 * nr * k + 5LL * k * k;
            talloc_free(mem, real);
        }
    }
    be->flops.total += flops;
    be->flops.sparse += flops;
    int64_t nnz = 0;
    for (int g = 0; g < G; g++) nnz += ge[g].nnz;
    sb_csr_reserve(be, csr, G, n, nnz);
    csr->nnz = nnz;
    csr->row_ptr[0] = 0;
    for (size_t r = 0; r < (size_t)G * n; r++) csr->row_ptr[r + 1] = csr->row_ptr[r] + row_len[r];
#pragma omp parallel for schedule(static)
    for (int g = 0; g < G; g++) {
        if (ge[g].nnz) memcpy(csr->col + csr->row_ptr[(size_t)g * n], ge[g].cols, sizeof(int32_t) * (size_t)ge[g].nnz);
        talloc_free(mem, ge[g].cols);
    }
    talloc_free(mem, ge);
    talloc_free(mem, row_len);
}
