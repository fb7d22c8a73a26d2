/* A run's complete configuration, and the table of manifest keys that set it.
 *
 * Every key a manifest may use is one row of the table in config.c (name,
 * type, bounds, help), so parsing, validation, --help output and the
 * resolved config.json of each run all come from one place. */
#ifndef SB_CONFIG_H
#define SB_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "core/attention.h"

struct cJSON;

typedef struct sb_run_config {
    char task[32], model[32];
    int64_t seed;
    /* task */
    int seq_len;
    int64_t data_seed;
    char data_file[512];  /* file-backed tasks: the HDF5 dataset ("" = the task's default path) */
    int pixel_shift;      /* image tasks: ids = pixel + 1, so black pixels are not padding */
    /* model */
    int n_layers, n_heads, d_model, d_head, d_ffn, max_len;
    double dropout, attn_dropout, ln_eps;
    /* optimisation */
    int steps, batch_size, micro_batch, warmup_steps;
    double lr, weight_decay, adam_beta1, adam_beta2, adam_eps;
    int cycle_momentum;
    double beta1_max, beta1_min, div_factor, final_div_factor;
    /* SBM attention */
    int sbm_k, sbm_sampler, sbm_self_loops, sbm_reg, sbm_delta_at_eval, sbm_ste;
    double sbm_delta, sbm_lambda, sbm_ste_clip;
    /* efficient baselines */
    int linear_form, linformer_k, performer_features, performer_kernel, reformer_hashes, reformer_chunk,
        reformer_chunks_before, reformer_form, nystrom_landmarks, nystrom_conv;
    /* evaluation and bookkeeping */
    int eval_every, eval_batches, test_batches, checkpoint_every;
} sb_run_config;

typedef enum { SB_KEY_INT, SB_KEY_INT64, SB_KEY_DOUBLE, SB_KEY_BOOL, SB_KEY_ENUM, SB_KEY_STRING } sb_key_type;

typedef struct {
    const char *name;
    sb_key_type type;
    size_t offset;
    double min, max;     /* inclusive bounds; SB_KEY_STRING: max = buffer size */
    const char *help;
    const char *choices; /* SB_KEY_ENUM: "a|b|c", stored as the index (int) */
} sb_config_key;

/* The name of an enum key's value, e.g. ("sbm_sampler", 0) -> "fastrg". */
const char *sb_config_enum_name(const sb_config_key *k, int value, char *buf, size_t len);

extern const sb_config_key sb_config_keys[];
extern const int sb_config_num_keys;

/* Built-in defaults (the LRA reference model and optimiser), before the task's. */
void sb_config_init(sb_run_config *c);
const sb_config_key *sb_config_find_key(const char *name);
/* Set one key from a JSON scalar. 0 on success; else a message (without the
 * key path, which the caller prepends) in err. */
int sb_config_set(sb_run_config *c, const sb_config_key *k, const struct cJSON *v, char *err,
                  size_t errlen);
/* Keys whose 0 means "derive it": micro_batch 0 = batch_size, max_len 0 =
 * the next power of two >= seq_len. After all keys are set. */
void sb_config_resolve(sb_run_config *c);
/* Cross-key checks after all keys are set (e.g. batch divisible by micro-batch). */
int sb_config_validate(const sb_run_config *c, char *err, size_t errlen);
/* The resolved configuration as a JSON object (caller deletes). */
struct cJSON *sb_config_to_json(const sb_run_config *c);
/* Whether a stored config.json describes the run c (keys added since it was
 * written count as matching when c keeps their defaults); else the first
 * differing key in key. */
int sb_config_json_matches(const struct cJSON *stored, const sb_run_config *c, char *key, size_t keylen);
/* A run's stored config.json back into c: the built-in defaults, then every
 * key it holds (keys added since it was written keep their defaults, as in
 * sb_config_json_matches), then the cross-key checks. 0 on success; else a
 * message naming `name` (the file) and the key in err. */
int sb_config_from_json(const struct cJSON *stored, const char *name, sb_run_config *c, char *err, size_t errlen);
/* The attention variant's settings from a run configuration. */
sb_attn_config sb_config_attn(const sb_run_config *c);
/* Print the key table for --help. */
void sb_config_print_keys(void);

#endif
