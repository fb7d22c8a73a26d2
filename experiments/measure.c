#include "experiments/measure.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "experiments/util.h"

/* ---- reading each layer's graph without touching the model ----
 * The model keeps one attention state for all layers at inference, so the
 * per-layer density and key in-degree must be read right after each layer's
 * forward. A wrapping variant does that: it forwards to the real one, then
 * copies what the state reports into a recorder. It calls no backend op, so
 * it adds no FLOPs, and it allocates with malloc, so the tracked peak is the
 * model's alone. */
typedef struct {
    const sb_attention_ops *inner_ops;
    int L, H, T, S, calls; /* S: sequences per example (pair tasks: 2) */
    float *density;  /* [L*H] of the last example (mean over its sequences) */
    float *call_density; /* [S*H] scratch */
    float *indegree; /* [L,H,T] of the last example, NULL: not wanted */
} recorder;

typedef struct {
    void *inner;
    recorder *rec;
} wrapped_state;

static _Thread_local recorder *creating; /* the recorder for the state being created */

static void *rec_state_create(sb_backend *be, const sb_attn_config *cfg, int B, int N, int training) {
    wrapped_state *w = malloc(sizeof *w);
    w->rec = creating;
    w->inner = creating->inner_ops->state_create(be, cfg, B, N, training);
    return w;
}

static void rec_state_destroy(sb_backend *be, void *state) {
    wrapped_state *w = state;
    w->rec->inner_ops->state_destroy(be, w->inner);
    free(w);
}

static void rec_forward(sb_backend *be, void *state, const sb_attn_config *cfg, const float *params,
                        const sb_attn_call *call) {
    wrapped_state *w = state;
    recorder *r = w->rec;
    r->inner_ops->forward(be, w->inner, cfg, params, call);
    /* layers run in order, one call per sequence of the example each (a
     * pair's two sequences: two calls, core/model.c) */
    const int part = r->calls % r->S, layer = r->calls / r->S % r->L;
    r->calls++;
    if (r->inner_ops->density) {
        r->inner_ops->density(w->inner, r->call_density);
        for (int h = 0; h < r->H; h++) {
            float d = 0.0f;
            for (int q = 0; q < call->B; q++) d += r->call_density[q * r->H + h];
            const float mean = d / (float)(call->B * r->S); /* mean over the example's sequences */
            r->density[layer * r->H + h] = (part ? r->density[layer * r->H + h] : 0.0f) + mean;
        }
    }
    if (r->indegree && r->inner_ops->key_indegree) /* image tasks only: one sequence */
        r->inner_ops->key_indegree(w->inner, r->indegree + (size_t)layer * r->H * r->T);
}

/* ---- keeping the lowest- and highest-density examples ---- */
typedef struct {
    int used, example, label;
    double key; /* mean density */
    int32_t *ids;
    float *indegree, *density;
} map_slot;

/* Put the example in the slot it beats (sign +1: keep the lowest keys, -1: highest). */
static void offer(map_slot *slots, int n, int sign, double key, int example, int label, const int32_t *ids,
                  const recorder *r) {
    int worst = -1;
    for (int i = 0; i < n; i++) {
        if (!slots[i].used) {
            worst = i;
            break;
        }
        if (worst < 0 || sign * slots[i].key > sign * slots[worst].key) worst = i;
    }
    map_slot *s = &slots[worst];
    if (s->used && sign * key >= sign * s->key) return;
    const size_t LHT = (size_t)r->L * r->H * r->T;
    if (!s->ids) {
        s->ids = malloc(sizeof(int32_t) * r->T);
        s->indegree = malloc(sizeof(float) * LHT);
        s->density = malloc(sizeof(float) * (size_t)r->L * r->H);
    }
    s->used = 1, s->key = key, s->example = example, s->label = label;
    memcpy(s->ids, ids, sizeof(int32_t) * r->T);
    memcpy(s->indegree, r->indegree, sizeof(float) * LHT);
    memcpy(s->density, r->density, sizeof(float) * (size_t)r->L * r->H);
}

static int by_key(const void *a, const void *b) {
    const map_slot *x = a, *y = b;
    return (x->key > y->key) - (x->key < y->key);
}

