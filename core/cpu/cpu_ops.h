/* The CPU backend's ops, one file per op family (core/cpu/cpu_*.c). */
#ifndef SB_CPU_OPS_H
#define SB_CPU_OPS_H
#include "core/backend.h"

/* Key mask [B,N] at (example b, position n); a NULL mask is all ones. */
static inline float sb_cpu_mask_at(const float *mask, int b, int N, int n) {
    return mask ? mask[(size_t)b * N + n] : 1.0f;
}

/* Rows handled per parallel task in row-wise ops; fixed so results do not
 * depend on the thread count. */
#define SB_CPU_ROW_CHUNK 64

/* An elementwise loop, `stmt` run for every i in [0, n): threads take whole
 * blocks of SB_CPU_EW_BLOCK elements and vectorise inside each, so which
 * elements fall in a vector body or a scalar tail depends on n alone. With
 * `parallel for simd` the tails fell where each thread's share ended, and the
 * polynomial exp's vector and scalar forms can differ in the last bit: results
 * depended on the thread count. */
#define SB_CPU_EW_BLOCK 1024
#define SB_CPU_EW_LOOP(n, i, stmt)                                                  \
    do {                                                                            \
        const size_t n_ew_ = (n);                                                   \
        _Pragma("omp parallel for schedule(static)")                                \
        for (size_t b_ew_ = 0; b_ew_ < n_ew_; b_ew_ += SB_CPU_EW_BLOCK) {             \
            const size_t e_ew_ = n_ew_ - b_ew_ < SB_CPU_EW_BLOCK ? n_ew_ : b_ew_ + SB_CPU_EW_BLOCK; \
            _Pragma("omp simd")                                                     \
            for (size_t i = b_ew_; i < e_ew_; i++) stmt;                            \
        }                                                                           \
    } while (0)

/* backend_cpu.c: scratch memory of one op call, counted by the tracker (so
 * peak-memory figures include it) but not zeroed, unlike be->alloc: for
 * buffers written before they are read. A 16-byte header keeps the size. */
void *sb_cpu_scratch_alloc(sb_mem_tracker *mem, size_t bytes);
void sb_cpu_scratch_free(sb_mem_tracker *mem, void *p);

/* backend_cpu.c: parts to split each of G graphs into for a parallel loop
 * over (graph, part) tasks: one when there are enough graphs to keep every
 * thread busy, else enough for about two tasks per thread, at most `units`
 * (the graph's rows, or row chunks). */
int sb_cpu_parts_per_graph(int G, int units);

/* cpu_gemm.c */
void sb_cpu_gemm(sb_backend *be, int ta, int tb, int M, int N, int K, float alpha, const float *A,
                 int lda, const float *B, int ldb, float beta, float *C, int ldc);
void sb_cpu_gemm_batched(sb_backend *be, int ta, int tb, int M, int N, int K, float alpha,
                         const float *A, int lda, size_t sa, const float *B, int ldb, size_t sb,
                         float beta, float *C, int ldc, size_t sc, int batch);
void sb_cpu_gemm_serial(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                        const float *B, int ldb, float beta, float *C, int ldc);
void sb_cpu_add_bias(sb_backend *be, float *out, const float *bias, size_t rows, int cols);
void sb_cpu_bias_backward(sb_backend *be, float *dbias, const float *dout, size_t rows, int cols);

/* cpu_elementwise.c */
void sb_cpu_add(sb_backend *be, float *out, const float *a, const float *b, size_t n);
void sb_cpu_accumulate(sb_backend *be, float *out, const float *a, size_t n);
void sb_cpu_gelu_forward(sb_backend *be, float *out, const float *in, size_t n);
void sb_cpu_gelu_backward(sb_backend *be, float *din, const float *in, const float *dout, size_t n);
void sb_cpu_relu_forward(sb_backend *be, float *out, const float *in, size_t n);
void sb_cpu_relu_backward(sb_backend *be, float *din, const float *out, const float *dout, size_t n);
void sb_cpu_sigmoid_forward(sb_backend *be, float *out, const float *in, size_t n);
void sb_cpu_sigmoid_backward(sb_backend *be, float *din, const float *out, const float *dout, size_t n);
void sb_cpu_softmax_rows(sb_backend *be, float *x, size_t rows, int cols);
void sb_cpu_softmax_rows_backward(sb_backend *be, float *dx, const float *y, const float *dy, size_t rows, int cols);
void sb_cpu_dropout_forward(sb_backend *be, float *out, const float *in, size_t n, float p,
                            sb_rng_stream s);
