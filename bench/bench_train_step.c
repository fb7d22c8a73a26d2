/* Training-step benchmark (issue 2): one step of the LRA Image configuration
 * (n = 1024, d = 64, 2 layers, 2 heads, batch 8, full attention) on the CPU
 * backend, timed as zero_grad + forward(training) + backward(1/B) + AdamW.
 *
 * Prints ms/step (median, min), the step's exact FLOP count from the backend's
 * counter, achieved GFLOP/s, peak tracked memory and the thread count, then the
 * time of the fused dense attention forward+backward alone for the same
 * shapes. --profile additionally wraps every backend op with a timer and
 * prints where a step's time goes, by op family. --json FILE writes the
 * results for bench/torch_train_step.py and bench/run_train_step.sh.
 *
 *   bench_train_step [--threads N] [--batch B] [--seq N] [--steps S]
 *                    [--json FILE] [--profile]
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench/bench_args.h"
#include "core/attention.h"
#include "core/backend.h"
#include "core/model.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double min_of(const double *v, int n) {
    double m = v[0];
    for (int i = 1; i < n; i++) m = v[i] < m ? v[i] : m;
    return m;
}

/* ------------------------------------------------------------ op profiling */

/* Each backend op is replaced by a wrapper that times the original call. The
 * ops do not call each other through the table, so the times do not nest. */
enum {
    OP_ZERO, OP_COPY, OP_GEMM, OP_GEMM_BATCHED, OP_ADD_BIAS, OP_BIAS_BWD, OP_ADD, OP_ACCUMULATE,
    OP_GELU_FWD, OP_GELU_BWD, OP_RELU_FWD, OP_RELU_BWD, OP_DROPOUT_FWD, OP_DROPOUT_BWD,
    OP_MASK_ROWS, OP_HEADS_SPLIT, OP_HEADS_MERGE, OP_LN_FWD, OP_LN_BWD, OP_EMB_FWD, OP_EMB_BWD,
    OP_POOL_FWD, OP_POOL_BWD, OP_CE, OP_ATT_FWD, OP_ATT_BWD, OP_ADAMW, OP_COUNT
};
static const char *op_names[OP_COUNT] = {
    "zero", "copy", "gemm (linear layers)", "gemm_batched", "add_bias", "bias_backward", "add",
    "accumulate", "gelu_forward", "gelu_backward", "relu_forward", "relu_backward",
    "dropout_forward", "dropout_backward", "mask_rows", "heads_split", "heads_merge",
    "layernorm_forward", "layernorm_backward", "embedding_forward", "embedding_backward",
    "mean_pool_forward", "mean_pool_backward", "cross_entropy", "dense_attention_forward",
    "dense_attention_backward", "adamw"};
static double op_time[OP_COUNT];
static int64_t op_calls[OP_COUNT], op_flops[OP_COUNT];
static sb_backend orig; /* the unwrapped table */

#define TIMED(id, call)                                      \
    do {                                                     \
        int64_t f0_ = be->flops.total;                       \
        double t0_ = now_s();                                \
        call;                                                \
        op_time[id] += now_s() - t0_;                        \
        op_calls[id]++;                                      \
        op_flops[id] += be->flops.total - f0_;               \
    } while (0)

