/* The file-backed tasks' training order (tasks/h5_task.c): each epoch walks
 * a Fisher-Yates permutation of the train rows, keyed by (seed, epoch). On a
 * small ListOps file whose train row r starts with token r + 1, over 4 seeds
 * x 1000 epochs: every epoch's batches hold each row once, with its label;
 * rows stay in place as often as a uniform permutation leaves them (about 63%
 * of epochs keep at least one; Sattolo's algorithm, which draws j < i where
 * Fisher-Yates draws j <= i, makes only cyclic permutations and keeps none);
 * every row is equally likely at every position, the first included (each
 * count within 6 binomial standard deviations of E/N); and an epoch asked for
 * again, after later ones, comes back in the same order (a resumed run sees
 * the same batches). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "data_prep/h5_dataset.h"
#include "experiments/config.h"
#include "tasks/task.h"
#include "tests/test_util.h"

enum { N = 8, L = 4, B = 4, C = 3, SEEDS = 4, EPOCHS = 1000 };

/* The train split's order in epoch e: its N / B batches, row by row. 0 when
 * every id is a row's marker and every label that row's. */
static int epoch_order(sb_task *t, int64_t e, int *order) {
    int32_t ids[B * L], labels[B];
    float mask[B * L];
    int ok = 1;
    for (int k = 0; k < N / B; k++) {
        t->batch(t, SB_SPLIT_TRAIN, (uint64_t)(e * (N / B) + k), B, ids, mask, labels);
        for (int b = 0; b < B; b++) {
            const int row = ids[b * L] - 1;
            order[k * B + b] = row;
            ok &= row >= 0 && row < N && labels[b] == row % C && mask[b * L] == 1.0f;
        }
    }
    return ok && !t->error[0] ? 0 : -1;
}

int main(void) {
    char dir[] = "/tmp/sb_h5task_XXXXXX", path[128], err[1024];
    if (!tu_check(mkdtemp(dir) != NULL, "a scratch folder")) return tu_finish();
    snprintf(path, sizeof path, "%s/listops.h5", dir);
    sb_h5ds_writer *w = sb_h5ds_create(path, "listops", 1, L, err, sizeof err);
    int ok = w != NULL;
    if (w) {
        sb_h5ds_attr_int(w, "vocab_size", N + 1);
        sb_h5ds_attr_int(w, "n_classes", C);
        const int rows[3] = {N, 1, 1};
        for (int s = 0; s < 3; s++)
            for (int r = 0; r < rows[s]; r++) {
                const int32_t ids[L] = {r + 1, 1, 0, 0};
                ok &= sb_h5ds_append(w, s, ids, NULL, r % C) == 0;
            }
        ok = !sb_h5ds_finish(w, ok, err, sizeof err) && ok;
    }
    if (!tu_check(ok, "fixture %s with %d train rows", path, N)) {
        printf("%s\n", err);
        return tu_finish();
    }
    static long count[N][N]; /* [position][row] */
    int perms = 1, again = 1, epochs_fixed = 0, order[N], first[N];
    for (int seed = 1; seed <= SEEDS; seed++) {
        sb_run_config c;
        sb_config_init(&c);
        snprintf(c.task, sizeof c.task, "listops");
        snprintf(c.data_file, sizeof c.data_file, "%s", path);
        c.seed = seed, c.seq_len = L, c.micro_batch = B;
        sb_task *t = sb_task_find("listops")->open(&c, err, sizeof err);
        if (!tu_check(t != NULL, "seed %d: the task opens%s%s", seed, t ? "" : ": ", t ? "" : err)) break;
        for (int64_t e = 0; e < EPOCHS; e++) {
            int seen[N] = {0}, fixed = 0;
            perms &= epoch_order(t, e, order) == 0;
            for (int p = 0; p < N; p++) {
                if (order[p] < 0 || order[p] >= N) continue;
                perms &= !seen[order[p]]++;
                count[p][order[p]]++;
                fixed |= order[p] == p;
            }
            epochs_fixed += fixed;
            if (e == 0) memcpy(first, order, sizeof first);
        }
        again &= epoch_order(t, 0, order) == 0 && !memcmp(order, first, sizeof first);
        t->ops->close(t);
    }
    const long E = (long)SEEDS * EPOCHS;
    tu_check(perms, "each of %ld epochs holds every train row once, with its label", E);
    /* P(a uniform permutation of 8 keeps some row in place) = 1 - D(8)/8! = 0.6321 */
    const double pf = 1.0 - 14833.0 / 40320.0, sf = sqrt(E * pf * (1 - pf));
    tu_check(fabs(epochs_fixed - E * pf) <= 6 * sf, "%d of %ld epochs keep some row in place (expected %.0f +- %.0f)",
             epochs_fixed, E, E * pf, 6 * sf);
    const double mean = (double)E / N, sd = sqrt(E * (1.0 / N) * (1 - 1.0 / N));
    double worst = 0.0;
    for (int p = 0; p < N; p++)
        for (int r = 0; r < N; r++) worst = tu_worse(worst, fabs(count[p][r] - mean) / sd);
    char firsts[128] = "";
    for (int r = 0; r < N; r++)
        snprintf(firsts + strlen(firsts), sizeof firsts - strlen(firsts), "%s%ld", r ? " " : "", count[0][r]);
    tu_check(worst <= 6.0, "each row at each position %.0f +- %.0f times: worst %.1f sd (first position: %s)", mean,
             6 * sd, worst, firsts);
    tu_check(again, "epoch 0 asked for again, after %d later ones, comes back in the same order", EPOCHS - 1);
    tu_remove_fixture(dir);
    return tu_finish();
}
