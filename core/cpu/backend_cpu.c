/* The CPU backend: OpenBLAS (cblas_sgemm) for dense products, OpenMP loops for
 * everything else. Allocations carry a small header with their size so the
 * tracker counts exactly what is live. */
#include <cblas.h>
#include <malloc.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/cpu/cpu_ops.h"
#include "core/fatal.h"

/* OpenBLAS's own thread count setter (declared in its cblas.h on Debian). */
void openblas_set_num_threads(int num_threads);

#define SB_ALIGN 64

/* memset(p, 0, n), by 1 MiB pieces in parallel when large and not already
 * in a parallel region: zeroing (and first touching) the memberships and
 * edge buffers on one thread was a serial step of every SBM call (1.8 ms of
 * an inference call on 2 threads). */
static void zero_bytes(void *p, size_t n) {
    const size_t piece = (size_t)1 << 20, pieces = (n + piece - 1) / piece;
#pragma omp parallel for schedule(static) if (pieces >= 4 && !omp_in_parallel())
    for (size_t i = 0; i < pieces; i++) {
        const size_t at = i * piece;
        memset((char *)p + at, 0, n - at < piece ? n - at : piece);
    }
}

static void *cpu_alloc_uninit(sb_backend *be, size_t bytes) {
    /* header of SB_ALIGN bytes keeps the payload aligned and stores the size */
    void *raw = NULL;
    if (posix_memalign(&raw, SB_ALIGN, bytes + SB_ALIGN) != 0 || raw == NULL) {
        sb_fatal(3, "out of memory allocating %zu bytes", bytes);
    }
    *(size_t *)raw = bytes;
    sb_mem_note_alloc(&be->mem, bytes);
    return (char *)raw + SB_ALIGN;
}

static void *cpu_alloc(sb_backend *be, size_t bytes) {
    void *p = cpu_alloc_uninit(be, bytes);
    zero_bytes(p, bytes);
    return p;
}

static void cpu_free(sb_backend *be, void *p) {
    if (!p) return;
    char *raw = (char *)p - SB_ALIGN;
    sb_mem_note_free(&be->mem, *(size_t *)raw);
    free(raw);
}

void *sb_cpu_scratch_alloc(sb_mem_tracker *mem, size_t bytes) {
    char *p = malloc(bytes + 16);
    if (!p) {
        sb_fatal(3, "out of memory allocating %zu bytes of scratch", bytes);
    }
    *(size_t *)p = bytes;
    sb_mem_note_alloc(mem, bytes);
    return p + 16;
}

int sb_cpu_parts_per_graph(int G, int units) {
    const int T = omp_get_max_threads();
    if (G <= 0) return 1;
    const int P = G >= 2 * T ? 1 : (2 * T + G - 1) / G;
    return P > units ? (units > 0 ? units : 1) : P;
}

void sb_cpu_scratch_free(sb_mem_tracker *mem, void *q) {
    if (!q) return;
    char *p = (char *)q - 16;
    sb_mem_note_free(mem, *(size_t *)p);
    free(p);
}

static void cpu_zero(sb_backend *be, void *p, size_t bytes) {
    (void)be;
    memset(p, 0, bytes);
}

static void cpu_fill(sb_backend *be, float *p, float value, size_t n) {
    (void)be;
    for (size_t i = 0; i < n; i++) p[i] = value;
}

static void cpu_copy(sb_backend *be, void *dst, const void *src, size_t bytes) {
    (void)be;
    memcpy(dst, src, bytes);
}

void sb_cpu_set_threads(int threads) {
    if (threads > 0) {
        omp_set_num_threads(threads);
        openblas_set_num_threads(threads);
    }
}