static void w_zero(sb_backend *be, void *p, size_t n) { TIMED(OP_ZERO, orig.zero(be, p, n)); }
static void w_copy(sb_backend *be, void *d, const void *s, size_t n) {
    TIMED(OP_COPY, orig.copy(be, d, s, n));
}
static void w_gemm(sb_backend *be, int ta, int tb, int M, int N, int K, float al, const float *A,
                   int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    TIMED(OP_GEMM, orig.gemm(be, ta, tb, M, N, K, al, A, lda, B, ldb, beta, C, ldc));
}
static void w_gemm_batched(sb_backend *be, int ta, int tb, int M, int N, int K, float al,
                           const float *A, int lda, size_t sa, const float *B, int ldb, size_t sb,
                           float beta, float *C, int ldc, size_t sc, int batch) {
    TIMED(OP_GEMM_BATCHED,
          orig.gemm_batched(be, ta, tb, M, N, K, al, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch));
}
static void w_add_bias(sb_backend *be, float *o, const float *b, size_t r, int c) {
    TIMED(OP_ADD_BIAS, orig.add_bias(be, o, b, r, c));
}
static void w_bias_bwd(sb_backend *be, float *db, const float *d, size_t r, int c) {
    TIMED(OP_BIAS_BWD, orig.bias_backward(be, db, d, r, c));
}
static void w_add(sb_backend *be, float *o, const float *a, const float *b, size_t n) {
    TIMED(OP_ADD, orig.add(be, o, a, b, n));
}
static void w_accumulate(sb_backend *be, float *o, const float *a, size_t n) {
    TIMED(OP_ACCUMULATE, orig.accumulate(be, o, a, n));
}
static void w_gelu_fwd(sb_backend *be, float *o, const float *i, size_t n) {
    TIMED(OP_GELU_FWD, orig.gelu_forward(be, o, i, n));
}
static void w_gelu_bwd(sb_backend *be, float *di, const float *i, const float *d, size_t n) {
    TIMED(OP_GELU_BWD, orig.gelu_backward(be, di, i, d, n));
}
static void w_relu_fwd(sb_backend *be, float *o, const float *i, size_t n) {
    TIMED(OP_RELU_FWD, orig.relu_forward(be, o, i, n));
}
static void w_relu_bwd(sb_backend *be, float *di, const float *o, const float *d, size_t n) {
    TIMED(OP_RELU_BWD, orig.relu_backward(be, di, o, d, n));
}
static void w_drop_fwd(sb_backend *be, float *o, const float *i, size_t n, float p, sb_rng_stream s) {
    TIMED(OP_DROPOUT_FWD, orig.dropout_forward(be, o, i, n, p, s));
}
static void w_drop_bwd(sb_backend *be, float *di, const float *d, size_t n, float p, sb_rng_stream s) {
    TIMED(OP_DROPOUT_BWD, orig.dropout_backward(be, di, d, n, p, s));
}
static void w_mask_rows(sb_backend *be, float *x, const float *m, size_t r, int c) {
    TIMED(OP_MASK_ROWS, orig.mask_rows(be, x, m, r, c));
}
static void w_split(sb_backend *be, float *d, const float *s, int ss, int B, int T, int H, int D,
                    int acc) {
    TIMED(OP_HEADS_SPLIT, orig.heads_split(be, d, s, ss, B, T, H, D, acc));
}
static void w_merge(sb_backend *be, float *d, int ds, const float *s, int B, int T, int H, int D,
                    int acc) {
    TIMED(OP_HEADS_MERGE, orig.heads_merge(be, d, ds, s, B, T, H, D, acc));
}
static void w_ln_fwd(sb_backend *be, float *o, float *m, float *r, const float *i, const float *g,
                     const float *b, size_t rows, int C, float eps) {
    TIMED(OP_LN_FWD, orig.layernorm_forward(be, o, m, r, i, g, b, rows, C, eps));
}
static void w_ln_bwd(sb_backend *be, float *di, float *dg, float *db, const float *d, const float *i,
                     const float *g, const float *m, const float *r, size_t rows, int C) {
    TIMED(OP_LN_BWD, orig.layernorm_backward(be, di, dg, db, d, i, g, m, r, rows, C));
}
static void w_emb_fwd(sb_backend *be, float *o, const int32_t *ids, const float *tok,
                      const float *pos, int B, int T, int C) {
    TIMED(OP_EMB_FWD, orig.embedding_forward(be, o, ids, tok, pos, B, T, C));
}
static void w_emb_bwd(sb_backend *be, float *dt, float *dp, const float *d, const int32_t *ids,
                      int B, int T, int C) {
    TIMED(OP_EMB_BWD, orig.embedding_backward(be, dt, dp, d, ids, B, T, C));
}
static void w_pool_fwd(sb_backend *be, float *o, const float *i, int B, int T, int C) {
    TIMED(OP_POOL_FWD, orig.mean_pool_forward(be, o, i, B, T, C));
}
static void w_pool_bwd(sb_backend *be, float *di, const float *d, int B, int T, int C) {
    TIMED(OP_POOL_BWD, orig.mean_pool_backward(be, di, d, B, T, C));
}
static void w_ce(sb_backend *be, float *loss, float *dl, uint8_t *corr, const float *lg,
                 const int32_t *lab, size_t rows, int C, float scale) {
    TIMED(OP_CE, orig.cross_entropy(be, loss, dl, corr, lg, lab, rows, C, scale));
}
static void w_att_fwd(sb_backend *be, float *out, float *probs, const float *q, const float *k,
                      const float *v, const float *km, int B, int H, int N, int D, float p,
                      sb_rng_stream s) {
    TIMED(OP_ATT_FWD, orig.dense_attention_forward(be, out, probs, q, k, v, km, B, H, N, D, p, s));
}
static void w_att_bwd(sb_backend *be, float *dq, float *dk, float *dv, const float *dout,
                      const float *probs, const float *q, const float *k, const float *v, int B,
                      int H, int N, int D, float p, sb_rng_stream s) {
    TIMED(OP_ATT_BWD,
          orig.dense_attention_backward(be, dq, dk, dv, dout, probs, q, k, v, B, H, N, D, p, s));
}
static void w_adamw(sb_backend *be, float *p, const float *g, float *m, float *v, size_t n, float lr,
                    float b1, float b2, float eps, float wd, int t) {
    TIMED(OP_ADAMW, orig.adamw(be, p, g, m, v, n, lr, b1, b2, eps, wd, t));
}