void sb_cpu_dropout_backward(sb_backend *be, float *din, const float *dout, size_t n, float p,
                             sb_rng_stream s);
void sb_cpu_mask_rows(sb_backend *be, float *x, const float *mask, size_t rows, int C);
/* Exactly sb_dropout_factors (core/kernels_inline.h), many blocks at a time. */
void sb_cpu_dropout_factors(const sb_rng_stream *s, uint64_t first, size_t n, uint32_t threshold,
                            float scale, float *factors);
void sb_cpu_adamw(sb_backend *be, float *param, const float *grad, float *m, float *v, size_t n,
                  float lr, float beta1, float beta2, float eps, float wd, int t);

/* cpu_layout.c */
void sb_cpu_heads_split(sb_backend *be, float *dst, const float *src, int src_stride, int B, int T,
                        int H, int D, int accumulate);
void sb_cpu_heads_merge(sb_backend *be, float *dst, int dst_stride, const float *src, int B, int T,
                        int H, int D, int accumulate);

/* Nystromformer ops (cpu_nystrom.c) */
void sb_cpu_segment_mean_forward(sb_backend *be, float *out, const float *in, int G, int N, int m, int D);
void sb_cpu_segment_mean_backward(sb_backend *be, float *din, const float *dout, int G, int N, int m, int D);
void sb_cpu_softmax_keybias_rows(sb_backend *be, float *x, const float *mask, int B, int H, int R, int N);
void sb_cpu_diag_sub(sb_backend *be, float *out, const float *in, float alpha, int G, int m);
float sb_cpu_pinv_init_forward(sb_backend *be, float *Z0, float *colsum, const float *A, int G, int m);
void sb_cpu_pinv_init_backward(sb_backend *be, float *dA, const float *dZ0, const float *A, const float *colsum,
                               float c, int G, int m);
void sb_cpu_seqconv_forward(sb_backend *be, float *out, const float *x, const float *mask, const float *w, int B,
                            int H, int N, int D, int T);
void sb_cpu_seqconv_backward(sb_backend *be, float *dx, float *dw, const float *dout, const float *x,
                             const float *mask, const float *w, int B, int H, int N, int D, int T);
/* (end of Linformer / Nystromformer ops) */

/* Performer / Reformer ops (cpu_performer.c, cpu_reformer.c) */
void sb_cpu_performer_features_forward(sb_backend *be, float *phi, const float *x, const float *omega,
                                       const float *mask, int B, int H, int N, int D, int M, float scale,
                                       int c_mode);
void sb_cpu_performer_features_backward(sb_backend *be, float *dx, float *dphi, const float *phi, const float *x,
                                        const float *omega, const float *mask, int B, int H, int N, int D, int M,
                                        float scale);
void sb_cpu_performer_div_forward(sb_backend *be, float *out, const float *num, const float *den, size_t rows,
                                  int cols);
void sb_cpu_performer_div_backward(sb_backend *be, float *dnum, float *dden, const float *dout, const float *out,
                                   const float *den, size_t rows, int cols);
void sb_cpu_reformer_hash_sort(sb_backend *be, int32_t *order, const float *x, const float *rot, const float *mask,
                               int B, int H, int N, int D, int R, const sb_reformer_hashing *hs);
void sb_cpu_reformer_attention_forward(sb_backend *be, float *out, float *lse, const float *x, const float *v,
                                       const int32_t *order, const float *mask, int B, int H, int N, int D, int R,
                                       int chunk, int before, const sb_reformer_scoring *sc);
