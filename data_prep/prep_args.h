/* Options of `sbmbench prep` / `sbmbench gen` subcommands: "--name value"
 * pairs checked against the subcommand's list, with typed getters. */
#ifndef SB_PREP_ARGS_H
#define SB_PREP_ARGS_H

#include <stdint.h>

#define SB_PREP_MAX_ARGS 32

typedef struct {
    const char *cmd;                 /* "prep image", for messages */
    int n;
    const char *name[SB_PREP_MAX_ARGS], *value[SB_PREP_MAX_ARGS];
    int bad;                         /* a getter met a malformed value */
} sb_prep_args;

/* allowed: space-separated option names without "--", e.g. "out mnist cifar".
 * 0 ok; else prints the problem and returns -1. */
int sb_prep_args_parse(sb_prep_args *a, const char *cmd, int argc, char **argv, const char *allowed);
const char *sb_prep_arg_str(sb_prep_args *a, const char *name, const char *fallback);
/* Integer in [lo, hi]; a bad value prints a message and sets a->bad. */
int64_t sb_prep_arg_int(sb_prep_args *a, const char *name, int64_t fallback, int64_t lo, int64_t hi);
/* The common split-size caps --train/--dev/--test (-1 = all). */
void sb_prep_arg_limits(sb_prep_args *a, int64_t limits[3]);

#endif
