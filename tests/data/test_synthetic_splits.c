/* The synthetic task's splits (tasks/synthetic.c) are three different streams:
 * with the run's seed equal to data_seed (so that only the split tells them
 * apart) and as many dev as test batches, no dev example equals a test
 * example (the dev set is not the first test batches), and no training
 * example of the first batches equals a dev or test one; while redrawing any
 * batch gives it again, so the differences are the splits', not noise. */
#include <string.h>
#include "experiments/config.h"
#include "tasks/task.h"
#include "tests/test_util.h"

enum { N = 16, B = 4, BATCHES = 3, ROWS = B * BATCHES };

/* The ids of the first BATCHES batches of split, one example a row of N. */
static void draw(sb_task *t, sb_split split, int32_t *ids) {
    static float mask[B * N];
    static int32_t labels[B * N];
    for (int i = 0; i < BATCHES; i++) t->batch(t, split, (uint64_t)i, B, ids + (size_t)i * B * N, mask, labels);
}

/* Rows of a that equal some row of b. */
static int shared_rows(const int32_t *a, const int32_t *b) {
    int n = 0;
    for (int i = 0; i < ROWS; i++)
        for (int j = 0; j < ROWS; j++)
            if (!memcmp(a + (size_t)i * N, b + (size_t)j * N, sizeof(int32_t) * N)) {
                n++;
                break;
            }
    return n;
}

int main(void) {
    sb_run_config c;
    sb_config_init(&c);
    snprintf(c.task, sizeof c.task, "synthetic");
    const sb_task_ops *ops = sb_task_find(c.task);
    ops->defaults(&c);
    c.seq_len = N;
    c.batch_size = c.micro_batch = B;
    c.eval_batches = c.test_batches = BATCHES;
    c.seed = c.data_seed;
    sb_config_resolve(&c);
    char err[256];
    sb_task *t = ops->open(&c, err, sizeof err);
    if (!t) {
        printf("FAIL  open the synthetic task: %s\n", err);
        return 1;
    }
    tu_check(t->split_size[SB_SPLIT_DEV] == ROWS && t->split_size[SB_SPLIT_TEST] == ROWS,
             "dev and test sets of %d examples each (%lld, %lld)", ROWS, (long long)t->split_size[SB_SPLIT_DEV],
             (long long)t->split_size[SB_SPLIT_TEST]);
    static int32_t train[ROWS * N], dev[ROWS * N], test[ROWS * N], again[ROWS * N];
    const char *names[3] = {"train", "dev", "test"};
    int32_t *sets[3] = {train, dev, test};
    for (int s = 0; s < 3; s++) {
        draw(t, (sb_split)s, sets[s]);
        draw(t, (sb_split)s, again);
        tu_check(!memcmp(sets[s], again, sizeof again), "%s: a batch drawn again is the same", names[s]);
    }
    int n = shared_rows(dev, test);
    tu_check(n == 0, "dev and test sets share no example (%d of %d dev examples are test examples)", n, ROWS);
    n = shared_rows(train, dev);
    tu_check(n == 0, "training batches share no example with the dev set (%d of %d)", n, ROWS);
    n = shared_rows(train, test);
    tu_check(n == 0, "training batches share no example with the test set (%d of %d)", n, ROWS);
    ops->close(t);
    return tu_finish();
}