void sb_cpu_reformer_attention_backward(sb_backend *be, float *dx, float *dv, const float *dout, const float *out,
                                        const float *lse, const float *x, const float *v, const int32_t *order,
                                        const float *mask, int B, int H, int N, int D, int R, int chunk,
                                        int before, const sb_reformer_scoring *sc);
/* (end of Performer / Reformer ops) */

/* cpu_feature_maps.c: per-head masking and linear attention's feature map */
void sb_cpu_scale_mask_heads(sb_backend *be, float *out, const float *in, const float *mask, int B, int H, int N,
                             int D, float scale, int accumulate);
void sb_cpu_elu1_forward(sb_backend *be, float *out, const float *in, const float *mask, int B, int H, int N, int D,
                         float scale);
void sb_cpu_elu1_backward(sb_backend *be, float *din, const float *in, const float *dout, const float *mask, int B,
                          int H, int N, int D, float scale);

/* cpu_norm.c */
void sb_cpu_layernorm_forward(sb_backend *be, float *out, float *mean, float *rstd, const float *in,
                              const float *gamma, const float *beta, size_t rows, int C, float eps);
void sb_cpu_layernorm_backward(sb_backend *be, float *din, float *dgamma, float *dbeta,
                               const float *dout, const float *in, const float *gamma,
                               const float *mean, const float *rstd, size_t rows, int C);

/* cpu_embed_loss.c */
void sb_cpu_embedding_forward(sb_backend *be, float *out, const int32_t *ids, const float *tok,
                              const float *pos, int B, int T, int C);
void sb_cpu_embedding_backward(sb_backend *be, float *dtok, float *dpos, const float *dout,
                               const int32_t *ids, int B, int T, int C);
void sb_cpu_mean_pool_forward(sb_backend *be, float *out, const float *in, int B, int T, int C);
void sb_cpu_mean_pool_backward(sb_backend *be, float *din, const float *dout, int B, int T, int C);
void sb_cpu_cross_entropy(sb_backend *be, float *loss, float *dlogits, uint8_t *correct,
                          const float *logits, const int32_t *labels, size_t rows, int C,
                          float scale);

/* cpu_attention_dense.c */
void sb_cpu_dense_attention_forward(sb_backend *be, float *out, float *probs, const float *q,
                                    const float *k, const float *v, const float *key_mask, int B,
                                    int H, int N, int D, float p_drop, sb_rng_stream base);
void sb_cpu_dense_attention_backward(sb_backend *be, float *dq, float *dk, float *dv,
                                     const float *dout, const float *probs, const float *q,
                                     const float *k, const float *v, int B, int H, int N, int D,
                                     float p_drop, sb_rng_stream base);

/* cpu_sparse.c */
void sb_cpu_csr_transpose(sb_backend *be, sb_csr *c);
void sb_cpu_sparse_attention_forward(sb_backend *be, float *out, float *probs, const float *q, const float *k,
                                     const float *v, const sb_csr *c, int D, float p_drop, sb_rng_stream base,
                                     int H);
void sb_cpu_sparse_attention_backward(sb_backend *be, float *dq, float *dk, float *dv, float *ds,
                                      float *probs_kept, const float *dout, const float *probs, const float *q,
                                      const float *k, const float *v, const sb_csr *c, int D, float p_drop,
                                      sb_rng_stream base, int H);
void sb_cpu_sddmm(sb_backend *be, float *out, const sb_csr *c, const float *A, const float *B, int w);
void sb_cpu_spmm_rows(sb_backend *be, float *Y, const sb_csr *c, const float *vals, const float *X, int w);
void sb_cpu_spmm_cols(sb_backend *be, float *Y, const sb_csr *c, const float *vals, const float *X, int w);

/* cpu_sbm_sample.c */
void sb_cpu_sbm_sample(sb_backend *be, sb_csr *csr, const float *qhat, const float *khat, const float *S,
                       const float *key_mask, int B, int H, int n, int k, float delta, int self_loops,
                       int sampler, sb_rng_stream base);

/* Masked softmax of one row in place: s[j] for real keys (mask NULL: all real);
 * pads get 0; a row without a real key becomes all zeros. */
void sb_cpu_softmax_row_masked(float *s, const float *key_mask, int n);

#endif