static void install_profiler(sb_backend *be) {
    orig = *be;
    be->zero = w_zero;
    be->copy = w_copy;
    be->gemm = w_gemm;
    be->gemm_batched = w_gemm_batched;
    be->add_bias = w_add_bias;
    be->bias_backward = w_bias_bwd;
    be->add = w_add;
    be->accumulate = w_accumulate;
    be->gelu_forward = w_gelu_fwd;
    be->gelu_backward = w_gelu_bwd;
    be->relu_forward = w_relu_fwd;
    be->relu_backward = w_relu_bwd;
    be->dropout_forward = w_drop_fwd;
    be->dropout_backward = w_drop_bwd;
    be->mask_rows = w_mask_rows;
    be->heads_split = w_split;
    be->heads_merge = w_merge;
    be->layernorm_forward = w_ln_fwd;
    be->layernorm_backward = w_ln_bwd;
    be->embedding_forward = w_emb_fwd;
    be->embedding_backward = w_emb_bwd;
    be->mean_pool_forward = w_pool_fwd;
    be->mean_pool_backward = w_pool_bwd;
    be->cross_entropy = w_ce;
    be->dense_attention_forward = w_att_fwd;
    be->dense_attention_backward = w_att_bwd;
    be->adamw = w_adamw;
}

/* ------------------------------------------------------------ the step */

typedef struct {
    sb_backend *be;
    sb_model *m;
    float *adam_m, *adam_v;
    const int32_t *ids, *labels;
    const float *mask;
    int B, t;
} trainer;

static void train_step(trainer *tr) {
    sb_backend *be = tr->be;
    sb_model *m = tr->m;
    tr->t++;
    sb_model_zero_grad(m);
    sb_model_forward(m, tr->ids, tr->mask, tr->labels, 1, 1234u, (uint32_t)tr->t);
    sb_model_backward(m, 1.0f / (float)tr->B);
    /* torch.optim.AdamW(lr, betas=(0.9, 0.999), eps=1e-6, weight_decay) over all parameters */
    be->adamw(be, sb_model_params(m), sb_model_grads(m), tr->adam_m, tr->adam_v,
              sb_model_num_params(m), 1e-4f, 0.9f, 0.999f, 1e-6f, 0.01f, tr->t);
}

static void usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s [--threads N] [--batch B] [--seq N] [--steps S] [--json FILE] [--profile]\n",
            argv0);
    exit(2);
}

