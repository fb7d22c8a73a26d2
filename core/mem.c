#include "core/mem.h"
#include <stdio.h>
#include <string.h>

/* Atomic, so ops may allocate per-thread scratch inside parallel regions. */
void sb_mem_note_alloc(sb_mem_tracker *t, size_t bytes) {
    int64_t live = __atomic_add_fetch(&t->live_bytes, (int64_t)bytes, __ATOMIC_RELAXED);
    int64_t peak = __atomic_load_n(&t->peak_bytes, __ATOMIC_RELAXED);
    while (live > peak &&
           !__atomic_compare_exchange_n(&t->peak_bytes, &peak, live, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}

void sb_mem_note_free(sb_mem_tracker *t, size_t bytes) {
    __atomic_sub_fetch(&t->live_bytes, (int64_t)bytes, __ATOMIC_RELAXED);
}

void sb_mem_reset_peak(sb_mem_tracker *t) { t->peak_bytes = t->live_bytes; }

int64_t sb_process_peak_rss(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    int64_t kb = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            long long v;
            if (sscanf(line + 6, "%lld", &v) == 1) kb = v;
            break;
        }
    }
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}
