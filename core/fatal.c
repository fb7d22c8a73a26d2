#include "core/fatal.h"
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static sb_fatal_hook fatal_hook;
static void (*cleanups[4])(void);
static int n_cleanups;
static atomic_int reporting;
static _Thread_local int reporting_here; /* this thread is in sb_fatal (its hook failed too) */

sb_fatal_hook sb_fatal_set_hook(sb_fatal_hook hook) {
    const sb_fatal_hook was = fatal_hook;
    fatal_hook = hook;
    return was;
}

int sb_fatal_at_exit(void (*cleanup)(void)) {
    if (n_cleanups == (int)(sizeof cleanups / sizeof cleanups[0])) return -1;
    cleanups[n_cleanups++] = cleanup;
    return 0;
}

void sb_fatal(int status, const char *fmt, ...) {
    /* inside a parallel region several threads can fail at once (each its
     * own scratch allocation): one message, one exit; a failure inside the
     * hook itself skips the hook and exits at once */
    const int nested = reporting_here;
    if (!nested && atomic_exchange(&reporting, 1))
        for (;;) pause();
    reporting_here = 1;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "sbmbench: %s\n", msg);
    if (fatal_hook && !nested) fatal_hook(msg, status);
    for (int i = n_cleanups - 1; i >= 0; i--) cleanups[i]();
    fflush(NULL);
    _exit(status);
}
