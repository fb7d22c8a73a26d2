/* Reformer's LSH attention (baselines/reformer.c): hashing and sorting of the
 * shared query/key vectors, chunked attention over the sorted order, and the
 * combination of hash rounds, in the two forms baselines/reformer.c
 * describes: HF transformers' LSHSelfAttention (v3.x, "nys") and
 * reformer_pytorch 1.4.4's LSHAttention / FullQKAttention ("sbm"). The forms
 * share the geometry; they differ only in the settings of
 * sb_reformer_hashing (rotations per head or shared, a pad bucket or none)
 * and sb_reformer_scoring (key normalisation, score scale, mask values, whose
 * mask wins, softmax via logsumexp or torch's plain softmax).
 *
 * Layout: x, v [B,H,N,D]; order [B,H,R,N] (round r's positions in sorted
 * order); lse [B,H,R,N] (per round and position, saved for backward). The
 * R*N sorted slots of an (example, head) form R*N/chunk chunks; chunk c
 * attends to the keys of chunks c-before, ..., c-1, c (cyclic over all
 * rounds' chunks, as HF's _look_adjacent, which leaves a chunk in place for a
 * shift of at least the number of chunks; reformer_pytorch's look_one_back is
 * before = 1, its window [c, c-1] the same keys in another order). Work is
 * parallel over (example, head); each thread gathers a chunk's queries and
 * its window's keys and values and multiplies them with single-threaded sgemm. */
#include <math.h>
#include <string.h>
#include <omp.h>
#include "core/cpu/cpu_ops.h"
#include "core/kernels_inline.h"

/* Buckets by argmax([xR, -xR]) (factorised: Σ_f argmax_f Π earlier factors),
 * pads (mask 0) in the extra bucket nb when hs->pad_bucket; then a stable
 * counting sort per round. rot NULL: identity order (R must be 1). FLOPs per
 * hashed token and round, with half = Σ factors / 2: 2 D half (projection) +
 * half (negation) + 2 half (argmax compares); pads in the pad bucket are not
 * hashed. */
void sb_cpu_reformer_hash_sort(sb_backend *be, int32_t *order, const float *x, const float *rot, const float *mask,
                               int B, int H, int N, int D, int R, const sb_reformer_hashing *hs) {
    if (!rot) {
#pragma omp parallel for schedule(static)
        for (size_t g = 0; g < (size_t)B * H * R; g++)
            for (int n = 0; n < N; n++) order[g * N + n] = n;
        return;
    }
    const int nf = hs->nf, *factors = hs->factors;
    int half = 0, nb = 1;
    for (int f = 0; f < nf; f++) half += factors[f] / 2, nb *= factors[f];
    int64_t hashed = 0;
    for (size_t i = 0; i < (size_t)B * N; i++) hashed += mask && hs->pad_bucket ? mask[i] != 0.0f : 1;
    be->flops.total += hashed * H * R * ((int64_t)D * 2 * half + 3 * half);
    int32_t *bucket_all = be->alloc(be, sizeof(int32_t) * (size_t)B * H * R * N);
    int32_t *count_all = be->alloc(be, sizeof(int32_t) * (size_t)B * H * R * (nb + 2));
    /* each thread's projections x R_r [N, half], one GEMM per (example, head, round) */
    float *proj_all = be->alloc(be, sizeof(float) * (size_t)omp_get_max_threads() * N * half);
    const size_t rot_head = hs->rot_per_head ? (size_t)D * R * half : 0; /* rotations of head h at h * rot_head */
#pragma omp parallel for collapse(3) schedule(static)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int r = 0; r < R; r++) {
                const size_t gr = ((size_t)b * H + h) * R + r;
                int32_t *bucket = bucket_all + gr * N, *count = count_all + gr * (nb + 2);
                const float *rh = rot + (size_t)h * rot_head; /* [D, R, half] */
                float *proj = proj_all + (size_t)omp_get_thread_num() * N * half;
                sb_cpu_gemm_serial(0, 0, N, half, D, 1.0f, x + ((size_t)b * H + h) * N * D, D, rh + (size_t)r * half,
                                   R * half, 0.0f, proj, half);
                for (int n = 0; n < N; n++) {
                    if (hs->pad_bucket && sb_cpu_mask_at(mask, b, N, n) == 0.0f) {
                        bucket[n] = nb;
                        continue;
                    }
                    int bk = 0, off = 0, prod = 1;
                    for (int f = 0; f < nf; f++) {
                        const int hf = factors[f] / 2;
                        const float *rv = proj + (size_t)n * half + off;
                        float best = -INFINITY;
                        int arg = 0;
                        for (int j = 0; j < hf; j++)
                            if (rv[j] > best) best = rv[j], arg = j;
                        for (int j = 0; j < hf; j++)
                            if (-rv[j] > best) best = -rv[j], arg = hf + j;
                        bk += prod * arg;
                        prod *= factors[f];
                        off += hf;
                    }
                    bucket[n] = bk;
                }
                for (int k = 0; k <= nb + 1; k++) count[k] = 0;
                for (int n = 0; n < N; n++) count[bucket[n] + 1]++;
                for (int k = 1; k <= nb + 1; k++) count[k] += count[k - 1];
                int32_t *o = order + gr * N;
                for (int n = 0; n < N; n++) o[count[bucket[n]]++] = n;
            }
    be->free(be, bucket_all);
    be->free(be, count_all);
    be->free(be, proj_all);
}

