/* FLOP counts against closed forms (rules in core/flops.h): each attention
 * variant's call alone, then whole-model inference per example as
 * experiments/measure.c reports it, for full attention and for SBM (whose
 * count depends on each example's sampled edges). */
#include <math.h>
#include "core/backend.h"
#include "experiments/measure.h"
#include "tests/report/small_model.h"
#include "tests/test_util.h"

enum { B = 2, H = 2, N = 8, D = 4, K = 8 };

static sb_attn_config attn_cfg(void) {
    sb_attn_config c = {.n_heads = H, .d_head = D, .max_len = N, .sbm_k = K, .sbm_sampler = SB_SAMPLER_FASTRG,
                        .sbm_reg_kind = SB_SBM_REG_SAMPLED, .sbm_ste = 1};
    return c;
}

/* One inference call of a variant on random inputs; returns the FLOPs it
 * counted. graph: SBM's fixed graph or NULL; state_out receives the state
 * (caller destroys) when not NULL. */
static int64_t call_flops(sb_backend *be, const sb_attention_ops *ops, const sb_csr *graph, void **state_out) {
    sb_attn_config cfg = attn_cfg();
    const size_t n = (size_t)B * H * N * D, np = ops->param_count(&cfg);
    float *q = tu_alloc(n), *k = tu_alloc(n), *v = tu_alloc(n), *out = tu_alloc(n), *p = tu_alloc(np + 1);
    tu_fill_normal(q, n, 1.0f, 1), tu_fill_normal(k, n, 1.0f, 2), tu_fill_normal(v, n, 1.0f, 3);
    sb_rng_reader rng = tu_rng(4);
    ops->init_params(&cfg, p, &rng);
    void *st = ops->state_create(be, &cfg, B, N, 0);
    sb_attn_call call = {.B = B, .H = H, .N = N, .D = D, .q = q, .k = k, .v = v, .out = out,
                         .rng = sb_rng_make(1, SB_RNG_ATTN_DROPOUT, 0, 0, 0, 0),
                         .rng_attn = sb_rng_make(1, SB_RNG_ATTN, 0, 0, 0, 0), .fixed_graph = graph};
    sb_flops_reset(&be->flops);
    ops->forward(be, st, &cfg, p, &call);
    int64_t f = be->flops.total;
    if (state_out) *state_out = st;
    else ops->state_destroy(be, st);
    free(q), free(k), free(v), free(out), free(p);
    return f;
}

/* SBM's forward without the graph: the shared MLP (two Linear(D,D) and a
 * ReLU) on queries and keys, memberships σ(X Cᵀ) for both, the block matrix
 * softmax(C Cᵀ) over k² entries; rows = examples x heads x tokens. */
static int64_t sbm_dense_part(int64_t rows, int64_t d, int64_t k, int64_t heads) {
    int64_t mlp = 2 * (2 * rows * d * d + rows * d) + rows * d;
    int64_t memberships = 2 * rows * k * d + 4 * rows * k;
    return 2 * (mlp + memberships) + heads * (2 * k * k * d + 5 * k * k);
}
/* fastRG's bookkeeping per graph with nr real tokens: column sums and alias
 * tables (3 per weight, both sides), the block weights (5 per block) */
static int64_t fastrg_part(int64_t graphs, int64_t nr, int64_t k) { return graphs * (4 * nr * k + 5 * k * k); }
/* attention on the graph: q.k (2d), scale, softmax over the row's edges
 * (max, exp, sum, divide: 4), weighted sum of values (2d) */
static int64_t edges_part(int64_t nnz, int64_t d) { return nnz * (4 * d + 5); }

/* Reformer's inference FLOPs at a shape of its own, every size distinct
 * where a count could use the wrong one: B 2, H 2, N 24 (example 1's last 5
 * positions padded), D 5, R 3 rounds, chunks of `chunk` looking back 3 (a
 * window of W = 4 chunk keys). */
enum { RB = 2, RH = 2, RN = 24, RD = 5, RR = 3, RBEFORE = 3 };

