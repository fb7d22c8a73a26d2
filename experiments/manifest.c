#include "experiments/manifest.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/attention.h"
#include "experiments/util.h"
#include "tasks/task.h"

#define FAIL(...)                                          \
    do {                                                   \
        size_t n_ = sb_appendf(err, errlen, 0, "%s: ", name); \
        sb_appendf(err, errlen, n_, __VA_ARGS__);          \
        goto fail;                                         \
    } while (0)

/* One override (key -> scalar or list) gathered from config/task_config/model_config. */
typedef struct {
    const sb_config_key *key;
    const cJSON *value; /* scalar or array */
    char path[160];     /* where it came from, for messages */
} override;

/* Check an overrides object; append its entries (later ones replace earlier). */
static int gather(const char *name, const cJSON *obj, const char *path, override *ov, int *n,
                  char *err, size_t errlen) {
    if (!cJSON_IsObject(obj)) FAIL("%s: expected an object of config keys", path);
    for (const cJSON *it = obj->child; it; it = it->next) {
        const sb_config_key *k = sb_config_find_key(it->string);
        if (!k) FAIL("%s.%s: unknown key (run 'sbmbench run --help' for the list)", path, it->string);
        char vpath[160];
        snprintf(vpath, sizeof vpath, "%s.%s", path, it->string);
        /* type-check every value now, so a bad list element is found even if unused */
        sb_run_config scratch;
        sb_config_init(&scratch);
        char msg[256];
        if (cJSON_IsArray(it)) {
            if (cJSON_GetArraySize(it) == 0) FAIL("%s: an empty list sweeps over nothing", vpath);
            int i = 0;
            for (const cJSON *e = it->child; e; e = e->next, i++)
                if (sb_config_set(&scratch, k, e, msg, sizeof msg) != 0) FAIL("%s[%d]: %s", vpath, i, msg);
        } else if (sb_config_set(&scratch, k, it, msg, sizeof msg) != 0) {
            FAIL("%s: %s", vpath, msg);
        }
        int slot = *n;
        for (int i = 0; i < *n; i++)
            if (ov[i].key == k) slot = i;
        if (slot == *n) {
            if (*n >= 64) FAIL("%s: too many keys", path);
            (*n)++;
        }
        ov[slot].key = k;
        ov[slot].value = it;
        snprintf(ov[slot].path, sizeof ov[slot].path, "%s", vpath);
    }
    return 0;
fail:
    return -1;
}

static int string_list(const char *name, const cJSON *root, const char *key, int required,
                       const cJSON **out, char *err, size_t errlen) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, key);
    *out = a;
    if (!a) {
        if (required) FAIL("%s: missing (a list of names)", key);
        return 0;
    }
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) == 0) FAIL("%s: expected a non-empty list", key);
    int i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++)
        if (!cJSON_IsString(e)) FAIL("%s[%d]: expected a string", key, i);
    return 0;
fail:
    return -1;
}

/* A swept value into the run id, which names the run's directory: a string's
 * characters other than letters, digits and "._+-" become '_' (a path such
 * as "data/a.h5" must not nest the directory, nor "../x" leave --out); values
 * that then read the same are caught as duplicate runs. */
static void append_value(char *id, size_t len, const cJSON *v) {
    size_t n = strlen(id);
    if (cJSON_IsBool(v)) snprintf(id + n, len - n, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsString(v)) snprintf(id + n, len - n, "%s", v->valuestring);
    else snprintf(id + n, len - n, "%g", v->valuedouble);
    if (cJSON_IsString(v)) sb_keep_name_chars(id + n, "._+-");
}