typedef struct {
    int B, H, N, D, R, chunk, before, W, nchunks;
} lsh_dims;

static lsh_dims dims_of(int B, int H, int N, int D, int R, int chunk, int before) {
    lsh_dims s = {B, H, N, D, R, chunk, before, chunk * (1 + before), R * N / chunk};
    return s;
}

/* Positions of chunk gc's queries (qp) and of its window's keys (kp), in
 * HF's order: the shifted chunks for i = -before .. -1, then the chunk. */
static void window_positions(const lsh_dims *s, const int32_t *ord, int gc, int32_t *qp, int32_t *kp) {
    const int C = s->chunk, n = s->nchunks;
    for (int i = 0; i < C; i++) qp[i] = ord[(size_t)gc * C + i];
    for (int w = 0; w <= s->before; w++) {
        const int shift = s->before - w; /* i = -shift */
        const int src = shift >= n ? gc : ((gc - shift) % n + n) % n;
        for (int i = 0; i < C; i++) kp[w * C + i] = ord[(size_t)src * C + i];
    }
}

/* Normalised keys kn = c r x per position, rinv = r:
 *   SB_REFORMER_KEYS_RMS (HF):          r = 1 / sqrt(mean(x²) + 1e-6), c = 1 / sqrt(D)  (4D + 4 FLOPs)
 *   SB_REFORMER_KEYS_L2 (F.normalize):  r = 1 / max(|x|₂, 1e-12),     c = 1          (3D + 3 FLOPs) */
static void norm_keys(const float *x, float *kn, float *rinv, int N, int D, int kind) {
    const float c = kind == SB_REFORMER_KEYS_RMS ? 1.0f / sqrtf((float)D) : 1.0f;
    for (int n = 0; n < N; n++) {
        const float *xr = x + (size_t)n * D;
        float ss = 0.0f;
        for (int d = 0; d < D; d++) ss += xr[d] * xr[d];
        const float r = kind == SB_REFORMER_KEYS_RMS ? 1.0f / sqrtf(ss / (float)D + 1e-6f)
                                                     : 1.0f / fmaxf(sqrtf(ss), 1e-12f);
        rinv[n] = r;
        for (int d = 0; d < D; d++) kn[(size_t)n * D + d] = (xr[d] * r) * c;
    }
}

/* FLOPs per position of norm_keys, or of norm_keys_backward (dot 2D, f and
 * a, dx 4D) */
static int64_t norm_flops(int kind, int D, int backward) {
    if (backward) return kind == SB_REFORMER_KEYS_RMS ? 6LL * D + 4 : 6LL * D + 2;
    return kind == SB_REFORMER_KEYS_RMS ? 4LL * D + 4 : 3LL * D + 3;
}

