/* Allocation accounting: the backend's allocator records every live
 * allocation's size, so peak memory is the high-water mark of live bytes the
 * program actually held (not an estimate). */
#ifndef SB_MEM_H
#define SB_MEM_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t live_bytes;
    int64_t peak_bytes;
} sb_mem_tracker;

void sb_mem_note_alloc(sb_mem_tracker *t, size_t bytes);
void sb_mem_note_free(sb_mem_tracker *t, size_t bytes);
/* Restart the high-water mark from the current live size. */
void sb_mem_reset_peak(sb_mem_tracker *t);
/* The process's resident set size high-water mark (VmHWM), bytes; -1 if unknown. */
int64_t sb_process_peak_rss(void);

#endif
