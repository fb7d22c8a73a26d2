/* Full softmax attention, fused per block of query rows.
 *
 * The PyTorch reference makes several passes over every n x n score matrix
 * (scale, mask, softmax, dropout, renormalise). Here each block of ATT_ROWS
 * query rows goes Q_blk Kᵀ -> masked softmax -> dropout -> (.) V while the
 * block's scores (ATT_ROWS x n floats, 512 KiB at n = 1024) stay in L2, and
 * each row's softmax and dropout run while the row is in L1.
 * The softmax probabilities are saved for backward; the dropout mask is not
 * (it is regenerated from its Philox stream, 128 draws per vectorised call).
 * ATT_ROWS 128 measured ~4% faster than 64 at n = 1024 (larger K in the
 * dV/dK products, fewer repacks of K and V by OpenBLAS). */
#include <math.h>
#include <omp.h>
#include <string.h>
#include "core/cpu/cpu_ops.h"
#include "core/kernels_inline.h"

#ifndef ATT_ROWS
#define ATT_ROWS 128
#endif

/* Row sums run in SB_LANES independent partial sums, and the row maximum in
 * one 8-lane vector (a maximum does not depend on the order), combined in a
 * fixed order at the end, so GCC vectorises them without -ffast-math and the
 * result does not depend on the build's vector width or the thread count. */
#define SB_LANES 16
typedef float sb_v8sf __attribute__((vector_size(32)));
typedef int32_t sb_v8si __attribute__((vector_size(32)));

static inline float lanes_sum(const float *acc) {
    float t[SB_LANES / 2];
    for (int l = 0; l < SB_LANES / 2; l++) t[l] = acc[l] + acc[l + SB_LANES / 2];
    for (int w = SB_LANES / 4; w >= 1; w /= 2)
        for (int l = 0; l < w; l++) t[l] = t[l] + t[l + w];
    return t[0];
}

/* sum_j a[j] * b[j] */
static inline float row_dot(const float *restrict a, const float *restrict b, int n) {
    float acc[SB_LANES] = {0};
    int j = 0;
    for (; j + SB_LANES <= n; j += SB_LANES)
        for (int l = 0; l < SB_LANES; l++) acc[l] += a[j + l] * b[j + l];
    float tail = 0.0f;
    for (; j < n; j++) tail += a[j] * b[j];
    return lanes_sum(acc) + tail;
}

/* sum_j a[j] */
static inline float row_sum(const float *a, int n) {
    float acc[SB_LANES] = {0};
    int j = 0;
    for (; j + SB_LANES <= n; j += SB_LANES)
        for (int l = 0; l < SB_LANES; l++) acc[l] += a[j + l];
    float tail = 0.0f;
    for (; j < n; j++) tail += a[j];
    return lanes_sum(acc) + tail;
}

void sb_cpu_softmax_row_masked(float *s, const float *key_mask, int n) {
    if (key_mask)
        for (int j = 0; j < n; j++) s[j] = key_mask[j] > 0.0f ? s[j] : -INFINITY;
    /* lane-wise running max m = x > m ? x : m in an 8-float GCC vector (GCC
     * does not vectorise the scalar form of this max without
     * -ffinite-math-only, and a 16-float vector compiled to scalar code on
     * AVX2); a max is exact, so the lane count does not change the result */
    sb_v8sf vm;
    for (int l = 0; l < 8; l++) vm[l] = -INFINITY;
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        sb_v8sf x;
        memcpy(&x, s + j, sizeof x);
        sb_v8si gt = x > vm;
        vm = (sb_v8sf)(((sb_v8si)x & gt) | ((sb_v8si)vm & ~gt));
    }
    float mx = -INFINITY;
    for (int l = 0; l < 8; l++) mx = vm[l] > mx ? vm[l] : mx;
    for (; j < n; j++) mx = s[j] > mx ? s[j] : mx;
    if (mx == -INFINITY) { /* no real key: the row attends to nothing */
        for (j = 0; j < n; j++) s[j] = 0.0f;
        return;
    }
    for (j = 0; j < n; j++) s[j] = sb_expf(s[j] - mx);
    float inv = 1.0f / row_sum(s, n);
    for (j = 0; j < n; j++) s[j] *= inv;
}

