/* Layers composed from backend ops, shared by the model and the variants. */
#ifndef SB_LAYERS_H
#define SB_LAYERS_H
#include "core/backend.h"

/* out[R,O] = in[R,I] Wᵀ + b; W [O,I] (torch.nn.Linear layout), b [O] or NULL. */
static inline void sb_linear_forward(sb_backend *be, float *out, const float *in, const float *W,
                                     const float *b, int R, int I, int O) {
    be->gemm(be, 0, 1, R, O, I, 1.0f, in, I, W, I, 0.0f, out, O);
    if (b) be->add_bias(be, out, b, (size_t)R, O);
}

/* din[R,I] += dout W (skipped if din NULL); dW[O,I] += doutᵀ in; db[O] += Σ_r dout. */
static inline void sb_linear_backward(sb_backend *be, float *din, float *dW, float *db,
                                      const float *dout, const float *in, const float *W, int R,
                                      int I, int O) {
    if (din) be->gemm(be, 0, 0, R, I, O, 1.0f, dout, O, W, I, 1.0f, din, I);
    be->gemm(be, 1, 0, O, I, R, 1.0f, dout, O, in, I, 1.0f, dW, I);
    if (db) be->bias_backward(be, db, dout, (size_t)R, O);
}

#endif
