/* The subcommands of `sbmbench` besides `run` (experiments/main.c); each
 * takes the arguments after its name and returns the process exit status
 * (0 ok, 1 failed while working, 2 bad usage or input). */
#ifndef SB_COMMANDS_H
#define SB_COMMANDS_H

int sb_cmd_op(int argc, char **argv);     /* experiments/op.c */
int sb_cmd_prep(int argc, char **argv);   /* data_prep/prep_main.c: official raw formats -> HDF5 */
int sb_cmd_gen(int argc, char **argv);    /* data_prep/prep_main.c: generators -> raw format + HDF5 */
int sb_cmd_report(int argc, char **argv); /* experiments/report.c: tables and figures from results */
int sb_cmd_remeasure(int argc, char **argv); /* experiments/remeasure.c: the cost pass again on complete runs */

#endif
