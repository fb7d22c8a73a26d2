/* Pathfinder (Linsley et al. 2018; drewlinsley/pathfinder @ab9c130
 * snakes2.py + snakes.py, with LRA's Pathfinder32 parameters): two "snakes"
 * of short paddles grown side by side from seeds seed_distance apart,
 * distractor snakes around them, and two round markers: on the origin tip of
 * one target snake and on the terminal tip of the same snake (label 1,
 * connected) or of the other one (label 0).
 *
 * Followed step by step: paddles are drawn at antialias_scale x resolution,
 * Lanczos-downsampled to 8 bits and scaled by their contrast (targets
 * paddle_contrast x snake_contrast, distractors snake_contrast); occupancy
 * masks are the paddles dilated by a disk of radius margin; a snake grows by
 * sampling its next head on a circle around a pivot ahead of the last paddle,
 * weighted by (1 - dilated occupancy) x max(cos(min(|turn| x continuity,
 * pi/2)), 0)^2, and a paddle is accepted only if occupancy + its mask stays
 * below 1.8; a failed target snake restarts both. A seed's free pixels come
 * from the occupancy dilated by the paddle's head-centred mask with OpenCV's
 * border rule (a pixel with no kernel tap inside the image gets -DBL_MAX, and
 * then no pixel is free): only seeds pointing -150 to -121 degrees succeed,
 * so every first target paddle points that way and most distractor seeds
 * fail, as in the reference's data. The image is min-max
 * scaled to 0..255 as scipy.misc.imsave did. Draws come from Philox keyed by
 * (seed, image index), not numpy's generator, and single-paddle distractors
 * are off (the released wrapper's use_single_paddles = False). */
#ifndef SB_PATHFINDER_H
#define SB_PATHFINDER_H

#include <stdint.h>

#define SB_PF_MAX_SIZE 64
#define SB_PF_MAX_PADDLES 64

typedef struct {
    int size;                 /* window_size (square) */
    int padding;
    int antialias_scale;
    int paddle_length;
    float paddle_thickness;
    int margin;               /* paddle_margin_list = [margin] */
    float marker_radius;
    int seed_distance;
    float continuity;
    int contour_length;       /* paddles per target snake: 6, 9 or 14 */
    int distractor_length;    /* contour_length / 3 */
    int n_distractors;        /* 20 / distractor_length */
    float snake_contrast, paddle_contrast;
    int max_paddle_retrial, max_distractor_retrial;
} sb_pf_params;

/* LRA's Pathfinder32 at a contour length (14 = the hard level NYS/SBM use). */
void sb_pf_params_lra32(sb_pf_params *p, int contour_length);

/* The generator's own bookkeeping of one image, for checks. Points are (y, x). */
typedef struct {
    int label;                /* 1: both markers on one snake */
    int origin_snake;         /* the snake whose origin tip is marked */
    int terminal_snake;       /* the snake whose terminal tip is marked */
    int n_paddles[2];
    int tail[2][2];           /* origin tip of each target snake */
    int head[2][SB_PF_MAX_PADDLES][2]; /* successive paddle heads; the last is the terminal tip */
    int marker[2][2];         /* marker centres: origin, terminal */
    int attempts;             /* two-snake stages tried */
    int distractors;          /* distractor snakes drawn */
    int seed_degrees;         /* orientation of target snake 0's first paddle, degrees */
} sb_pf_trace;

/* Image `index` of a stream seeded by seed: pixels [size*size] 0..255,
 * label and trace. 0 on success; -1 if the parameters are unsupported. */
int sb_pf_generate(const sb_pf_params *p, uint64_t seed, uint64_t index, uint8_t *pixels, sb_pf_trace *trace);

#endif
