#include "experiments/config.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define K(name, type, lo, hi, help) {#name, type, offsetof(sb_run_config, name), lo, hi, help, NULL}
#define E(name, choices, help) {#name, SB_KEY_ENUM, offsetof(sb_run_config, name), 0, 0, help, choices}

const sb_config_key sb_config_keys[] = {
    K(seq_len, SB_KEY_INT, 2, 65536, "sequence length (synthetic: N, values drawn from 1..N)"),
    K(data_seed, SB_KEY_INT64, 0, 9e15, "seed of generated dev/test data (shared by all runs)"),
    {"data_file", SB_KEY_STRING, offsetof(sb_run_config, data_file), 0, sizeof(((sb_run_config *)0)->data_file),
     "file-backed tasks: HDF5 dataset (sbmbench prep/gen), relative to the current directory; \"\" = data/lra/TASK.h5", NULL},
    K(pixel_shift, SB_KEY_BOOL, 0, 1, "image/pathfinder: token = pixel + 1, so black pixels are real tokens (the reference masks pixel 0 as padding)"),
    K(n_layers, SB_KEY_INT, 1, 64, "Transformer layers"),
    K(n_heads, SB_KEY_INT, 1, 64, "attention heads"),
    K(d_model, SB_KEY_INT, 1, 8192, "embedding / residual width"),
    K(d_head, SB_KEY_INT, 1, 1024, "width of each head"),
    K(d_ffn, SB_KEY_INT, 1, 65536, "FFN hidden width (also the classifier head's hidden width)"),
    K(max_len, SB_KEY_INT, 0, 65536, "position-table rows; 0 = seq_len rounded up to a power of 2"),
    K(dropout, SB_KEY_DOUBLE, 0, 0.99, "hidden dropout"),
    K(attn_dropout, SB_KEY_DOUBLE, 0, 0.99, "dropout on attention probabilities"),
    K(ln_eps, SB_KEY_DOUBLE, 1e-12, 1, "LayerNorm epsilon"),
    K(steps, SB_KEY_INT, 1, 100000000, "optimiser steps"),
    K(batch_size, SB_KEY_INT, 1, 1000000, "examples per optimiser step"),
    K(micro_batch, SB_KEY_INT, 0, 1000000, "examples per forward/backward (gradient accumulation; data and draws are keyed by micro-batch); 0 = batch_size"),
    K(warmup_steps, SB_KEY_INT, 0, 100000000, "one-cycle warmup steps (pct_start = warmup/steps)"),
    K(lr, SB_KEY_DOUBLE, 0, 10, "peak learning rate"),
    K(weight_decay, SB_KEY_DOUBLE, 0, 10, "AdamW decoupled weight decay"),
    K(adam_beta1, SB_KEY_DOUBLE, 0, 0.999999, "AdamW beta1 when cycle_momentum is false"),
    K(adam_beta2, SB_KEY_DOUBLE, 0, 0.999999, "AdamW beta2"),
    K(adam_eps, SB_KEY_DOUBLE, 0, 1, "AdamW epsilon"),
    K(cycle_momentum, SB_KEY_BOOL, 0, 1, "cycle beta1 between beta1_max and beta1_min (torch OneCycleLR default, as the reference)"),
    K(beta1_max, SB_KEY_DOUBLE, 0, 0.999999, "beta1 at the start and end of the cycle"),
    K(beta1_min, SB_KEY_DOUBLE, 0, 0.999999, "beta1 at the end of warmup"),
    K(div_factor, SB_KEY_DOUBLE, 1, 1e12, "initial lr = lr / div_factor"),
    K(final_div_factor, SB_KEY_DOUBLE, 1, 1e12, "final lr = initial lr / final_div_factor"),
    K(sbm_k, SB_KEY_INT, 1, 4096, "SBM: clusters per head"),
    K(sbm_delta, SB_KEY_DOUBLE, 0, 1, "SBM: exploration rate added to every real pair's edge rate (training)"),
    K(sbm_delta_at_eval, SB_KEY_BOOL, 0, 1, "SBM: add sbm_delta at evaluation too (the public code does)"),
    E(sbm_sampler, "fastrg|bernoulli", "SBM: fastrg = O(edges) Poisson sampler; bernoulli = the public code's dense O(n^2) sampler"),
    K(sbm_self_loops, SB_KEY_BOOL, 0, 1, "SBM: every real query attends to itself (paper's +I option)"),
    E(sbm_reg, "sampled|expected", "SBM: density regulariser through the sampled edges (reference) or the expected density"),
    K(sbm_lambda, SB_KEY_DOUBLE, 0, 1e6, "SBM: density regulariser weight (LRA default 0, the paper's Table 1; the released run_tasks.sh uses 1e-4)"),
    K(sbm_ste, SB_KEY_BOOL, 0, 1, "SBM: straight-through gradients to the edge probabilities (false: memberships and clusters get no gradient, an ablation)"),
    K(sbm_ste_clip, SB_KEY_DOUBLE, 0, 1e30, "SBM: clip of dL/dp in the straight-through estimator (0 = none); default 2^-16 = the reference's +-1 in units of its initial AMP loss scale"),
    K(linformer_k, SB_KEY_INT, 1, 65536, "Linformer: projected length k of keys and values"),
    K(performer_features, SB_KEY_INT, 1, 65536, "Performer: random features m"),
    E(linear_form, "reference|paper", "linear attention: reference = Q'(K'^T V') with no normaliser (the LRA code); paper = divided by Q'.sum_j K'_j + 1e-6 (Katharopoulos et al.)"),
    E(performer_kernel, "reference|paper", "Performer: reference = FAVOR+ with the d^-1/4 scaling applied twice (approximates exp(q.k/d)); paper = exp(q.k/sqrt d)"),
    K(reformer_hashes, SB_KEY_INT, 1, 64, "Reformer: hash rounds"),
    K(reformer_chunk, SB_KEY_INT, 1, 65536, "Reformer: chunk length"),
    K(reformer_chunks_before, SB_KEY_INT, 0, 64, "Reformer: earlier chunks each chunk also attends to"),
    E(reformer_form, "nys|sbm", "Reformer: sbm = reformer_pytorch 1.4.4 as the SBM paper's code runs it (N / reformer_chunk buckets, seq_len a multiple of 2 x reformer_chunk, its own to_out projection); nys = HF transformers 3.3.1 as the Nystromformer LRA code runs it"),
    K(nystrom_landmarks, SB_KEY_INT, 1, 65536, "Nystromformer: landmarks (segment means; seq_len must be a multiple)"),
    K(nystrom_conv, SB_KEY_INT, 0, 1025, "Nystromformer: taps of the depthwise skip convolution on V (odd; 0 = none)"),
    K(eval_every, SB_KEY_INT, 1, 100000000, "steps between dev evaluations (and best-checkpoint updates)"),
    K(eval_batches, SB_KEY_INT, 1, 100000000, "dev batches of micro_batch examples per evaluation (reads wrap around the dev split)"),
    K(test_batches, SB_KEY_INT, 1, 100000000, "test batches of micro_batch examples for generated tasks"),
    K(checkpoint_every, SB_KEY_INT, 1, 100000000, "steps between resumable checkpoints"),
};
const int sb_config_num_keys = (int)(sizeof sb_config_keys / sizeof sb_config_keys[0]);