/* dx += the key normalisation's backward at one position, dk = dL/dkn:
 * with kn = c r x, dx = a (dk - f x), a = c r,
 *   RMS: r = (ss / D + 1e-6)^(-1/2): f = r² / D (dk . x);
 *   L2:  r = ss^(-1/2):               f = r² (dk . x), or 0 where the norm
 *        was clamped at 1e-12 (torch's clamp_min passes no gradient there). */
static void norm_keys_backward(float *dx, const float *dk, const float *xr, float r, int D, int kind) {
    float dot = 0.0f;
    for (int d = 0; d < D; d++) dot += dk[d] * xr[d];
    float f, a;
    if (kind == SB_REFORMER_KEYS_RMS) {
        f = r * r / (float)D * dot, a = r * (1.0f / sqrtf((float)D));
    } else {
        f = r < 1.0f / 1e-12f ? r * r * dot : 0.0f, a = r;
    }
    for (int d = 0; d < D; d++) dx[d] += a * (dk[d] - f * xr[d]);
}

/* dst[i,:] = src[idx[i],:] for i < count: a chunk window's rows, in sorted order. */
static void gather_rows(float *dst, const float *src, const int32_t *idx, int count, int D) {
    for (int i = 0; i < count; i++) memcpy(dst + (size_t)i * D, src + (size_t)idx[i] * D, sizeof(float) * D);
}

/* Whether the pair (query qp, key kp) is a pad pair: a pad key, or (with
 * sc->pad_queries) a pad query. */
static inline int pad_pair(const sb_reformer_scoring *sc, const float *mask, int b, int N, int qp, int kp) {
    return sb_cpu_mask_at(mask, b, N, kp) == 0.0f || (sc->pad_queries && sb_cpu_mask_at(mask, b, N, qp) == 0.0f);
}

/* scores -> masked scores: pad pairs get sc->pad_value, keys at the query's
 * own position sc->self_value; where both apply, the mask the reference sets
 * last wins (HF and reformer_pytorch's LSH path: self; its full path: pad). */
static void mask_scores(float *S, const int32_t *qp, const int32_t *kp, const float *mask, int b, int N, int C,
                        int W, const sb_reformer_scoring *sc) {
    for (int i = 0; i < C; i++)
        for (int j = 0; j < W; j++) {
            float *s = S + (size_t)i * W + j;
            const int pad = pad_pair(sc, mask, b, N, qp[i], kp[j]), self = kp[j] == qp[i];
            if (pad && self) *s = sc->self_then_pad ? sc->pad_value : sc->self_value;
            else if (pad) *s = sc->pad_value;
            else if (self) *s = sc->self_value;
        }
}

/* Chunk gc's window: its positions (qp [C], kp [W]), its queries, normalised
 * keys and values gathered (Q [C,D], K, V [W,D]) and its masked scores
 * S = scale Q Kᵀ [C,W]. Forward and backward both run it, so backward recomputes
 * the scores instead of storing them. */
static void chunk_scores(const lsh_dims *s, const sb_reformer_scoring *sc, const int32_t *ord, int gc,
                         const float *xg, const float *kn, const float *vg, const float *mask, int b, int32_t *qp,
                         int32_t *kp, float *Q, float *K, float *V, float *S) {
    const int C = s->chunk, W = s->W, D = s->D;
    window_positions(s, ord, gc, qp, kp);
    gather_rows(Q, xg, qp, C, D);
    gather_rows(K, kn, kp, W, D);
    gather_rows(V, vg, kp, W, D);
    sb_cpu_gemm_serial(0, 1, C, W, D, sc->scale, Q, D, K, D, 0.0f, S, W);
    mask_scores(S, qp, kp, mask, b, s->N, C, W, sc);
}

/* logsumexp over the R rounds of position n's per-round logsumexps lg [R,N]:
 * the rounds' weights are exp(lg_r - this), forward and backward alike. */
static float rounds_logsumexp(const float *lg, int R, int N, int n) {
    float mx = -INFINITY, sum = 0.0f;
    for (int r = 0; r < R; r++) mx = lg[(size_t)r * N + n] > mx ? lg[(size_t)r * N + n] : mx;
    for (int r = 0; r < R; r++) sum += sb_expf(lg[(size_t)r * N + n] - mx);
    return mx + logf(sum);
}

