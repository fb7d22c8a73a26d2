/* Name -> task. New tasks add one line here. */
#include <string.h>
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

const char *sb_task_names(void) { return "synthetic, listops, text, retrieval, image, pathfinder"; }