/* The kept slots, lowest first, each example once, into out. */
static void collect_maps(map_slot *slots, int n, const recorder *r, sb_inference_cost *out) {
    qsort(slots, (size_t)n, sizeof *slots, by_key);
    const size_t LH = (size_t)r->L * r->H, LHT = LH * r->T;
    out->map_example = malloc(sizeof(int32_t) * n);
    out->map_label = malloc(sizeof(int32_t) * n);
    out->map_ids = malloc(sizeof(int32_t) * n * r->T);
    out->map_indegree = malloc(sizeof(float) * n * LHT);
    out->map_density = malloc(sizeof(float) * n * LH);
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (!slots[i].used || (k > 0 && out->map_example[k - 1] == slots[i].example)) continue;
        out->map_example[k] = slots[i].example;
        out->map_label[k] = slots[i].label;
        memcpy(out->map_ids + (size_t)k * r->T, slots[i].ids, sizeof(int32_t) * r->T);
        memcpy(out->map_indegree + k * LHT, slots[i].indegree, sizeof(float) * LHT);
        memcpy(out->map_density + k * LH, slots[i].density, sizeof(float) * LH);
        k++;
    }
    out->n_maps = k;
}

int sb_measure_image_side(const sb_task *task, const char *task_name) {
    const int T = task->seq_len;
    if (task->image_side > 0) return task->image_side * task->image_side <= T ? task->image_side : 0;
    return !strncmp(task_name, "image", 5) || !strncmp(task_name, "pathfinder", 10) ? sb_square_side(T) : 0;
}

static void mean_std(const double *x, int n, double *mean, double *std) {
    double s = 0.0, v = 0.0;
    for (int i = 0; i < n; i++) s += x[i];
    *mean = n ? s / n : NAN;
    for (int i = 0; i < n; i++) v += (x[i] - *mean) * (x[i] - *mean);
    *std = n > 1 ? sqrt(v / (n - 1)) : 0.0;
}

