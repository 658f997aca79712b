/* taskfile_schema.h - internal to the taskfile module (taskfile*.c).
 *
 * taskfile_schema.c turns one YAML file into a "layer": for every key of the task
 * file schema, whether the file set it, its checked value and where it was. It is
 * the only code that sees libyaml. taskfile.c merges the acquisition.yaml layer
 * with each task file's layer and does the checks that span files. */
#ifndef SQ_TASKFILE_SCHEMA_H
#define SQ_TASKFILE_SCHEMA_H

#include "task/taskfile.h"

#include <stddef.h>

/* Every leaf key of the schema. Reconstruct and stitch keys are in the same
 * order so that SQ_TF_ST_X - SQ_TF_RC_BACKEND == SQ_TF_RC_X - SQ_TF_RC_BACKEND. */
enum sq_tf_field {
	SQ_TF_ACQUISITION = 0,
	SQ_TF_OUTPUT_ROOT,
	SQ_TF_GROUP,
	SQ_TF_NAME,
	SQ_TF_VIDEOS,
	SQ_TF_EX_FPS,
	SQ_TF_EX_WIDTH,
	SQ_TF_EX_HEIGHT,
	SQ_TF_EX_QUALITY,
	SQ_TF_RC_BACKEND,
	SQ_TF_RC_COMMAND,
	SQ_TF_RC_TIMEOUT,
	SQ_TF_RC_DONE_WHEN,
	SQ_TF_RC_VRAM,
	SQ_TF_RC_RAM,
	SQ_TF_ST_BACKEND,
	SQ_TF_ST_COMMAND,
	SQ_TF_ST_TIMEOUT,
	SQ_TF_ST_DONE_WHEN,
	SQ_TF_ST_VRAM,
	SQ_TF_ST_RAM,
	SQ_TF_RT_MAX_ATTEMPTS,
	SQ_TF_RT_BACKOFF,
	SQ_TF_RC_STRIDE, /* reconstruct only: the RAM-aware stride, any backend */
	SQ_TF_RC_BYTES_PER_FRAME,
	SQ_TF_RC_MEMORY_BUDGET,
	SQ_TF_CM_THREADS, /* reconstruct.colmap */
	SQ_TF_CM_MAX_IMAGE_SIZE,
	SQ_TF_CM_MAX_FEATURES,
	SQ_TF_CM_OVERLAP,
	SQ_TF_CM_MIN_REGISTERED,
	SQ_TF_CM_CAMERA_MODEL,
	SQ_TF_CM_CAMERA_PARAMS,
	SQ_TF_COUNT,
};

/* Offsets inside a backend's block of fields (reconstruct or stitch). */
enum sq_tf_backend_key {
	SQ_TF_BK_BACKEND = 0,
	SQ_TF_BK_COMMAND,
	SQ_TF_BK_TIMEOUT,
	SQ_TF_BK_DONE_WHEN,
	SQ_TF_BK_VRAM,
	SQ_TF_BK_RAM,
	SQ_TF_BK_COUNT,
};

enum sq_tf_section {
	SQ_TF_SEC_TOP = 0,
	SQ_TF_SEC_EXTRACT,
	SQ_TF_SEC_RECONSTRUCT,
	SQ_TF_SEC_STITCH,
	SQ_TF_SEC_RETRY,
	SQ_TF_SEC_COLMAP, /* reconstruct: { colmap: { ... } } */
	SQ_TF_SEC_COUNT,
};

struct sq_tf_pos {
	int line, col; /* 1-based; 0 = no position */
};

struct sq_tf_item {
	char *s;	      /* video: resolved absolute path or URL; argv: the template item */
	struct sq_tf_pos pos; /* of the string (a video given as a map: of its path) */
	long long until_ms;   /* video: decode only this much of it; 0 = the whole file */
};

enum sq_tf_state {
	SQ_TF_UNSET = 0,
	SQ_TF_OK,
	SQ_TF_BAD, /* set but invalid: a diagnostic was already reported */
};

struct sq_tf_value {
	enum sq_tf_state state;
	struct sq_tf_pos key_pos, pos; /* of the key and of its value */
	long long i;		  /* int, size, backend kind, duration ms; done_when: 1 = file */
	int num, den;		  /* fps */
	char *s;		  /* name, resolved path, done_when text, choice */
	struct sq_tf_item *items; /* videos, command; camera_params: each number's position */
	size_t nitems;
	double *nums; /* camera_params: nitems finite numbers */
};

struct sq_tf_layer {
	char *file;	      /* path as given */
	int parsed;	      /* 0: unreadable or not YAML (already reported) */
	struct sq_tf_pos pos; /* where the document starts, for file-wide problems */
	struct sq_tf_pos section_pos[SQ_TF_SEC_COUNT]; /* line 0: section absent */
	struct sq_tf_value v[SQ_TF_COUNT];
};

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

/* "invalid group name 'a b' (...)"-style explanation of the name rule. */
#define SQ_TF_NAME_RULE "1 to 64 characters from A-Z a-z 0-9 . _ -"

#endif