void sb_config_init(sb_run_config *c) {
    memset(c, 0, sizeof *c);
    c->seed = 1;
    c->data_seed = 20221128; /* any fixed value; shared by all runs */
    /* the LRA reference model (lra_config.py) */
    c->seq_len = 1024;
    c->n_layers = 2;
    c->n_heads = 2;
    c->d_model = 64;
    c->d_head = 32;
    c->d_ffn = 128;
    c->max_len = 0;
    c->dropout = 0.1;
    c->attn_dropout = 0.1;
    c->ln_eps = 1e-5;
    /* run_tasks.py: AdamW(eps=1e-6, wd=0) under OneCycleLR defaults */
    c->steps = 1000;
    c->batch_size = 32;
    c->micro_batch = 0;
    c->warmup_steps = 100;
    c->lr = 1e-4;
    c->weight_decay = 0.0;
    c->adam_beta1 = 0.9;
    c->adam_beta2 = 0.999;
    c->adam_eps = 1e-6;
    c->cycle_momentum = 1;
    c->beta1_max = 0.95;
    c->beta1_min = 0.85;
    c->div_factor = 25.0;
    c->final_div_factor = 1e4;
    c->sbm_k = 128;
    c->sbm_delta = 0.01;
    c->sbm_delta_at_eval = 0;
    c->sbm_sampler = 0;
    c->sbm_self_loops = 0;
    c->sbm_reg = 0;
    c->sbm_lambda = 0.0;
    c->sbm_ste = 1;
    c->sbm_ste_clip = 1.0 / 65536.0;
    /* baselines as the SBM paper ran them (run_baselines.sh, lra_config.py) */
    c->linformer_k = 256;
    c->performer_features = 256;
    c->performer_kernel = 0;
    c->linear_form = 0;
    c->reformer_hashes = 2;
    c->reformer_chunk = 64;
    c->reformer_chunks_before = 1;
    c->reformer_form = 1; /* "sbm" */
    c->nystrom_landmarks = 256;
    c->nystrom_conv = 35;
    c->eval_every = 100;
    c->eval_batches = 4;
    c->test_batches = 16;
    c->checkpoint_every = 100;
}

