/* The normaliser of kernelised attention, shared by Performer and linear
 * attention's paper form: with query features φq, key features φk (padded
 * keys already zero) and the unnormalised output num = φq (φkᵀ V'),
 *   ksum = Σ_j φk_j = 1ᵀ φk   [G,F],   den = φq ksum + eps   [G,N],
 *   out = num / den.
 * Backward, from dout and the forward's out:
 *   dnum = dout / den,  dden = -(dout · out) / den,  dksum = φqᵀ dden,
 * and the two gradient terms through the normaliser,
 *   dφq += dden ksumᵀ,  dφk += 1 dksumᵀ,
 * which the caller adds where it assembles dφq and dφk. All in backend GEMMs
 * batched over the G = B·H (example, head) pairs. */
#ifndef SB_KEY_SUM_NORM_H
#define SB_KEY_SUM_NORM_H

#include "core/backend.h"

typedef struct {
    int G, N;            /* the last forward call's pairs and positions (at most those allocated) */
    int F, D;
    float eps;
    float *ones;         /* [N] */
    float *ksum, *den;   /* [G,F], [G,N] */
    float *dksum, *dden; /* [G,F], [G,N] (training) */
} sb_key_sum_norm;

/* Room for calls of up to G pairs and N positions; eps 0: none added. */
void sb_ksn_init(sb_backend *be, sb_key_sum_norm *n, int G, int N, int F, int D, float eps, int training);
void sb_ksn_free(sb_backend *be, sb_key_sum_norm *n);
/* ksum, den, and out = out / den in place (out holds num on entry), for a
 * call of G pairs and N positions. */
void sb_ksn_forward(sb_backend *be, sb_key_sum_norm *n, int G, int N, const float *phiq, const float *phik,
                    float *out);
/* dnum = dout / den (overwritten), dden and dksum, from the last forward's out. */
void sb_ksn_backward(sb_backend *be, sb_key_sum_norm *n, const float *phiq, const float *dout, const float *out,
                     float *dnum);
/* dphiq += dden ksumᵀ;  dphik += 1 dksumᵀ  ([G,N,F] each). */
void sb_ksn_add_query_grad(sb_backend *be, const sb_key_sum_norm *n, float *dphiq);
void sb_ksn_add_key_grad(sb_backend *be, const sb_key_sum_norm *n, float *dphik);

#endif
