/* Name -> task. A new task adds its extern and its entry here. */
#include <string.h>
#include "experiments/config.h"
#include "experiments/util.h"
#include "tasks/task.h"

extern const sb_task_ops sb_task_synthetic, sb_task_listops, sb_task_text, sb_task_retrieval, sb_task_image,
    sb_task_pathfinder;

static const sb_task_ops *const tasks[] = {
    &sb_task_synthetic, &sb_task_listops, &sb_task_text, &sb_task_retrieval, &sb_task_image, &sb_task_pathfinder,
};

const sb_task_ops *sb_task_find(const char *name) {
    for (size_t i = 0; i < sizeof tasks / sizeof tasks[0]; i++)
        if (strcmp(tasks[i]->name, name) == 0) return tasks[i];
    return NULL;
}

const char *sb_task_data_file(const sb_task_ops *ops, const sb_run_config *cfg) {
    return cfg->data_file[0] ? cfg->data_file : ops->default_data_file;
}

/* The names above, comma-separated (built once, from the table). */
const char *sb_task_names(void) {
    static char names[256];
    if (!names[0])
        for (size_t i = 0, at = 0; i < sizeof tasks / sizeof tasks[0]; i++)
            at = sb_appendf(names, sizeof names, at, "%s%s", i ? ", " : "", tasks[i]->name);
    return names;
}
