/* A small model on the synthetic task for the cost tests: the shapes are
 * spelled out so the closed forms below them can be checked by hand. */
#ifndef SB_TEST_SMALL_MODEL_H
#define SB_TEST_SMALL_MODEL_H
#include <stdio.h>
#include <string.h>
#include "core/attention.h"
#include "core/model.h"
#include "experiments/config.h"
#include "tasks/task.h"

enum { SM_T = 16, SM_L = 2, SM_H = 2, SM_DH = 4, SM_D = 8, SM_F = 16, SM_K = 8, SM_C = 2, SM_B = 4, SM_BATCHES = 2 };

/* The run configuration the synthetic task opens with (test split: SM_BATCHES
 * batches of SM_B examples). */
static inline sb_run_config sm_run_config(const char *model) {
    sb_run_config c;
    sb_config_init(&c);
    snprintf(c.task, sizeof c.task, "synthetic");
    snprintf(c.model, sizeof c.model, "%s", model);
    c.seq_len = SM_T, c.max_len = SM_T, c.micro_batch = SM_B, c.batch_size = SM_B, c.test_batches = SM_BATCHES;
    c.n_layers = SM_L, c.n_heads = SM_H, c.d_model = SM_D, c.d_head = SM_DH, c.d_ffn = SM_F, c.sbm_k = SM_K;
    c.dropout = c.attn_dropout = 0.0;
    c.sbm_self_loops = 0, c.sbm_delta = 0.0, c.sbm_delta_at_eval = 0, c.sbm_sampler = SB_SAMPLER_FASTRG;
    return c;
}

static inline sb_model_config sm_model_config(const sb_run_config *c, const sb_task *t) {
    sb_model_config mc = {
        .vocab_size = t->vocab_size, .max_len = c->max_len, .seq_len = t->seq_len, .d_model = c->d_model,
        .n_layers = c->n_layers, .n_heads = c->n_heads, .d_head = c->d_head, .d_ffn = c->d_ffn,
        .n_classes = t->n_classes, .token_level = t->token_level, .dropout = 0.0f, .attn_dropout = 0.0f,
        .ln_eps = (float)c->ln_eps, .attn = sb_attention_find(c->model), .attn_cfg = sb_config_attn(c),
    };
    return mc;
}

/* The synthetic task opened with c, and the model configuration for it. */
static inline sb_task *sm_open(sb_run_config *c, sb_model_config *mc) {
    char err[256];
    sb_task *task = sb_task_find("synthetic")->open(c, err, sizeof err);
    *mc = sm_model_config(c, task);
    return task;
}

#endif
