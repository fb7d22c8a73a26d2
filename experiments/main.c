/* sbmbench: the command-line entry point. */
#include <cjson/cJSON.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/attention.h"
#include "core/backend.h"
#include "core/fatal.h"
#include "experiments/config.h"
#include "experiments/manifest.h"
#include "experiments/summary.h"
#include "experiments/train.h"
#include "experiments/util.h"
#include "tasks/task.h"

#include "experiments/commands.h"

extern const char sb_embedded_quickstart[]; /* experiments/quickstart.json, built in */

static void usage_main(FILE *f) {
    fprintf(f,
            "usage: sbmbench <command> [options]\n\n"
            "Trains and evaluates Transformers with swappable attention (SBM-Transformer\n"
            "and the baselines of its paper) from JSON experiment manifests.\n\n"
            "commands:\n"
            "  run [MANIFEST]   expand a manifest into runs, train, evaluate, write results\n"
            "                   (no MANIFEST: the built-in quickstart, experiments/quickstart.json)\n"
            "  op MODEL --in IN.h5 --out OUT.h5\n"
            "                   one attention call forward and backward on given tensors\n"
            "  prep TASK ...    convert a task's official raw data to HDF5\n"
            "  gen TASK ...     generate a task's data (listops, pathfinder) as raw files + HDF5\n"
            "  report DIR       regenerate tables and figures of a results directory\n"
            "  remeasure DIR    run the inference cost pass again on DIR's complete runs\n"
            "  help [COMMAND]   this text, or a command's options\n\n"
            "'sbmbench run --help' lists the options and every manifest key.\n");
}

static void usage_run(FILE *f) {
    fprintf(f,
            "usage: sbmbench run [MANIFEST] [--out DIR] [--threads N] [--resume]\n\n"
            "Expands MANIFEST (default: the built-in quickstart) into runs (tasks x models x\n"
            "swept keys x seeds), trains each, evaluates the best-dev parameters on the test\n"
            "split, and writes:\n"
            "  DIR/summary.json                 every run's results (null where not applicable;\n"
            "                                   a failed run's \"error\" says why)\n"
            "  DIR/tables/{accuracy,runs,lambda,cost}.{md,csv,tex}\n"
            "                                   test accuracy (mean +- std over seeds); every\n"
            "                                   variant; accuracy per sbm_lambda (when swept);\n"
            "                                   inference cost against full attention\n"
            "  DIR/tables/README.md             all the Markdown tables on one page\n"
            "  DIR/figures/NAME.{png,svg}       training curves, accuracy against density, layer\n"
            "                                   density, density maps, each with its gnuplot\n"
            "                                   script and data (needs gnuplot; docs/report.md)\n"
            "  DIR/<run>/config.json            resolved configuration\n"
            "  DIR/<run>/metrics.h5             per-step training and per-evaluation dev metrics\n"
            "  DIR/<run>/best.bin               best-dev parameters\n"
            "  DIR/<run>/final.json             the run's results (present = complete)\n"
            "  DIR/<run>/checkpoint.bin         an interrupted run's state, until it completes\n"
            "  DIR/<run>/error.txt              why the run failed, until it is run again\n\n"
            "options:\n"
            "  --out DIR      output directory (default runs/<experiment>; results/ holds the\n"
            "                 committed results, whose complete runs a run there skips)\n"
            "  --threads N    CPU threads (default: OpenMP's default, usually all cores)\n"
            "  --resume       continue interrupted runs from their checkpoints\n\n"
            "Completed runs (with final.json) are skipped, never overwritten. One process\n"
            "writes a folder at a time (DIR/.sbmbench.lock): a folder in use is refused.\n"
            "Ctrl-C stops at the next step boundary after writing a checkpoint; --resume then\n"
            "continues and ends with the same result as an uninterrupted run (on any thread\n"
            "count).\n\n"
            "exit status: 0 every run complete; 1 a run failed (why: its error.txt); 2 a bad\n"
            "manifest, data file or --out, or a call an attention refuses; 3 out of memory;\n"
            "130 interrupted. On 2 and 3 inside a run, the runs after it are not started.\n\n"
            "tasks:  %s\nmodels: %s\n\nmanifest config keys (in \"config\", \"task_config\".TASK, \"model_config\".MODEL;\n"
            "a list value sweeps over its elements):\n",
            sb_task_names(), sb_attention_names());
    sb_config_print_keys();
    fprintf(f, "\nEach task starts from its paper setup, these keys away from the defaults above\n"
               "(a manifest's config, task_config and model_config override them):\n");
    fflush(f);
    sb_config_print_task_defaults();
}

/* Refuse to mix results: a run directory must hold this run's config, and an
 * interrupted run needs --resume. Checked for every run before anything is written. */
