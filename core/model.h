/* The LRA reference Transformer (Nyströmformer/SBM `model.py` +
 * `model_wrapper.py`), forward and backward written by hand:
 *
 *   x = Dropout(TokEmb[ids] + PosEmb[t])                        [B,T,D]
 *   per layer:  x += Dropout(Wo · Attn(LN1(x)))                 pre-LN
 *               x += Dropout(W2 · Dropout(GELU(W1 · LN2(x))))
 *   x = LNf(x) * mask
 *   sequence task:  logits = Head(mean_t x)                     [B,C]
 *   token task:     logits = Head(x[b,t])                       [B*T,C]
 *   pair task:      u, v = mean_t x of the two sequences (one shared encoder)
 *                   logits = Head([u, v, u*v, u-v])             [B,C]
 *   Head = Linear(D,F) -> ReLU -> Linear(F,C)
 *
 * Parameters live in one allocation (llm.c style); gradients and the AdamW
 * moments mirror its layout. Activations are sized for a fixed B and T. */
#ifndef SB_MODEL_H
#define SB_MODEL_H

#include <stdint.h>
#include "core/attention.h"
#include "core/backend.h"

typedef struct {
    int vocab_size;
    int max_len;      /* position table rows (>= seq_len) */
    int seq_len;      /* T */
    int d_model;      /* D */
    int n_layers;
    int n_heads;
    int d_head;
    int d_ffn;        /* F: FFN hidden width, also the head's hidden width (as the reference) */
    int n_classes;
    int token_level;  /* 1: per-token head (synthetic), 0: mean-pooled sequence head */
    int n_seqs;       /* 2: dual encoder (retrieval): ids/mask [2,B,T], head over [u,v,u*v,u-v]; 0 or 1: one */
    float dropout, attn_dropout, ln_eps;
    const sb_attention_ops *attn;
    sb_attn_config attn_cfg;
} sb_model_config;

enum {
    SB_P_TOK, SB_P_POS,
    SB_P_LN1G, SB_P_LN1B, SB_P_WQKV, SB_P_BQKV, SB_P_WO, SB_P_BO,
    SB_P_LN2G, SB_P_LN2B, SB_P_W1, SB_P_B1, SB_P_W2, SB_P_B2, SB_P_ATTN,
    SB_P_LNFG, SB_P_LNFB, SB_P_HW1, SB_P_HB1, SB_P_HW2, SB_P_HB2,
    SB_P_COUNT
};

typedef struct {
    float *t[SB_P_COUNT];
} sb_param_ptrs;

typedef struct sb_model sb_model;

/* Counts and sums of one forward pass. */
typedef struct {
    double loss_sum;   /* sum of per-row cross-entropies over counted rows */
    int64_t correct;   /* rows whose argmax equals the label */
    int64_t counted;   /* rows with a label (token tasks: real tokens) */
} sb_forward_result;

/* B: examples per call (a pair task encodes 2B sequences). training:
 * allocate gradients and backward state. */
sb_model *sb_model_create(sb_backend *be, const sb_model_config *cfg, int B, int training);
void sb_model_destroy(sb_model *m);

size_t sb_model_num_params(const sb_model *m);
/* The parameter block minus its frozen tensors (fixed random draws such as
 * Performer's omega, and Reformer's b_q and b_v, held at 0: the optimiser must
 * not touch them, not even by weight decay): the first max (start, len)
 * ranges in floats, in order; returns how many there are (call with max 0
 * to size the arrays). */
int sb_model_trainable_ranges(const sb_model *m, size_t *start, size_t *len, int max);
float *sb_model_params(sb_model *m);     /* [num_params] */
float *sb_model_grads(sb_model *m);      /* [num_params], NULL if not training */
const char *sb_model_param_name(int which);
size_t sb_model_param_size(const sb_model *m, int which);
sb_param_ptrs sb_model_param_ptrs(sb_model *m);
const sb_model_config *sb_model_config_of(const sb_model *m);

/* PyTorch-default initialisation from the (seed, SB_RNG_INIT) stream. */
void sb_model_init_params(sb_model *m, uint64_t seed);

/* ids [B,T], mask [B,T] (1 real), labels [B] or [B,T] (-1 = ignore); pair
 * tasks: ids/mask [2,B,T], all first sequences then all second ones.
 * training turns dropout on; (seed, step) key every random draw. */
sb_forward_result sb_model_forward(sb_model *m, const int32_t *ids, const float *mask,
                                   const int32_t *labels, int training, uint64_t seed,
                                   uint32_t step);
/* Gradient of loss_scale * (sum of per-row losses) of the last forward, ADDED
 * to the gradients. For a mean loss pass 1/counted. */
void sb_model_backward(sb_model *m, float loss_scale);
void sb_model_zero_grad(sb_model *m);
/* logits of the last forward: [B,C] or [B*T,C] */
const float *sb_model_logits(const sb_model *m);
/* per-row losses of the last forward */
const float *sb_model_row_losses(const sb_model *m);

/* Attention density of the last forward per (layer, sequence, head),
 * [n_layers, n_seqs*B, n_heads]; returns 0 (and writes nothing) if the variant has no
 * density. Inference models keep only the last layer's state: layers = 1. */
int sb_model_density(sb_model *m, float *per_layer_example_head);
/* Weight of the attention density regulariser in the loss that backward
 * differentiates: d loss / d (mean density over layers and heads). */
void sb_model_set_density_weight(sb_model *m, float weight);

#endif
