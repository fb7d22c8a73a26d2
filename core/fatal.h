/* Errors the library cannot return from (out of memory, a call an op cannot
 * handle): sb_fatal prints "sbmbench: MESSAGE", hands the message to the
 * application's hook, if one is set, and exits with the status given (2 for a
 * shape or setting an op refuses, 3 for memory and internal errors). The
 * hook lets `run` record why the current run stopped (its error.txt and
 * summary.json) before the process ends. */
#ifndef SB_FATAL_H
#define SB_FATAL_H

typedef void (*sb_fatal_hook)(const char *message, int status);

/* Only the first caller reports; another thread that fails meanwhile waits
 * for the exit. */
void sb_fatal(int status, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
/* The hook sb_fatal calls before exiting (NULL: none); returns the previous one. */
sb_fatal_hook sb_fatal_set_hook(sb_fatal_hook hook);
/* A cleanup sb_fatal runs after the hook (up to 4; returns 0, or -1 when
 * full). sb_fatal ends with _exit, not exit: the thread that fails may be an
 * OpenMP worker while others still run, and exit's handlers (OpenBLAS's
 * among them) would tear down what they use; so what must happen at a fatal
 * exit (a folder's lock file removed) is registered here too. */
int sb_fatal_at_exit(void (*cleanup)(void));

#endif
