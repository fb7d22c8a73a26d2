#include "core/philox.h"
#include <math.h>

void sb_rng_reader_init(sb_rng_reader *r, sb_rng_stream s) {
    r->s = s;
    r->next_block = 0;
    r->avail = 0;
}

uint32_t sb_rng_next_u32(sb_rng_reader *r) {
    if (r->avail == 0) {
        sb_philox_ctr c = sb_rng_block(&r->s, r->next_block++);
        for (int i = 0; i < 4; i++) r->buf[i] = c.v[i];
        r->avail = 4;
    }
    return r->buf[4 - r->avail--];
}

float sb_rng_next_unit(sb_rng_reader *r) { return sb_u32_to_unit(sb_rng_next_u32(r)); }

float sb_rng_next_normal(sb_rng_reader *r) {
    float u1 = sb_rng_next_unit(r), u2 = sb_rng_next_unit(r);
    return sqrtf(-2.0f * logf(u1)) * cosf(6.28318530717958647f * u2);
}
