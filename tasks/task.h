/* The task interface: where batches come from, what the labels mean, and the
 * paper's setup for the task (its defaults). One file per task. */
#ifndef SB_TASK_H
#define SB_TASK_H

#include <stddef.h>
#include <stdint.h>

struct sb_run_config;

typedef enum { SB_SPLIT_TRAIN = 0, SB_SPLIT_DEV = 1, SB_SPLIT_TEST = 2 } sb_split;

typedef struct sb_task sb_task;

typedef struct sb_task_ops {
    const char *name;
    const char *description;
    /* Overwrite cfg's task-dependent fields with the paper's setup for this task. */
    void (*defaults)(struct sb_run_config *cfg);
    /* Open the task for a resolved config; NULL with a message in err on failure. */
    sb_task *(*open)(const struct sb_run_config *cfg, char *err, size_t errlen);
    void (*close)(sb_task *t);
    /* The file the task reads when a run sets no data_file; NULL: it reads
     * none (a generated task). */
    const char *default_data_file;
} sb_task_ops;

/* What every opened task exposes; task files embed it first in their struct. */
struct sb_task {
    const sb_task_ops *ops;
    int vocab_size, seq_len, n_classes;
    int token_level;          /* labels per token ([B,T]) instead of per example ([B]) */
    int n_seqs;               /* sequences per example: 1, or 2 for pair tasks (retrieval); 0 reads as 1 */
    int64_t split_size[3];    /* examples per split; -1: generated without end */
    /* Side of the square images of an image-like task: each sequence starts
     * with image_side^2 pixels, row-major, and any rest up to seq_len is
     * padding. 0: not an image, or a data file too old to say (the density
     * maps need it: seq_len alone does not give the grid once it pads). */
    int image_side;
    /* Fill B examples: batch `index` of `split` (for training, index is the
     * global micro-batch counter). ids/mask [B,T], labels [B] or [B,T].
     * Pair tasks fill ids/mask [2,B,T]: all first sequences, then all second.
     * Past the end of a finite dev/test split, rows get label -1 (not
     * counted) and an all-padding sequence, so the last batch may be partial. */
    void (*batch)(sb_task *t, sb_split split, uint64_t index, int B, int32_t *ids, float *mask,
                  int32_t *labels);
    /* Empty until batch() meets data it cannot use (an unreadable row, a
     * token id outside the vocabulary): then the first such problem, naming
     * the file, split and row, and the rows concerned come back as padding.
     * Callers check it after every batch and fail the run (not the process). */
    char error[1024];
};

const sb_task_ops *sb_task_find(const char *name);
/* The data file a run of task ops (not NULL) reads: its config's data_file,
 * else the task's default; NULL when it reads none. */
const char *sb_task_data_file(const sb_task_ops *ops, const struct sb_run_config *cfg);
const char *sb_task_names(void);

#endif
