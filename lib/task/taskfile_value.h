/* taskfile_value.h - the vocabulary of a task file once read: its keys
 * (fields and sections), positions, and checked values. Shared by the schema
 * walker (taskfile_schema.c), the value checkers (taskfile_check.c) and the
 * loader (taskfile.c); internal to the taskfile module. */
#ifndef SQ_TASKFILE_VALUE_H
#define SQ_TASKFILE_VALUE_H

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

/* "invalid group name 'a b' (...)"-style explanation of the name rule. */
#define SQ_TF_NAME_RULE "1 to 64 characters from A-Z a-z 0-9 . _ -"

#endif
