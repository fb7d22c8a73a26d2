/* Checkpoint files: a header and named float/byte sections, written to
 * NAME.tmp, flushed and renamed, so a crash never leaves a truncated file
 * under the final name. Reading checks the magic, the version and every
 * section's name, size and checksum, and names the file and section on any
 * mismatch. */
#ifndef SB_CHECKPOINT_H
#define SB_CHECKPOINT_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    const char *name;
    void *data;
    size_t bytes;
} sb_ckpt_section;

/* 0 on success; on failure writes a message into err and leaves no file. */
int sb_checkpoint_write(const char *path, const sb_ckpt_section *sec, int n, char *err, size_t errlen);
/* Reads sections in order into the given buffers (sizes must match; each
 * section's checksum too, and nothing may follow the last). */
int sb_checkpoint_read(const char *path, const sb_ckpt_section *sec, int n, char *err, size_t errlen);
/* The checksum stored after each section's bytes (tests re-sign the files
 * they alter on purpose with it). */
uint64_t sb_checkpoint_checksum(const void *data, size_t bytes);

#endif
