/* stage_recon.c - reconstruct: a task's frames to reconstruction.ply (and its
 * descriptors) and reconstruct.json, by the colmap or a command backend,
 * through the stage transaction. */
#include "stage/stage_int.h"
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "stage/colmap.h"
#include "task/layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

/* What one reconstruct attempt holds. */
struct recon {
	const struct sq_task *t;
	struct sq_stage_ctx *ctx;
	struct sq_txn *x;
	struct sq_frames_record frames; /* extract's record */
	char frames_stamp[SQ_STORE_STAMP_MAX]; /* of its text: which frames it vouches for */
	char *frames_dir;		/* a local path of the task's frames */
	char *ply, *sift;		/* outputs, in the transaction's work folder */
	struct sq_reconstruct_record rec;
};

/* Extract's record, which must be of this task version: checked before the
 * transaction begins, so a refused attempt leaves the stage as it was. */
static int load_frames(struct recon *r, struct sq_err *err)
{
	const struct sq_task *t = r->t;
	char *path = sq_layout_path(t->outdir, SQ_LAYOUT_FRAMES_RECORD);
	char *text = sq_store_read(r->ctx->store, path, NULL, NULL);
	int rc = -1;

	if (!sq_record_text_is_current(text, SQ_STAGE_EXTRACT, t->version))
		sq_error(err, SQ_ERR_INVALID, "frames of task '%s' are missing or stale ('%s')",
			 t->name, path);
	else
		rc = sq_frames_record_parse(&r->frames, text, err);
	sq_store_stamp(text, r->frames_stamp);
	free(text);
	free(path);
	return rc;
}

/* A local path of the frames: the store's own, or, when the store is remote,
 * this host's copy of the version extract's record names (made here, or
 * fetched), in a folder named after the task as the store's is. */
static int localize_frames(struct recon *r, struct sq_err *err)
{
	char *dir = sq_layout_path(r->t->outdir, SQ_LAYOUT_FRAMES_DIR);
	char *local = sq_path_join(sq_txn_scratch(r->x), r->t->name);
	int copied, rc = -1;

	if (sq_store_path_is_remote(dir) && sq_mkdir_p(local, err) < 0)
		goto out;
	r->frames_dir = sq_store_localize(r->ctx->store, dir, r->frames_stamp, local, &copied, err);
	rc = r->frames_dir ? 0 : -1;
out:
	free(local);
	free(dir);
	return rc;
}

static int run_colmap(struct recon *r, struct sq_err *err)
{
	const struct sq_task *t = r->t;
	struct sq_colmap_run co = {
	    .spec = &t->reconstruct.colmap,
	    .stride = &t->reconstruct.stride,
	    .frames_dir = r->frames_dir,
	    .frames = &r->frames,
	    .workdir = sq_txn_scratch(r->x),
	    .output = r->ply,
	    .sift_output = r->sift,
	    .log_path = sq_txn_log(r->x),
	    .hooks = r->ctx->hooks,
	};
	char *version = sq_colmap_version(NULL, sq_txn_scratch(r->x));

	sq_stage_provenance(&r->rec.prov, r->ctx, "colmap", version,
			    sq_backend_spec_json(&t->reconstruct), t);
	free(version);
	sq_hooks_log(&r->ctx->hooks, "running colmap, log in '%s'", sq_txn_log(r->x));
	return sq_colmap_run(&co, &r->rec, err);
}

/* A command backend has no default memory figure per frame: it strides only
 * when the task gives bytes_per_frame or a fixed stride. */
static int run_command(struct recon *r, struct sq_err *err)
{
	const struct sq_task *t = r->t;
	struct sq_proc_result res = {0};
	struct sq_proc_vars vars = {.output = r->ply,
				    .workdir = sq_txn_scratch(r->x),
				    .gpu = r->ctx->gpu ? r->ctx->gpu : ""};
	char *used = NULL;
	int rc = -1;

	sq_stage_provenance(&r->rec.prov, r->ctx, "command", "",
			    sq_backend_spec_json(&t->reconstruct), t);
	if (sq_stride_frames_dir(&t->reconstruct.stride, 0, r->frames_dir, &r->frames,
				 sq_txn_scratch(r->x), &r->rec.stride, &used, err) < 0)
		goto out;
	if (r->rec.stride.k > 1)
		sq_hooks_log(&r->ctx->hooks, "memory budget: every %d frames, %zu of %zu",
			     r->rec.stride.k, r->rec.stride.frames_used, r->rec.stride.frames_total);
	vars.frames = used;
	if (sq_stage_command(&t->reconstruct, &vars, sq_txn_log(r->x), r->ctx, &res, err) < 0)
		goto out;
	r->rec.wall_ms = res.wall_ms;
	r->rec.done_by_marker = res.done_by_marker;
	rc = 0;
out:
	free(used);
	return rc;
}

/* {"registered":..,"frames":..,"warnings":[..]} for the queue. */
static char *result_of(const struct sq_reconstruct_record *rec, const char *text)
{
	char *figures, *out;

	if (rec->has_colmap)
		figures = xasprintf("\"frames\":%zu,\"registered\":%zu,\"points\":%zu",
				    rec->colmap.quality.frames, rec->colmap.quality.registered,
				    rec->colmap.quality.points);
	else
		figures = xasprintf("\"wall_ms\":%lld", rec->wall_ms);
	out = sq_stage_result_of(figures, text);
	free(figures);
	return out;
}

static int produce(struct recon *r, struct sq_err *err)
{
	const struct sq_task *t = r->t;
	int colmap = t->reconstruct.kind == SQ_BACKEND_COLMAP;
	char *text;
	int rc;

	sq_stage_log_attempt(sq_txn_log(r->x), r->ctx);
	if (localize_frames(r, err) < 0 || (colmap ? run_colmap(r, err) : run_command(r, err)) < 0 ||
	    sq_stage_check_ply(r->ply, colmap ? "colmap" : t->reconstruct.cmd.argv[0],
			       sq_txn_log(r->x), err) < 0)
		return -1;
	snprintf(r->rec.version, sizeof(r->rec.version), "%s", t->version);
	text = sq_reconstruct_record_format(&r->rec);
	sq_stage_previews(r->x, r->ply, text, r->ctx);
	rc = sq_txn_commit(r->x, text, err);
	if (rc == 0)
		r->ctx->result_json = result_of(&r->rec, text);
	free(text);
	return rc;
}

int sq_stage_reconstruct(const struct sq_task *t, struct sq_stage_ctx *ctx, struct sq_err *err)
{
	struct sq_txn_opts to = {.store = ctx->store,
				 .root = t->output_root,
				 .outdir = t->outdir,
				 .stage = SQ_STAGE_RECONSTRUCT};
	struct recon r = {.t = t, .ctx = ctx};
	int rc = -1;

	/* the descriptors belong to the PLY they came with: the transaction
	 * publishes both or removes the old ones (a command backend makes none) */
	if (load_frames(&r, err) < 0 || !(r.x = sq_txn_begin(&to, err)))
		goto out;
	r.ply = sq_txn_path(r.x, SQ_LAYOUT_RECON_PLY);
	r.sift = sq_txn_path(r.x, SQ_LAYOUT_RECON_SIFT);
	if (produce(&r, err) < 0)
		goto out;
	rc = 0;
out:
	sq_txn_end(r.x);
	sq_reconstruct_record_release(&r.rec);
	sq_frames_record_release(&r.frames);
	free(r.frames_dir);
	free(r.sift);
	free(r.ply);
	return rc;
}
