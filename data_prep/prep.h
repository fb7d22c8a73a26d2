/* The subcommands of `sbmbench prep` (official raw format -> HDF5) and
 * `sbmbench gen` (generator -> the release's raw format + HDF5), one file per
 * task or format, and the helpers they share. Each returns the exit status:
 * 0 done, 1 bad or unreadable input (the message names the file, and the
 * line or record), 2 bad usage. No output file is left under its final name
 * unless it is complete. */
#ifndef SB_PREP_H
#define SB_PREP_H

#include <stdint.h>
#include <stdio.h>
#include "data_prep/h5_dataset.h"

int sb_prep_image(int argc, char **argv);      /* data_prep/image_prep.c: --mnist DIR | --cifar DIR */
int sb_prep_listops(int argc, char **argv);    /* data_prep/listops_tsv.c */
int sb_gen_listops(int argc, char **argv);     /* data_prep/listops_gen.c */
int sb_prep_text(int argc, char **argv);       /* data_prep/imdb.c */
int sb_prep_retrieval(int argc, char **argv);  /* data_prep/aan.c */
int sb_prep_pathfinder(int argc, char **argv); /* data_prep/pathfinder_release.c */
int sb_gen_pathfinder(int argc, char **argv);  /* data_prep/pathfinder_gen.c */

/* Finish a dataset: commit it and print its counts per split, or report why
 * not. ok = 0 discards it. Returns the exit status (0, or 1). */
int sb_prep_commit(sb_h5ds_writer *w, int ok, const char *path);
/* Create a writer with the caps --train/--dev/--test applied; NULL after printing why. */
sb_h5ds_writer *sb_prep_create(const char *path, const char *task, int n_seqs, int L, const int64_t limits[3]);
/* Shrink a square 8-bit image side x side by an integer factor f (side % f
 * == 0) into ids [(side/f)^2]: each f x f block's maximum (keeps 1-pixel
 * lines: Pathfinder) or rounded mean (photos: Fashion-MNIST). For the
 * reduced CPU runs; f = 1 copies. */
typedef enum { SB_SHRINK_MAX, SB_SHRINK_MEAN } sb_shrink_mode;
void sb_prep_shrink(const uint8_t *px, int side, int f, sb_shrink_mode mode, int32_t *ids);
/* A text input (a release TSV, Pathfinder's metadata) read line by line,
 * so that every converter reports an unreadable file (a folder of that name,
 * an I/O error) instead of taking it for an empty one, and drops a UTF-8
 * byte-order mark (EF BB BF) opening the file, which some editors and
 * spreadsheet exports put there: kept, it would make line 1 malformed (a
 * header or label it no longer matches) or ride into its first token. */
typedef struct {
    FILE *f;
    const char *cmd, *path; /* "prep listops", the file: for messages */
    char *line;             /* the current line, its line end ("\n", "\r\n") cut */
    size_t cap, len;
    int64_t lineno;
} sb_prep_lines;
/* 0, or -1 after printing "sbmbench CMD: PATH: cannot open: why". */
int sb_prep_lines_open(sb_prep_lines *r, const char *cmd, const char *path);
/* The next line into r->line[r->len]: 1; 0 at the end of the file; -1 after
 * printing "sbmbench CMD: PATH: read error: why". */
int sb_prep_lines_next(sb_prep_lines *r);
void sb_prep_lines_close(sb_prep_lines *r);
/* ids = byte + 1 of the first min(n, L) bytes, zero-padded to L (LRA's ByteTextEncoder). */
void sb_prep_bytes_to_ids(const unsigned char *bytes, size_t n, int L, int32_t *ids);

#endif
