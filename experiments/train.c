#include "experiments/train.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/checkpoint.h"
#include "core/model.h"
#include "core/optim.h"
#include "experiments/measure.h"
#include "experiments/metrics_h5.h"
#include "experiments/util.h"
#include "tasks/task.h"

volatile sig_atomic_t sb_interrupted = 0;

static void on_signal(int sig) {
    (void)sig;
    sb_interrupted = 1;
}

void sb_install_signal_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Progress that survives a resume; the "state" checkpoint section. */
typedef struct {
    int32_t next_step;      /* first step not yet done */
    int32_t best_dev_step;  /* -1: no evaluation yet */
    int32_t n_train, n_dev;
    double best_dev_acc;
    double train_seconds;
} train_state;

typedef struct {
    sb_backend *be;
    sb_model *model;
    sb_task *task;
    const sb_run_config *cfg;
    int32_t *ids, *labels;
    float *mask;
    int dw;            /* density width L*H (0: the variant has none) */
    float *dens;       /* [L,B,H] of the last forward */
} run_ctx;

/* Add the last forward's density, per example, into row[b*dw + l*H + h];
 * a pair task's example is the mean over its two sequences. */
static void gather_density(run_ctx *r, float *per_example) {
    const int L = r->cfg->n_layers, H = r->cfg->n_heads, B = r->cfg->micro_batch;
    const int S = r->task->n_seqs > 1 ? r->task->n_seqs : 1, SB = S * B;
    sb_model_density(r->model, r->dens);
    for (int b = 0; b < B; b++)
        for (int l = 0; l < L; l++)
            for (int h = 0; h < H; h++) {
                float d = 0.0f;
                for (int q = 0; q < S; q++) d += r->dens[((size_t)l * SB + (size_t)q * B + b) * H + h];
                per_example[(size_t)b * r->dw + l * H + h] = d / (float)S;
            }
}

sb_model_config sb_run_model_config(const sb_run_config *c, const sb_task *t) {
    sb_model_config mc = {
        .vocab_size = t->vocab_size, .max_len = c->max_len, .seq_len = t->seq_len,
        .d_model = c->d_model, .n_layers = c->n_layers, .n_heads = c->n_heads, .d_head = c->d_head,
        .d_ffn = c->d_ffn, .n_classes = t->n_classes, .token_level = t->token_level,
        .n_seqs = t->n_seqs,
        .dropout = (float)c->dropout, .attn_dropout = (float)c->attn_dropout, .ln_eps = (float)c->ln_eps,
        .attn = sb_attention_find(c->model), .attn_cfg = sb_config_attn(c),
    };
    return mc;
}

int sb_run_test_batches(const sb_run_config *c, const sb_task *task) {
    /* a finite test split is covered whole: its last batch is padded with unlabelled rows */
    const int64_t test_size = task->split_size[SB_SPLIT_TEST];
    return test_size >= 0 ? (int)((test_size + c->micro_batch - 1) / c->micro_batch) : c->test_batches;
}

void sb_run_measure_cost(const sb_run_config *c, sb_task *task, const sb_model_config *mc, const float *params,
                         sb_inference_cost *out) {
    sb_measure_inference(mc, task, c->task, params, sb_run_test_batches(c, task), c->micro_batch,
                         (uint64_t)c->seed, out);
}

/* Whether the task met data it cannot use in its last batches; then its
 * message, naming the run, goes to err. */
static int task_failed(const sb_task *task, const sb_run_spec *spec, char *err, size_t errlen) {
    if (!task->error[0]) return 0;
    snprintf(err, errlen, "run %s: %s", spec->id, task->error);
    return 1;
}

/* Evaluate n batches of a split without dropout; returns mean loss and accuracy
 * over all labelled rows (equal to the reference's mean of per-batch means
 * when batches have equal label counts, as all of ours do). density, when
 * not NULL, receives [n_batches * B, dw] per-example densities. */
