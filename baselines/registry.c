/* Name -> attention variant. A new variant adds its extern and its entry here. */
#include <string.h>
#include "experiments/util.h"
#include "core/attention.h"

extern const sb_attention_ops sb_attention_full;
extern const sb_attention_ops sb_attention_sbm;
extern const sb_attention_ops sb_attention_linear;
extern const sb_attention_ops sb_attention_linformer;
extern const sb_attention_ops sb_attention_performer;
extern const sb_attention_ops sb_attention_reformer;
extern const sb_attention_ops sb_attention_nystrom;

static const sb_attention_ops *const variants[] = {
    &sb_attention_full,
    &sb_attention_sbm,
    &sb_attention_linear,
    &sb_attention_linformer,
    &sb_attention_performer,
    &sb_attention_reformer,
    &sb_attention_nystrom,
};

size_t sb_attention_no_params(const sb_attn_config *cfg) {
    (void)cfg;
    return 0;
}

void sb_attention_no_init(const sb_attn_config *cfg, float *params, sb_rng_reader *rng) {
    (void)cfg, (void)params, (void)rng;
}

const sb_attention_ops *sb_attention_find(const char *name) {
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        if (strcmp(variants[i]->name, name) == 0) return variants[i];
    return NULL;
}

/* The names above, comma-separated (built once, from the table). */
const char *sb_attention_names(void) {
    static char names[256];
    if (!names[0])
        for (size_t i = 0, at = 0; i < sizeof variants / sizeof variants[0]; i++)
            at = sb_appendf(names, sizeof names, at, "%s%s", i ? ", " : "", variants[i]->name);
    return names;
}