static int preflight(const sb_manifest *m, const char *out, int resume, char *err, size_t errlen) {
    for (int i = 0; i < m->n_runs; i++) {
        char p[4096];
        sb_path(p, sizeof p, "%s/%s/config.json", out, m->runs[i].id);
        if (!sb_file_exists(p)) continue;
        cJSON *have = sb_read_json(p, err, errlen);
        if (!have) return -1;
        char key[64];
        int same = sb_config_json_matches(have, &m->runs[i].cfg, key, sizeof key);
        cJSON_Delete(have);
        if (!same) {
            snprintf(err, errlen, "%.1024s holds a different configuration for run %s (key '%s'); use another --out or remove it",
                     p, m->runs[i].id, key);
            return -1;
        }
        char f[4096], c[4096];
        sb_path(f, sizeof f, "%s/%s/final.json", out, m->runs[i].id);
        sb_path(c, sizeof c, "%s/%s/checkpoint.bin", out, m->runs[i].id);
        if (!sb_file_exists(f) && sb_file_exists(c) && !resume) {
            snprintf(err, errlen, "run %s was interrupted (%.1024s exists); pass --resume to continue it", m->runs[i].id, c);
            return -1;
        }
    }
    return 0;
}

/* The key path in the manifest root that gave run c its data_file: the
 * override manifest.c applies last (model_config.MODEL, then task_config.TASK,
 * then config), with [i] for the element of a swept list. */
static void data_file_key(const cJSON *root, const sb_run_config *c, char *out, size_t len) {
    const char *group[3] = {"model_config", "task_config", "config"}, *name[3] = {c->model, c->task, NULL};
    snprintf(out, len, "data_file");
    for (int g = 0; g < 3; g++) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, group[g]);
        if (name[g]) o = cJSON_GetObjectItemCaseSensitive(o, name[g]);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "data_file");
        if (!v) continue;
        int n = snprintf(out, len, "%s%s%s.data_file", group[g], name[g] ? "." : "", name[g] ? name[g] : "");
        int i = 0;
        for (const cJSON *e = cJSON_IsArray(v) ? v->child : NULL; e; e = e->next, i++)
            if (cJSON_IsString(e) && !strcmp(e->valuestring, c->data_file) && n > 0 && (size_t)n < len) {
                snprintf(out + n, len - (size_t)n, "[%d]", i);
                break;
            }
        return;
    }
}

/* Every data file a run reads must be a readable file, the one it names
 * (data_file) or its task's default: checked for all runs before anything is
 * written, so a long manifest does not stop (or fail a run) days in for a
 * typo or a step of docs/lra.md left out. What a file holds is checked as
 * each run opens it. name/text: the manifest, for the key path. */
static int check_data_files(const sb_manifest *m, const char *name, const char *text, const char *out_dir,
                            char *err, size_t errlen) {
    for (int i = 0; i < m->n_runs; i++) {
        const sb_run_config *c = &m->runs[i].cfg;
        const char *path = sb_task_data_file(sb_task_find(c->task), c);
        char done[4096];
        sb_path(done, sizeof done, "%s/%s/final.json", out_dir, m->runs[i].id);
        if (!path || sb_file_exists(done)) continue; /* a complete run is skipped: it reads nothing */
        const char *why = sb_data_file_problem(path);
        if (!why) continue;
        char key[256] = "data_file", msg[256];
        snprintf(msg, sizeof msg, "%s", why); /* strerror's buffer may be reused below */
        if (!c->data_file[0]) {
            snprintf(err, errlen, "%s: run %s reads task %s's default data file %.512s (no data_file set): cannot "
                     "read data file: %s (make it with 'sbmbench prep' or 'sbmbench gen', docs/lra.md, or set "
                     "data_file)", name, m->runs[i].id, c->task, path, msg);
            return -1;
        }
        cJSON *root = sb_parse_json_text(name, text, err, errlen);
        if (root) data_file_key(root, c, key, sizeof key);
        cJSON_Delete(root);
        snprintf(err, errlen, "%s: %s: %.512s: cannot read data file: %s (run %s; make it with 'sbmbench prep' or "
                 "'sbmbench gen', docs/lra.md)", name, key, path, msg, m->runs[i].id);
        return -1;
    }
    return 0;
}

/* The run in progress, for sb_fatal's hook (live.current < 0: none), and
 * memory held back for the hook: out of memory, it frees this first so that
 * writing error.txt and summary.json can allocate. */
static struct {
    const sb_manifest *m;
    const char **statuses;
    const char *out_dir;
    int current;
    char dir[4096];
    void *reserve;
} live = {.current = -1};
#define FATAL_RESERVE_BYTES (8u << 20)

/* Run i failed for msg: the reason kept where it outlives stderr (the
 * run's error.txt, then summary.json's error) and its status set. */
