#include "experiments/report_tables.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "experiments/table.h"
#include "experiments/util.h"

#define DASH "—"

/* "m ± s" (or "m" without a spread) with prec decimals; DASH for NaN. */
static void fmt_pm(char *out, size_t cap, double m, double s, int prec) {
    if (isnan(m)) snprintf(out, cap, DASH);
    else if (isnan(s)) snprintf(out, cap, "%.*f", prec, m);
    else snprintf(out, cap, "%.*f ± %.*f", prec, m, prec, s);
}

/* A CSV number: empty for NaN. */
static char *csv_num(double x, const char *fmt) { return isnan(x) ? sb_strdupf("%s", "") : sb_strdupf(fmt, x); }

/* What an SBM density cell measures, in the notes of every table that shows
 * one. Padded positions get no edges here, while the public code samples the
 * whole grid and counts pad pairs too, so on padded inputs (ListOps, Text,
 * Image and Pathfinder's black pixels) the two are not the same quantity. */
#define DENSITY_DEFINITION                                                                                     \
    "attended pairs over N² averaged over layers, heads and test examples (pairs with a padded position never " \
    "have an edge here; the public code samples and counts them too, so on padded inputs its density is higher)"

/* "acc ± std (density ± std%)" in percent, the paper's cell. */
static void fmt_acc_cell(char *out, size_t cap, const sb_group *g) {
    char acc[64], dens[64];
    fmt_pm(acc, sizeof acc, 100 * g->acc_mean, 100 * g->acc_std, 2);
    if (isnan(g->dens_mean)) {
        snprintf(out, cap, "%s", acc);
    } else {
        fmt_pm(dens, sizeof dens, 100 * g->dens_mean, 100 * g->dens_std, 2);
        snprintf(out, cap, "%s (%s%%)", acc, dens);
    }
}

static const sb_group *find(const sb_group *g, int ng, const char *task, const char *row) {
    for (int i = 0; i < ng; i++)
        if (!strcmp(g[i].task, task) && !strcmp(g[i].row, row)) return &g[i];
    return NULL;
}

/* Distinct rows of the groups that pass keep (NULL: all), in order of appearance. */
static int distinct_rows(const sb_group *g, int ng, int (*keep)(const sb_group *), const char **rows) {
    int n = 0;
    for (int i = 0; i < ng; i++) {
        if (keep && !keep(&g[i])) continue;
        int k = 0;
        while (k < n && strcmp(rows[k], g[i].row)) k++;
        if (k == n) rows[n++] = g[i].row;
    }
    return n;
}

/* Column heads "Model|>task1|>task2...[|>Avg.]". */
static char *task_head(const char *first, const char **tasks, int nt, int avg) {
    char *h = sb_strdupf("%s", first);
    for (int t = 0; t < nt; t++) {
        char *n = sb_strdupf("%s|>%s", h, tasks[t]);
        free(h), h = n;
    }
    if (avg) {
        char *n = sb_strdupf("%s|>Avg.", h);
        free(h), h = n;
    }
    return h;
}

/* best[k]: the highest mean accuracy of task k over the given rows (bold in the tables, as in the paper). */
static void best_per_task(const sb_group *g, int ng, const char **rows, int nr, const char **tasks, int nt, double *best) {
    for (int k = 0; k < nt; k++) {
        best[k] = -INFINITY;
        for (int i = 0; i < nr; i++) {
            const sb_group *c = find(g, ng, tasks[k], rows[i]);
            if (c && c->acc_mean > best[k]) best[k] = c->acc_mean;
        }
        if (nr < 2) best[k] = NAN; /* nothing to compare */
    }
}

/* One pivot row: lead cells, then each task's accuracy (density) cell, the
 * task's best in bold, then the average of the tasks' accuracy means when
 * every task has one. */
