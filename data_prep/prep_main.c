/* PLACEHOLDER: being implemented (issue #5). */
#include <stdio.h>
#include "experiments/commands.h"
int sb_cmd_prep(int argc, char **argv) { (void)argc, (void)argv; fprintf(stderr, "sbmbench prep: not built yet\n"); return 2; }
int sb_cmd_gen(int argc, char **argv) { (void)argc, (void)argv; fprintf(stderr, "sbmbench gen: not built yet\n"); return 2; }