sb_backend *sb_backend_cpu_create(int threads) {
    sb_cpu_set_threads(threads);
    /* Ops allocate large scratch every call (graphs change size step to step).
     * Keep freed memory in the heap instead of unmapping it, so the next call
     * does not pay the kernel's page faults and page zeroing again (measured:
     * 13% of an SBM attention call before this). */
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    sb_backend *be = calloc(1, sizeof *be);
    if (!be) {
        sb_fatal(3, "out of memory");
    }
    be->name = "cpu";
    be->alloc = cpu_alloc;
    be->alloc_uninit = cpu_alloc_uninit;
    be->free = cpu_free;
    be->zero = cpu_zero;
    be->fill = cpu_fill;
    be->copy = cpu_copy;
    be->gemm = sb_cpu_gemm;
    be->gemm_batched = sb_cpu_gemm_batched;
    be->add_bias = sb_cpu_add_bias;
    be->bias_backward = sb_cpu_bias_backward;
    be->add = sb_cpu_add;
    be->accumulate = sb_cpu_accumulate;
    be->gelu_forward = sb_cpu_gelu_forward;
    be->gelu_backward = sb_cpu_gelu_backward;
    be->relu_forward = sb_cpu_relu_forward;
    be->relu_backward = sb_cpu_relu_backward;
    be->sigmoid_forward = sb_cpu_sigmoid_forward;
    be->sigmoid_backward = sb_cpu_sigmoid_backward;
    be->softmax_rows = sb_cpu_softmax_rows;
    be->softmax_rows_backward = sb_cpu_softmax_rows_backward;
    be->dropout_forward = sb_cpu_dropout_forward;
    be->dropout_backward = sb_cpu_dropout_backward;
    be->elu1_forward = sb_cpu_elu1_forward;
    be->elu1_backward = sb_cpu_elu1_backward;
    /* Linformer / Nystromformer ops */
    be->scale_mask_heads = sb_cpu_scale_mask_heads;
    be->segment_mean_forward = sb_cpu_segment_mean_forward;
    be->segment_mean_backward = sb_cpu_segment_mean_backward;
    be->softmax_keybias_rows = sb_cpu_softmax_keybias_rows;
    be->diag_sub = sb_cpu_diag_sub;
    be->pinv_init_forward = sb_cpu_pinv_init_forward;
    be->pinv_init_backward = sb_cpu_pinv_init_backward;
    be->seqconv_forward = sb_cpu_seqconv_forward;
    be->seqconv_backward = sb_cpu_seqconv_backward;
    /* (end of Linformer / Nystromformer ops) */
    /* Performer / Reformer ops */
    be->performer_features_forward = sb_cpu_performer_features_forward;
    be->performer_features_backward = sb_cpu_performer_features_backward;
    be->performer_div_forward = sb_cpu_performer_div_forward;
    be->performer_div_backward = sb_cpu_performer_div_backward;
    be->reformer_hash_sort = sb_cpu_reformer_hash_sort;
    be->reformer_attention_forward = sb_cpu_reformer_attention_forward;
    be->reformer_attention_backward = sb_cpu_reformer_attention_backward;
    /* (end of Performer / Reformer ops) */
    be->mask_rows = sb_cpu_mask_rows;
    be->heads_split = sb_cpu_heads_split;
    be->heads_merge = sb_cpu_heads_merge;
    be->layernorm_forward = sb_cpu_layernorm_forward;
    be->layernorm_backward = sb_cpu_layernorm_backward;
    be->embedding_forward = sb_cpu_embedding_forward;
    be->embedding_backward = sb_cpu_embedding_backward;
    be->mean_pool_forward = sb_cpu_mean_pool_forward;
    be->mean_pool_backward = sb_cpu_mean_pool_backward;
    be->cross_entropy = sb_cpu_cross_entropy;
    be->dense_attention_forward = sb_cpu_dense_attention_forward;
    be->dense_attention_backward = sb_cpu_dense_attention_backward;
    be->csr_transpose = sb_cpu_csr_transpose;
    be->sparse_attention_forward = sb_cpu_sparse_attention_forward;
    be->sparse_attention_backward = sb_cpu_sparse_attention_backward;
    be->sddmm = sb_cpu_sddmm;
    be->spmm_rows = sb_cpu_spmm_rows;
    be->spmm_cols = sb_cpu_spmm_cols;
    be->sbm_sample = sb_cpu_sbm_sample;
    be->adamw = sb_cpu_adamw;
    return be;
}

void sb_backend_destroy(sb_backend *be) { free(be); }
