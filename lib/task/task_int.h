/* task_int.h - what the files of lib/task share; not for other folders. */
#ifndef SQ_TASK_INT_H
#define SQ_TASK_INT_H

#include "base/json.h"
#include "task/task.h"

/* The backend kind called name ("colmap", ...), or -1. */
int sq_task_backend_parse(const char *name);

/* Adds "video_ids" (parallel to "videos") to a task's JSON object o, when the
 * task has identities: tasks without keep the JSON, and so the version, they
 * always had. */
void sq_task_ids_to_json(cJSON *o, const struct sq_task *t);

/* Reads the optional "video_ids" of o into t (t->nvideos already set). */
int sq_task_ids_from_json(const cJSON *o, struct sq_task *t, struct sq_err *err);

#endif
