/* FLOP accounting: each backend op adds the count of the arithmetic it
 * performs for the call's shapes, so a model's count is what actually ran.
 * Rules (one FLOP = one float add, multiply, compare, divide, exp, erf, sqrt):
 *   gemm                 2*M*N*K (alpha/beta scaling not counted)
 *   add / bias / mask    1 per element
 *   layernorm forward    8 per element (mean 1, centre 1, square 1, sum 1, scale 2, affine 2)
 *   GELU forward         8 per element (erf counted as 1)
 *   softmax row          5 per element (max, sub, exp, sum, scale/divide)
 *   dropout              1 per element (the compare is not counted; the scale is)
 *   cross-entropy        5 per logit
 * Backward rules are documented beside each op. Counts are int64 per call.
 * Not counted: integer and bookkeeping work (index arithmetic, alias-table
 * lookups), and in the fastRG sampler (core/cpu/cpu_sbm_sample.c) the
 * per-try rejection multiplies and compares, the per-row Poisson draws and
 * the 16-bit key table's scaling; it counts 4 per membership and 5 per block
 * for its tables, which puts its count below what ran by well under 1% of an
 * SBM model's total at the committed sizes. */
#ifndef SB_FLOPS_H
#define SB_FLOPS_H
#include <stdint.h>

typedef struct {
    int64_t total;   /* all ops since the last reset */
    int64_t gemm;    /* of which dense matrix products */
    int64_t sparse;  /* of which sparse attention ops (SDDMM/SpMM/sampling) */
} sb_flop_counter;

static inline void sb_flops_reset(sb_flop_counter *f) { f->total = f->gemm = f->sparse = 0; }

#endif
