/* stage.h - running one stage of one job on this host, crash-safely.
 *
 * Every stage builds its output in a temporary sibling (<name>.tmp.<pid>), renames
 * it into place, and writes its record (record.h) last; the previous record is
 * removed before anything is touched, so a crash at any instant leaves either no
 * record or a record matching the outputs. Leftover temporaries of a killed
 * attempt are removed by the next attempt. */
#ifndef SQ_STAGE_H
#define SQ_STAGE_H

#include "base/err.h"
#include "task/task.h"

#include <stddef.h>

struct sq_stage_ctx {
	const char *gpu; /* value for {gpu} and CUDA_VISIBLE_DEVICES; NULL: none */
	int hwaccel;	 /* extract: try hardware decoding */
	void (*progress)(void *ctx, long long done, long long total); /* may be NULL */
	int (*cancelled)(void *ctx); /* non-zero: stop now (lease lost, shutdown) */
	void (*log)(void *ctx, const char *line); /* may be NULL */
	void *ctx;
	/* Result summary JSON for the queue (new string, free with free()), set on
	 * success; may be left NULL. */
	char *result_json;
};

/* Runs extract or reconstruct of task t. */
int sq_stage_run_task(const struct sq_task *t, enum sq_stage stage, struct sq_stage_ctx *ctx,
		      struct sq_err *err);

/* Runs a stitch: inputs are the output dirs of the tasks (group stitch) or groups
 * (acquisition stitch) whose PLYs are merged into s->outdir/stitch.ply. */
int sq_stage_run_stitch(const struct sq_stitch_spec *s, const char *const *inputs, size_t ninputs,
			struct sq_stage_ctx *ctx, struct sq_err *err);

/* 1 if the stage's record for this task version is present. */
int sq_stage_task_done(const struct sq_task *t, enum sq_stage stage);

#endif