/* In place: a row of W scores -> its probabilities; returns its logsumexp.
 * plain: torch's softmax, exp(s - max) / Σ (a row whose every score is the
 * pad value -FLT_MAX comes out uniform; exp(s - logsumexp) would not, as
 * -FLT_MAX + log W rounds to -FLT_MAX); else exp(s - logsumexp), the LSH
 * code's. FLOPs: 5W + 2 (plain), 6W + 2. */
static float softmax_row(float *row, int W, int plain) {
    float mx = -INFINITY, sum = 0.0f;
    for (int j = 0; j < W; j++) mx = row[j] > mx ? row[j] : mx;
    if (plain) {
        for (int j = 0; j < W; j++) row[j] = sb_expf(row[j] - mx), sum += row[j];
        for (int j = 0; j < W; j++) row[j] /= sum;
        return mx + logf(sum);
    }
    for (int j = 0; j < W; j++) sum += sb_expf(row[j] - mx);
    const float l = mx + logf(sum);
    for (int j = 0; j < W; j++) row[j] = sb_expf(row[j] - l);
    return l;
}

/* FLOPs (masking is a select, not counted): per (example, head) the key
 * normalisation, per query slot the scores and values (4 W D), their scale
 * (W, unless 1) and the softmax, per position the round weights (6 R + 2)
 * and weighted sum (2 R D). */
static int64_t lsh_flops_forward(const lsh_dims *s, const sb_reformer_scoring *sc) {
    const int64_t G = (int64_t)s->B * s->H, rows = (int64_t)s->R * s->N;
    const int64_t per_slot = 4LL * s->W * s->D + (sc->scale != 1.0f ? s->W : 0) +
                             (sc->plain_softmax ? 5LL : 6LL) * s->W + 2;
    return G * ((int64_t)s->N * norm_flops(sc->key_norm, s->D, 0) + rows * per_slot +
                (int64_t)s->N * (6LL * s->R + 2 + 2LL * s->R * s->D));
}

void sb_cpu_reformer_attention_forward(sb_backend *be, float *out, float *lse, const float *x, const float *v,
                                       const int32_t *order, const float *mask, int B, int H, int N, int D, int R,
                                       int chunk, int before, const sb_reformer_scoring *sc) {
    const lsh_dims s = dims_of(B, H, N, D, R, chunk, before);
    const int C = chunk, W = s.W;
    be->flops.total += lsh_flops_forward(&s, sc);
    const int nt = omp_get_max_threads();
    const size_t per = (size_t)N * D + N + (size_t)R * N * D + (size_t)C * D + 2 * (size_t)W * D + (size_t)C * W +
                       (size_t)C * D;
    float *scratch = be->alloc(be, sizeof(float) * per * nt);
    int32_t *iscratch = be->alloc(be, sizeof(int32_t) * (size_t)(C + W) * nt);
#pragma omp parallel for collapse(2) schedule(dynamic, 1)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            const int t = omp_get_thread_num();
            float *kn = scratch + per * t, *rinv = kn + (size_t)N * D, *orr = rinv + N, *Q = orr + (size_t)R * N * D,
                  *K = Q + (size_t)C * D, *V = K + (size_t)W * D, *S = V + (size_t)W * D, *O = S + (size_t)C * W;
            int32_t *qp = iscratch + (size_t)(C + W) * t, *kp = qp + C;
            const size_t g = (size_t)b * H + h;
            const float *xg = x + g * N * D, *vg = v + g * N * D;
            const int32_t *ord = order + g * R * N;
            float *lg = lse + g * R * N;
            norm_keys(xg, kn, rinv, N, D, sc->key_norm);
            for (int gc = 0; gc < s.nchunks; gc++) {
                const int r = gc * C / N;
                chunk_scores(&s, sc, ord, gc, xg, kn, vg, mask, b, qp, kp, Q, K, V, S);
                for (int i = 0; i < C; i++)
                    lg[(size_t)r * N + qp[i]] = softmax_row(S + (size_t)i * W, W, sc->plain_softmax);
                sb_cpu_gemm_serial(0, 0, C, D, W, 1.0f, S, W, V, D, 0.0f, O, D);
                for (int i = 0; i < C; i++)
                    for (int d = 0; d < D; d++) orr[((size_t)r * N + qp[i]) * D + d] = O[(size_t)i * D + d];
            }
            /* out = Σ_r o_r exp(lse_r - logsumexp_r lse_r) */
            float *og = out + g * N * D;
            for (int n = 0; n < N; n++) {
                const float L = rounds_logsumexp(lg, R, N, n);
                for (int d = 0; d < D; d++) og[(size_t)n * D + d] = 0.0f;
                for (int r = 0; r < R; r++) {
                    const float w = sb_expf(lg[(size_t)r * N + n] - L);
                    for (int d = 0; d < D; d++) og[(size_t)n * D + d] += orr[((size_t)r * N + n) * D + d] * w;
                }
            }
        }
    be->free(be, scratch);
    be->free(be, iscratch);
}

