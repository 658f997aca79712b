/* taskfile_schema.h - internal to the taskfile module (taskfile*.c).
 *
 * taskfile_schema.c turns one YAML file into a "layer": for every key of the task
 * file schema, whether the file set it, its checked value and where it was
 * (libyaml's nodes are read through taskfile_yaml.h, by the taskfile_*.c files
 * of this folder only).
 * taskfile.c merges the acquisition.yaml layer
 * with each task file's layer and does the checks that span files. */
#ifndef SQ_TASKFILE_SCHEMA_H
#define SQ_TASKFILE_SCHEMA_H

#include "task/taskfile.h"
#include "task/taskfile_value.h"

#include <stddef.h>

/* Reads and checks one YAML file into l (zeroed by the call). Every problem is
 * added to diags. Returns 0 if the file had no problem, -1 otherwise; l is usable
 * either way and must be released. */
int sq_taskfile_layer_load(struct sq_tf_layer *l, const char *file, struct sq_diags *diags);
void sq_taskfile_layer_release(struct sq_tf_layer *l);

/* The per-video limits of a videos value, for struct sq_task's video_until_ms:
 * new array of v->nitems entries, or NULL when no video has one. */
long long *sq_taskfile_video_until(const struct sq_tf_value *v);

/* The key a field is set by, e.g. "quality" (static storage). */
const char *sq_taskfile_field_key(enum sq_tf_field f);

/* Adds a diagnostic for file at pos (line 0: the whole file). */
void sq_taskfile_diag(struct sq_diags *d, const char *file, struct sq_tf_pos pos, const char *fmt,
		      ...) __attribute__((format(printf, 4, 5)));

/* Sorts d->v[from..] by file, line, col (stable) and drops repeats: a bad key of
 * acquisition.yaml is found again with every task file. */
void sq_taskfile_diags_sort(struct sq_diags *d, size_t from);

/* An errno as a lowercase message ("no such file"): a static text, or buf. */
const char *sq_tf_errno_text(int e, char *buf, size_t len);

#endif
