/* The backend interface: every op the model and the attention variants need.
 *
 * Model and attention code call only through this table, so the same layer
 * code runs on every backend (cpu now; cuda later). Conventions:
 *   - all tensors are row-major float32 unless stated; shapes in comments;
 *   - backward ops ACCUMULATE (+=) into their gradient outputs, as llm.c does,
 *     so callers zero gradients once before a backward pass;
 *   - every op adds its exact FLOP count to be->flops (rules in core/flops.h);
 *   - memory comes from be->alloc, which tracks live bytes and their peak. */
#ifndef SB_BACKEND_H
#define SB_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include "core/philox.h"
#include "core/flops.h"
#include "core/mem.h"
#include "core/csr.h"

typedef struct sb_backend sb_backend;

/* How a Reformer form hashes (baselines/reformer.c: "nys" = HF v3.3.1,
 * "sbm" = reformer_pytorch 1.4.4). */
typedef struct {
    int nf, factors[2]; /* bucket count Π factors, factorised over nf ∈ {1,2} */
    int rot_per_head;   /* 1: rotations [H,D,R,half], one draw per head; 0: [D,R,half] for all heads */
    int pad_bucket;     /* 1: pads go to the extra bucket Π factors; 0: hashed like every token */
} sb_reformer_hashing;

/* Keys of the Reformer's scores: x / sqrt(mean(x²) + 1e-6) / sqrt(D) (HF),
 * or x / max(|x|₂, 1e-12) (F.normalize, reformer_pytorch). */
enum { SB_REFORMER_KEYS_RMS = 0, SB_REFORMER_KEYS_L2 = 1 };

/* How a Reformer form scores a query slot's window of keys. */
typedef struct {
    int key_norm;      /* SB_REFORMER_KEYS_* */
    float scale;       /* score = scale · q.k (after the key normalisation) */
    float pad_value;   /* score of a masked (pad) pair */
    float self_value;  /* score of a key at the query's own position */
    int pad_queries;   /* 1: a pad query's pairs are masked too; 0: only pad keys */
    int self_then_pad; /* 1: the pad mask is set after the self mask and overrides it; 0: the reverse */
    int plain_softmax; /* 1: probabilities exp(s - max) / Σ exp(s - max) (torch softmax, exact when a
                          whole row is pad_value); 0: exp(s - logsumexp) (the LSH code's) */
} sb_reformer_scoring;

struct sb_backend {
    const char *name;
    sb_mem_tracker mem;
    sb_flop_counter flops;
    /* random words the fastRG sampler generated (Philox output, whether used
     * or left at the end of a refill), added by every sampling call: the
     * benchmark divides them by the edges. Callers reset it themselves. */
    int64_t rng_words;

    /* ---- memory ---- */
    void *(*alloc)(sb_backend *be, size_t bytes);          /* zeroed */
    /* contents undefined: for buffers written in full before they are read,
     * where zeroing would be a pass over memory for nothing */
    void *(*alloc_uninit)(sb_backend *be, size_t bytes);
    void (*free)(sb_backend *be, void *p);
    void (*zero)(sb_backend *be, void *p, size_t bytes);
    void (*fill)(sb_backend *be, float *p, float value, size_t n); /* p[0..n) = value */
    void (*copy)(sb_backend *be, void *dst, const void *src, size_t bytes);

    /* ---- dense linear algebra ---- */
    /* C[M,N] = alpha * op(A) op(B) + beta * C; op(X) = X or Xᵀ; row-major. */
    void (*gemm)(sb_backend *be, int trans_a, int trans_b, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);
    /* `batch` independent gemms, operands offset by their strides (elements). */
    void (*gemm_batched)(sb_backend *be, int trans_a, int trans_b, int M, int N, int K, float alpha,
                         const float *A, int lda, size_t stride_a, const float *B, int ldb,
                         size_t stride_b, float beta, float *C, int ldc, size_t stride_c, int batch);
    /* out[r,c] += bias[c] over rows x cols. */
    void (*add_bias)(sb_backend *be, float *out, const float *bias, size_t rows, int cols);
    /* dbias[c] += sum_r dout[r,c]. */
    void (*bias_backward)(sb_backend *be, float *dbias, const float *dout, size_t rows, int cols);