void sb_cpu_dense_attention_forward(sb_backend *be, float *out, float *probs, const float *q,
                                    const float *k, const float *v, const float *key_mask, int B,
                                    int H, int N, int D, float p_drop, sb_rng_stream base) {
    const int64_t nn = (int64_t)N * N, pairs = (int64_t)B * H;
    be->flops.total += pairs * (4 * nn * D + 5 * nn + (p_drop > 0.0f ? nn : 0));
    be->flops.gemm += pairs * 4 * nn * D;
    const float scale = 1.0f / sqrtf((float)D);
    const int nblk = (N + ATT_ROWS - 1) / ATT_ROWS;
    const uint32_t thr = sb_dropout_threshold(p_drop);
    const float dscale = sb_dropout_scale(p_drop);
    /* not zeroed: a task writes each of its rows of Pd before the product reads them */
    const int rows = N < ATT_ROWS ? N : ATT_ROWS;
    const size_t per_thread = (size_t)rows * N, threads = (size_t)omp_get_max_threads();
    float *scratch = p_drop > 0.0f ? be->alloc_uninit(be, sizeof(float) * threads * per_thread) : NULL;
    /* without probs (inference) a block's scores live in the thread's own rows:
     * the call then holds threads x rows x N floats, never N² */
    float *blocks = probs ? NULL : be->alloc_uninit(be, sizeof(float) * threads * per_thread);
    /* tasks = (pair, row block); enough of them to balance any B*H */
#pragma omp parallel for schedule(static)
    for (int64_t task = 0; task < pairs * nblk; task++) {
        int64_t pair = task / nblk;
        int i0 = (int)(task % nblk) * ATT_ROWS;
        int rb = N - i0 < ATT_ROWS ? N - i0 : ATT_ROWS;
        int b = (int)(pair / H), h = (int)(pair % H);
        size_t off = (size_t)pair * N * D;
        float *P = probs ? probs + (size_t)pair * nn + (size_t)i0 * N                  /* [rb, N] */
                         : blocks + (size_t)omp_get_thread_num() * per_thread;
        sb_cpu_gemm_serial(0, 1, rb, N, D, scale, q + off + (size_t)i0 * D, D, k + off, D, 0.0f, P,
                           N);
        const float *km = key_mask ? key_mask + (size_t)b * N : NULL;
        const float *A = P;
        float *Pd = p_drop > 0.0f ? scratch + (size_t)omp_get_thread_num() * per_thread : NULL;
        sb_rng_stream s = sb_rng_derive(base, (uint32_t)b, (uint32_t)h);
        /* row by row while the row is in L1: softmax, then the dropped copy */
        for (int r = 0; r < rb; r++) {
            float *pr = P + (size_t)r * N;
            sb_cpu_softmax_row_masked(pr, km, N);
            if (Pd) {
                float *dr = Pd + (size_t)r * N;
                sb_cpu_dropout_factors(&s, (uint64_t)(i0 + r) * N, (size_t)N, thr, dscale, dr);
                for (int j = 0; j < N; j++) dr[j] *= pr[j];
            }
        }
        if (Pd) A = Pd;
        sb_cpu_gemm_serial(0, 0, rb, D, N, 1.0f, A, N, v + off, D, 0.0f,
                           out + off + (size_t)i0 * D, D);
    }
    be->free(be, scratch);
    be->free(be, blocks);
}

/* Rows whose dK and dV contributions are summed on their own before they
 * join the total (see sb_cpu_dense_attention_backward). Fixed, so the order
 * of additions depends on N alone, never on the thread count. 512 gives a
 * pair of 4096 rows 8 tasks. With fewer pairs than threads the sums take
 * 2 N d_h floats per slab, pairs N² d_h / 256 in all: 1/8 of the saved
 * probabilities at d_h = 32. */
#ifndef ATT_SLAB_ROWS
#define ATT_SLAB_ROWS 512
#endif