static void evaluate(run_ctx *r, sb_split split, int n_batches, double *loss, double *acc, float *density) {
    double ls = 0.0;
    int64_t correct = 0, counted = 0;
    const int B = r->cfg->micro_batch;
    for (int i = 0; i < n_batches; i++) {
        r->task->batch(r->task, split, (uint64_t)i, B, r->ids, r->mask, r->labels);
        if (r->task->error[0]) break; /* the caller fails the run */
        /* evaluation draws (SBM graphs) are keyed by batch, distinct from training steps */
        sb_forward_result f = sb_model_forward(r->model, r->ids, r->mask, r->labels, 0, (uint64_t)r->cfg->seed,
                                               0x80000000u + (uint32_t)split * 0x10000000u + (uint32_t)i);
        if (density && r->dw) gather_density(r, density + (size_t)i * B * r->dw);
        ls += f.loss_sum;
        correct += f.correct;
        counted += f.counted;
    }
    *loss = counted ? ls / (double)counted : NAN;
    *acc = counted ? (double)correct / (double)counted : NAN;
}

static void progress(const sb_train_opts *o, const char *id, int step, int steps, double loss, double acc,
                     double dev_acc, double secs) {
    if (o->progress_tty) {
        fprintf(stderr, "\r[%d/%d] %-34s step %6d/%-6d loss %.4f  acc %5.1f%%  dev %5.1f%%  %6.0fs", o->index,
                o->total, id, step, steps, loss, 100 * acc, 100 * dev_acc, secs);
    } else {
        fprintf(stderr, "[%d/%d] %s step %d/%d loss %.4f acc %.1f%% dev %.1f%% %.0fs\n", o->index, o->total, id,
                step, steps, loss, 100 * acc, 100 * dev_acc, secs);
    }
    fflush(stderr);
}

#define CKPT_SECTIONS(params, adam_m, adam_v, n, st, mt)                                            \
    {                                                                                              \
        {"params", params, sizeof(float) * (n)}, {"adam_m", adam_m, sizeof(float) * (n)},          \
        {"adam_v", adam_v, sizeof(float) * (n)}, {"state", st, sizeof *(st)},                      \
        {"train_step", (mt)->train_step, sizeof(int) * (mt)->cap_train},                           \
        {"train_loss", (mt)->train_loss, sizeof(float) * (mt)->cap_train},                         \
        {"train_acc", (mt)->train_acc, sizeof(float) * (mt)->cap_train},                           \
        {"train_lr", (mt)->train_lr, sizeof(float) * (mt)->cap_train},                             \
        {"train_beta1", (mt)->train_beta1, sizeof(float) * (mt)->cap_train},                       \
        {"dev_step", (mt)->dev_step, sizeof(int) * (mt)->cap_dev},                                 \
        {"dev_loss", (mt)->dev_loss, sizeof(float) * (mt)->cap_dev},                               \
        {"dev_acc", (mt)->dev_acc, sizeof(float) * (mt)->cap_dev},                                 \
        {"train_density", (mt)->train_density, sizeof(float) * (mt)->cap_train * (mt)->density_width}, \
    }
#define CKPT_NSECTIONS 13

/* One run's trainer: the model and its data, the optimiser's state, the
 * recorded metrics and the checkpoint's sections, and the run's files. */
typedef struct {
    run_ctx r;
    const sb_run_spec *spec;
    const sb_run_config *c;
    sb_model_config mc;
    size_t n;                       /* parameters */
    int accum;                      /* micro-batches per step */
    float *params, *grads, *adam_m, *adam_v;
    int n_ranges;                   /* AdamW's trainable ranges (frozen tensors skipped) */
    size_t *range_start, *range_len;
    float *step_dens;               /* [B, dw] one micro-batch's densities */
    sb_metrics mt;
    train_state st;
    sb_ckpt_section sec[CKPT_NSECTIONS];
    char path_ckpt[4096], path_best[4096], path_metrics[4096], path_final[4096];
} trainer;