static void pivot_row(sb_table *t, const char **lead, int nlead, const sb_group *g, int ng, const char *row,
                      const char **tasks, int nt, int avg, const double *best) {
    const char **cells = calloc((size_t)(nlead + nt + 1), sizeof *cells);
    char (*text)[160] = calloc((size_t)nt + 1, sizeof *text);
    for (int i = 0; i < nlead; i++) cells[i] = lead[i];
    double sum = 0.0;
    int have = 0;
    for (int k = 0; k < nt; k++) {
        const sb_group *c = find(g, ng, tasks[k], row);
        if (c) {
            char cell[150];
            fmt_acc_cell(cell, sizeof cell, c);
            snprintf(text[k], sizeof text[k], c->acc_mean == best[k] ? "**%s**" : "%s", cell);
            sum += c->acc_mean, have++;
        }
        else snprintf(text[k], sizeof text[k], DASH);
        cells[nlead + k] = text[k];
    }
    if (avg) {
        if (have == nt) snprintf(text[nt], sizeof text[nt], "%.2f", 100 * sum / nt);
        else snprintf(text[nt], sizeof text[nt], DASH);
        cells[nlead + nt] = text[nt];
    }
    sb_table_add_row(t, cells);
    free(cells), free(text);
}

static char *problems_note(const sb_results *r) {
    char *s = sb_strdupf("%s", "");
    for (int i = 0; i < r->n_problems; i++) {
        char *n = sb_strdupf("%s%sNot included: %s.", s, *s ? " " : "", r->problems[i]);
        free(s), s = n;
    }
    if (r->n_skipped) {
        char *n = sb_strdupf("%s%sNot completed:", s, *s ? " " : "");
        free(s), s = n;
        for (int i = 0; i < r->n_skipped; i++) {
            n = sb_strdupf("%s%s %s", s, i ? "," : "", r->skipped[i]);
            free(s), s = n;
        }
        n = sb_strdupf("%s.", s);
        free(s), s = n;
    }
    return s;
}

/* Whether the experiment's description marks it reduced-scale: the manifests
 * say so in capitals ("REDUCED-SCALE ...", "REDUCED CPU VERSION ..."). */
static int is_reduced(const sb_results *r) { return r->description && strstr(r->description, "REDUCED"); }

/* A table's note: body (and extra, if any) after the experiment's description
 * where the table carries it: the accuracy table always (describe), every
 * table when the experiment is reduced-scale, so that no table of it, read on
 * its own, passes for the paper's setup. */
static char *table_note(const sb_results *r, int describe, const char *body, const char *extra) {
    const int lead = (describe || is_reduced(r)) && r->description && *r->description;
    return sb_strdupf("%s%s%s%s%s", lead ? r->description : "", lead ? "\n\n" : "", body,
                      extra && *extra ? "\n\n" : "", extra ? extra : "");
}

static void accuracy_table(sb_table *t, const sb_results *r, const sb_group *g, int ng, const char **tasks, int nt) {
    char *head = task_head("Model", tasks, nt, nt > 1);
    sb_table_init(t, "Test accuracy (%)", head,
                  "variant,task,model,seeds,test_accuracy_mean,test_accuracy_std,test_density_mean,test_density_std");
    free(head);
    const char **rows = calloc((size_t)ng + 1, sizeof *rows);
    int nr = distinct_rows(g, ng, NULL, rows);
    double *best = calloc((size_t)nt + 1, sizeof *best);
    best_per_task(g, ng, rows, nr, tasks, nt, best);
    for (int i = 0; i < nr; i++) pivot_row(t, &rows[i], 1, g, ng, rows[i], tasks, nt, nt > 1, best);
    free(best);
    for (int i = 0; i < ng; i++) {
        char *c[8] = {sb_strdupf("%s", g[i].row),         sb_strdupf("%s", g[i].task),
                      sb_strdupf("%s", g[i].model),       sb_strdupf("%d", g[i].n),
                      csv_num(100 * g[i].acc_mean, "%.4f"), csv_num(100 * g[i].acc_std, "%.4f"),
                      csv_num(100 * g[i].dens_mean, "%.4f"), csv_num(100 * g[i].dens_std, "%.4f")};
        sb_table_add_csv_row(t, (const char *const *)c);
        for (int k = 0; k < 8; k++) free(c[k]);
    }
    char *probs = problems_note(r);
    char *note = table_note(r, 1,
                            "Mean ± sample standard deviation over seeds (runs.md lists the seeds per cell), the "
                            "best of each task in bold; in parentheses the test density, " DENSITY_DEFINITION ".",
                            probs);
    sb_table_set_note(t, note);
    free(note), free(probs), free(rows);
}