/* The probabilities of a recomputed row of scores, times the round weight
 * w, as the forward made them: from the saved logsumexp l, or by the plain
 * softmax again (whose exp(s - max) / Σ the saved l cannot give back for an
 * all-pad row). */
static void probs_again(float *row, int W, int plain, float l, float w) {
    if (plain) {
        softmax_row(row, W, 1);
        for (int j = 0; j < W; j++) row[j] *= w;
        return;
    }
    for (int j = 0; j < W; j++) row[j] = w * sb_expf(row[j] - l);
}

/* Per (example, head): key normalisation and its backward, round weights and
 * g . out (6R + 2 + 2D per position); per query slot five products (10 W D),
 * P again (3W, or the plain softmax's 5W + 2 and W for the weight) and dS
 * (2W), the scale of dQ and dK (W, unless 1), the scatter-adds
 * (D (1 + 2 W / chunk)). */
static int64_t lsh_flops_backward(const lsh_dims *s, const sb_reformer_scoring *sc) {
    const int64_t G = (int64_t)s->B * s->H, rows = (int64_t)s->R * s->N, W = s->W, D = s->D;
    const int64_t per_slot = 10 * W * D + (sc->plain_softmax ? 6 * W + 2 : 3 * W) + 2 * W +
                             (sc->scale != 1.0f ? W : 0) + D * (1 + 2 * (1 + s->before));
    return G * ((int64_t)s->N * (norm_flops(sc->key_norm, s->D, 0) + norm_flops(sc->key_norm, s->D, 1)) +
                (int64_t)s->N * (2 * D + 6LL * s->R + 2) + rows * per_slot);
}

/* Backward, recomputing each chunk's probabilities P. With g = dout,
 * w_r = exp(lse_r - logsumexp_r lse_r) and beta = g . out per position, the
 * reference's gradient through the round weights and the logsumexp folds
 * into dS_ij = w_r P_ij (g_i . v_j - beta_i) on unmasked entries (masked
 * scores are constants: no gradient), so with the score scale s
 *   dQ = s dS K,  dK = s dSᵀ Q,  dV = (w_r P)ᵀ g,
 * then dx += dQ + the key normalisation's backward of dK (norm_keys_backward). */