/* One pair's backward, pointers at that pair. */
typedef struct {
    const float *dout, *probs, *q, *k, *v; /* [N,D] x4, probs [N,N] */
    float *dq;                             /* [N,D], accumulated */
    sb_rng_stream s;                       /* its dropout stream */
} pair_backward;

/* Query rows [r0, r1) of a pair: dQ's rows, and their contributions to dV
 * and dK added to dv_acc and dk_acc [N,D] (overwritten by the first row
 * block when `overwrite`). dPd = dO Vᵀ; dV += Pdᵀ dO; dP = dPd * keep;
 * dS = P (dP - rowsum(P dP)); dQ += scale dS K; dK += scale dSᵀ Q.
 * dP and Pd: [ATT_ROWS, N] scratch. Runs on one thread (inside the
 * caller's parallel loop, so OpenBLAS's products are single-threaded). */
static void backward_rows(const pair_backward *pb, float *dv_acc, float *dk_acc, int overwrite, int r0, int r1,
                          int N, int D, float scale, float p_drop, uint32_t thr, float dscale, float *dP, float *Pd) {
    for (int i0 = r0; i0 < r1; i0 += ATT_ROWS) {
        const int rb = r1 - i0 < ATT_ROWS ? r1 - i0 : ATT_ROWS;
        const float beta = overwrite && i0 == r0 ? 0.0f : 1.0f;
        const float *P = pb->probs + (size_t)i0 * N;
        const float *dO = pb->dout + (size_t)i0 * D;
        sb_cpu_gemm_serial(0, 1, rb, N, D, 1.0f, dO, D, pb->v, D, 0.0f, dP, N);
        /* per row: Pd = P keep, dP *= keep, dot = sum P dP, dS = P (dP - dot);
         * dS overwrites dP after Pd is taken, so dV's product runs on Pd below */
        for (int r = 0; r < rb; r++) {
            float *g = dP + (size_t)r * N;
            const float *p = P + (size_t)r * N;
            if (p_drop > 0.0f) {
                /* the row's keep factors, then Pd in their place */
                float *pd = Pd + (size_t)r * N;
                sb_cpu_dropout_factors(&pb->s, (uint64_t)(i0 + r) * N, (size_t)N, thr, dscale, pd);
                for (int j = 0; j < N; j++) {
                    g[j] *= pd[j];
                    pd[j] *= p[j];
                }
            }
            float dot = row_dot(p, g, N);
            for (int j = 0; j < N; j++) g[j] = p[j] * (g[j] - dot);
        }
        sb_cpu_gemm_serial(1, 0, N, D, rb, 1.0f, p_drop > 0.0f ? Pd : P, N, dO, D, beta, dv_acc, D);
        sb_cpu_gemm_serial(0, 0, rb, D, N, scale, dP, N, pb->k, D, 1.0f, pb->dq + (size_t)i0 * D, D);
        sb_cpu_gemm_serial(1, 0, N, D, rb, scale, dP, N, pb->q + (size_t)i0 * D, D, beta, dk_acc, D);
    }
}

/* acc[i] += add[i], i < n */
static void add_into(float *acc, const float *add, size_t n) {
    for (size_t i = 0; i < n; i++) acc[i] += add[i];
}

/* dV and dK sum contributions over all query rows of a pair. Rows go in
 * slabs of ATT_SLAB_ROWS: each slab's contributions are summed (row blocks in
 * order) apart, then added to dV and dK slab by slab, in order. With fewer
 * pairs than threads each (pair, slab) is its own task, holding its sums
 * until the end, so a call with few pairs still uses every thread; with
 * more, a task is a pair and reuses one buffer per thread. Both add in the
 * same order, and every product runs single-threaded inside the task loop
 * (OpenBLAS's threaded products round differently), so the result does not
 * depend on the thread count. With one slab (N <= ATT_SLAB_ROWS) the blocks
 * add straight into dV and dK. On 16 threads with 4 pairs at N = 4096:
 * 0.87-0.95 s -> 0.14-0.15 s (it had run on one thread). */