const sb_config_key *sb_config_find_key(const char *name) {
    for (int i = 0; i < sb_config_num_keys; i++)
        if (strcmp(sb_config_keys[i].name, name) == 0) return &sb_config_keys[i];
    return NULL;
}

static const char *type_name(sb_key_type t) {
    switch (t) {
    case SB_KEY_INT: case SB_KEY_INT64: return "an integer";
    case SB_KEY_DOUBLE: return "a number";
    case SB_KEY_BOOL: return "true or false";
    case SB_KEY_ENUM: case SB_KEY_STRING: return "a string";
    }
    return "?";
}

/* Index of name among the '|'-separated choices, or -1. */
static int enum_index(const char *choices, const char *name) {
    size_t len = strlen(name);
    int i = 0;
    for (const char *p = choices; *p; i++) {
        const char *end = strchr(p, '|');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, name, n) == 0) return i;
        if (!end) break;
        p = end + 1;
    }
    return -1;
}

const char *sb_config_enum_name(const sb_config_key *k, int value, char *buf, size_t len) {
    const char *p = k->choices;
    for (int i = 0; i < value && p; i++) {
        p = strchr(p, '|');
        if (p) p++;
    }
    if (!p) return "?";
    const char *end = strchr(p, '|');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    snprintf(buf, len, "%.*s", (int)n, p);
    return buf;
}

int sb_config_set(sb_run_config *c, const sb_config_key *k, const cJSON *v, char *err, size_t errlen) {
    char *field = (char *)c + k->offset;
    if (k->type == SB_KEY_ENUM) {
        int idx = cJSON_IsString(v) ? enum_index(k->choices, v->valuestring) : -1;
        if (idx < 0) {
            snprintf(err, errlen, "expected one of \"%s\"", k->choices);
            return -1;
        }
        *(int *)field = idx;
        return 0;
    }
    if (k->type == SB_KEY_STRING) {
        if (!cJSON_IsString(v)) {
            snprintf(err, errlen, "expected %s", type_name(k->type));
            return -1;
        }
        if (strlen(v->valuestring) >= (size_t)k->max) {
            snprintf(err, errlen, "longer than %d characters", (int)k->max - 1);
            return -1;
        }
        snprintf(field, (size_t)k->max, "%s", v->valuestring);
        return 0;
    }
    if (k->type == SB_KEY_BOOL) {
        if (!cJSON_IsBool(v)) {
            snprintf(err, errlen, "expected %s", type_name(k->type));
            return -1;
        }
        *(int *)field = cJSON_IsTrue(v);
        return 0;
    }
    if (!cJSON_IsNumber(v)) {
        snprintf(err, errlen, "expected %s", type_name(k->type));
        return -1;
    }
    double x = v->valuedouble;
    if (!isfinite(x) || ((k->type == SB_KEY_INT || k->type == SB_KEY_INT64) && x != floor(x))) {
        snprintf(err, errlen, "expected %s, got %g", type_name(k->type), x);
        return -1;
    }
    if (x < k->min || x > k->max) {
        snprintf(err, errlen, "%g is out of range [%g, %g]", x, k->min, k->max);
        return -1;
    }
    switch (k->type) {
    case SB_KEY_INT: *(int *)field = (int)x; break;
    case SB_KEY_INT64: *(int64_t *)field = (int64_t)x; break;
    default: *(double *)field = x; break;
    }
    return 0;
}

void sb_config_resolve(sb_run_config *c) {
    if (c->micro_batch == 0) c->micro_batch = c->batch_size;
    if (c->max_len == 0) {
        c->max_len = 1;
        while (c->max_len < c->seq_len) c->max_len *= 2;
    }
}

