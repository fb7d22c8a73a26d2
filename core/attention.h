/* The attention interface: every variant (full softmax, SBM, the efficient
 * baselines) is a table of these functions, chosen by name at run time.
 *
 * A variant owns per-layer parameters (a contiguous slice of the model's one
 * parameter block, laid out by the variant) and a per-layer state holding what
 * backward needs. forward takes Q, K, V [B,H,N,D] and a key mask [B,N];
 * backward accumulates into dQ, dK, dV and the parameter gradients. FLOPs and
 * bytes are counted by the backend ops the variant calls. */
#ifndef SB_ATTENTION_H
#define SB_ATTENTION_H

#include <stddef.h>
#include "core/backend.h"

/* How the SBM density regulariser reaches the edge probabilities. */
typedef enum {
    SB_SBM_REG_SAMPLED = 0,  /* reference: through the sampled edges, via the STE */
    SB_SBM_REG_EXPECTED = 1, /* expected density sum p_ij / n², exact gradient, O(n k) */
} sb_sbm_reg_kind;

/* Settings every variant may read; each variant documents the ones it uses. */
typedef struct {
    int n_heads, d_head;
    int max_len;        /* longest sequence the layer will see */
    float attn_dropout; /* applied to attention probabilities in training */
    /* SBM (core/sbm_attention.c) */
    int sbm_k;               /* clusters per head */
    float sbm_delta;         /* exploration: added to every real pair's edge rate */
    int sbm_delta_at_eval;   /* also add delta outside training (the public code does) */
    int sbm_sampler;         /* SB_SAMPLER_FASTRG or SB_SAMPLER_BERNOULLI */
    int sbm_self_loops;      /* add (i,i) for every real query */
    int sbm_reg_kind;        /* sb_sbm_reg_kind */
    int sbm_ste;             /* 0: no gradient reaches the edge probabilities (ablation) */
    float sbm_ste_clip;      /* |dL/dp_ij| clip in the straight-through estimator; 0 = none */
    /* efficient baselines (one file each in baselines/, which documents its settings) */
    int linformer_k;         /* Linformer: projected length */
    int performer_features;  /* Performer: random features m */
    int performer_kernel;    /* Performer: 0 = reference (FAVOR+ scaled twice), 1 = paper's exp(q.k/sqrt d) */
    int linear_form;         /* linear: 0 = reference (no normaliser), 1 = paper's (divided by Q'.sum K' + 1e-6) */
    int reformer_hashes;     /* Reformer: hash rounds */
    int reformer_chunk;      /* Reformer: chunk length */
    int reformer_chunks_before; /* Reformer: earlier chunks each chunk attends to */
    int reformer_form;       /* Reformer: 0 = "nys" (HF v3.3.1, the LRA code's), 1 = "sbm" (reformer_pytorch
                                1.4.4 with its own to_out projection, the SBM code's); baselines/reformer.c */
    int nystrom_landmarks;   /* Nystromformer: landmarks m (seq length must be a multiple; m = N: exact softmax) */
    int nystrom_conv;        /* Nystromformer: taps of the depthwise skip convolution; 0 = none */
} sb_attn_config;

/* One call's inputs and outputs. */
typedef struct {
    int B, H, N, D;
    const float *q, *k, *v;  /* [B,H,N,D] */
    const float *key_mask;   /* [B,N], 1 = real token, 0 = pad; NULL: all real */
    float *out;              /* [B,H,N,D], written by forward */
    int training;            /* dropout and training-only behaviour on */
    sb_rng_stream rng;       /* this (step, layer)'s attention-dropout stream */
    sb_rng_stream rng_attn;  /* this (step, layer)'s stream for variant-internal draws */
    const sb_csr *fixed_graph; /* SBM: use this graph instead of sampling (tests, `op`); NULL */
    /* the variant's per-call random draws (Reformer's rotations), laid out as
     * ops->draws_layout says, instead of drawing them from rng_attn (tests,
     * `op`); NULL: draw */
    const float *fixed_draws;
} sb_attn_call;

typedef struct {
    float *dq, *dk, *dv;     /* [B,H,N,D], accumulated */
    const float *dout;       /* [B,H,N,D] */
    /* d loss / d (this layer's density averaged over its heads); the SBM
     * regulariser's weight (lambda / (layers * accumulation steps)); 0 = none */
    float density_weight;
} sb_attn_grads;

/* One named parameter tensor of a variant's per-layer block, for `sbmbench op`. */
typedef struct {
    const char *name;
    int rank;
    int dims[4];
    size_t offset; /* floats from the start of the layer's block */
    int frozen;    /* a fixed random draw kept with the parameters (Performer's
                      omega): never gets a gradient */
} sb_param_desc;

typedef struct sb_attention_ops {
    const char *name;
    /* 1: one parameter block serves every layer (Linformer's E, as the
     * reference stores it as a class attribute); the model passes the same
     * params/dparams pointer to each layer and backward accumulates into it */
    int params_shared_across_layers;
    /* 1: the variant's query and value projections carry no bias. The
     * reference's Reformer ties only the weights of NYS's W_q and W_v into
     * HF's bias-free query_key and value; the model holds b_q and b_v of its
     * fused projection at 0 and the optimiser skips them */
    int qv_without_bias;
    /* floats of parameters per layer (per model if shared across layers) */
    size_t (*param_count)(const sb_attn_config *cfg);
    void (*init_params)(const sb_attn_config *cfg, float *params, sb_rng_reader *rng);
    /* the layer block's tensors (at most 8), returns how many; NULL: none */
    int (*param_layout)(const sb_attn_config *cfg, sb_param_desc *out);
    /* 0 if sequences of N tokens work with cfg's settings; else -1 and a
     * message in err. Called when a manifest is expanded, so a bad setting
     * fails before anything runs. NULL: anything goes. */
    int (*validate)(const sb_attn_config *cfg, int N, char *err, size_t errlen);
    /* tensors of random numbers a call draws (at most 8) for sequences of N
     * tokens, which `op` reads from IN.h5 /params/<name>; NULL: none */
    int (*draws_layout)(const sb_attn_config *cfg, int N, sb_param_desc *out);
    /* state for calls of at most B examples of at most N tokens */
    void *(*state_create)(sb_backend *be, const sb_attn_config *cfg, int B, int N, int training);
    void (*state_destroy)(sb_backend *be, void *state);
    void (*forward)(sb_backend *be, void *state, const sb_attn_config *cfg, const float *params,
                    const sb_attn_call *call);
    /* uses the state left by the last forward with the same call */
    void (*backward)(sb_backend *be, void *state, const sb_attn_config *cfg, const float *params,
                     float *dparams, const sb_attn_call *call, const sb_attn_grads *g);
    /* density of the last forward per (example, head), [B,H]: attended pairs
     * over N*N (the reference's measure, padded positions in the grid);
     * NULL for variants without a notion of density */
    void (*density)(void *state, float *per_example_head);
    /* in-degree of each key in the last forward's graph, [B,H,N]: how many
     * queries attend to key j (the density maps of the paper's Figures 7/8);
     * NULL for variants without a sampled graph */
    void (*key_indegree)(void *state, float *per_example_head_key);
} sb_attention_ops;

/* param_count / init_params for variants without parameters. */
size_t sb_attention_no_params(const sb_attn_config *cfg);
void sb_attention_no_init(const sb_attn_config *cfg, float *params, sb_rng_reader *rng);

/* Lookup by manifest name ("full", ...); NULL if unknown. */
const sb_attention_ops *sb_attention_find(const char *name);
/* Comma-separated list of the known names, for error messages and --help. */
const char *sb_attention_names(void);

#endif
