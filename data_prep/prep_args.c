#include "data_prep/prep_args.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int listed(const char *allowed, const char *name) {
    size_t n = strlen(name);
    for (const char *p = allowed; (p = strstr(p, name)) != NULL; p += n)
        if ((p == allowed || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0)) return 1;
    return 0;
}

int sb_prep_args_parse(sb_prep_args *a, const char *cmd, int argc, char **argv, const char *allowed) {
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        if (strncmp(o, "--", 2) != 0 || !listed(allowed, o + 2)) {
            fprintf(stderr, "sbmbench %s: unknown option '%s' (options:", cmd, o);
            /* each allowed name with its dashes: "out tsv" -> " --out --tsv" */
            for (const char *p = allowed; *p;) {
                const size_t len = strcspn(p, " ");
                if (len) fprintf(stderr, " --%.*s", (int)len, p);
                p += len + (p[len] == ' ');
            }
            fprintf(stderr, ")\n");
            return -1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "sbmbench %s: option %s needs a value\n", cmd, o);
            return -1;
        }
        if (a->n == SB_PREP_MAX_ARGS) {
            fprintf(stderr, "sbmbench %s: too many options\n", cmd);
            return -1;
        }
        a->name[a->n] = o + 2;
        a->value[a->n++] = argv[++i];
    }
    return 0;
}

const char *sb_prep_arg_str(sb_prep_args *a, const char *name, const char *fallback) {
    const char *v = fallback;
    for (int i = 0; i < a->n; i++)
        if (!strcmp(a->name[i], name)) v = a->value[i];
    return v;
}

int64_t sb_prep_arg_int(sb_prep_args *a, const char *name, int64_t fallback, int64_t lo, int64_t hi) {
    const char *s = sb_prep_arg_str(a, name, NULL);
    if (!s) return fallback;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s == 0 || *end || v < lo || v > hi) {
        fprintf(stderr, "sbmbench %s: --%s: expected an integer in [%lld, %lld], got '%s'\n", a->cmd, name,
                (long long)lo, (long long)hi, s);
        a->bad = 1;
        return fallback;
    }
    return v;
}

void sb_prep_arg_limits(sb_prep_args *a, int64_t limits[3]) {
    static const char *names[3] = {"train", "dev", "test"};
    for (int s = 0; s < 3; s++) limits[s] = sb_prep_arg_int(a, names[s], -1, 0, (int64_t)1 << 40);
}