void sb_cpu_reformer_attention_backward(sb_backend *be, float *dx, float *dv, const float *dout, const float *out,
                                        const float *lse, const float *x, const float *v, const int32_t *order,
                                        const float *mask, int B, int H, int N, int D, int R, int chunk,
                                        int before, const sb_reformer_scoring *sc) {
    const lsh_dims s = dims_of(B, H, N, D, R, chunk, before);
    const int C = chunk, W = s.W;
    be->flops.total += lsh_flops_backward(&s, sc);
    const int nt = omp_get_max_threads();
    const size_t per = 2 * (size_t)N * D + N + (size_t)R * N + N + 3 * (size_t)C * D + 4 * (size_t)W * D +
                       2 * (size_t)C * W;
    float *scratch = be->alloc(be, sizeof(float) * per * nt);
    int32_t *iscratch = be->alloc(be, sizeof(int32_t) * (size_t)(C + W) * nt);
#pragma omp parallel for collapse(2) schedule(dynamic, 1)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            const int t = omp_get_thread_num();
            float *kn = scratch + per * t, *dkn = kn + (size_t)N * D, *rinv = dkn + (size_t)N * D, *wr = rinv + N,
                  *beta = wr + (size_t)R * N, *Q = beta + N, *Gd = Q + (size_t)C * D, *dQ = Gd + (size_t)C * D,
                  *K = dQ + (size_t)C * D, *V = K + (size_t)W * D, *dK = V + (size_t)W * D, *dV = dK + (size_t)W * D,
                  *P = dV + (size_t)W * D, *dS = P + (size_t)C * W;
            int32_t *qp = iscratch + (size_t)(C + W) * t, *kp = qp + C;
            const size_t g = (size_t)b * H + h;
            const float *xg = x + g * N * D, *vg = v + g * N * D, *gg = dout + g * N * D, *og = out + g * N * D;
            const int32_t *ord = order + g * R * N;
            const float *lg = lse + g * R * N;
            float *dxg = dx + g * N * D, *dvg = dv + g * N * D;
            norm_keys(xg, kn, rinv, N, D, sc->key_norm);
            for (size_t i = 0; i < (size_t)N * D; i++) dkn[i] = 0.0f;
            for (int n = 0; n < N; n++) {
                float bt = 0.0f;
                const float L = rounds_logsumexp(lg, R, N, n);
                for (int r = 0; r < R; r++) wr[(size_t)r * N + n] = sb_expf(lg[(size_t)r * N + n] - L);
                for (int d = 0; d < D; d++) bt += gg[(size_t)n * D + d] * og[(size_t)n * D + d];
                beta[n] = bt;
            }
            for (int gc = 0; gc < s.nchunks; gc++) {
                const int r = gc * C / N;
                chunk_scores(&s, sc, ord, gc, xg, kn, vg, mask, b, qp, kp, Q, K, V, P); /* the forward's, again */
                gather_rows(Gd, gg, qp, C, D);
                sb_cpu_gemm_serial(0, 1, C, W, D, 1.0f, Gd, D, V, D, 0.0f, dS, W); /* g_i . v_j */
                for (int i = 0; i < C; i++) {
                    const float bt = beta[qp[i]];
                    float *pr = P + (size_t)i * W, *dr = dS + (size_t)i * W;
                    probs_again(pr, W, sc->plain_softmax, lg[(size_t)r * N + qp[i]], wr[(size_t)r * N + qp[i]]);
                    for (int j = 0; j < W; j++) {
                        const int masked = kp[j] == qp[i] || pad_pair(sc, mask, b, N, qp[i], kp[j]);
                        dr[j] = masked ? 0.0f : pr[j] * (dr[j] - bt);
                    }
                }
                sb_cpu_gemm_serial(0, 0, C, D, W, sc->scale, dS, W, K, D, 0.0f, dQ, D);
                sb_cpu_gemm_serial(1, 0, W, D, C, sc->scale, dS, W, Q, D, 0.0f, dK, D);
                sb_cpu_gemm_serial(1, 0, W, D, C, 1.0f, P, W, Gd, D, 0.0f, dV, D);
                for (int i = 0; i < C; i++)
                    for (int d = 0; d < D; d++) dxg[(size_t)qp[i] * D + d] += dQ[(size_t)i * D + d];
                for (int j = 0; j < W; j++)
                    for (int d = 0; d < D; d++) {
                        dkn[(size_t)kp[j] * D + d] += dK[(size_t)j * D + d];
                        dvg[(size_t)kp[j] * D + d] += dV[(size_t)j * D + d];
                    }
            }
            for (int n = 0; n < N; n++)
                norm_keys_backward(dxg + (size_t)n * D, dkn + (size_t)n * D, xg + (size_t)n * D, rinv[n], D,
                                   sc->key_norm);
        }
    be->free(be, scratch);
    be->free(be, iscratch);
}