/* Model, buffers and optimiser state for a run over an opened task. */
static void trainer_init(trainer *t, const sb_run_spec *spec, const char *run_dir, sb_task *task) {
    const sb_run_config *c = &spec->cfg;
    memset(t, 0, sizeof *t);
    t->spec = spec, t->c = c;
    sb_path(t->path_ckpt, sizeof t->path_ckpt, "%s/checkpoint.bin", run_dir);
    sb_path(t->path_best, sizeof t->path_best, "%s/best.bin", run_dir);
    sb_path(t->path_metrics, sizeof t->path_metrics, "%s/metrics.h5", run_dir);
    sb_path(t->path_final, sizeof t->path_final, "%s/final.json", run_dir);
    run_ctx *r = &t->r;
    *r = (run_ctx){.be = sb_backend_cpu_create(0), .task = task, .cfg = c};
    sb_backend *be = r->be;
    t->mc = sb_run_model_config(c, task);
    r->model = sb_model_create(be, &t->mc, c->micro_batch, 1);
    t->n = sb_model_num_params(r->model);
    const int T = task->seq_len, B = c->micro_batch, R = task->token_level ? B * T : B;
    const int S = task->n_seqs > 1 ? task->n_seqs : 1; /* sequences per example (pair tasks: 2) */
    t->accum = c->batch_size / c->micro_batch;
    r->ids = malloc(sizeof(int32_t) * S * B * T);
    r->mask = malloc(sizeof(float) * S * B * T);
    r->labels = malloc(sizeof(int32_t) * R);
    t->adam_m = be->alloc(be, sizeof(float) * t->n), t->adam_v = be->alloc(be, sizeof(float) * t->n);
    t->params = sb_model_params(r->model), t->grads = sb_model_grads(r->model);
    /* AdamW skips frozen tensors (Performer's omega, Reformer's b_q and b_v) */
    t->n_ranges = sb_model_trainable_ranges(r->model, NULL, NULL, 0);
    t->range_start = malloc(sizeof(size_t) * (size_t)t->n_ranges);
    t->range_len = malloc(sizeof(size_t) * (size_t)t->n_ranges);
    sb_model_trainable_ranges(r->model, t->range_start, t->range_len, t->n_ranges);
    r->dw = t->mc.attn->density ? c->n_layers * c->n_heads : 0;
    r->dens = malloc(sizeof(float) * ((size_t)c->n_layers * S * B * c->n_heads + 1));
    t->step_dens = malloc(sizeof(float) * ((size_t)B * (r->dw ? r->dw : 1)));
    sb_model_set_density_weight(r->model, (float)(c->sbm_lambda / t->accum));
    sb_metrics_init(&t->mt, c->steps, c->steps / c->eval_every + 2, r->dw);
    t->st = (train_state){.next_step = 0, .best_dev_step = -1, .best_dev_acc = -1.0};
    sb_ckpt_section sec[CKPT_NSECTIONS] = CKPT_SECTIONS(t->params, t->adam_m, t->adam_v, t->n, &t->st, &t->mt);
    memcpy(t->sec, sec, sizeof sec);
}

static void trainer_free(trainer *t) {
    run_ctx *r = &t->r;
    free(r->ids), free(r->mask), free(r->labels), free(r->dens), free(t->step_dens);
    free(t->range_start), free(t->range_len);
    r->be->free(r->be, t->adam_m);
    r->be->free(r->be, t->adam_v);
    sb_metrics_free(&t->mt);
    sb_model_destroy(r->model);
    sb_backend_destroy(r->be);
}

/* Continue from the checkpoint (when resuming and one exists) or initialise
 * the parameters. 0, or -1 and a message in err. */
static int resume_or_init(trainer *t, const sb_train_opts *o, char *err, size_t errlen) {
    const sb_run_config *c = t->c;
    train_state *st = &t->st;
    if (!(o->resume && sb_file_exists(t->path_ckpt))) {
        sb_model_init_params(t->r.model, (uint64_t)c->seed);
        return 0;
    }
    if (sb_checkpoint_read(t->path_ckpt, t->sec, CKPT_NSECTIONS, err, errlen)) return -1;
    /* the sections have the right sizes; their counters must be the ones a
     * run writes: a checkpoint comes between steps (never after the last),
     * with one training point per step done and one dev point per
     * evaluation (every eval_every steps) */
    if (st->next_step < 1 || st->next_step >= c->steps || st->n_train != st->next_step ||
        st->n_dev != st->next_step / c->eval_every || st->best_dev_step < -1 || st->best_dev_step >= st->next_step) {
        snprintf(err, errlen,
                 "%s: section 'state' is corrupt (next step %d, %d training and %d dev points, best dev step "
                 "%d, for a run of %d steps); delete the file to start the run afresh",
                 t->path_ckpt, st->next_step, st->n_train, st->n_dev, st->best_dev_step, c->steps);
        return -1;
    }
    t->mt.n_train = st->n_train;
    t->mt.n_dev = st->n_dev;
    fprintf(stderr, "[%d/%d] %s: resuming at step %d\n", o->index, o->total, t->spec->id, st->next_step);
    return 0;
}