static int64_t reformer_call_flops(sb_backend *be, int form, int chunk) {
    sb_attn_config cfg = {.n_heads = RH, .d_head = RD, .max_len = RN, .reformer_hashes = RR, .reformer_chunk = chunk,
                          .reformer_chunks_before = RBEFORE, .reformer_form = form};
    const sb_attention_ops *ops = sb_attention_find("reformer");
    const size_t n = (size_t)RB * RH * RN * RD, np = ops->param_count(&cfg);
    float *q = tu_alloc(n), *k = tu_alloc(n), *v = tu_alloc(n), *out = tu_alloc(n), *p = tu_alloc(np + 1);
    float mask[RB * RN];
    for (int i = 0; i < RB * RN; i++) mask[i] = i >= RB * RN - 5 ? 0.0f : 1.0f;
    tu_fill_normal(q, n, 1.0f, 1), tu_fill_normal(k, n, 1.0f, 2), tu_fill_normal(v, n, 1.0f, 3);
    sb_rng_reader rng = tu_rng(4);
    ops->init_params(&cfg, p, &rng);
    void *st = ops->state_create(be, &cfg, RB, RN, 0);
    sb_attn_call call = {.B = RB, .H = RH, .N = RN, .D = RD, .q = q, .k = k, .v = v, .key_mask = mask, .out = out,
                         .rng = sb_rng_make(1, SB_RNG_ATTN_DROPOUT, 0, 0, 0, 0),
                         .rng_attn = sb_rng_make(1, SB_RNG_ATTN, 0, 0, 0, 0)};
    sb_flops_reset(&be->flops);
    ops->forward(be, st, &cfg, p, &call);
    ops->state_destroy(be, st);
    free(q), free(k), free(v), free(out), free(p);
    return be->flops.total;
}

/* Reformer against closed forms derived by hand. Hashing: per hashed token,
 * head and round 2 D h (projection) + 3 h (negation, argmax), h = half the
 * buckets ("sbm" hashes pads too, "nys" puts them in their own bucket
 * unhashed). Per (example, head): the key normalisation per position (L2
 * 3D + 3, RMS 4D + 4), per query slot 4 W D (scores and values) + W (the
 * score scale, "sbm" only) + the softmax (6 W + 2 by logsumexp, 5 W + 2
 * plain), per position the round weights and their sum (6 R + 2 + 2 R D).
 * "sbm" then to_out, 2 (HD)² + HD per position. */
static void test_reformer(sb_backend *be) {
    const int64_t G = RB * RH, rows = RB * RN, HD = RH * RD, to_out = rows * (2 * HD * HD + HD);
    const int64_t rounds_lsh = RN * (6 * RR + 2 + 2 * RR * RD), rounds_full = RN * (6 + 2 + 2 * RD);
    /* LSH, chunk 2 (W = 8): "sbm" has N / chunk = 12 buckets, h = 6 */
    int64_t got = reformer_call_flops(be, 1, 2), W = 8;
    int64_t want = rows * RH * RR * (2 * RD * 6 + 3 * 6) +
                   G * (RN * (3 * RD + 3) + RR * RN * (4 * W * RD + W + 6 * W + 2) + rounds_lsh) + to_out;
    tu_check(got == want && want == 101856, "reformer \"sbm\", LSH: %lld FLOPs = closed form %lld (101856)",
             (long long)got, (long long)want);
    /* "nys": 2^(bit_length(2 N / chunk) - 1) = 16 buckets, factorised as 4 x 4 (above 2 max(⌊√(N /
     * chunk)⌋, chunk) = 6), h = 2 + 2; its 43 real tokens hashed */
    got = reformer_call_flops(be, 0, 2);
    want = (rows - 5) * RH * RR * (2 * RD * 4 + 3 * 4) + G * (RN * (4 * RD + 4) + RR * RN * (4 * W * RD + 6 * W + 2) + rounds_lsh);
    tu_check(got == want && want == 81000, "reformer \"nys\", LSH: %lld FLOPs = closed form %lld (81000)",
             (long long)got, (long long)want);
    /* N <= chunk: full attention over W = N keys in one round, no hashing; "sbm" with the plain softmax */
    W = RN;
    got = reformer_call_flops(be, 1, 32);
    want = G * (RN * (3 * RD + 3) + RN * (4 * W * RD + W + 5 * W + 2) + rounds_full) + to_out;
    tu_check(got == want && want == 73632, "reformer \"sbm\", full path: %lld FLOPs = closed form %lld (73632)",
             (long long)got, (long long)want);
    got = reformer_call_flops(be, 0, 32);
    want = G * (RN * (4 * RD + 4) + RN * (4 * W * RD + 6 * W + 2) + rounds_full);
    tu_check(got == want && want == 64128, "reformer \"nys\", full path: %lld FLOPs = closed form %lld (64128)",
             (long long)got, (long long)want);
}