/* The mark of a cost measured by a pass older than the current one
 * (SB_COST_METHOD): its values are still shown, as they are the run's, but
 * must not be compared with the current pass's. */
#define OLD_COST "†"

/* cell with the mark appended when old; a dash (no value) stays bare. */
static void mark_old(char *cell, size_t cap, int old) {
    size_t len = strlen(cell);
    if (old && strcmp(cell, DASH) && len < cap) snprintf(cell + len, cap - len, OLD_COST);
}

/* What the mark means, for the note of a table that shows it; ratios: the
 * table divides by a reference, whose mark carries over. */
static char *old_cost_note(int ratios) {
    return sb_strdupf(OLD_COST " Measured by an older cost pass (final.json without cost_method, or below %d), "
                      "whose peak memory is not comparable with the current pass's (one example at a time on one "
                      "thread, the SBM sampler's scratch counted, full attention's inference without N x N "
                      "scores); marked when any seed of the row was%s. "
                      "sbmbench remeasure DIR re-measures a folder's complete runs with the current pass.",
                      SB_COST_METHOD, ratios ? ", and a ratio when its full-attention reference was" : "");
}

/* The CSV's cost_method: the oldest pass among the group's seeds (0: unrecorded), empty without a cost. */
static char *csv_cost_method(const sb_group *g) {
    return g->cost_method < 0 ? sb_strdupf("%s", "") : sb_strdupf("%d", g->cost_method);
}

static void runs_table(sb_table *t, const sb_results *r, const sb_group *g, int ng) {
    sb_table_init(t, "Runs: every variant, mean over seeds",
                  "Task|Model|>Seeds|>Test acc. (%)|>Test density (%)|>Dev acc. (%)|>Final train loss|>Train s"
                  "|>MFLOPs / example|>Peak MiB / example",
                  "variant,task,model,seeds,test_accuracy_mean,test_accuracy_std,test_density_mean,dev_accuracy_mean,"
                  "final_train_loss_mean,train_seconds_mean,flops_per_example_mean,flops_per_example_std,"
                  "peak_memory_bytes_mean,sbm_lambda,cost_method");
    int any_old = 0;
    for (int i = 0; i < ng; i++) {
        const sb_group *a = &g[i];
        const int old = sb_group_cost_old(a);
        char acc[64], dens[64], flops[64], peak[64];
        fmt_pm(acc, sizeof acc, 100 * a->acc_mean, 100 * a->acc_std, 2);
        fmt_pm(dens, sizeof dens, 100 * a->dens_mean, 100 * a->dens_std, 2);
        fmt_pm(flops, sizeof flops, a->flops_mean / 1e6, a->flops_std > 0 ? a->flops_std / 1e6 : NAN, 3);
        fmt_pm(peak, sizeof peak, a->peak_mean / 1048576.0, NAN, 3);
        mark_old(flops, sizeof flops, old), mark_old(peak, sizeof peak, old);
        any_old |= old;
        char *c[10] = {sb_strdupf("%s", a->task),           sb_strdupf("%s", a->row),
                       sb_strdupf("%d", a->n),              sb_strdupf("%s", acc),
                       sb_strdupf("%s", dens),              csv_num(100 * a->dev_mean, "%.2f"),
                       csv_num(a->loss_mean, "%.4f"),       csv_num(a->secs_mean, "%.1f"),
                       sb_strdupf("%s", flops),             sb_strdupf("%s", peak)};
        for (int k = 5; k < 8; k++)
            if (!*c[k]) free(c[k]), c[k] = sb_strdupf(DASH);
        sb_table_add_row(t, (const char *const *)c);
        for (int k = 0; k < 10; k++) free(c[k]);
        char *v[15] = {sb_strdupf("%s", a->row),            sb_strdupf("%s", a->task),
                       sb_strdupf("%s", a->model),          sb_strdupf("%d", a->n),
                       csv_num(100 * a->acc_mean, "%.4f"),  csv_num(100 * a->acc_std, "%.4f"),
                       csv_num(100 * a->dens_mean, "%.4f"), csv_num(100 * a->dev_mean, "%.4f"),
                       csv_num(a->loss_mean, "%.6f"),       csv_num(a->secs_mean, "%.2f"),
                       csv_num(a->flops_mean, "%.1f"),      csv_num(a->flops_std, "%.1f"),
                       csv_num(a->peak_mean, "%.0f"),       csv_num(a->sbm_lambda, "%g"),
                       csv_cost_method(a)};
        sb_table_add_csv_row(t, (const char *const *)v);
        for (int k = 0; k < 15; k++) free(v[k]);
    }
    char *old = any_old ? old_cost_note(0) : NULL;
    char *note = table_note(r, 0,
                            "Accuracy and density: mean ± sample std over seeds. Inference cost per test example, "
                            "measured one example at a time: FLOPs (mean ± sample std over the measured examples "
                            "of all seeds; SBM's depend on the sampled graph) and the allocator's peak of live "
                            "bytes (parameters + activations + attention state + scratch; mean over the examples).",
                            old);
    sb_table_set_note(t, note);
    free(note), free(old);
}