int sb_config_validate(const sb_run_config *c, char *err, size_t errlen) {
    int micro = c->micro_batch ? c->micro_batch : c->batch_size;
    if (c->batch_size % micro != 0) {
        snprintf(err, errlen, "batch_size %d is not a multiple of micro_batch %d", c->batch_size, micro);
        return -1;
    }
    if (c->warmup_steps >= c->steps) {
        snprintf(err, errlen, "warmup_steps %d must be below steps %d (each task's defaults set both: a manifest "
                 "that lowers steps may need to set warmup_steps too)", c->warmup_steps, c->steps);
        return -1;
    }
    /* training forwards are keyed 0 .. steps x accumulation - 1; keys from 2^31 up
     * belong to evaluation and the cost pass (experiments/train.c, measure.c) */
    if ((int64_t)c->steps * (c->batch_size / micro) > ((int64_t)1 << 31)) {
        snprintf(err, errlen, "steps %d x %d micro-batches a step are more than 2^31 forwards, past the random keys of training",
                 c->steps, c->batch_size / micro);
        return -1;
    }
    if (c->max_len && c->max_len < c->seq_len) {
        snprintf(err, errlen, "max_len %d is below seq_len %d", c->max_len, c->seq_len);
        return -1;
    }
    const sb_attention_ops *attn = sb_attention_find(c->model);
    if (attn && attn->validate) {
        sb_attn_config a = sb_config_attn(c);
        if (attn->validate(&a, c->seq_len, err, errlen)) return -1;
    }
    if (c->beta1_min > c->beta1_max) {
        snprintf(err, errlen, "beta1_min %g exceeds beta1_max %g", c->beta1_min, c->beta1_max);
        return -1;
    }
    return 0;
}

cJSON *sb_config_to_json(const sb_run_config *c) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "task", c->task);
    cJSON_AddStringToObject(o, "model", c->model);
    cJSON_AddNumberToObject(o, "seed", (double)c->seed);
    for (int i = 0; i < sb_config_num_keys; i++) {
        const sb_config_key *k = &sb_config_keys[i];
        const char *field = (const char *)c + k->offset;
        switch (k->type) {
        case SB_KEY_INT: cJSON_AddNumberToObject(o, k->name, *(const int *)field); break;
        case SB_KEY_INT64: cJSON_AddNumberToObject(o, k->name, (double)*(const int64_t *)field); break;
        case SB_KEY_DOUBLE: cJSON_AddNumberToObject(o, k->name, *(const double *)field); break;
        case SB_KEY_BOOL: cJSON_AddBoolToObject(o, k->name, *(const int *)field); break;
        case SB_KEY_STRING: cJSON_AddStringToObject(o, k->name, field); break;
        case SB_KEY_ENUM: {
            char buf[64];
            cJSON_AddStringToObject(o, k->name, sb_config_enum_name(k, *(const int *)field, buf, sizeof buf));
            break;
        }
        }
    }
    return o;
}

int sb_config_json_matches(const cJSON *stored, const sb_run_config *c, char *key, size_t keylen) {
    cJSON *want = sb_config_to_json(c);
    sb_run_config d;
    sb_config_init(&d);
    cJSON *defaults = sb_config_to_json(&d);
    int same = 1;
    const cJSON *w;
    cJSON_ArrayForEach(w, want) {
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(stored, w->string);
        /* a key this version added matches when it keeps its default */
        if (!h) h = cJSON_GetObjectItemCaseSensitive(defaults, w->string);
        if (!h || !cJSON_Compare(h, w, 1)) {
            same = 0;
            snprintf(key, keylen, "%s", w->string);
            break;
        }
    }
    const cJSON *h;
    cJSON_ArrayForEach(h, stored) {
        if (same && !cJSON_GetObjectItemCaseSensitive(want, h->string)) {
            same = 0;
            snprintf(key, keylen, "%s", h->string);
        }
    }
    cJSON_Delete(want);
    cJSON_Delete(defaults);
    return same;
}