static void test_ops(sb_backend *be) {
    /* full: scores 2n²d, softmax 5n², weighted sum 2n²d, per (example, head) */
    int64_t full = call_flops(be, sb_attention_find("full"), NULL, NULL);
    tu_check(full == (int64_t)B * H * (4 * N * N * D + 5 * N * N), "full attention: %lld FLOPs = BH(4n²d + 5n²)",
             (long long)full);
    /* linear (reference, no normaliser): elu+1 on Q and K (4 each), the mask on V (1), K'ᵀV' and Q'(K'ᵀV') */
    int64_t lin = call_flops(be, sb_attention_find("linear"), NULL, NULL);
    tu_check(lin == (int64_t)B * H * (9 * N * D + 4 * N * D * D), "linear attention: %lld FLOPs = BH(9nd + 4nd²)",
             (long long)lin);

    /* SBM on a fixed graph: graph g = (b,h) has query i attend keys 0..(i+g)%n */
    const int G = B * H;
    sb_csr graph = {0};
    int64_t nnz = 0;
    for (int g = 0; g < G; g++)
        for (int i = 0; i < N; i++) nnz += (i + g) % N + 1;
    sb_csr_reserve(be, &graph, G, N, nnz);
    graph.nnz = 0;
    for (int g = 0; g < G; g++)
        for (int i = 0; i < N; i++) {
            graph.row_ptr[(size_t)g * N + i] = graph.nnz;
            for (int j = 0; j <= (i + g) % N; j++) graph.col[graph.nnz++] = j;
        }
    graph.row_ptr[(size_t)G * N] = graph.nnz;
    const sb_attention_ops *sbm = sb_attention_find("sbm");
    void *st;
    int64_t fixed = call_flops(be, sbm, &graph, &st);
    int64_t want = sbm_dense_part((int64_t)G * N, D, K, H) + edges_part(nnz, D);
    tu_check(fixed == want, "sbm, fixed graph of %lld edges: %lld FLOPs = closed form %lld", (long long)nnz,
             (long long)fixed, (long long)want);
    /* the key in-degree readout counts each key's queries: key j has the queries i with (i+g)%n >= j */
    float *indeg = tu_alloc((size_t)G * N);
    sbm->key_indegree(st, indeg);
    int bad = 0;
    for (int g = 0; g < G; g++)
        for (int j = 0; j < N; j++) {
            int c = 0;
            for (int i = 0; i < N; i++) c += (i + g) % N >= j;
            bad += indeg[(size_t)g * N + j] != (float)c;
        }
    tu_check(bad == 0, "sbm key_indegree on the fixed graph: %d wrong counts of %d", bad, G * N);
    sbm->state_destroy(be, st);
    sb_csr_free(be, &graph);

    /* SBM sampling its graph (fastRG, no padding): + per-graph sampler work + the sampled edges */
    int64_t sampled = call_flops(be, sbm, NULL, &st);
    float *dens = tu_alloc((size_t)G);
    sbm->density(st, dens);
    sbm->key_indegree(st, indeg);
    int64_t m = 0, m_indeg = 0;
    for (int g = 0; g < G; g++) m += lround(dens[g] * N * N);
    for (int i = 0; i < G * N; i++) m_indeg += (int64_t)indeg[i];
    want = sbm_dense_part((int64_t)G * N, D, K, H) + fastrg_part(G, N, K) + edges_part(m, D);
    tu_check(sampled == want, "sbm, sampled graph of %lld edges: %lld FLOPs = closed form %lld", (long long)m,
             (long long)sampled, (long long)want);
    tu_check(m_indeg == m, "sbm key in-degrees sum to the edges (%lld = %lld)", (long long)m_indeg, (long long)m);
    sbm->state_destroy(be, st);
    free(indeg), free(dens);
}

