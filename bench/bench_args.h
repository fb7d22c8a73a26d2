/* Command-line options shared by the benchmarks: `--name value` pairs whose
 * value must parse whole, and bare flags. Each matcher takes the option at
 * argv[*i] if it is `name`, stores its value, advances *i past it and returns
 * 1; otherwise it returns 0, so a parser chains them with ||. A value that
 * does not parse (or is missing) ends the program with a message naming the
 * option. */
#ifndef SB_BENCH_ARGS_H
#define SB_BENCH_ARGS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline const char *bench_value(int argc, char **argv, int *i, const char *name) {
    if (strcmp(argv[*i], name)) return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: %s needs a value\n", argv[0], name);
        exit(2);
    }
    return argv[++*i];
}

static inline int bench_int(int argc, char **argv, int *i, const char *name, int *out) {
    const char *v = bench_value(argc, argv, i, name);
    if (!v) return 0;
    char *end;
    const long x = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || x < -2147483647L || x > 2147483647L) {
        fprintf(stderr, "%s: %s takes an integer (got '%s')\n", argv[0], name, v);
        exit(2);
    }
    *out = (int)x;
    return 1;
}

static inline int bench_double(int argc, char **argv, int *i, const char *name, double *out) {
    const char *v = bench_value(argc, argv, i, name);
    if (!v) return 0;
    char *end;
    *out = strtod(v, &end);
    if (*v == '\0' || *end != '\0') {
        fprintf(stderr, "%s: %s takes a number (got '%s')\n", argv[0], name, v);
        exit(2);
    }
    return 1;
}

/* A bare flag: sets *out to value when argv[*i] is name. */
static inline int bench_flag(char **argv, int i, const char *name, int *out, int value) {
    if (strcmp(argv[i], name)) return 0;
    *out = value;
    return 1;
}

#endif
