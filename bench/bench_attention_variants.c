/* Every attention variant, one call at a time: forward+backward (training)
 * and forward alone (inference) time and tracked peak memory, at the shapes
 * of issue #4 (n = 1024, 2048, 4096; d_h = 32; 2 heads; one example) and the
 * paper's settings (manifest defaults: Linformer k=256, Performer 256
 * features, Reformer 2 hashes / chunk 64, Nystromformer 256 landmarks, conv
 * 35). Inputs are N(0,1), no padding, dropout off, SBM at its initial
 * parameters (its density is printed). One JSON object per line on stdout,
 * which bench/run_attention_variants.sh joins with the PyTorch timings.
 *
 *   bench_attention_variants [--n 1024,2048,4096] [--heads 2] [--d 32]
 *                            [--reps 5] [--threads T] [VARIANT ...]        */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench/bench_args.h"
#include "core/attention.h"
#include "experiments/config.h"

static double median(double *x, int n) {
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && x[j - 1] > x[j]; j--) {
            double t = x[j];
            x[j] = x[j - 1], x[j - 1] = t;
        }
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

static void bench_one(sb_backend *be, const char *name, int N, int H, int D, int reps) {
    const sb_attention_ops *ops = sb_attention_find(name);
    sb_run_config rc;
    sb_config_init(&rc);
    rc.n_heads = H, rc.d_head = D, rc.seq_len = N, rc.max_len = N;
    rc.reformer_form = 0; /* "nys": torch_attention_variants.py times HF's LSHSelfAttention */
    sb_attn_config cfg = sb_config_attn(&rc);
    cfg.attn_dropout = 0.0f;
    const size_t sz = (size_t)H * N * D, np = ops->param_count(&cfg);
    sb_rng_reader r;
    sb_rng_reader_init(&r, sb_rng_make(5, SB_RNG_INIT, 0, 0, 0, 0));
    float *in = malloc(sizeof(float) * sz * 4), *grads = calloc(sz * 3, sizeof(float)), *out = malloc(sizeof(float) * sz);
    for (size_t i = 0; i < sz * 4; i++) in[i] = sb_rng_next_normal(&r);
    float *params = calloc(np + 1, sizeof(float)), *dparams = calloc(np + 1, sizeof(float));
    ops->init_params(&cfg, params, &r);
    sb_attn_call c = {.B = 1, .H = H, .N = N, .D = D, .q = in, .k = in + sz, .v = in + 2 * sz, .key_mask = NULL,
                      .out = out, .rng = sb_rng_make(5, SB_RNG_ATTN_DROPOUT, 0, 0, 0, 0),
                      .rng_attn = sb_rng_make(5, SB_RNG_ATTN, 0, 0, 0, 0)};
    sb_attn_grads g = {.dq = grads, .dk = grads + sz, .dv = grads + 2 * sz, .dout = in + 3 * sz};
    double times[2][64]; /* [training][rep] */
    int64_t mem_train = 0, mem_inf = 0, flops_train = 0, flops_inf = 0;
    for (int training = 1; training >= 0; training--) {
        int64_t live0 = be->mem.live_bytes;
        sb_mem_reset_peak(&be->mem);
        void *st = ops->state_create(be, &cfg, 1, N, training);
        c.training = training;
        for (int i = 0; i <= reps; i++) { /* i = 0 warms up */
            c.rng_attn.c1 = (uint32_t)i;
            int64_t f0 = be->flops.total;
            double t0 = omp_get_wtime();
            ops->forward(be, st, &cfg, params, &c);
            if (training) ops->backward(be, st, &cfg, params, dparams, &c, &g);
            double t = omp_get_wtime() - t0;
            if (i > 0) times[training][i - 1] = t;
            if (i == 0) *(training ? &flops_train : &flops_inf) = be->flops.total - f0;
        }
        *(training ? &mem_train : &mem_inf) = be->mem.peak_bytes - live0;
        if (!training && ops->density) {
            float d[64];
            ops->density(st, d);
            double m = 0;
            for (int h = 0; h < H; h++) m += d[h] / H;
            printf("{\"variant\":\"%s\",\"n\":%d,\"density\":%.5f}\n", name, N, m);
        }
        ops->state_destroy(be, st);
    }
    printf("{\"variant\":\"%s\",\"n\":%d,\"heads\":%d,\"d\":%d,\"threads\":%d,\"train_ms\":%.3f,\"infer_ms\":%.3f,"
           "\"train_peak_bytes\":%lld,\"infer_peak_bytes\":%lld,\"train_flops\":%lld,\"infer_flops\":%lld}\n",
           name, N, H, D, omp_get_max_threads(), 1e3 * median(times[1], reps), 1e3 * median(times[0], reps),
           (long long)mem_train, (long long)mem_inf, (long long)flops_train, (long long)flops_inf);
    fflush(stdout);
    free(in), free(grads), free(out), free(params), free(dparams);
}

int main(int argc, char **argv) {
    int H = 2, D = 32, reps = 5, threads = 0, ns[8] = {1024, 2048, 4096}, nn = 3;
    const char *names[16];
    int nv = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc) {
            nn = 0;
            for (char *p = strtok(argv[++i], ","); p && nn < 8; p = strtok(NULL, ",")) ns[nn++] = atoi(p);
        } else if (bench_int(argc, argv, &i, "--heads", &H) || bench_int(argc, argv, &i, "--d", &D) ||
                   bench_int(argc, argv, &i, "--reps", &reps) || bench_int(argc, argv, &i, "--threads", &threads))
            continue;
        else if (argv[i][0] != '-' && nv < 16 && sb_attention_find(argv[i])) names[nv++] = argv[i];
        else {
            fprintf(stderr, "usage: %s [--n 1024,2048,4096] [--heads 2] [--d 32] [--reps 5] [--threads T] [VARIANT ...]\n"
                            "variants: %s\n", argv[0], sb_attention_names());
            return 2;
        }
    }
    if (reps < 1 || reps > 64 || H < 1 || H > 64) {
        fprintf(stderr, "%s: --reps must be 1..64 and --heads 1..64\n", argv[0]);
        return 2;
    }
    static const char *all[] = {"full", "sbm", "linear", "linformer", "performer", "reformer", "nystrom"};
    if (!nv) {
        nv = 7;
        memcpy(names, all, sizeof all);
    }
    sb_backend *be = sb_backend_cpu_create(threads);
    for (int v = 0; v < nv; v++)
        for (int j = 0; j < nn; j++) bench_one(be, names[v], ns[j], H, D, reps);
    sb_backend_destroy(be);
    return 0;
}