static int is_sbm(const sb_group *g) { return !strcmp(g->model, "sbm") && !isnan(g->sbm_lambda); }

static int by_lambda(const void *a, const void *b) {
    const sb_group *x = *(const sb_group *const *)a, *y = *(const sb_group *const *)b;
    if (x->sbm_lambda != y->sbm_lambda) return x->sbm_lambda < y->sbm_lambda ? -1 : 1;
    return strcmp(x->row, y->row);
}

/* 0 when sbm_lambda takes fewer than two values: no table. */
static int lambda_table(sb_table *t, const sb_results *r, const sb_group *g, int ng, const char **tasks, int nt) {
    const sb_group **sel = calloc((size_t)ng + 1, sizeof *sel);
    int ns = 0, nl = 0;
    for (int i = 0; i < ng; i++)
        if (is_sbm(&g[i])) {
            int k = 0; /* one entry per row (the first task's group stands for it) */
            while (k < ns && strcmp(sel[k]->row, g[i].row)) k++;
            if (k == ns) sel[ns++] = &g[i];
        }
    qsort(sel, (size_t)ns, sizeof *sel, by_lambda);
    for (int i = 0; i < ns; i++) nl += i == 0 || sel[i]->sbm_lambda != sel[i - 1]->sbm_lambda;
    if (nl < 2) {
        free(sel);
        return 0;
    }
    const int show_variant = ns != nl; /* other keys swept too: name the variant */
    char *head = task_head(show_variant ? ">λ|Variant" : ">λ", tasks, nt, nt > 1);
    sb_table_init(t, "SBM test accuracy (%) and density against the density regulariser weight λ", head,
                  "sbm_lambda,variant,task,seeds,test_accuracy_mean,test_accuracy_std,test_density_mean,"
                  "test_density_std");
    free(head);
    const char **rows = calloc((size_t)ns + 1, sizeof *rows);
    double *best = calloc((size_t)nt + 1, sizeof *best);
    for (int i = 0; i < ns; i++) rows[i] = sel[i]->row;
    best_per_task(g, ng, rows, ns, tasks, nt, best);
    for (int i = 0; i < ns; i++) {
        char lam[32];
        snprintf(lam, sizeof lam, "%g", sel[i]->sbm_lambda);
        const char *lead[2] = {lam, sel[i]->row};
        pivot_row(t, lead, show_variant ? 2 : 1, g, ng, sel[i]->row, tasks, nt, nt > 1, best);
        for (int k = 0; k < nt; k++) {
            const sb_group *c = find(g, ng, tasks[k], sel[i]->row);
            if (!c) continue;
            char *v[8] = {sb_strdupf("%g", c->sbm_lambda),       sb_strdupf("%s", c->row),
                          sb_strdupf("%s", c->task),             sb_strdupf("%d", c->n),
                          csv_num(100 * c->acc_mean, "%.4f"),    csv_num(100 * c->acc_std, "%.4f"),
                          csv_num(100 * c->dens_mean, "%.4f"),   csv_num(100 * c->dens_std, "%.4f")};
            sb_table_add_csv_row(t, (const char *const *)v);
            for (int j = 0; j < 8; j++) free(v[j]);
        }
    }
    char *note = table_note(r, 0,
                            "Mean ± sample std over seeds, the best of each task in bold; in parentheses the test "
                            "density, " DENSITY_DEFINITION ".",
                            NULL);
    sb_table_set_note(t, note);
    free(note), free(sel), free(rows), free(best);
    return 1;
}