/* One optimiser step: its micro-batches forward and backward (their
 * densities into this step's training row), AdamW at the schedule's lr and
 * beta1, and the step's training point. 0, or -1 and a message in err. */
static int train_step(trainer *t, const sb_one_cycle *sched, int step, double *loss, double *acc, char *err,
                      size_t errlen) {
    const sb_run_config *c = t->c;
    run_ctx *r = &t->r;
    sb_metrics *mt = &t->mt;
    const int B = c->micro_batch, accum = t->accum;
    sb_model_zero_grad(r->model);
    double loss_sum = 0.0;
    int64_t correct = 0, counted = 0;
    for (int micro = 0; micro < accum; micro++) {
        uint64_t call = (uint64_t)step * accum + micro;
        r->task->batch(r->task, SB_SPLIT_TRAIN, call, B, r->ids, r->mask, r->labels);
        if (task_failed(r->task, t->spec, err, errlen)) return -1;
        sb_forward_result f = sb_model_forward(r->model, r->ids, r->mask, r->labels, 1, (uint64_t)c->seed, (uint32_t)call);
        /* reference: loss = mean over the micro-batch / accumulation steps */
        if (f.counted) sb_model_backward(r->model, 1.0f / ((float)f.counted * (float)accum));
        if (r->dw) { /* mean density of the step's examples per layer x head */
            gather_density(r, t->step_dens);
            float *row = mt->train_density + (size_t)mt->n_train * r->dw;
            for (int b = 0; b < B; b++)
                for (int j = 0; j < r->dw; j++) row[j] += t->step_dens[(size_t)b * r->dw + j] / (float)(B * accum);
        }
        loss_sum += f.loss_sum;
        correct += f.correct;
        counted += f.counted;
    }
    double lr, beta1;
    sb_one_cycle_at(sched, step, &lr, &beta1);
    for (int q = 0; q < t->n_ranges; q++) {
        const size_t o = t->range_start[q];
        r->be->adamw(r->be, t->params + o, t->grads + o, t->adam_m + o, t->adam_v + o, t->range_len[q], (float)lr,
                     (float)beta1, (float)c->adam_beta2, (float)c->adam_eps, (float)c->weight_decay, step + 1);
    }
    *loss = loss_sum / (double)(counted ? counted : 1), *acc = (double)correct / (double)(counted ? counted : 1);
    if (!isfinite(*loss)) {
        snprintf(err, errlen, "run %s: training loss is %g at step %d", t->spec->id, *loss, step);
        return -1;
    }
    mt->train_step[mt->n_train] = step;
    mt->train_loss[mt->n_train] = (float)*loss;
    mt->train_acc[mt->n_train] = (float)*acc;
    mt->train_lr[mt->n_train] = (float)lr;
    mt->train_beta1[mt->n_train] = (float)beta1;
    mt->n_train++;
    return 0;
}

/* Evaluate on dev after `step`, record the point, and keep the parameters
 * in best.bin when they are the best so far (strictly). 0, or -1. */
static int evaluate_dev(trainer *t, int step, double *dev_acc, char *err, size_t errlen) {
    sb_metrics *mt = &t->mt;
    double dl, da;
    evaluate(&t->r, SB_SPLIT_DEV, t->c->eval_batches, &dl, &da, NULL);
    if (task_failed(t->r.task, t->spec, err, errlen)) return -1;
    mt->dev_step[mt->n_dev] = step;
    mt->dev_loss[mt->n_dev] = (float)dl;
    mt->dev_acc[mt->n_dev] = (float)da;
    mt->n_dev++;
    *dev_acc = da;
    if (da > t->st.best_dev_acc) {
        t->st.best_dev_acc = da;
        t->st.best_dev_step = step;
        sb_ckpt_section best[1] = {{"params", t->params, sizeof(float) * t->n}};
        if (sb_checkpoint_write(t->path_best, best, 1, err, errlen)) return -1;
    }
    return 0;
}