/* Inference on one example of the small model (token-level synthetic task:
 * a row per token), everything but attention: embeddings, per layer LN,
 * QKV, output projection, residual adds, LN, FFN with GELU; final LN and the
 * mask; the two-layer head and the cross-entropy. Dropout is off (no FLOPs). */
static int64_t model_without_attention(void) {
    const int64_t T = SM_T, Dm = SM_D, HD = SM_H * SM_DH, F = SM_F, C = SM_C, R = SM_T;
    int64_t layer = 8 * T * Dm + (2 * T * Dm * 3 * HD + T * 3 * HD) + (2 * T * HD * Dm + T * Dm) + T * Dm +
                    8 * T * Dm + (2 * T * Dm * F + T * F) + 8 * T * F + (2 * T * F * Dm + T * Dm) + T * Dm;
    int64_t head = (2 * R * Dm * F + R * F) + R * F + (2 * R * F * C + R * C) + 5 * R * C;
    return T * Dm + SM_L * layer + 8 * T * Dm + T * Dm + head;
}

static void test_model(const char *model) {
    sb_run_config c = sm_run_config(model);
    sb_model_config mc;
    sb_task *task = sm_open(&c, &mc);
    sb_backend *be = sb_backend_cpu_create(0);
    sb_model *m = sb_model_create(be, &mc, 1, 0);
    sb_model_init_params(m, 7);
    sb_inference_cost cost;
    sb_measure_inference(&mc, task, "synthetic", sb_model_params(m), SM_BATCHES, SM_B, 7, &cost);
    const int n = SM_BATCHES * SM_B, LH = SM_L * SM_H;
    tu_check(cost.n == n, "%s: %d examples measured (%d)", model, cost.n, n);
    int bad = 0;
    double sum = 0.0;
    for (int x = 0; x < cost.n; x++) {
        int64_t want = model_without_attention();
        if (!strcmp(model, "full")) {
            want += SM_L * (int64_t)SM_H * (4 * SM_T * SM_T * SM_DH + 5 * SM_T * SM_T);
        } else { /* each layer's edges from the example's per-head densities */
            int64_t edges = 0;
            for (int j = 0; j < LH; j++) edges += lround(cost.density[(size_t)x * LH + j] * SM_T * SM_T);
            want += SM_L * (sbm_dense_part((int64_t)SM_H * SM_T, SM_DH, SM_K, SM_H) + fastrg_part(SM_H, SM_T, SM_K)) +
                    edges_part(edges, SM_DH);
        }
        bad += (int64_t)cost.flops[x] != want;
        sum += cost.flops[x];
        if (x == 0) printf("      %s: example 0: %.0f FLOPs, closed form %lld\n", model, cost.flops[0], (long long)want);
    }
    tu_check(bad == 0, "%s: per-example inference FLOPs equal the closed form (%d of %d differ)", model, bad, n);
    tu_report("flops_mean is the mean over examples", fabs(cost.flops_mean - sum / n) / cost.flops_mean, 1e-12);
    if (!strcmp(model, "full")) tu_check(cost.flops_std == 0.0, "full: std over examples is 0 (%g)", cost.flops_std);
    else tu_check(cost.flops_std > 0.0, "sbm: FLOPs vary with the input (std %g)", cost.flops_std);
    sb_inference_cost_free(&cost);
    sb_model_destroy(m);
    sb_backend_destroy(be);
    task->ops->close(task);
}

int main(void) {
    sb_backend *be = sb_backend_cpu_create(0);
    test_ops(be);
    test_reformer(be);
    sb_backend_destroy(be);
    test_model("full");
    test_model("sbm");
    return tu_finish();
}