    /* ---- elementwise ---- */
    void (*add)(sb_backend *be, float *out, const float *a, const float *b, size_t n); /* out = a + b */
    void (*accumulate)(sb_backend *be, float *out, const float *a, size_t n);         /* out += a */
    void (*gelu_forward)(sb_backend *be, float *out, const float *in, size_t n);      /* erf GELU */
    void (*gelu_backward)(sb_backend *be, float *din, const float *in, const float *dout, size_t n);
    void (*relu_forward)(sb_backend *be, float *out, const float *in, size_t n);
    void (*relu_backward)(sb_backend *be, float *din, const float *out, const float *dout, size_t n);
    void (*sigmoid_forward)(sb_backend *be, float *out, const float *in, size_t n);
    /* din += out (1 - out) dout, from the forward's output */
    void (*sigmoid_backward)(sb_backend *be, float *din, const float *out, const float *dout, size_t n);
    /* In-place softmax of each of `rows` rows of width `cols`. */
    void (*softmax_rows)(sb_backend *be, float *x, size_t rows, int cols);
    /* dx += y (dy - sum(y dy)) per row, y the forward's output. */
    void (*softmax_rows_backward)(sb_backend *be, float *dx, const float *y, const float *dy, size_t rows,
                                  int cols);
    /* Inverted dropout with drop probability p; the keep mask is a pure function
     * of the stream, so backward regenerates it. p == 0 copies. */
    void (*dropout_forward)(sb_backend *be, float *out, const float *in, size_t n, float p,
                            sb_rng_stream s);
    void (*dropout_backward)(sb_backend *be, float *din, const float *dout, size_t n, float p,
                             sb_rng_stream s);
    /* Linear attention's feature map: out = (elu(in) + 1) * scale * mask[b,n]
     * over [B,H,N,D]; backward: din += dout * scale * mask * elu'(in). */
    void (*elu1_forward)(sb_backend *be, float *out, const float *in, const float *mask, int B, int H, int N,
                         int D, float scale);
    void (*elu1_backward)(sb_backend *be, float *din, const float *in, const float *dout, const float *mask,
                          int B, int H, int N, int D, float scale);
    /* x[b,t,:] *= mask[b,t] for rows = B*T of width C. */
    void (*mask_rows)(sb_backend *be, float *x, const float *mask, size_t rows, int C);

    /* ---- head layout ---- */
    /* dst[b,h,t,:] (=|+=) src[(b*T+t)*src_stride + h*D + :], dst [B,H,T,D]. */
    void (*heads_split)(sb_backend *be, float *dst, const float *src, int src_stride, int B, int T,
                        int H, int D, int accumulate);
    /* dst[(b*T+t)*dst_stride + h*D + :] (=|+=) src[b,h,t,:]. */
    void (*heads_merge)(sb_backend *be, float *dst, int dst_stride, const float *src, int B, int T,
                        int H, int D, int accumulate);

    /* ---- normalisation ---- */
    /* in, out [rows,C]; mean, rstd [rows]; gamma, beta [C]. */
    void (*layernorm_forward)(sb_backend *be, float *out, float *mean, float *rstd, const float *in,
                              const float *gamma, const float *beta, size_t rows, int C, float eps);
    void (*layernorm_backward)(sb_backend *be, float *din, float *dgamma, float *dbeta,
                               const float *dout, const float *in, const float *gamma,
                               const float *mean, const float *rstd, size_t rows, int C);

    /* ---- embeddings, pooling, loss ---- */
    /* out[b,t,:] = tok[ids[b,t],:] + pos[t,:]; ids [B,T]. */
    void (*embedding_forward)(sb_backend *be, float *out, const int32_t *ids, const float *tok,
                              const float *pos, int B, int T, int C);
    void (*embedding_backward)(sb_backend *be, float *dtok, float *dpos, const float *dout,
                               const int32_t *ids, int B, int T, int C);
    /* out[b,:] = mean over all T positions of in[b,t,:] (pads count as the zeros they are). */
    void (*mean_pool_forward)(sb_backend *be, float *out, const float *in, int B, int T, int C);
    void (*mean_pool_backward)(sb_backend *be, float *din, const float *dout, int B, int T, int C);
    /* Softmax cross-entropy over rows of logits [rows,C] with labels [rows]
     * (label < 0: ignored row). loss[r] = -log p[label]; dlogits = (p - onehot) * scale
     * is ADDED for counted rows; correct[r] = argmax == label. */
    void (*cross_entropy)(sb_backend *be, float *loss, float *dlogits, uint8_t *correct,
                          const float *logits, const int32_t *labels, size_t rows, int C,
                          float scale);