/* The task's full-attention group, the reference of the cost table. */
static const sb_group *full_ref(const sb_group *g, int ng, const char *task) {
    for (int i = 0; i < ng; i++)
        if (!strcmp(g[i].task, task) && !strcmp(g[i].model, "full") && !isnan(g[i].flops_mean)) return &g[i];
    return NULL;
}

static int has_cost(const sb_group *g) { return !isnan(g->flops_mean); }

/* A cost table cell pair, FLOPs and memory of c over its task's reference
 * (either may be NULL: dashes), marked when either side was measured by an
 * older pass; returns whether they were. */
static int cost_cells(char *flops, char *mem, size_t cap, const sb_group *c, const sb_group *ref) {
    if (!c || !ref || !has_cost(c)) {
        snprintf(flops, cap, DASH), snprintf(mem, cap, DASH);
        return 0;
    }
    fmt_pm(flops, cap, c->flops_mean / ref->flops_mean, c->flops_std > 0 ? c->flops_std / ref->flops_mean : NAN, 2);
    fmt_pm(mem, cap, c->peak_mean / ref->peak_mean, NAN, 2);
    const int old = sb_group_cost_old(c) || sb_group_cost_old(ref);
    mark_old(flops, cap, old), mark_old(mem, cap, old);
    return old;
}

/* c's cost.csv row: absolute values and, with a reference, the ratios. */
static void cost_csv_row(sb_table *t, const sb_group *c, const sb_group *ref) {
    char *v[10] = {sb_strdupf("%s", c->row), sb_strdupf("%s", c->task), sb_strdupf("%s", c->model),
                   csv_num(c->flops_mean, "%.1f"), csv_num(c->flops_std, "%.1f"), csv_num(c->peak_mean, "%.0f"),
                   csv_num(ref ? c->flops_mean / ref->flops_mean : NAN, "%.6f"),
                   csv_num(ref ? c->flops_std / ref->flops_mean : NAN, "%.6f"),
                   csv_num(ref ? c->peak_mean / ref->peak_mean : NAN, "%.6f"), csv_cost_method(c)};
    sb_table_add_csv_row(t, (const char *const *)v);
    for (int j = 0; j < 10; j++) free(v[j]);
}