int sb_measure_inference(const sb_model_config *mc, sb_task *task, const char *task_name, const float *params,
                         int n_batches, int micro_batch, uint64_t seed, sb_inference_cost *out) {
    memset(out, 0, sizeof *out);
    const int T = task->seq_len, Bm = micro_batch, L = mc->n_layers, H = mc->n_heads;
    const int S = task->n_seqs > 1 ? task->n_seqs : 1; /* a pair task's batch is [S,B,T] */
    const int R = task->token_level ? T : 1;           /* label rows per example */
    int n = n_batches * Bm;
    const int64_t size = task->split_size[SB_SPLIT_TEST]; /* rows past a finite split's end are padding */
    if (size >= 0 && n > size) n = (int)size;
    if (n > SB_MEASURE_MAX_EXAMPLES) n = SB_MEASURE_MAX_EXAMPLES;
    const int has_density = mc->attn->density != NULL;
    const int map_side = sb_measure_image_side(task, task_name);
    const int want_maps = has_density && mc->attn->key_indegree && !task->token_level && S == 1 && map_side > 0;
    recorder rec = {.inner_ops = mc->attn, .L = L, .H = H, .T = T, .S = S};
    rec.density = calloc((size_t)L * H, sizeof(float));
    rec.call_density = calloc((size_t)S * H, sizeof(float));
    rec.indegree = want_maps ? calloc((size_t)L * H * T, sizeof(float)) : NULL;
    sb_attention_ops wrap = *mc->attn;
    wrap.state_create = rec_state_create;
    wrap.state_destroy = rec_state_destroy;
    wrap.forward = rec_forward;
    wrap.density = NULL, wrap.key_indegree = NULL; /* read through the recorder instead */
    sb_model_config one = *mc;
    one.attn = &wrap;

    out->n = n, out->T = T, out->L = L, out->H = H;
    out->map_side = want_maps ? map_side : 0;
    out->flops = calloc((size_t)n + 1, sizeof(double));
    out->peak_bytes = calloc((size_t)n + 1, sizeof(double));
    out->density = has_density ? calloc((size_t)n * L * H + 1, sizeof(float)) : NULL;
    map_slot low[SB_MEASURE_MAPS_EACH] = {{0}}, high[SB_MEASURE_MAPS_EACH] = {{0}};
    int32_t *ids = malloc(sizeof(int32_t) * S * Bm * T), *labels = malloc(sizeof(int32_t) * Bm * R);
    float *mask = malloc(sizeof(float) * S * Bm * T);
    int32_t *one_ids = malloc(sizeof(int32_t) * S * T); /* one example's sequences, [S,1,T] */
    float *one_mask = malloc(sizeof(float) * S * T);
    /* one thread: the SBM sampler frees and allocates per-chunk scratch in
     * dynamically scheduled loops, so on several threads how much of it is
     * live at once (the peak) varied with the thread count and from run to
     * run; on one it is exact and reproducible. The caller's count returns after. */
    const int threads_before = omp_get_max_threads();
    sb_backend *be = sb_backend_cpu_create(1);
    int x = 0;
    for (int bi = 0; x < n; bi++) {
        task->batch(task, SB_SPLIT_TEST, (uint64_t)bi, Bm, ids, mask, labels);
        for (int b = 0; b < Bm && x < n; b++, x++) {
            /* a fresh model per example: its peak is this example's alone */
            sb_mem_reset_peak(&be->mem);
            creating = &rec;
            sb_model *m = sb_model_create(be, &one, 1, 0);
            creating = NULL;
            memcpy(sb_model_params(m), params, sizeof(float) * sb_model_num_params(m));
            rec.calls = 0;
            sb_flops_reset(&be->flops);
            /* draws keyed by the example's index, apart from training steps
             * (< 2^31) and evaluation batches (0x80000000 + split * 2^28 + batch) */
            for (int q = 0; q < S; q++) {
                memcpy(one_ids + (size_t)q * T, ids + ((size_t)q * Bm + b) * T, sizeof(int32_t) * T);
                memcpy(one_mask + (size_t)q * T, mask + ((size_t)q * Bm + b) * T, sizeof(float) * T);
            }
            sb_forward_result f = sb_model_forward(m, one_ids, one_mask, labels + (size_t)b * R, 0, seed,
                                                   0xC0000000u + (uint32_t)x);
            out->flops[x] = (double)be->flops.total;
            out->peak_bytes[x] = (double)be->mem.peak_bytes;
            sb_model_destroy(m);
            if (!has_density) continue;
            memcpy(out->density + (size_t)x * L * H, rec.density, sizeof(float) * L * H);
            if (want_maps && f.counted && f.correct == f.counted) { /* the paper shows correct predictions */
                double d = 0.0;
                for (int j = 0; j < L * H; j++) d += rec.density[j] / (L * H);
                offer(low, SB_MEASURE_MAPS_EACH, +1, d, x, labels[(size_t)b * R], one_ids, &rec);
                offer(high, SB_MEASURE_MAPS_EACH, -1, d, x, labels[(size_t)b * R], one_ids, &rec);
            }
        }
    }
    sb_backend_destroy(be);
    sb_cpu_set_threads(threads_before);
    mean_std(out->flops, n, &out->flops_mean, &out->flops_std);
    double unused;
    mean_std(out->peak_bytes, n, &out->peak_mean, &unused);
    for (int i = 0; i < n; i++) out->peak_max = fmax(out->peak_max, out->peak_bytes[i]);
    if (want_maps) {
        map_slot all[2 * SB_MEASURE_MAPS_EACH];
        memcpy(all, low, sizeof low);
        memcpy(all + SB_MEASURE_MAPS_EACH, high, sizeof high);
        collect_maps(all, 2 * SB_MEASURE_MAPS_EACH, &rec, out);
        for (int i = 0; i < 2 * SB_MEASURE_MAPS_EACH; i++) free(all[i].ids), free(all[i].indegree), free(all[i].density);
    }
    free(ids), free(labels), free(mask), free(one_ids), free(one_mask);
    free(rec.density), free(rec.call_density), free(rec.indegree);
    return 0;
}

void sb_inference_cost_free(sb_inference_cost *c) {
    free(c->flops), free(c->peak_bytes), free(c->density);
    free(c->map_example), free(c->map_label), free(c->map_ids), free(c->map_indegree), free(c->map_density);
    memset(c, 0, sizeof *c);
}

/* f[key] = x, in place when f has the key (its position kept), else appended. */
static void set_number(cJSON *f, const char *key, double x) {
    if (cJSON_GetObjectItemCaseSensitive(f, key)) cJSON_ReplaceItemInObjectCaseSensitive(f, key, cJSON_CreateNumber(x));
    else cJSON_AddNumberToObject(f, key, x);
}

void sb_cost_to_json(cJSON *f, const sb_inference_cost *c) {
    set_number(f, "flops_per_example", c->flops_mean);
    set_number(f, "flops_per_example_std", c->flops_std);
    set_number(f, "peak_memory_bytes", c->peak_mean);
    set_number(f, "peak_memory_bytes_max", c->peak_max);
    set_number(f, "cost_examples", c->n);
    set_number(f, "cost_method", SB_COST_METHOD);
}
