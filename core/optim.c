#include "core/optim.h"

static double lerp(double a, double b, double pct) { return (b - a) * pct + a; }

void sb_one_cycle_at(const sb_one_cycle *s, int step, double *lr, double *beta1) {
    double initial = s->max_lr / s->div_factor;
    double min_lr = initial / s->final_div_factor;
    /* torch: phase ends at float(pct_start * total) - 1 and total - 1 */
    double end1 = (double)s->warmup_steps - 1.0, end2 = (double)s->total_steps - 1.0;
    double pct, m;
    if ((double)step <= end1) {
        pct = end1 > 0.0 ? (double)step / end1 : 1.0;
        *lr = lerp(initial, s->max_lr, pct);
        m = lerp(s->beta1_max, s->beta1_min, pct);
    } else {
        double span = end2 - end1;
        pct = span > 0.0 ? ((double)step - end1) / span : 1.0;
        *lr = lerp(s->max_lr, min_lr, pct);
        m = lerp(s->beta1_min, s->beta1_max, pct);
    }
    *beta1 = s->cycle_momentum ? m : s->beta1_fixed;
}