int sb_manifest_parse(const char *name, const char *text, sb_manifest *m, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    cJSON *root = sb_parse_json_text(name, text, err, errlen);
    if (!root) return -1;
    int cap = 0;
    if (!cJSON_IsObject(root)) FAIL("the manifest must be a JSON object");
    static const char *top_keys[] = {"experiment", "description", "tasks", "models", "seeds",
                                     "config", "task_config", "model_config"};
    for (const cJSON *it = root->child; it; it = it->next) {
        int known = 0;
        for (size_t i = 0; i < sizeof top_keys / sizeof top_keys[0]; i++) known |= !strcmp(it->string, top_keys[i]);
        if (!known)
            FAIL("%s: unknown key (expected experiment, description, tasks, models, seeds, config, "
                 "task_config, model_config)", it->string);
    }
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(root, "experiment");
    if (!cJSON_IsString(exp) || !exp->valuestring[0]) FAIL("experiment: missing (a non-empty string)");
    for (const char *c = exp->valuestring; *c; c++)
        if (!(*c == '-' || *c == '_' || *c == '.' || (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
              (*c >= 'A' && *c <= 'Z')))
            FAIL("experiment: '%s' may use only letters, digits, '-', '_' and '.'", exp->valuestring);
    if (exp->valuestring[0] == '.') /* ".", ".." or a hidden folder under results/ */
        FAIL("experiment: '%s' may not start with '.'", exp->valuestring);
    if (strlen(exp->valuestring) >= sizeof m->experiment) FAIL("experiment: name too long");
    snprintf(m->experiment, sizeof m->experiment, "%s", exp->valuestring);
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(root, "description");
    if (desc && !cJSON_IsString(desc)) FAIL("description: expected a string");
    if (desc) snprintf(m->description, sizeof m->description, "%s", desc->valuestring);

    const cJSON *tasks, *models;
    if (string_list(name, root, "tasks", 1, &tasks, err, errlen) ||
        string_list(name, root, "models", 1, &models, err, errlen))
        goto fail_quiet;
    int i = 0;
    for (const cJSON *t = tasks->child; t; t = t->next, i++)
        if (!sb_task_find(t->valuestring))
            FAIL("tasks[%d]: unknown task '%s' (known: %s)", i, t->valuestring, sb_task_names());
    i = 0;
    for (const cJSON *t = models->child; t; t = t->next, i++)
        if (!sb_attention_find(t->valuestring))
            FAIL("models[%d]: unknown model '%s' (known: %s)", i, t->valuestring, sb_attention_names());
    const cJSON *seeds = cJSON_GetObjectItemCaseSensitive(root, "seeds");
    if (seeds) {
        if (!cJSON_IsArray(seeds) || cJSON_GetArraySize(seeds) == 0) FAIL("seeds: expected a non-empty list of integers");
        i = 0;
        for (const cJSON *s = seeds->child; s; s = s->next, i++)
            if (!cJSON_IsNumber(s) || s->valuedouble < 0 || s->valuedouble > 9e15 ||
                s->valuedouble != (double)(int64_t)s->valuedouble)
                FAIL("seeds[%d]: expected a non-negative integer", i);
    }
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(root, "config");
    const cJSON *per_task = cJSON_GetObjectItemCaseSensitive(root, "task_config");
    const cJSON *per_model = cJSON_GetObjectItemCaseSensitive(root, "model_config");
    /* check the per-task/per-model objects name only listed tasks/models */
    const cJSON *groups[2] = {per_task, per_model}, *lists[2] = {tasks, models};
    const char *gname[2] = {"task_config", "model_config"};
    for (int g = 0; g < 2; g++) {
        if (!groups[g]) continue;
        if (!cJSON_IsObject(groups[g])) FAIL("%s: expected an object keyed by %s name", gname[g], g ? "model" : "task");
        for (const cJSON *it = groups[g]->child; it; it = it->next) {
            int listed = 0;
            for (const cJSON *e = lists[g]->child; e; e = e->next) listed |= !strcmp(e->valuestring, it->string);
            if (!listed) FAIL("%s.%s: not in the manifest's %s list", gname[g], it->string, g ? "models" : "tasks");
        }
    }

    for (const cJSON *t = tasks->child; t; t = t->next)
        for (const cJSON *md = models->child; md; md = md->next) {
            override ov[64];
            int nov = 0;
            if (config && gather(name, config, "config", ov, &nov, err, errlen)) goto fail_quiet;
            const cJSON *tc = per_task ? cJSON_GetObjectItemCaseSensitive(per_task, t->valuestring) : NULL;
            const cJSON *mc = per_model ? cJSON_GetObjectItemCaseSensitive(per_model, md->valuestring) : NULL;
            char p[160];
            snprintf(p, sizeof p, "task_config.%s", t->valuestring);
            if (tc && gather(name, tc, p, ov, &nov, err, errlen)) goto fail_quiet;
            snprintf(p, sizeof p, "model_config.%s", md->valuestring);
            if (mc && gather(name, mc, p, ov, &nov, err, errlen)) goto fail_quiet;
            /* odometer over the swept keys' list positions */
            int pos[64] = {0};
            for (;;) {
                int n_seeds = seeds ? cJSON_GetArraySize(seeds) : 1;
                for (int si = 0; si < n_seeds; si++) {
                    if (m->n_runs == cap) m->runs = realloc(m->runs, sizeof(sb_run_spec) * (cap = cap ? 2 * cap : 16));
                    sb_run_spec *r = &m->runs[m->n_runs];
                    sb_run_config *c = &r->cfg;
                    sb_config_init(c);
                    snprintf(c->task, sizeof c->task, "%s", t->valuestring);
                    snprintf(c->model, sizeof c->model, "%s", md->valuestring);
                    sb_task_find(c->task)->defaults(c);
                    c->seed = seeds ? (int64_t)cJSON_GetArrayItem(seeds, si)->valuedouble : 1;
                    snprintf(r->variant, sizeof r->variant, "%s-%s", c->task, c->model);
                    char msg[256];
                    for (int k = 0; k < nov; k++) {
                        const cJSON *v = ov[k].value;
                        if (cJSON_IsArray(v)) {
                            v = cJSON_GetArrayItem(v, pos[k]);
                            size_t n = strlen(r->variant);
                            snprintf(r->variant + n, sizeof r->variant - n, "-%s=", ov[k].key->name);
                            append_value(r->variant, sizeof r->variant, v);
                        }
                        if (sb_config_set(c, ov[k].key, v, msg, sizeof msg)) FAIL("%s: %s", ov[k].path, msg);
                    }
                    sb_config_resolve(c);
                    if (snprintf(r->id, sizeof r->id, "%s-s%lld", r->variant, (long long)c->seed) >= (int)sizeof r->id)
                        FAIL("run %s-s%lld: the run id is longer than %zu characters (shorter task, model or swept "
                             "values)", r->variant, (long long)c->seed, sizeof r->id - 1);
                    if (sb_config_validate(c, msg, sizeof msg)) FAIL("run %s: %s", r->id, msg);
                    m->n_runs++;
                }
                int k = 0;
                for (; k < nov; k++) {
                    if (!cJSON_IsArray(ov[k].value)) continue;
                    if (++pos[k] < cJSON_GetArraySize(ov[k].value)) break;
                    pos[k] = 0;
                }
                if (k == nov) break;
            }
        }
    { /* repeated ids, by sorting: a pairwise check took minutes at 100k runs */
        const char **ids = malloc(sizeof(char *) * (size_t)(m->n_runs + 1));
        for (int i = 0; i < m->n_runs; i++) ids[i] = m->runs[i].id;
        qsort(ids, (size_t)m->n_runs, sizeof *ids, sb_cmp_strings);
        const char *dup = NULL;
        for (int i = 1; i < m->n_runs && !dup; i++)
            if (!strcmp(ids[i - 1], ids[i])) dup = ids[i];
        if (dup) snprintf(err, errlen, "%s: run %s appears twice (repeated seed or list value?)", name, dup);
        free(ids);
        if (dup) goto fail_quiet;
    }
    cJSON_Delete(root);
    return 0;
fail:
fail_quiet:
    cJSON_Delete(root);
    sb_manifest_free(m);
    return -1;
}

void sb_manifest_free(sb_manifest *m) {
    free(m->runs);
    m->runs = NULL;
    m->n_runs = 0;
}

/* Each task's paper setup, as the keys it sets away from the defaults above:
 * a manifest's value for them is what it overrides. */
void sb_config_print_task_defaults(void) {
    sb_run_config base;
    sb_config_init(&base);
    cJSON *b = sb_config_to_json(&base);
    char names[256];
    snprintf(names, sizeof names, "%s", sb_task_names());
    for (char *save = NULL, *t = strtok_r(names, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        sb_run_config c = base;
        snprintf(c.task, sizeof c.task, "%s", t);
        sb_task_find(t)->defaults(&c);
        cJSON *o = sb_config_to_json(&c);
        printf("  %-10s", t);
        const cJSON *v;
        int col = 12;
        cJSON_ArrayForEach(v, o) {
            const cJSON *was = cJSON_GetObjectItemCaseSensitive(b, v->string);
            if (!strcmp(v->string, "task") || (was && cJSON_Compare(was, v, 1))) continue;
            char *val = cJSON_PrintUnformatted(v);
            const int len = (int)(strlen(v->string) + strlen(val) + 2);
            if (col + len > 100) printf("\n%12s", ""), col = 12;
            printf(" %s=%s", v->string, val);
            col += len;
            free(val);
        }
        printf("\n");
        cJSON_Delete(o);
    }
    cJSON_Delete(b);
}