int sb_config_from_json(const cJSON *stored, const char *name, sb_run_config *c, char *err, size_t errlen) {
    sb_config_init(c);
    if (!cJSON_IsObject(stored)) {
        snprintf(err, errlen, "%s: expected a JSON object", name);
        return -1;
    }
    const cJSON *it;
    char msg[256];
    cJSON_ArrayForEach(it, stored) {
        if (!strcmp(it->string, "task") || !strcmp(it->string, "model")) {
            char *field = !strcmp(it->string, "task") ? c->task : c->model;
            if (!cJSON_IsString(it) || strlen(it->valuestring) >= sizeof c->task) {
                snprintf(err, errlen, "%s: key '%s': expected a name", name, it->string);
                return -1;
            }
            snprintf(field, sizeof c->task, "%s", it->valuestring);
            continue;
        }
        if (!strcmp(it->string, "seed")) {
            /* the manifest's bound on seeds; past int64 the cast would be undefined */
            if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) || it->valuedouble < 0 ||
                it->valuedouble > 9e15) {
                snprintf(err, errlen, "%s: key 'seed': expected an integer from 0 to 9e15", name);
                return -1;
            }
            c->seed = (int64_t)it->valuedouble;
            continue;
        }
        const sb_config_key *k = sb_config_find_key(it->string);
        if (!k) {
            snprintf(err, errlen, "%s: unknown key '%s'", name, it->string);
            return -1;
        }
        if (sb_config_set(c, k, it, msg, sizeof msg)) {
            snprintf(err, errlen, "%s: key '%s': %s", name, it->string, msg);
            return -1;
        }
    }
    sb_config_resolve(c); /* as the manifest does */
    if (!sb_attention_find(c->model) || !c->task[0]) {
        snprintf(err, errlen, "%s: key '%s': missing or unknown", name, !c->task[0] ? "task" : "model");
        return -1;
    }
    if (sb_config_validate(c, msg, sizeof msg)) {
        snprintf(err, errlen, "%s: %s", name, msg);
        return -1;
    }
    return 0;
}

void sb_config_print_keys(void) {
    sb_run_config d;
    sb_config_init(&d);
    for (int i = 0; i < sb_config_num_keys; i++) {
        const sb_config_key *k = &sb_config_keys[i];
        const char *field = (const char *)&d + k->offset;
        char def[64];
        switch (k->type) {
        case SB_KEY_STRING: snprintf(def, sizeof def, "\"%.60s\"", field); break;
        case SB_KEY_INT: snprintf(def, sizeof def, "%d", *(const int *)field); break;
        case SB_KEY_INT64: snprintf(def, sizeof def, "%lld", (long long)*(const int64_t *)field); break;
        case SB_KEY_DOUBLE: snprintf(def, sizeof def, "%g", *(const double *)field); break;
        case SB_KEY_BOOL: snprintf(def, sizeof def, "%s", *(const int *)field ? "true" : "false"); break;
        case SB_KEY_ENUM: sb_config_enum_name(k, *(const int *)field, def, sizeof def); break;
        }
        const char *type = k->type == SB_KEY_BOOL     ? "bool"
                           : k->type == SB_KEY_DOUBLE ? "number"
                           : k->type == SB_KEY_ENUM   ? k->choices
                           : k->type == SB_KEY_STRING ? "string"
                                                      : "integer";
        printf("  %-18s %-17s %s (default %s)\n", k->name, type, k->help, def);
    }
}

sb_attn_config sb_config_attn(const sb_run_config *c) {
    sb_attn_config a = {
        .n_heads = c->n_heads, .d_head = c->d_head, .max_len = c->max_len,
        .attn_dropout = (float)c->attn_dropout, .sbm_k = c->sbm_k, .sbm_delta = (float)c->sbm_delta,
        .sbm_delta_at_eval = c->sbm_delta_at_eval, .sbm_sampler = c->sbm_sampler,
        .sbm_self_loops = c->sbm_self_loops, .sbm_reg_kind = c->sbm_reg, .sbm_ste = c->sbm_ste,
        .sbm_ste_clip = (float)c->sbm_ste_clip, .linformer_k = c->linformer_k,
        .performer_features = c->performer_features, .performer_kernel = c->performer_kernel,
        .linear_form = c->linear_form,
        .reformer_hashes = c->reformer_hashes, .reformer_chunk = c->reformer_chunk,
        .reformer_chunks_before = c->reformer_chunks_before, .reformer_form = c->reformer_form,
        .nystrom_landmarks = c->nystrom_landmarks,
        .nystrom_conv = c->nystrom_conv,
    };
    return a;
}