/* 0 without any measured cost: no table. */
static int cost_table(sb_table *t, const sb_results *r, const sb_group *g, int ng, const char **tasks, int nt) {
    const char **rows = calloc((size_t)ng + 1, sizeof *rows);
    int nr = distinct_rows(g, ng, has_cost, rows);
    if (!nr) {
        free(rows);
        return 0;
    }
    char *h = sb_strdupf("%s", "Model");
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < nt; k++) {
            char *n = sb_strdupf("%s|>%s %s", h, pass ? "Memory" : "FLOPs", tasks[k]);
            free(h), h = n;
        }
    sb_table_init(t, "Inference cost per example relative to full attention", h,
                  "variant,task,model,flops_per_example,flops_per_example_std,peak_memory_bytes,flops_relative,"
                  "flops_relative_std,peak_memory_relative,cost_method");
    free(h);
    const char **cells = calloc((size_t)(2 * nt + 1), sizeof *cells);
    char (*text)[96] = calloc((size_t)(2 * nt), sizeof *text);
    char *missing = sb_strdupf("%s", "");
    for (int k = 0; k < nt; k++)
        if (!full_ref(g, ng, tasks[k])) {
            char *n = sb_strdupf("%s%s%s", missing, *missing ? ", " : "", tasks[k]);
            free(missing), missing = n;
        }
    int any_old = 0;
    for (int i = 0; i < nr; i++) {
        cells[0] = rows[i];
        for (int k = 0; k < nt; k++) {
            const sb_group *c = find(g, ng, tasks[k], rows[i]), *ref = full_ref(g, ng, tasks[k]);
            any_old |= cost_cells(text[k], text[nt + k], sizeof text[k], c, ref);
            cells[1 + k] = text[k], cells[1 + nt + k] = text[nt + k];
            if (c && has_cost(c)) cost_csv_row(t, c, ref);
        }
        sb_table_add_row(t, cells);
    }
    char *body = sb_strdupf("FLOPs (mean ± sample std over the measured test examples of all seeds, SBM's vary with "
                            "the input) and peak memory (mean over examples of the allocator's high-water mark of "
                            "live bytes: parameters, activations, attention state and scratch) of inference on one "
                            "example at a time, divided by full attention's on the same task; absolute values in "
                            "runs.csv. Full attention's inference holds one block of 128 query rows' scores per "
                            "thread, not the N x N scores a PyTorch softmax attention (the reference's, which the "
                            "paper's Table 3 divides by) materialises, so these memory ratios are higher than the "
                            "paper's.%s%s%s",
                            *missing ? " No full-attention run for: " : "", missing, *missing ? "." : "");
    char *old = any_old ? old_cost_note(1) : NULL, *note = table_note(r, 0, body, old);
    sb_table_set_note(t, note);
    free(note), free(old), free(body), free(missing), free(cells), free(text), free(rows);
    return 1;
}

int sb_report_tables(const sb_results *r, const char *dir, char *err, size_t errlen) {
    if (sb_mkdir_p(dir, err, errlen)) return -1;
    sb_group *g;
    const char **tasks;
    int ng = sb_results_groups(r, &g), nt = sb_results_tasks(r, &tasks);
    sb_table tabs[4];
    const char *names[4] = {"accuracy", "runs", "lambda", "cost"};
    int have[4] = {1, 1, 0, 0};
    accuracy_table(&tabs[0], r, g, ng, tasks, nt);
    runs_table(&tabs[1], r, g, ng);
    have[2] = lambda_table(&tabs[2], r, g, ng, tasks, nt);
    have[3] = cost_table(&tabs[3], r, g, ng, tasks, nt);
    /* all Markdown tables in one page, for reading them together */
    char *all = sb_strdupf("# %s\n", r->experiment);
    int rc = 0;
    for (int i = 0; i < 4; i++) {
        if (!have[i]) continue;
        if (!rc) rc = sb_table_write(&tabs[i], dir, names[i], err, errlen);
        char *md = sb_table_markdown(&tabs[i]), *n = sb_strdupf("%s\n%s", all, md);
        free(all), free(md), all = n;
        sb_table_free(&tabs[i]);
    }
    char path[4096];
    sb_path(path, sizeof path, "%s/README.md", dir);
    if (!rc) rc = sb_write_file_atomic(path, all, err, errlen);
    free(all), free(g), free(tasks);
    return rc ? -1 : 0;
}