/* The test density's part of final.json: the mean over test examples per
 * layer x head and overall, and the last step's training density; nulls for
 * a variant without density. */
static void density_to_json(cJSON *f, const trainer *t) {
    const sb_metrics *mt = &t->mt;
    const int dw = t->r.dw;
    if (!dw) {
        cJSON_AddNullToObject(f, "density");
        cJSON_AddNullToObject(f, "density_per_layer_head");
        return;
    }
    const int L = t->c->n_layers, H = t->c->n_heads;
    double all = 0.0;
    cJSON *lh = cJSON_AddArrayToObject(f, "density_per_layer_head");
    for (int l = 0; l < L; l++) {
        cJSON *row = cJSON_CreateArray();
        for (int h = 0; h < H; h++) {
            double sum = 0.0;
            for (int x = 0; x < mt->n_test; x++) sum += mt->test_density[(size_t)x * dw + l * H + h];
            cJSON_AddItemToArray(row, cJSON_CreateNumber(sum / mt->n_test));
            all += sum / mt->n_test;
        }
        cJSON_AddItemToArray(lh, row);
    }
    cJSON_AddNumberToObject(f, "density", all / (L * H));
    const float *last = mt->train_density + (size_t)(mt->n_train - 1) * dw;
    double tr = 0.0;
    for (int j = 0; j < dw; j++) tr += last[j];
    cJSON_AddNumberToObject(f, "final_train_density", tr / dw);
}

/* Test the best-dev parameters, measure their inference cost, write
 * metrics.h5 and then final.json (which marks the run complete), and remove
 * the checkpoint. 0, or -1 and a message in err. */
static int test_and_finish(trainer *t, char *err, size_t errlen) {
    const sb_run_config *c = t->c;
    sb_task *task = t->r.task;
    sb_metrics *mt = &t->mt;
    const int dw = t->r.dw;
    sb_ckpt_section best[1] = {{"params", t->params, sizeof(float) * t->n}};
    if (sb_checkpoint_read(t->path_best, best, 1, err, errlen)) return -1;
    const int64_t test_size = task->split_size[SB_SPLIT_TEST];
    const int n_test = sb_run_test_batches(c, task);
    int64_t test_examples = test_size >= 0 ? test_size : (int64_t)n_test * c->micro_batch;
    double test_loss, test_acc;
    if (dw) mt->test_density = calloc((size_t)n_test * c->micro_batch * dw, sizeof(float));
    evaluate(&t->r, SB_SPLIT_TEST, n_test, &test_loss, &test_acc, mt->test_density);
    if (task_failed(task, t->spec, err, errlen)) return -1;
    if (dw) mt->n_test = (int)test_examples; /* the padding rows come last and are not counted */
    sb_inference_cost cost;
    sb_run_measure_cost(c, task, &t->mc, t->params, &cost);
    mt->cost = &cost;
    /* final train loss: mean over the last eval_every steps (a single step is noisy) */
    int w = mt->n_train < c->eval_every ? mt->n_train : c->eval_every;
    double fl = 0.0;
    for (int i = mt->n_train - w; i < mt->n_train; i++) fl += mt->train_loss[i];
    fl /= w > 0 ? w : 1;
    int rc = sb_metrics_write(mt, t->path_metrics, t->spec->id, c->task, c->model, err, errlen);
    mt->cost = NULL;
    if (rc) {
        sb_inference_cost_free(&cost);
        return -1;
    }
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "id", t->spec->id);
    cJSON_AddStringToObject(f, "variant", t->spec->variant);
    cJSON_AddStringToObject(f, "task", c->task);
    cJSON_AddStringToObject(f, "model", c->model);
    cJSON_AddNumberToObject(f, "seed", (double)c->seed);
    cJSON_AddStringToObject(f, "status", "done");
    cJSON_AddNumberToObject(f, "steps", c->steps);
    cJSON_AddNumberToObject(f, "train_seconds", t->st.train_seconds);
    cJSON_AddNumberToObject(f, "final_train_loss", fl);
    cJSON_AddNumberToObject(f, "dev_accuracy", t->st.best_dev_acc);
    cJSON_AddNumberToObject(f, "test_accuracy", test_acc);
    density_to_json(f, t);
    sb_cost_to_json(f, &cost);
    sb_inference_cost_free(&cost);
    cJSON_AddNumberToObject(f, "test_loss", test_loss);
    cJSON_AddNumberToObject(f, "test_examples", (double)test_examples);
    cJSON_AddNumberToObject(f, "best_dev_step", t->st.best_dev_step + 1);
    cJSON_AddNumberToObject(f, "num_params", (double)t->n);
    cJSON_AddNumberToObject(f, "threads", omp_get_max_threads());
    cJSON_AddNumberToObject(f, "peak_rss_bytes", (double)sb_process_peak_rss());
    rc = sb_write_json_atomic(t->path_final, f, err, errlen);
    cJSON_Delete(f);
    if (rc) return -1;
    unlink(t->path_ckpt); /* the run is complete: best.bin and metrics.h5 remain */
    return 0;
}