static void keep_run_failure(const char **statuses, int i, const char *dir, const char *msg) {
    char e[4400];
    if (sb_run_error_keep(dir, msg, e, sizeof e)) fprintf(stderr, "sbmbench: %s\n", e);
    statuses[i] = "failed";
}

/* sb_fatal's hook during `run`: the run in progress cannot go on and the
 * process ends (out of memory, or a call an op refuses), so its reason goes
 * where a failed run's goes, error.txt and summary.json, before the exit. */
static void run_fatal(const char *msg, int status) {
    free(live.reserve);
    live.reserve = NULL;
    if (live.current < 0) return;
    keep_run_failure(live.statuses, live.current, live.dir, msg);
    char e[4400];
    if (sb_summary_write(live.m, live.out_dir, live.statuses, e, sizeof e)) fprintf(stderr, "sbmbench: %s\n", e);
    fprintf(stderr, "sbmbench: run %s failed, and the process stops here (exit status %d): the runs after it were not "
            "started; change or remove that run, then run the manifest again\n", live.m->runs[live.current].id, status);
}

/* How this program was invoked (argv[0]), for commands to paste back. */
static const char *prog = "sbmbench";

static int cmd_run(int argc, char **argv) {
    const char *manifest_path = NULL, *out = NULL;
    int threads = 0, resume = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage_run(stdout);
            return 0;
        } else if (!strcmp(a, "--out") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(a, "--threads") && i + 1 < argc) {
            char *end;
            long t = strtol(argv[++i], &end, 10);
            if (*end || t < 1 || t > 1024) {
                fprintf(stderr, "sbmbench run: --threads: expected a positive integer, got '%s'\n", argv[i]);
                return 2;
            }
            threads = (int)t;
        } else if (!strcmp(a, "--resume")) {
            resume = 1;
        } else if (!strcmp(a, "--out") || !strcmp(a, "--threads")) { /* the last argument */
            fprintf(stderr, "sbmbench run: %s needs a value (see 'sbmbench run --help')\n", a);
            return 2;
        } else if (a[0] == '-') {
            fprintf(stderr, "sbmbench run: unknown option '%s' (see 'sbmbench run --help')\n", a);
            return 2;
        } else if (!manifest_path) {
            manifest_path = a;
        } else {
            fprintf(stderr, "sbmbench run: more than one manifest given ('%s')\n", a);
            return 2;
        }
    }
    char err[2048];
    sb_manifest m;
    const char *name = manifest_path ? manifest_path : "<built-in quickstart>";
    char *text = manifest_path ? sb_read_file(manifest_path, NULL, err, sizeof err) : NULL;
    if (manifest_path && !text) {
        fprintf(stderr, "sbmbench: %s\n", err);
        return 2;
    }
    const char *manifest = text ? text : sb_embedded_quickstart;
    if (sb_manifest_parse(name, manifest, &m, err, sizeof err)) {
        fprintf(stderr, "sbmbench: %s\n", err);
        free(text);
        return 2;
    }
    /* not results/<experiment>: that holds the committed results, whose
     * completed runs would be "skipped" and handed back as if reproduced */
    char out_dir[4096];
    if (out) sb_path(out_dir, sizeof out_dir, "%s", out);
    else sb_path(out_dir, sizeof out_dir, "runs/%s", m.experiment);
    /* the folder is locked before preflight reads it, so another process's
     * live run is reported as that, not as an interrupted one (a folder made
     * here holds no runs, so preflight cannot then refuse it) */
    int bad_input = check_data_files(&m, name, manifest, out_dir, err, sizeof err) ||
                    sb_mkdir_p(out_dir, err, sizeof err) || sb_dir_lock(out_dir, err, sizeof err) ||
                    preflight(&m, out_dir, resume, err, sizeof err);
    free(text);
    if (bad_input) {
        fprintf(stderr, "sbmbench: %s\n", err);
        sb_manifest_free(&m);
        return 2;
    }
    sb_cpu_set_threads(threads);
    sb_install_signal_handlers();
    fprintf(stderr, "sbmbench: experiment '%s': %d run%s, %d thread%s, results in %s/\n", m.experiment, m.n_runs,
            m.n_runs == 1 ? "" : "s", omp_get_max_threads(), omp_get_max_threads() == 1 ? "" : "s", out_dir);
    const char **statuses = calloc((size_t)m.n_runs, sizeof *statuses);
    live.m = &m, live.statuses = statuses, live.out_dir = out_dir;
    live.reserve = malloc(FATAL_RESERVE_BYTES);
    if (live.reserve) memset(live.reserve, 1, FATAL_RESERVE_BYTES); /* backed by pages, not just promised */
    sb_fatal_set_hook(run_fatal);
    int failed = 0, interrupted = 0, skipped = 0;
    for (int i = 0; i < m.n_runs && !interrupted; i++) {
        const sb_run_spec *r = &m.runs[i];
        char dir[4096], p[4096];
        sb_path(dir, sizeof dir, "%s/%s", out_dir, r->id);
        sb_path(p, sizeof p, "%s/final.json", dir);
        if (sb_file_exists(p)) {
            fprintf(stderr, "[%d/%d] %s: already complete, skipped\n", i + 1, m.n_runs, r->id);
            skipped++;
            continue;
        }
        sb_path(p, sizeof p, "%s/config.json", dir);
        cJSON *cj = sb_config_to_json(&r->cfg);
        int bad = sb_mkdir_p(dir, err, sizeof err) || (!sb_file_exists(p) && sb_write_json_atomic(p, cj, err, sizeof err));
        cJSON_Delete(cj);
        if (!bad) sb_run_error_clear(dir); /* an earlier attempt's reason no longer holds */
        sb_train_opts o = {.resume = resume, .index = i + 1, .total = m.n_runs, .progress_tty = isatty(2)};
        live.current = i;
        snprintf(live.dir, sizeof live.dir, "%s", dir);
        sb_run_status st = bad ? SB_RUN_FAILED : sb_train_run(r, dir, &o, err, sizeof err);
        live.current = -1;
        if (st == SB_RUN_FAILED) {
            fprintf(stderr, "sbmbench: run %s failed: %s\n", r->id, err);
            keep_run_failure(statuses, i, dir, err);
            failed++;
        } else if (st == SB_RUN_INTERRUPTED) {
            interrupted = 1;
        }
        if (sb_summary_write(&m, out_dir, statuses, err, sizeof err)) {
            fprintf(stderr, "sbmbench: %s\n", err);
            failed++;
        }
    }
    if (sb_summary_write(&m, out_dir, statuses, err, sizeof err)) {
        fprintf(stderr, "sbmbench: %s\n", err);
        failed++;
    }
    sb_fatal_set_hook(NULL);
    free(live.reserve);
    live.reserve = NULL;
    free(statuses);
    int rc = failed ? 1 : 0;
    if (!interrupted && sb_interrupted) { /* Ctrl-C in the last step, or while the tables and figures were written */
        fprintf(stderr, "sbmbench: interrupted at the end: the runs' results are saved; '%s report %s' writes the "
                        "tables and figures again if one is missing\n", prog, out_dir);
        if (!failed) rc = 130; /* a failed run's status stands */
    }
    if (interrupted) {
        fprintf(stderr, "sbmbench: interrupted; checkpoint written. Continue with: %s run%s%s%s%s --resume\n", prog,
                manifest_path ? " " : "", manifest_path ? manifest_path : "", out ? " --out " : "", out ? out : "");
        rc = 130;
    } else {
        fprintf(stderr, "sbmbench: results in %s/summary.json, tables in %s/tables/accuracy.md\n", out_dir, out_dir);
        if (skipped == m.n_runs) /* said last: nothing above comes from this invocation */
            fprintf(stderr, "sbmbench: nothing was trained: %s %d run%s of '%s' %s already complete in %s/ (use "
                    "another --out to rerun)\n", m.n_runs == 1 ? "the" : "all", m.n_runs, m.n_runs == 1 ? "" : "s",
                    m.experiment, m.n_runs == 1 ? "was" : "were", out_dir);
    }
    sb_manifest_free(&m);
    return rc;
}

typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv); /* the arguments after the command's name */
} command;

static const command commands[] = {
    {"run", cmd_run}, {"op", sb_cmd_op}, {"prep", sb_cmd_prep}, {"gen", sb_cmd_gen}, {"report", sb_cmd_report},
    {"remeasure", sb_cmd_remeasure},
};

static const command *find_command(const char *name) {
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(name, commands[i].name)) return &commands[i];
    return NULL;
}

/* `sbmbench help COMMAND`: the command's own --help. */
static int cmd_help(int argc, char **argv) {
    const command *c = argc == 1 ? find_command(argv[0]) : NULL;
    if (argc != 1 || !c) {
        if (argc == 1)
            fprintf(stderr, "sbmbench help: unknown command '%s' (commands: run, op, prep, gen, report, remeasure)\n", argv[0]);
        else
            fprintf(stderr, "sbmbench help: one command at a time (usage: sbmbench help [COMMAND])\n");
        return 2;
    }
    char help[] = "--help", *args[] = {help, NULL};
    return c->fn(1, args);
}

int main(int argc, char **argv) {
    if (argc > 0 && argv[0][0]) prog = argv[0];
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        (!strcmp(argv[1], "help") && argc == 2)) {
        usage_main(stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "help")) return cmd_help(argc - 2, argv + 2);
    const command *c = find_command(argv[1]);
    if (c) return c->fn(argc - 2, argv + 2);
    fprintf(stderr, "sbmbench: unknown command '%s' (see 'sbmbench --help')\n", argv[1]);
    return 2;
}
