/* Per-run metrics in HDF5 (metrics.h5):
 *   /train/step int32 [S], /train/loss, /train/accuracy, /train/lr, /train/beta1 float32 [S]
 *   /dev/step int32 [E], /dev/loss, /dev/accuracy float32 [E]
 *   /train/density float32 [S, L*H]   mean over the step's examples  } variants with
 *   /test/density float32 [X, L*H]    per test example               } a density only
 * inference cost (experiments/measure.h), once tested:
 *   /test/flops float64 [M], /test/peak_bytes float64 [M]   per measured example
 *   /test/inference_density float32 [M, L*H]                 the same examples' densities
 *   /test/maps/{example int32 [K], label int32 [K], input_ids int32 [K,T],
 *               indegree float32 [K,L,H,T], density float32 [K,L*H]}
 *                                    density maps of a few test examples (image tasks)
 *   /test/maps attribute image_side  the images' side S: positions 0..S*S-1 of the T
 *                                    are the pixels, row-major, the rest padding
 *                                    (absent in files written before it)
 * root attributes: run_id, task, model. Written to metrics.h5.tmp, renamed. */
#ifndef SB_METRICS_H5_H
#define SB_METRICS_H5_H
#include <hdf5.h>
#include <stddef.h>
#include "experiments/measure.h"

typedef struct {
    int n_train, n_dev, cap_train, cap_dev;
    int density_width; /* L*H, 0 if none */
    int *train_step, *dev_step;
    float *train_loss, *train_acc, *train_lr, *train_beta1, *train_density;
    float *dev_loss, *dev_acc;
    int n_test;                /* examples in test_density */
    float *test_density;       /* [n_test, density_width], owned */
    const sb_inference_cost *cost; /* NULL until measured; not owned */
} sb_metrics;

void sb_metrics_init(sb_metrics *m, int cap_train, int cap_dev, int density_width);
void sb_metrics_free(sb_metrics *m);
int sb_metrics_write(const sb_metrics *m, const char *path, const char *run_id, const char *task,
                     const char *model, char *err, size_t errlen);

/* A copy of the metrics file at path whose inference cost (/test/flops,
 * /test/peak_bytes, /test/inference_density, /test/maps) is c's, written to
 * tmp (path.tmp) for the caller to rename into place: 0 on success, with
 * *slot the temporary's entry for removal on a signal (core/atomic_file.h:
 * the caller releases it once the file is renamed or removed); else a
 * message naming path in err, and no temporary left. The old datasets'
 * space stays in the file (HDF5 does not reclaim it; h5repack would): each
 * replacement adds their size, tens of KB for an image task's maps. */
int sb_metrics_cost_replaced(const char *path, const sb_inference_cost *c, char *tmp, size_t tmplen, int *slot,
                             char *err, size_t errlen);

/* Dataset `name` of `rank` dims in an open file, intermediate groups
 * created, `data` written unless the dataset is empty; 0, or -1 on any HDF5
 * error. */
int sb_h5_write(hid_t file, const char *name, hid_t type, const void *data, int rank, const hsize_t *dims);

/* Read one dataset of an HDF5 file as float32 (HDF5 converts ints and
 * doubles), rank <= 4: *data malloc'd, dims[0..rank-1] filled (the rest 1). 0 on success;
 * else a message naming the file and dataset in err. */
int sb_h5_read_floats(const char *path, const char *name, float **data, int *rank, size_t dims[4], char *err,
                      size_t errlen);

/* An integer attribute `name` of the group or dataset `object` ("/" for the
 * root) of an HDF5 file: 0 and *value when present, 1 when the attribute or
 * object is absent or unreadable, -1 when the file cannot be opened. */
int sb_h5_read_int_attr(const char *path, const char *object, const char *name, long long *value);

#endif
