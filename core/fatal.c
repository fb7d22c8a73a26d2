#include "core/fatal.h"
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static sb_fatal_hook fatal_hook;
static atomic_int reporting;

sb_fatal_hook sb_fatal_set_hook(sb_fatal_hook hook) {
    const sb_fatal_hook was = fatal_hook;
    fatal_hook = hook;
    return was;
}

void sb_fatal(int status, const char *fmt, ...) {
    /* inside a parallel region several threads can fail at once (each its
     * own scratch allocation): one message, one exit */
    if (atomic_exchange(&reporting, 1))
        for (;;) pause();
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "sbmbench: %s\n", msg);
    if (fatal_hook) fatal_hook(msg, status);
    exit(status);
}