    /* ---- dense (full) softmax attention, fused per block of query rows ---- */
    /* q,k,v,out [B,H,N,D]; key_mask [B,N] (1 real, 0 pad) or NULL; probs [B,H,N,N]
     * receives the softmax probabilities before dropout (saved for backward), or
     * is NULL (inference): then each thread holds one block of rows' scores at
     * a time and nothing N² is allocated.
     * Attention dropout p uses streams keyed by (base stream, example b, head h). */
    void (*dense_attention_forward)(sb_backend *be, float *out, float *probs, const float *q,
                                    const float *k, const float *v, const float *key_mask, int B,
                                    int H, int N, int D, float p_drop, sb_rng_stream base);
    void (*dense_attention_backward)(sb_backend *be, float *dq, float *dk, float *dv,
                                     const float *dout, const float *probs, const float *q,
                                     const float *k, const float *v, int B, int H, int N, int D,
                                     float p_drop, sb_rng_stream base);

    /* ---- sparse attention on a sampled graph (core/csr.h) ---- */
    /* Build the transpose of csr (col_ptr, row_of, perm) in O(nnz + G n), for
     * backends that would rather gather by key than scatter into keys; the
     * CPU's sparse ops below do not need it. */
    void (*csr_transpose)(sb_backend *be, sb_csr *csr);
    /* Per row i of graph g, over its edges e = (i, j):
     *   s_e = q_i . k_j / sqrt(D); probs_e = softmax over the row's edges;
     *   out_i = sum_e dropout(probs_e) v_j   (a row without edges outputs 0).
     * q, k, v, out [G,n,D] (out aliases none of them); probs [nnz], or NULL
     * when nothing will read them (inference): then no per-edge array is held.
     * Dropout keeps edge e by its local index (e - first edge of the graph) in
     * the stream derived for graph g. */
    void (*sparse_attention_forward)(sb_backend *be, float *out, float *probs, const float *q,
                                     const float *k, const float *v, const sb_csr *csr, int D,
                                     float p_drop, sb_rng_stream base, int H);
    /* Backward of the above. Writes ds [nnz], the gradient w.r.t. each edge's
     * score logit (which is also dL/dA_e for a 0/1 edge mask, the STE's
     * input), and, with dropout (p_drop > 0), probs_kept [nnz] = dropout(probs)
     * (scratch for dV; without dropout it is not touched and may be NULL).
     * ds may be probs itself, which are then replaced (SBM holds one per-edge
     * buffer for both). dq, dk, dv accumulate. */
    void (*sparse_attention_backward)(sb_backend *be, float *dq, float *dk, float *dv, float *ds,
                                      float *probs_kept, const float *dout, const float *probs,
                                      const float *q, const float *k, const float *v,
                                      const sb_csr *csr, int D, float p_drop, sb_rng_stream base,
                                      int H);
    /* out[e] = A[g,i,:] . B[g,j,:] for every edge e = (i, j) of graph g;
     * A, B [G,n,w], out [nnz] (overwritten). These three products also take a
     * view of some of a batch's graphs (sb_csr_graphs, core/csr.h): per-edge
     * arrays are indexed by the row pointers' edge offsets, which in a view
     * start past 0; per-row arrays start at the view's first graph. */
    void (*sddmm)(sb_backend *be, float *out, const sb_csr *csr, const float *A, const float *B, int w);
    /* Y[g,i,:] += sum over row i's edges e of vals[e] X[g,j,:]; X, Y [G,n,w]. */
    void (*spmm_rows)(sb_backend *be, float *Y, const sb_csr *csr, const float *vals,
                      const float *X, int w);
    /* Y[g,j,:] += sum over edges e into key j of vals[e] X[g,i,:]. */
    void (*spmm_cols)(sb_backend *be, float *Y, const sb_csr *csr, const float *vals,
                      const float *X, int w);
    /* Sample one graph per (example b, head h) from p_ij = Qhat_i S_h Khat_jᵀ:
     *   SB_SAMPLER_FASTRG:    edge counts Poisson(p_ij + delta), merged, so
     *                         P(edge) = 1 - exp(-(p_ij + delta)); O(n k + k² + m).
     *   SB_SAMPLER_BERNOULLI: Bernoulli(min(1, p_ij + delta)); O(n² k), the
     *                         public code's dense sampler.
     * Only real queries and real keys (key_mask) get edges; self_loops adds
     * (i,i) for every real i. qhat, khat [B,H,n,k]; S [H,k,k]; key_mask [B,n]
     * or NULL. The result replaces csr's contents (capacity grows). */
    void (*sbm_sample)(sb_backend *be, sb_csr *csr, const float *qhat, const float *khat,
                       const float *S, const float *key_mask, int B, int H, int n, int k,
                       float delta, int self_loops, int sampler, sb_rng_stream base);

