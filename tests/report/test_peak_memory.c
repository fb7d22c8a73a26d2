/* The allocator's peak for inference on one example equals a hand count of
 * what the small full-attention model holds: its parameters, its activations
 * (one layer's worth: an inference model reuses them across layers) and the
 * fused attention's one block of scores (no N x N probabilities at
 * inference, no dropout scratch). And SBM's peak, whose sampler scratch is live in dynamically
 * scheduled loops, is the same whatever the caller's thread count and from
 * one measurement to the next (measurement runs on one thread), and the
 * caller's thread count is back afterwards. And a long reduction's scratch
 * counts. */
#include <omp.h>
#include "core/backend.h"
#include "experiments/measure.h"
#include "tests/report/small_model.h"
#include "tests/test_util.h"

static void test_sbm_peak_reproducible(void) {
    sb_run_config c = sm_run_config("sbm");
    c.seq_len = c.max_len = 512; /* two chunks of the sampler's rows per graph */
    c.sbm_k = 16;
    sb_model_config mc;
    sb_task *task = sm_open(&c, &mc);
    sb_backend *be = sb_backend_cpu_create(2);
    sb_model *m = sb_model_create(be, &mc, 1, 0);
    sb_model_init_params(m, 3);
    double first[SM_B * SM_BATCHES] = {0};
    int n = 0, same = 1, restored = 1;
    for (int run = 0; run < 4; run++) {
        const int threads = run == 0 ? 2 : run; /* 2, 1, 2, 3 */
        sb_cpu_set_threads(threads);
        sb_inference_cost cost;
        sb_measure_inference(&mc, task, "synthetic", sb_model_params(m), 1, SM_B, 3, &cost);
        restored &= omp_get_max_threads() == threads;
        if (run == 0) n = cost.n;
        for (int x = 0; x < cost.n && x < SM_B * SM_BATCHES; x++) {
            if (run == 0) first[x] = cost.peak_bytes[x];
            same &= cost.n == n && cost.peak_bytes[x] == first[x];
        }
        sb_inference_cost_free(&cost);
    }
    sb_cpu_set_threads(2);
    tu_check(same, "sbm at n = 512: each example's peak the same measured from 2, 1, 2 and 3 threads (first %.0f bytes)",
             first[0]);
    tu_check(restored, "measuring leaves the caller's thread count as it was");
    sb_model_destroy(m);
    sb_backend_destroy(be);
    task->ops->close(task);
}

/* A reduction over a long inner dimension (k x k x n: SBM's dŜ, Performer's
 * and Nyström's at LRA lengths) sums fixed slices' partial products: that
 * scratch counts at the peak, and is freed. */
static void test_reduction_scratch_counted(void) {
    enum { M = 64, N = 64, K = 4096 }; /* 4 slices of 1024 (core/cpu/cpu_gemm.c) */
    sb_backend *be = sb_backend_cpu_create(2);
    float *A = tu_alloc((size_t)K * M), *B = tu_alloc((size_t)K * N), *Cm = tu_alloc((size_t)M * N);
    tu_fill_uniform(A, (size_t)K * M, -1.0f, 1.0f, 5);
    tu_fill_uniform(B, (size_t)K * N, -1.0f, 1.0f, 6);
    sb_mem_reset_peak(&be->mem);
    be->gemm(be, 1, 0, M, N, K, 1.0f, A, M, B, N, 0.0f, Cm, N); /* Aᵀ B */
    const int64_t parts = 4 * (int64_t)sizeof(float) * M * N;
    tu_check(be->mem.peak_bytes >= parts, "a reduction's partial products count at the peak (%lld >= %lld bytes)",
             (long long)be->mem.peak_bytes, (long long)parts);
    tu_check(be->mem.live_bytes == 0, "and are freed (%lld live bytes)", (long long)be->mem.live_bytes);
    free(A), free(B), free(Cm);
    sb_backend_destroy(be);
}

int main(void) {
    test_reduction_scratch_counted();
    sb_run_config c = sm_run_config("full");
    sb_model_config mc;
    sb_task *task = sm_open(&c, &mc);
    const size_t V = SM_T + 1, P = SM_T, D = SM_D, L = SM_L, HD = SM_H * SM_DH, F = SM_F, C = SM_C, T = SM_T,
                 R = SM_T; /* token-level task: one head row per token */
    tu_check(task->vocab_size == (int)V && task->token_level, "synthetic task: vocabulary %d, token level",
             task->vocab_size);
    /* parameters: embeddings; per layer LN1, QKV, output projection, LN2, FFN; final LN; head */
    size_t params = V * D + P * D + L * (2 * D + 3 * HD * D + 3 * HD + D * HD + D + 2 * D + F * D + F + D * F + D) +
                    2 * D + F * D + F + C * F + C;
    /* activations (floats): ids, mask, labels, x0, ln1 + mean/rstd, qkv, q/k/v/out heads, merged heads, res1,
     * ln2 + mean/rstd, fc1, gelu, res2, final-LN mean/rstd, final, pooled, head hidden, logits, row losses, tmp */
    size_t acts = T + T + R + T * D + (T * D + 2 * T) + 3 * T * HD + 4 * T * HD + T * HD + T * D + (T * D + 2 * T) +
                  2 * T * F + T * D + 2 * T + T * D + D + R * F + R * C + R + T * D;
    /* inference keeps no probabilities: the fused kernel holds one block of at
     * most 128 rows' scores per thread (measurement runs on one thread) */
    size_t block = (T < 128 ? T : 128) * T;
    size_t want = 4 * (params + acts + block) + R; /* + one byte per row: `correct` */

    sb_backend *be = sb_backend_cpu_create(0);
    sb_model *m = sb_model_create(be, &mc, 1, 0);
    tu_check(sb_model_num_params(m) == params, "parameter count %zu = hand count %zu", sb_model_num_params(m), params);
    sb_model_init_params(m, 3);
    sb_inference_cost cost;
    sb_measure_inference(&mc, task, "synthetic", sb_model_params(m), 1, SM_B, 3, &cost);
    int bad = 0;
    for (int x = 0; x < cost.n; x++) bad += cost.peak_bytes[x] != (double)want;
    printf("      peak of live bytes for one example: %.0f, hand count %zu\n", cost.peak_bytes[0], want);
    tu_check(bad == 0, "allocator peak = hand count %zu bytes for each of %d examples", want, cost.n);
    tu_check(cost.peak_mean == (double)want && cost.peak_max == (double)want, "peak mean and max = %zu", want);
    tu_check(be->mem.live_bytes == (int64_t)(4 * params + 4 * acts + R),
             "the caller's model holds the same bytes (measuring uses its own backend)");
    sb_inference_cost_free(&cost);
    sb_model_destroy(m);
    tu_check(be->mem.live_bytes == 0, "everything freed (%lld live bytes)", (long long)be->mem.live_bytes);
    sb_backend_destroy(be);
    task->ops->close(task);
    test_sbm_peak_reproducible();
    return tu_finish();
}
