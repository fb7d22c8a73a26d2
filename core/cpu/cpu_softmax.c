/* Sigmoid and plain row softmax (SBM memberships and block matrix). */
#include "core/cpu/cpu_ops.h"
#include "core/kernels_inline.h"

/* 4 FLOPs per element (negate, exp, add, divide) */
void sb_cpu_sigmoid_forward(sb_backend *be, float *out, const float *in, size_t n) {
    be->flops.total += 4LL * (int64_t)n;
    SB_CPU_EW_LOOP(n, i, out[i] = 1.0f / (1.0f + sb_expf(-in[i])));
}

void sb_cpu_sigmoid_backward(sb_backend *be, float *din, const float *out, const float *dout, size_t n) {
    be->flops.total += 4LL * (int64_t)n;
    SB_CPU_EW_LOOP(n, i, din[i] += out[i] * (1.0f - out[i]) * dout[i]);
}

void sb_cpu_softmax_rows(sb_backend *be, float *x, size_t rows, int cols) {
    be->flops.total += 5LL * (int64_t)rows * cols;
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) sb_cpu_softmax_row_masked(x + r * cols, NULL, cols);
}

/* 4 FLOPs per element */
void sb_cpu_softmax_rows_backward(sb_backend *be, float *dx, const float *y, const float *dy, size_t rows,
                                  int cols) {
    be->flops.total += 4LL * (int64_t)rows * cols;
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) {
        const float *yr = y + r * cols, *dyr = dy + r * cols;
        float *dxr = dx + r * cols;
        double acc = 0.0;
        for (int c = 0; c < cols; c++) acc += (double)yr[c] * dyr[c];
        for (int c = 0; c < cols; c++) dxr[c] += yr[c] * (dyr[c] - (float)acc);
    }
}