void sb_cpu_dense_attention_backward(sb_backend *be, float *dq, float *dk, float *dv,
                                     const float *dout, const float *probs, const float *q,
                                     const float *k, const float *v, int B, int H, int N, int D,
                                     float p_drop, sb_rng_stream base) {
    const int64_t nn = (int64_t)N * N, pairs = (int64_t)B * H;
    be->flops.total += pairs * (8 * nn * D + 4 * nn + (p_drop > 0.0f ? 2 * nn : 0));
    be->flops.gemm += pairs * 8 * nn * D;
    const float scale = 1.0f / sqrtf((float)D);
    const uint32_t thr = sb_dropout_threshold(p_drop);
    const float dscale = sb_dropout_scale(p_drop);
    const int nt = omp_get_max_threads();
    const int nslab = (N + ATT_SLAB_ROWS - 1) / ATT_SLAB_ROWS;
    const int split = pairs < nt && nslab > 1;           /* tasks are (pair, slab) */
    const int64_t tasks = split ? pairs * nslab : pairs;
    const size_t nd = (size_t)N * D;
    /* each task's (split) or each thread's slab sums of dV and dK */
    float *sums = nslab > 1 ? sb_cpu_scratch_alloc(&be->mem, sizeof(float) * 2 * nd * (size_t)(split ? tasks : nt))
                            : NULL; /* not zeroed: each slab's first block overwrites its sums */
    const size_t per_thread = (size_t)ATT_ROWS * N * (p_drop > 0.0f ? 2 : 1);
    /* not zeroed: backward_rows writes dP (a product with beta = 0) and Pd before reading them */
    float *scratch = be->alloc_uninit(be, sizeof(float) * (size_t)nt * per_thread);
#pragma omp parallel for schedule(static)
    for (int64_t task = 0; task < tasks; task++) {
        const int64_t pair = split ? task / nslab : task;
        const int b = (int)(pair / H), h = (int)(pair % H);
        const size_t off = (size_t)pair * nd;
        const pair_backward pb = {dout + off, probs + (size_t)pair * nn, q + off, k + off, v + off, dq + off,
                                  sb_rng_derive(base, (uint32_t)b, (uint32_t)h)};
        float *dP = scratch + (size_t)omp_get_thread_num() * per_thread, *Pd = dP + (size_t)ATT_ROWS * N;
        const int s0 = split ? (int)(task % nslab) : 0, s1 = split ? s0 + 1 : nslab;
        for (int sl = s0; sl < s1; sl++) {
            const int r0 = sl * ATT_SLAB_ROWS, r1 = N - r0 < ATT_SLAB_ROWS ? N : r0 + ATT_SLAB_ROWS;
            if (nslab == 1) {
                backward_rows(&pb, dv + off, dk + off, 0, r0, r1, N, D, scale, p_drop, thr, dscale, dP, Pd);
                continue;
            }
            float *sv = sums + 2 * nd * (size_t)(split ? task : omp_get_thread_num()), *sk = sv + nd;
            backward_rows(&pb, sv, sk, 1, r0, r1, N, D, scale, p_drop, thr, dscale, dP, Pd);
            if (!split) add_into(dv + off, sv, nd), add_into(dk + off, sk, nd);
        }
    }
    if (split) {
        /* the slab sums, in slab order, per element; 4096 elements a task */
        const int64_t per = 4096, nch = ((int64_t)nd + per - 1) / per;
#pragma omp parallel for schedule(static)
        for (int64_t t = 0; t < pairs * nch; t++) {
            const int64_t pair = t / nch, e0 = (t % nch) * per, len = (int64_t)nd - e0 < per ? (int64_t)nd - e0 : per;
            for (int sl = 0; sl < nslab; sl++) {
                const float *sv = sums + 2 * nd * (size_t)(pair * nslab + sl) + e0;
                add_into(dv + (size_t)pair * nd + e0, sv, (size_t)len);
                add_into(dk + (size_t)pair * nd + e0, sv + nd, (size_t)len);
            }
        }
    }
    sb_cpu_scratch_free(&be->mem, sums);
    be->free(be, scratch);
}