    /* ---- Linformer / Nystromformer ops (baselines/linformer.c, baselines/nystrom.c) ---- */
    /* Per-head masking (linear attention, Performer, Nystromformer; Linformer masks
     * by rows, mask_rows): out[b,h,n,:] (=|+=) in[b,h,n,:] * mask[b,n] * scale over
     * [B,H,N,D]; mask NULL: 1. The rest are Nystromformer's (core/cpu/cpu_nystrom.c). */
    void (*scale_mask_heads)(sb_backend *be, float *out, const float *in, const float *mask, int B, int H,
                             int N, int D, float scale, int accumulate);
    /* Landmarks: out[g,s,:] = mean of in[g, s*L .. s*L+L-1, :], L = N/m; in [G,N,D],
     * out [G,m,D]; N must be a multiple of m. Backward: din[g,i,:] += dout[g,i/L,:] / L. */
    void (*segment_mean_forward)(sb_backend *be, float *out, const float *in, int G, int N, int m, int D);
    void (*segment_mean_backward)(sb_backend *be, float *din, const float *dout, int G, int N, int m, int D);
    /* In place, per row of x [B,H,R,N]: softmax(x - 1e9 (1 - mask[b,:])), the
     * reference's additive key mask computed literally (a row without a real key
     * becomes uniform); mask NULL: plain softmax. Backward: softmax_rows_backward. */
    void (*softmax_keybias_rows)(sb_backend *be, float *x, const float *mask, int B, int H, int R, int N);
    /* out[g] = alpha I - in[g] for G m x m matrices (out == in allowed). */
    void (*diag_sub)(sb_backend *be, float *out, const float *in, float alpha, int G, int m);
    /* Newton-Schulz start (the reference's "original" option): colsum[g,j] =
     * sum_i A[g,i,j] [G,m], c = max over the whole tensor, Z0[g] = (1/c) A[g]ᵀ;
     * returns c. Backward: dA += dZ0ᵀ / c plus the gradient through c, which
     * torch.max spreads evenly over the tied maxima (and the sum over rows). */
    float (*pinv_init_forward)(sb_backend *be, float *Z0, float *colsum, const float *A, int G, int m);
    void (*pinv_init_backward)(sb_backend *be, float *dA, const float *dZ0, const float *A,
                               const float *colsum, float c, int G, int m);
    /* Depthwise skip convolution along the sequence, one T-tap filter per head
     * shared over the D channels (torch Conv2d(H, H, (T,1), padding (T/2,0),
     * groups=H, bias=False) on x * mask), T odd; x, out [B,H,N,D], w [H,T]:
     *   out[b,h,n,:] += sum_t w[h,t] x[b,h,n+t-T/2,:] mask[b,n+t-T/2]  (outside rows: 0)
     * Backward: dx (may be NULL) += mask * (the transposed convolution of dout);
     * dw[h,t] += sum_{b,n,d} dout[b,h,n,d] x[b,h,n+t-T/2,d] mask[b,n+t-T/2]. */
    void (*seqconv_forward)(sb_backend *be, float *out, const float *x, const float *mask, const float *w,
                            int B, int H, int N, int D, int T);
    void (*seqconv_backward)(sb_backend *be, float *dx, float *dw, const float *dout, const float *x,
                             const float *mask, const float *w, int B, int H, int N, int D, int T);
    /* (end of Linformer / Nystromformer ops) */

