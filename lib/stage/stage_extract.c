/* stage_extract.c - extract: a task's videos to frames/ and frames.json,
 * through the stage transaction. */
#include "stage/stage_int.h"
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "media/media.h"
#include "task/layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

/* The record of an extraction: the task's names, settings and sources, and
 * each frame's place in them. */
static void fill_record(struct sq_frames_record *r, const struct sq_task *t,
			const struct sq_extract_result *res, const struct sq_stage_ctx *ctx)
{
	sq_stage_provenance(&r->prov, ctx, "libav", sq_media_version(),
			    sq_extract_spec_json(&t->extract), t);
	snprintf(r->version, sizeof(r->version), "%s", t->version);
	r->acquisition = xstrdup(t->acquisition);
	r->group = xstrdup(t->group);
	r->task = xstrdup(t->name);
	r->duration_s = res->duration_s;
	r->fps_num = t->extract.fps_num;
	r->fps_den = t->extract.fps_den;
	r->width = res->out_width;
	r->height = res->out_height;
	r->quality = t->extract.quality;
	r->nsources = t->nvideos;
	r->sources = xcalloc(t->nvideos + 1, sizeof(*r->sources));
	r->until_s = xcalloc(t->nvideos + 1, sizeof(*r->until_s));
	for (size_t i = 0; i < t->nvideos; i++) {
		r->sources[i] = xstrdup(t->videos[i]);
		r->until_s[i] = t->video_until_ms && t->video_until_ms[i] > 0
				    ? (double)t->video_until_ms[i] / 1000.0
				    : -1;
	}
	for (size_t i = 0; i < res->nwarnings; i++)
		sq_record_warn(&r->warnings, &r->nwarnings, "%s", res->warnings[i]);
	r->nframes = res->nframes;
	r->frames = xcalloc(res->nframes + 1, sizeof(*r->frames));
	for (size_t i = 0; i < res->nframes; i++)
		r->frames[i] = (struct sq_frame_entry){.pts_s = res->pts_s[i],
						       .source = (int)res->source[i],
						       .source_pts_s = res->source_pts_s[i]};
}

/* Decodes into the transaction's frames folder. */
static int decode(const struct sq_task *t, struct sq_txn *x, struct sq_stage_ctx *ctx,
		  struct sq_extract_result *res, struct sq_err *err)
{
	char *frames = sq_txn_path(x, SQ_LAYOUT_FRAMES_DIR);
	struct sq_extract_opts eo = {
	    .spec = &t->extract,
	    .inputs = (const char *const *)t->videos,
	    .ninputs = t->nvideos,
	    .input_until_ms = t->video_until_ms,
	    .frames_dir = frames,
	    .read = ctx->media,
	    .hwaccel = ctx->hwaccel,
	    .gpu = ctx->gpu,
	    .hooks = ctx->hooks,
	};
	int rc = -1;

	if (sq_mkdir_p(frames, err) < 0 || sq_media_extract(&eo, res, err) < 0)
		goto out;
	if (res->nframes == 0) {
		sq_error(err, SQ_ERR_MEDIA, "no frame extracted from '%s'", t->videos[0]);
		goto out;
	}
	rc = 0;
out:
	free(frames);
	return rc;
}

/* The videos must be the ones the task version was made from. */
static int check_sources(const struct sq_task *t, const struct sq_stage_ctx *ctx,
			 struct sq_err *err)
{
	for (size_t i = 0; t->video_ids && i < t->nvideos; i++)
		if (sq_media_check_identity(t->videos[i], ctx->media, &t->video_ids[i], err) < 0)
			return -1;
	return 0;
}

int sq_stage_extract(const struct sq_task *t, struct sq_stage_ctx *ctx, struct sq_err *err)
{
	struct sq_txn_opts to = {.store = ctx->store,
				 .root = t->output_root,
				 .outdir = t->outdir,
				 .stage = SQ_STAGE_EXTRACT};
	struct sq_extract_result res = {0};
	struct sq_frames_record rec = {0};
	struct sq_txn *x = NULL;
	char *text = NULL, *figures = NULL;
	int rc = -1;

	if (check_sources(t, ctx, err) < 0 || !(x = sq_txn_begin(&to, err)) ||
	    decode(t, x, ctx, &res, err) < 0)
		goto out;
	fill_record(&rec, t, &res, ctx);
	text = sq_frames_record_format(&rec);
	if (sq_txn_commit(x, text, err) < 0)
		goto out;
	figures = xasprintf("\"frames\":%zu", res.nframes);
	ctx->result_json = sq_stage_result(figures, rec.warnings, rec.nwarnings);
	sq_hooks_log(&ctx->hooks, "extracted %zu frames%s", res.nframes,
		     res.nwarnings ? " (with warnings, see frames.json)" : "");
	rc = 0;
out:
	sq_txn_end(x);
	sq_frames_record_release(&rec);
	sq_extract_result_release(&res);
	free(figures);
	free(text);
	return rc;
}
