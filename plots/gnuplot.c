/* Running gnuplot: templates are found in plots/ of the source tree (this
 * file's directory, known at compile time) or in $SBMBENCH_PLOTS. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/atomic_file.h"
#include "experiments/util.h"
#include "plots/plot_util.h"

static const char *templates_dir(void) {
    static char dir[4096];
    const char *env = getenv("SBMBENCH_PLOTS");
    if (env && *env) return env;
    snprintf(dir, sizeof dir, "%s", __FILE__); /* absolute under CMake */
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, "plots");
    return dir;
}

/* Run argv in dir with stdout and stderr to log_path; the exit status, or -1
 * (it could not start, or a signal ended it: Ctrl-C reaches the whole group). */
static int run_in(const char *dir, char *const argv[], const char *log_path) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) dup2(fd, 1), dup2(fd, 2), close(fd);
        if (chdir(dir) != 0) _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int sb_gnuplot_available(void) {
    static int known = -1;
    if (known >= 0) return known;
    char *argv[] = {"gnuplot", "-e", "set terminal pngcairo; set terminal svg", NULL};
    known = run_in("/", argv, "/dev/null") == 0;
    return known;
}

/* The last non-empty line of a file, for error messages. */
static void last_line(const char *path, char *out, size_t cap) {
    char *text = sb_read_file(path, NULL, out, cap);
    out[0] = 0;
    if (!text) return;
    char *end = text + strlen(text);
    while (end > text && (end[-1] == '\n' || end[-1] == ' ')) *--end = 0;
    char *start = strrchr(text, '\n');
    snprintf(out, cap, "%s", start ? start + 1 : text);
    free(text);
}

int sb_gnuplot_render(const char *fig_dir, const char *name, const char *template_name, const char *vars,
                      int width, int height, char *err, size_t errlen) {
    char path[4096], style_path[4096], script[4096];
    sb_path(path, sizeof path, "%s/%s.gp", templates_dir(), template_name);
    sb_path(style_path, sizeof style_path, "%s/style.gp", templates_dir());
    char *tmpl = sb_read_file(path, NULL, err, errlen);
    char *style = tmpl ? sb_read_file(style_path, NULL, err, errlen) : NULL;
    if (!tmpl || !style) {
        free(tmpl);
        snprintf(err, errlen, "gnuplot template %s missing (set SBMBENCH_PLOTS to the plots/ folder of the sources)",
                 tmpl ? style_path : path);
        return -1;
    }
    size_t cap = strlen(tmpl) + strlen(style) + strlen(vars) + 2048;
    char *text = malloc(cap);
    snprintf(text, cap,
             "# %s: drawn by `sbmbench report` from plots/%s.gp; rerun in this folder with\n"
             "#   gnuplot %s.gp              (PNG)   or   gnuplot -e 'term=\"svg\"' %s.gp\n"
             "if (!exists(\"term\")) term = \"png\"\n"
             "if (!exists(\"suffix\")) suffix = \"\"\n"
             "if (term eq \"svg\") {\n"
             "    set terminal svg size %d,%d dynamic enhanced font \"Helvetica,13\" background rgb \"white\"\n"
             "    set output \"%s.svg\".suffix\n"
             "} else {\n"
             "    set terminal pngcairo size %d,%d enhanced font \"Helvetica,13\" background rgb \"white\"\n"
             "    set output \"%s.png\".suffix\n"
             "}\n%s\n# ---- this figure's data\n%s\n# ---- plots/%s.gp\n%s",
             name, template_name, name, name, width, height, name, width, height, name, style, vars, template_name, tmpl);
    sb_path(script, sizeof script, "%s/%s.gp", fig_dir, name);
    int rc = sb_write_file_atomic(script, text, err, errlen);
    free(text), free(tmpl), free(style);
    if (rc) return -1;
    char log_path[4096], gp[4096];
    sb_path(log_path, sizeof log_path, "%s/%s.log", fig_dir, name);
    sb_path(gp, sizeof gp, "%s.gp", name);
    /* gnuplot draws NAME.EXT.tmp, renamed once it is whole: a failed or
     * interrupted drawing never leaves a partial figure under the final name */
    const char *terms[2] = {"term=\"png\"; suffix=\".tmp\"", "term=\"svg\"; suffix=\".tmp\""}, *ext[2] = {"png", "svg"};
    for (int i = 0; i < 2; i++) {
        char *argv[] = {"gnuplot", "-e", (char *)terms[i], gp, NULL};
        char out[4096], tmp[4200];
        sb_path(out, sizeof out, "%s/%s.%s", fig_dir, name, ext[i]);
        snprintf(tmp, sizeof tmp, "%s.tmp", out);
        const int slot = sb_temp_register(tmp);
        int st = run_in(fig_dir, argv, log_path);
        struct stat sbuf;
        const int drawn = st == 0 && stat(tmp, &sbuf) == 0 && sbuf.st_size > 0;
        if (!drawn || sb_rename_into_place(tmp, out, err, errlen)) {
            char why[512];
            last_line(log_path, why, sizeof why);
            if (!drawn)
                snprintf(err, errlen, "figure %s: gnuplot failed (%s): %s", name, ext[i], why[0] ? why : "no output");
            if (st < 0) unlink(log_path); /* stopped, not an error of its own: nothing in it to keep */
            unlink(tmp);
            sb_temp_release(slot);
            return -1;
        }
        sb_temp_release(slot);
    }
    unlink(log_path);
    return 0;
}

FILE *sb_plot_data_open(const char *fig_dir, const char *name, char *err, size_t errlen) {
    char dir[4096], path[4096];
    sb_path(dir, sizeof dir, "%s/data", fig_dir);
    if (sb_mkdir_p(dir, err, errlen)) return NULL;
    sb_path(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return f;
}

void sb_plot_safe_name(char *out, size_t cap, const char *in) {
    snprintf(out, cap, "%s", in);
    sb_keep_name_chars(out, "._=-");
}
