/* Per-run metrics in HDF5 (metrics.h5):
 *   /train/step int32 [S], /train/loss, /train/accuracy, /train/lr, /train/beta1 float32 [S]
 *   /dev/step int32 [E], /dev/loss, /dev/accuracy float32 [E]
 *   /train/density float32 [S, L*H]   mean over the step's examples  } variants with
 *   /test/density float32 [X, L*H]    per test example               } a density only
 * root attributes: run_id, task, model. Written to metrics.h5.tmp, renamed. */
#ifndef SB_METRICS_H5_H
#define SB_METRICS_H5_H
#include <stddef.h>

typedef struct {
    int n_train, n_dev, cap_train, cap_dev;
    int density_width; /* L*H, 0 if none */
    int *train_step, *dev_step;
    float *train_loss, *train_acc, *train_lr, *train_beta1, *train_density;
    float *dev_loss, *dev_acc;
    int n_test;                /* examples in test_density */
    float *test_density;       /* [n_test, density_width], owned */
} sb_metrics;

void sb_metrics_init(sb_metrics *m, int cap_train, int cap_dev, int density_width);
void sb_metrics_free(sb_metrics *m);
int sb_metrics_write(const sb_metrics *m, const char *path, const char *run_id, const char *task,
                     const char *model, char *err, size_t errlen);

#endif
