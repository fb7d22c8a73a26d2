/* sbmbench: the command-line entry point. */
#include <cjson/cJSON.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/attention.h"
#include "core/backend.h"
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
            "  help [COMMAND]   this text, or a command's options\n\n"
            "'sbmbench run --help' lists the options and every manifest key.\n");
}

static void usage_run(FILE *f) {
    fprintf(f,
            "usage: sbmbench run [MANIFEST] [--out DIR] [--threads N] [--resume]\n\n"
            "Expands MANIFEST (default: the built-in quickstart) into runs (tasks x models x\n"
            "swept keys x seeds), trains each, evaluates the best-dev parameters on the test\n"
            "split, and writes:\n"
            "  DIR/summary.json                 every run's results (null where not applicable)\n"
            "  DIR/tables/accuracy.{md,csv}     test accuracy, mean +- std over seeds\n"
            "  DIR/<run>/config.json            resolved configuration\n"
            "  DIR/<run>/metrics.h5             per-step training and per-evaluation dev metrics\n"
            "  DIR/<run>/best.bin               best-dev parameters\n"
            "  DIR/<run>/final.json             the run's results (present = complete)\n\n"
            "options:\n"
            "  --out DIR      output directory (default results/<experiment>)\n"
            "  --threads N    CPU threads (default: OpenMP's default, usually all cores)\n"
            "  --resume       continue interrupted runs from their checkpoints\n\n"
            "Completed runs (with final.json) are skipped, never overwritten. Ctrl-C stops at\n"
            "the next step boundary after writing a checkpoint; --resume then continues and\n"
            "ends with the same result as an uninterrupted run (same thread count).\n\n"
            "tasks:  %s\nmodels: %s\n\nmanifest config keys (in \"config\", \"task_config\".TASK, \"model_config\".MODEL;\n"
            "a list value sweeps over its elements):\n",
            sb_task_names(), sb_attention_names());
    sb_config_print_keys();
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
    int rc = manifest_path ? sb_manifest_load(manifest_path, &m, err, sizeof err)
                           : sb_manifest_parse("<built-in quickstart>", sb_embedded_quickstart, &m, err, sizeof err);
    if (rc) {
        fprintf(stderr, "sbmbench: %s\n", err);
        return 2;
    }
    char out_dir[4096];
    if (out) sb_path(out_dir, sizeof out_dir, "%s", out);
    else sb_path(out_dir, sizeof out_dir, "results/%s", m.experiment);
    if (preflight(&m, out_dir, resume, err, sizeof err) || sb_mkdir_p(out_dir, err, sizeof err)) {
        fprintf(stderr, "sbmbench: %s\n", err);
        sb_manifest_free(&m);
        return 2;
    }
    sb_cpu_set_threads(threads);
    sb_install_signal_handlers();
    fprintf(stderr, "sbmbench: experiment '%s': %d run%s, %d thread%s, results in %s/\n", m.experiment, m.n_runs,
            m.n_runs == 1 ? "" : "s", omp_get_max_threads(), omp_get_max_threads() == 1 ? "" : "s", out_dir);
    const char **statuses = calloc((size_t)m.n_runs, sizeof *statuses);
    int failed = 0, interrupted = 0;
    for (int i = 0; i < m.n_runs && !interrupted; i++) {
        const sb_run_spec *r = &m.runs[i];
        char dir[4096], p[4096];
        sb_path(dir, sizeof dir, "%s/%s", out_dir, r->id);
        sb_path(p, sizeof p, "%s/final.json", dir);
        if (sb_file_exists(p)) {
            fprintf(stderr, "[%d/%d] %s: already complete, skipped\n", i + 1, m.n_runs, r->id);
            continue;
        }
        sb_path(p, sizeof p, "%s/config.json", dir);
        cJSON *cj = sb_config_to_json(&r->cfg);
        int bad = sb_mkdir_p(dir, err, sizeof err) || (!sb_file_exists(p) && sb_write_json_atomic(p, cj, err, sizeof err));
        cJSON_Delete(cj);
        sb_train_opts o = {.resume = resume, .index = i + 1, .total = m.n_runs, .progress_tty = isatty(2)};
        sb_run_status st = bad ? SB_RUN_FAILED : sb_train_run(r, dir, &o, err, sizeof err);
        if (st == SB_RUN_FAILED) {
            fprintf(stderr, "sbmbench: run %s failed: %s\n", r->id, err);
            statuses[i] = "failed";
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
    free(statuses);
    sb_manifest_free(&m);
    if (interrupted) {
        fprintf(stderr, "sbmbench: interrupted; checkpoint written. Continue with: sbmbench run %s%s%s --resume\n",
                manifest_path ? manifest_path : "", out ? " --out " : "", out ? out : "");
        return 130;
    }
    fprintf(stderr, "sbmbench: results in %s/summary.json, tables in %s/tables/accuracy.md\n", out_dir, out_dir);
    return failed ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        (!strcmp(argv[1], "help") && argc == 2)) {
        usage_main(stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "help") && !strcmp(argv[2], "run")) {
        usage_run(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "run")) return cmd_run(argc - 2, argv + 2);
    if (!strcmp(argv[1], "op")) return sb_cmd_op(argc - 2, argv + 2);
    if (!strcmp(argv[1], "prep")) return sb_cmd_prep(argc - 2, argv + 2);
    if (!strcmp(argv[1], "gen")) return sb_cmd_gen(argc - 2, argv + 2);
    if (!strcmp(argv[1], "report")) return sb_cmd_report(argc - 2, argv + 2);
    fprintf(stderr, "sbmbench: unknown command '%s' (see 'sbmbench --help')\n", argv[1]);
    return 2;
}
