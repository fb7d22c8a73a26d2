/* PLACEHOLDER: being implemented (issue #6). */
#include <stdio.h>
#include "experiments/commands.h"
int sb_cmd_report(int argc, char **argv) { (void)argc, (void)argv; fprintf(stderr, "sbmbench report: not built yet\n"); return 2; }
