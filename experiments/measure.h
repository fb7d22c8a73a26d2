/* Inference cost of a trained model, measured example by example over the
 * test set: FLOPs, the allocator's peak of live bytes, and (for variants with
 * a sampled graph on image-like tasks) density maps of a few examples.
 *
 * Why example by example rather than per batch with attribution: SBM's cost
 * depends on each input's sampled graph, and running one example alone on a
 * fresh model makes both numbers exact by construction (the FLOP counter sums
 * what the ops did; the peak is that example's own high-water mark) with no
 * attribution rule to keep in step with the ops. The price is one extra
 * inference pass at batch 1, capped at SB_MEASURE_MAX_EXAMPLES examples. */
#ifndef SB_MEASURE_H
#define SB_MEASURE_H
#include <stddef.h>
#include <stdint.h>
#include "core/model.h"
#include "tasks/task.h"

/* The cost pass's version, recorded as final.json's cost_method: 2 = one
 * example at a time on one thread, the sampler's scratch counted (since
 * 2026-11-30); 3 = the same, with full attention's inference holding one
 * block of scores per thread instead of the [B,H,N,N] probabilities only
 * backward needs, and an SBM graph without the transpose's key pointers
 * (session 11: full attention's peak fell, so every ratio to it rose; SBM's
 * fell by 8 bytes a query); 4 = the same, with SBM's inference holding no
 * per-edge probabilities either (session 12: each row is scored, normalised
 * and applied in one visit; SBM's peak fell by up to 4 bytes an edge, where
 * the attention rather than the sampling set it); 5 = the same, with SBM's
 * last graph freed when the next call starts rather than held beside its
 * memberships (session 12; the reduced LRA's SBM 1.19-1.21x -> 1.17x full
 * attention's memory); 6 = the same, with SBM's graph allocated exactly,
 * without the eighth of headroom a graph reused across calls had (session
 * 12; the synthetic task's SBM 2.20x -> 2.16x). Runs without the key were
 * measured by an older pass, whose peak memory depended on the thread count.
 * `sbmbench remeasure` re-measures such runs. */
#define SB_COST_METHOD 6

/* At most this many test examples are measured (the first ones, in batch
 * order), so the pass stays small next to training on long LRA tasks. */
#define SB_MEASURE_MAX_EXAMPLES 2048
/* Density maps kept: this many lowest- and this many highest-density
 * correctly predicted examples. */
#define SB_MEASURE_MAPS_EACH 4

typedef struct sb_inference_cost {
    int n;                    /* examples measured */
    double *flops;            /* [n] FLOPs of inference on example i alone */
    double *peak_bytes;       /* [n] allocator peak of live bytes for example i:
                                 parameters + activations + attention state + scratch */
    float *density;           /* [n, L*H] the examples' densities; NULL: the variant has none */
    double flops_mean, flops_std, peak_mean, peak_max;
    /* density maps (image-like tasks and variants with a key in-degree only) */
    int n_maps, T, L, H;
    int map_side;             /* the image's side: positions 0..map_side^2-1 of the T are its
                                 pixels, row-major, the rest padding; 0: unknown (no maps) */
    int32_t *map_example;     /* [n_maps] index in the test set (batch order) */
    int32_t *map_label;       /* [n_maps] */
    int32_t *map_ids;         /* [n_maps, T] the input tokens (pixels) */
    float *map_indegree;      /* [n_maps, L, H, T] queries attending to each key */
    float *map_density;       /* [n_maps, L*H] */
} sb_inference_cost;

/* The side of a task's square input images, for density maps; 0 when its
 * inputs are not images or the images do not fit in seq_len. The data file's
 * image_side when it has one; for older image and pathfinder files without
 * it, the side of a square seq_len (right only when the images fill it). */
int sb_measure_image_side(const sb_task *task, const char *task_name);

/* Measure inference on the first test examples: n_batches batches of
 * micro_batch examples (as evaluation fetches them; not past the end of a
 * finite split), each example (a pair task's: both its sequences) run alone
 * with the given parameters. 0 on success. */
int sb_measure_inference(const sb_model_config *mc, sb_task *task, const char *task_name, const float *params,
                         int n_batches, int micro_batch, uint64_t seed, sb_inference_cost *out);
void sb_inference_cost_free(sb_inference_cost *c);

/* The cost fields of a run's final.json, replaced or added in f:
 * flops_per_example (mean), flops_per_example_std, peak_memory_bytes (mean,
 * Table 3), peak_memory_bytes_max, cost_examples and cost_method. */
struct cJSON;
void sb_cost_to_json(struct cJSON *f, const sb_inference_cost *c);

#endif
