/* stage.h - running one stage of one job on this host, crash-safely.
 *
 * Every stage runs inside one stage transaction (txn.h): its record is
 * removed first, its outputs are built in a work folder and published into
 * place, and its record (record.h) is written last. A crash at any instant
 * leaves either no record or a record matching the outputs; the next
 * attempt removes what a killed one left behind. Where the outputs live is
 * the store's business (store.h): this host's filesystem by default. */
#ifndef SQ_STAGE_H
#define SQ_STAGE_H

#include "base/err.h"
#include "stage/stage_ctx.h"
#include "task/task.h"

#include <stddef.h>

/* Runs extract or reconstruct of task t. */
int sq_stage_run_task(const struct sq_task *t, enum sq_stage stage, struct sq_stage_ctx *ctx,
		      struct sq_err *err);

/* Runs a stitch: inputs are the output dirs of the tasks (group stitch) or groups
 * (acquisition stitch) whose PLYs are merged into s->outdir/stitch.ply. */
int sq_stage_run_stitch(const struct sq_stitch_spec *s, const char *const *inputs, size_t ninputs,
			struct sq_stage_ctx *ctx, struct sq_err *err);

/* The output root of a stitch (its outdir is the acquisition's output root or
 * a group folder in it): new string. */
char *sq_stage_stitch_root(const struct sq_stitch_spec *s);

/* 1 if the stage's record for this task version is present in store (NULL:
 * local). */
int sq_stage_task_done(struct sq_store *store, const struct sq_task *t, enum sq_stage stage);

#endif
