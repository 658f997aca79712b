/* stage.c - the entry points of the stages (see stage.h): which stage runs,
 * and whether a stage of a task is done. */
#include "stage/stage.h"
#include "stage/stage_int.h"
#include "task/layout.h"

#include <stdlib.h>

#include "base/banned.h"

int sq_stage_run_task(const struct sq_task *t, enum sq_stage stage, struct sq_stage_ctx *ctx,
		      struct sq_err *err)
{
	if (stage == SQ_STAGE_EXTRACT)
		return sq_stage_extract(t, ctx, err);
	if (stage == SQ_STAGE_RECONSTRUCT)
		return sq_stage_reconstruct(t, ctx, err);
	return sq_error(err, SQ_ERR_INVALID, "stage '%s' is not a task stage",
			sq_stage_name(stage) ? sq_stage_name(stage) : "?");
}

int sq_stage_task_done(struct sq_store *store, const struct sq_task *t, enum sq_stage stage)
{
	char *path = sq_layout_path(t->outdir, sq_layout_record(stage));
	char *text = sq_store_read(store, path, NULL, NULL);
	int done = sq_record_text_is_current(text, stage, t->version);

	free(text);
	free(path);
	return done;
}