int main(int argc, char **argv) {
    int threads = 0, B = 8, T = 1024, steps = 10, profile = 0;
    const char *json = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (bench_flag(argv, i, "--profile", &profile, 1) || bench_int(argc, argv, &i, "--threads", &threads) ||
            bench_int(argc, argv, &i, "--batch", &B) || bench_int(argc, argv, &i, "--seq", &T) ||
            bench_int(argc, argv, &i, "--steps", &steps))
            continue;
        if ((v = bench_value(argc, argv, &i, "--json"))) json = v;
        else usage(argv[0]);
    }
    if (B < 1 || T < 1 || steps < 1) usage(argv[0]);

    sb_backend *be = sb_backend_cpu_create(threads);
    const int nthreads = omp_get_max_threads();

    /* LRA Image (Nyströmformer/SBM lra_config "image", softmax) */
    sb_model_config cfg = {
        .vocab_size = 512, .max_len = T > 1024 ? T : 1024, .seq_len = T, .d_model = 64,
        .n_layers = 2, .n_heads = 2, .d_head = 32, .d_ffn = 128, .n_classes = 10,
        .token_level = 0, .dropout = 0.1f, .attn_dropout = 0.1f, .ln_eps = 1e-5f,
        .attn = sb_attention_find("full"),
    };
    cfg.attn_cfg = (sb_attn_config){.n_heads = cfg.n_heads, .d_head = cfg.d_head,
                                    .max_len = cfg.max_len, .attn_dropout = cfg.attn_dropout};
    if (!cfg.attn) {
        fprintf(stderr, "bench_train_step: attention \"full\" not registered\n");
        return 1;
    }
    sb_model *m = sb_model_create(be, &cfg, B, 1);
    sb_model_init_params(m, 42);
    const size_t np = sb_model_num_params(m);
    trainer tr = {.be = be, .m = m, .B = B, .t = 0};
    tr.adam_m = be->alloc(be, sizeof(float) * np);
    tr.adam_v = be->alloc(be, sizeof(float) * np);

    int32_t *ids = malloc(sizeof(int32_t) * (size_t)B * T);
    float *mask = malloc(sizeof(float) * (size_t)B * T);
    int32_t *labels = malloc(sizeof(int32_t) * (size_t)B);
    sb_rng_reader r;
    sb_rng_reader_init(&r, sb_rng_make(7, SB_RNG_DATA_TRAIN, 0, 0, 0, 0));
    for (size_t i = 0; i < (size_t)B * T; i++) {
        ids[i] = 1 + (int32_t)sb_u32_below(sb_rng_next_u32(&r), 511); /* 1..511 */
        mask[i] = 1.0f;
    }
    for (int b = 0; b < B; b++) labels[b] = (int32_t)sb_u32_below(sb_rng_next_u32(&r), 10);
    tr.ids = ids;
    tr.mask = mask;
    tr.labels = labels;

    /* warm-up */
    for (int i = 0; i < 2; i++) train_step(&tr);

    /* exact FLOPs of one step */
    sb_flops_reset(&be->flops);
    train_step(&tr);
    const int64_t flops_total = be->flops.total, flops_gemm = be->flops.gemm;

    double *ts = malloc(sizeof(double) * steps);
    for (int i = 0; i < steps; i++) {
        double t0 = now_s();
        train_step(&tr);
        ts[i] = now_s() - t0;
    }
    const double t_min = min_of(ts, steps), t_med = median(ts, steps);
    const double gflops_med = (double)flops_total / t_med * 1e-9;
    const double gflops_min = (double)flops_total / t_min * 1e-9;
    const int64_t peak = be->mem.peak_bytes;

    /* the fused attention alone: forward + backward for one layer's shapes */
    const int H = cfg.n_heads, Dh = cfg.d_head;
    const size_t nq = (size_t)B * H * T * Dh;
    float *q = be->alloc(be, sizeof(float) * nq), *k = be->alloc(be, sizeof(float) * nq),
          *v = be->alloc(be, sizeof(float) * nq), *o = be->alloc(be, sizeof(float) * nq),
          *dO = be->alloc(be, sizeof(float) * nq), *dq = be->alloc(be, sizeof(float) * nq),
          *dk = be->alloc(be, sizeof(float) * nq), *dv = be->alloc(be, sizeof(float) * nq),
          *probs = be->alloc(be, sizeof(float) * (size_t)B * H * T * T);
    for (size_t i = 0; i < nq; i++) {
        q[i] = sb_rng_next_normal(&r);
        k[i] = sb_rng_next_normal(&r);
        v[i] = sb_rng_next_normal(&r);
        dO[i] = sb_rng_next_normal(&r);
    }
    const int att_reps = steps;
    double *ta = malloc(sizeof(double) * att_reps), *taf = malloc(sizeof(double) * att_reps);
    for (int i = -1; i < att_reps; i++) { /* i = -1: warm-up */
        sb_rng_stream s = sb_rng_make(1234u, SB_RNG_ATTN_DROPOUT, (uint32_t)(i + 2), 0, 0, 0);
        double t0 = now_s();
        be->dense_attention_forward(be, o, probs, q, k, v, mask, B, H, T, Dh, cfg.attn_dropout, s);
        double t1 = now_s();
        be->dense_attention_backward(be, dq, dk, dv, dO, probs, q, k, v, B, H, T, Dh,
                                     cfg.attn_dropout, s);
        double t2 = now_s();
        if (i >= 0) {
            taf[i] = t1 - t0;
            ta[i] = t2 - t0;
        }
    }
    const double att_fwd = median(taf, att_reps), att_fb = median(ta, att_reps);
    const double att_step = att_fb * cfg.n_layers;

    printf("bench_train_step: LRA Image, full attention, CPU backend\n");
    printf("  config     B=%d n=%d d=%d layers=%d heads=%d d_head=%d d_ffn=%d params=%zu\n", B, T,
           cfg.d_model, cfg.n_layers, H, Dh, cfg.d_ffn, np);
    printf("  threads    %d\n", nthreads);
    printf("  steps      %d timed after 2 warm-up\n", steps);
    printf("  ms/step    median %.2f  min %.2f\n", t_med * 1e3, t_min * 1e3);
    printf("  FLOPs      %lld per step (gemm %lld, %.1f%%)\n", (long long)flops_total,
           (long long)flops_gemm, 100.0 * (double)flops_gemm / (double)flops_total);
    printf("  GFLOP/s    %.2f (median)  %.2f (best)\n", gflops_med, gflops_min);
    printf("  peak mem   %.1f MiB tracked\n", (double)peak / (1024.0 * 1024.0));
    printf("  attention  fwd %.2f ms + bwd %.2f ms per layer; x%d layers = %.2f ms/step "
           "(%.1f%% of the step)\n",
           att_fwd * 1e3, (att_fb - att_fwd) * 1e3, cfg.n_layers, att_step * 1e3,
           100.0 * att_step / t_med);

    if (profile) {
        install_profiler(be);
        memset(op_time, 0, sizeof op_time);
        memset(op_calls, 0, sizeof op_calls);
        memset(op_flops, 0, sizeof op_flops);
        double t0 = now_s();
        for (int i = 0; i < steps; i++) train_step(&tr);
        double total = (now_s() - t0) / steps, listed = 0.0;
        int order[OP_COUNT];
        for (int i = 0; i < OP_COUNT; i++) order[i] = i;
        for (int i = 0; i < OP_COUNT; i++) /* sort by time, descending */
            for (int j = i + 1; j < OP_COUNT; j++)
                if (op_time[order[j]] > op_time[order[i]]) {
                    int t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                }
        printf("\n  profile (per step, %d steps, wrapped ops; %.2f ms/step with wrappers)\n", steps,
               total * 1e3);
        printf("  %-26s %9s %7s %6s %9s\n", "op", "ms", "share", "calls", "GFLOP/s");
        for (int i = 0; i < OP_COUNT; i++) {
            int o_ = order[i];
            if (!op_calls[o_]) continue;
            double ms = op_time[o_] / steps * 1e3;
            listed += op_time[o_] / steps;
            printf("  %-26s %9.3f %6.1f%% %6lld %9.2f\n", op_names[o_], ms,
                   100.0 * op_time[o_] / steps / total, (long long)(op_calls[o_] / steps),
                   op_time[o_] > 0 ? (double)op_flops[o_] / op_time[o_] * 1e-9 : 0.0);
        }
        printf("  %-26s %9.3f %6.1f%%\n", "(outside ops)", (total - listed) * 1e3,
               100.0 * (total - listed) / total);
        *be = orig;
    }

    if (json) {
        FILE *f = fopen(json, "w");
        if (!f) {
            perror(json);
            return 1;
        }
        fprintf(f,
                "{\n  \"impl\": \"sbmbench-c\",\n  \"batch\": %d,\n  \"seq_len\": %d,\n"
                "  \"d_model\": %d,\n  \"n_layers\": %d,\n  \"n_heads\": %d,\n"
                "  \"threads\": %d,\n  \"steps\": %d,\n  \"ms_per_step_median\": %.4f,\n"
                "  \"ms_per_step_min\": %.4f,\n  \"flops_total\": %lld,\n  \"flops_gemm\": %lld,\n"
                "  \"gflops_median\": %.4f,\n  \"gflops_best\": %.4f,\n"
                "  \"peak_tracked_bytes\": %lld,\n  \"attention_ms_per_step\": %.4f\n}\n",
                B, T, cfg.d_model, cfg.n_layers, H, nthreads, steps, t_med * 1e3, t_min * 1e3,
                (long long)flops_total, (long long)flops_gemm, gflops_med, gflops_min,
                (long long)peak, att_step * 1e3);
        fclose(f);
    }

    void *bufs[] = {q, k, v, o, dO, dq, dk, dv, probs, tr.adam_m, tr.adam_v};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) be->free(be, bufs[i]);
    sb_model_destroy(m);
    sb_backend_destroy(be);
    free(ids);
    free(mask);
    free(labels);
    free(ts);
    free(ta);
    free(taf);
    return 0;
}
