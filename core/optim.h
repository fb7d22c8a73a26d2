/* AdamW and the LRA reference's learning-rate schedule.
 *
 * The reference wraps AdamW in torch's OneCycleLR(max_lr=lr,
 * pct_start=warmup/steps, anneal_strategy='linear') with its defaults:
 * the rate rises linearly from lr/div_factor (25) to lr over the warmup, then
 * falls linearly to lr/div_factor/final_div_factor (1e4) at the last step;
 * with cycle_momentum (the default) beta1 moves 0.95 -> 0.85 during warmup and
 * back to 0.95 after, overriding AdamW's 0.9. */
#ifndef SB_OPTIM_H
#define SB_OPTIM_H

typedef struct {
    double max_lr;
    int total_steps, warmup_steps;
    double div_factor, final_div_factor;
    int cycle_momentum;          /* 0: beta1 fixed at beta1_fixed */
    double beta1_max, beta1_min; /* cycle bounds (0.95, 0.85) */
    double beta1_fixed;          /* AdamW's beta1 when not cycling (0.9) */
} sb_one_cycle;

/* lr and beta1 for 0-based optimiser step `step` (torch's scheduler state
 * after `step` calls of scheduler.step()). */
void sb_one_cycle_at(const sb_one_cycle *s, int step, double *lr, double *beta1);

#endif