    /* ---- Performer / Reformer ops (baselines/performer.c, baselines/reformer.c) ---- */
    /* FAVOR+ positive random features of the rows of x [B,H,N,D] with omega
     * [M,D] shared by all heads: x~ = scale x mask[b,n] (mask NULL: 1),
     * z = x~ omegaᵀ, phi = M^{-1/2} (exp(z - |x~|²/2 - c) + 1e-4), c = the
     * max of z over the (example, head)'s rows and features (c_mode 0: keys),
     * the row's max (1: queries) or 0 (2: no stabiliser). phi [B,H,N,M]. */
    void (*performer_features_forward)(sb_backend *be, float *phi, const float *x, const float *omega,
                                       const float *mask, int B, int H, int N, int D, int M, float scale,
                                       int c_mode);
    /* dx += the gradient through the above with c held constant (detached),
     * from the forward's phi; dphi [B,H,N,M] is overwritten (scratch). */
    void (*performer_features_backward)(sb_backend *be, float *dx, float *dphi, const float *phi,
                                        const float *x, const float *omega, const float *mask, int B, int H,
                                        int N, int D, int M, float scale);
    /* out[r,:] = num[r,:] / den[r] over rows x cols (out may be num). */
    void (*performer_div_forward)(sb_backend *be, float *out, const float *num, const float *den, size_t rows,
                                  int cols);
    /* dnum[r,:] += dout[r,:] / den[r];  dden[r] += -(dout[r,:] . out[r,:]) / den[r]. */
    void (*performer_div_backward)(sb_backend *be, float *dnum, float *dden, const float *dout,
                                   const float *out, const float *den, size_t rows, int cols);
    /* Reformer LSH (the two forms' settings: sb_reformer_hashing and
     * sb_reformer_scoring, at the top of this file): buckets of x [B,H,N,D] (shared query/key)
     * by argmax([x R, -x R]) per round, R rotations rot [H,D,R,Σ factors/2]
     * (rot_per_head) or [D,R,Σ factors/2] for all heads (factorised over
     * nf ∈ {1,2} bucket counts: Σ_f argmax_f Π earlier factors), pads (mask 0)
     * in the extra bucket Π factors (pad_bucket) or hashed like any token;
     * order [B,H,R,N] = each round's positions stably sorted by bucket. rot
     * NULL: identity order. */
    void (*reformer_hash_sort)(sb_backend *be, int32_t *order, const float *x, const float *rot,
                               const float *mask, int B, int H, int N, int D, int R,
                               const sb_reformer_hashing *hs);
    /* Chunked attention over the sorted order (cpu_reformer.c has the
     * details): queries x, keys x normalised (sc->key_norm), values v; chunk
     * c of the R*N sorted slots attends to chunks c-before..c (cyclic);
     * scores sc->scale q.k, masked as sc says; out [B,H,N,D] =
     * Σ_r o_r exp(lse_r - logsumexp_r lse_r); lse [B,H,R,N] kept for backward. */
    void (*reformer_attention_forward)(sb_backend *be, float *out, float *lse, const float *x, const float *v,
                                       const int32_t *order, const float *mask, int B, int H, int N, int D,
                                       int R, int chunk, int before, const sb_reformer_scoring *sc);
    /* dx (through queries and keys, incl. the key normalisation), dv
     * accumulate; out is the forward's output. */
    void (*reformer_attention_backward)(sb_backend *be, float *dx, float *dv, const float *dout,
                                        const float *out, const float *lse, const float *x, const float *v,
                                        const int32_t *order, const float *mask, int B, int H, int N, int D,
                                        int R, int chunk, int before, const sb_reformer_scoring *sc);
    /* (end of Performer / Reformer ops) */

    /* ---- optimiser ---- */
    /* One AdamW step over n parameters (decoupled weight decay, bias-corrected). */
    void (*adamw)(sb_backend *be, float *param, const float *grad, float *m, float *v, size_t n,
                  float lr, float beta1, float beta2, float eps, float weight_decay, int t);
};

/* threads > 0 sets the OpenMP and OpenBLAS thread count for the process. */
enum { SB_SAMPLER_FASTRG = 0, SB_SAMPLER_BERNOULLI = 1 };

/* CSR storage through the backend's allocator (core/csr.c). */
void sb_csr_reserve(sb_backend *be, sb_csr *c, int G, int n, int64_t nnz);
/* Room for the transpose of c's nnz edges (row_of, perm); backends call it
 * from csr_transpose. */
void sb_csr_reserve_transpose(sb_backend *be, sb_csr *c);
void sb_csr_free(sb_backend *be, sb_csr *c);

sb_backend *sb_backend_cpu_create(int threads);
void sb_cpu_set_threads(int threads);
void sb_backend_destroy(sb_backend *be);
/* The stream for attention dropout of (example b, head h) derived from a base stream. */
static inline sb_rng_stream sb_rng_derive(sb_rng_stream base, uint32_t example, uint32_t head) {
    base.c3 = base.c3 * 65599u + example;
    base.c2 = (base.c2 & ~0xFFu) | (head & 0xFFu);
    return base;
}

#endif
