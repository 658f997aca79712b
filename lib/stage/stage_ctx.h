/* stage_ctx.h - what a stage run is given by its caller (the worker, or
 * --local): hooks, GPU, who runs it, where outputs live; and what it hands
 * back for the queue. */
#ifndef SQ_STAGE_CTX_H
#define SQ_STAGE_CTX_H

#include "base/hooks.h"
#include "stage/store.h"

struct sq_media_read_opts; /* media/media.h */

struct sq_stage_ctx {
	struct sq_hooks hooks;	/* log, progress, cancelled (lease lost, shutdown) */
	const char *gpu;	/* value for {gpu} and CUDA_VISIBLE_DEVICES; NULL: none */
	int hwaccel;		/* extract: try hardware decoding */
	const struct sq_media_read_opts *media; /* extract: how videos are read; NULL: defaults */
	const char *worker_id;	/* recorded in provenance; NULL: "local" */
	struct sq_store *store; /* where outputs live; NULL: the local store */
	/* Result summary JSON for the queue (new string, free with free()), set on
	 * success: the stage's headline figures and "warnings" (a list; empty
	 * when the result is clean). */
	char *result_json;
};

#endif