sb_run_status sb_train_run(const sb_run_spec *spec, const char *run_dir, const sb_train_opts *o,
                           char *err, size_t errlen) {
    const sb_run_config *c = &spec->cfg;
    sb_task *task = sb_task_find(c->task)->open(c, err, errlen);
    if (!task) return SB_RUN_FAILED;
    trainer *t = malloc(sizeof *t);
    trainer_init(t, spec, run_dir, task);
    train_state *st = &t->st;
    sb_run_status status = SB_RUN_FAILED;
    if (resume_or_init(t, o, err, errlen)) goto done;

    sb_one_cycle sched = {.max_lr = c->lr, .total_steps = c->steps, .warmup_steps = c->warmup_steps,
                          .div_factor = c->div_factor, .final_div_factor = c->final_div_factor,
                          .cycle_momentum = c->cycle_momentum, .beta1_max = c->beta1_max,
                          .beta1_min = c->beta1_min, .beta1_fixed = c->adam_beta1};
    const char *stop_env = getenv("SBMBENCH_INTERRUPT_AT_STEP"); /* test hook: raise SIGINT after this step */
    const int stop_at = stop_env ? atoi(stop_env) : -1;
    const double t0 = sb_now_seconds(), seconds_before = st->train_seconds; /* earlier sessions' time */
    double last_draw = 0.0, dev_acc = st->best_dev_acc;
    for (int step = st->next_step; step < c->steps; step++) {
        double loss, acc;
        if (train_step(t, &sched, step, &loss, &acc, err, errlen)) goto done;
        const int last = step + 1 == c->steps;
        if (((step + 1) % c->eval_every == 0 || last) && evaluate_dev(t, step, &dev_acc, err, errlen)) goto done;
        if (step == stop_at) raise(SIGINT);
        double now = sb_now_seconds();
        if (!o->progress_tty ? ((step + 1) % c->eval_every == 0 || last) : (now - last_draw > 0.2 || last)) {
            progress(o, spec->id, step + 1, c->steps, loss, acc, dev_acc, seconds_before + now - t0);
            last_draw = now;
        }
        if ((step + 1) % c->checkpoint_every == 0 || sb_interrupted || last) {
            st->next_step = step + 1;
            st->n_train = t->mt.n_train;
            st->n_dev = t->mt.n_dev;
            st->train_seconds = seconds_before + now - t0;
            if (!last && sb_checkpoint_write(t->path_ckpt, t->sec, CKPT_NSECTIONS, err, errlen)) goto done;
            if (!last && sb_metrics_write(&t->mt, t->path_metrics, spec->id, c->task, c->model, err, errlen)) goto done;
            if (sb_interrupted && !last) {
                if (o->progress_tty) fputc('\n', stderr);
                status = SB_RUN_INTERRUPTED;
                goto done;
            }
        }
    }
    if (o->progress_tty) fputc('\n', stderr);
    if (test_and_finish(t, err, errlen) == 0) status = SB_RUN_DONE;
done:
    trainer_free(t);
    free(t);
    task->ops->close(task);
    return status;
}
