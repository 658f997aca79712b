/* stage_stitch.c - stitch: the clouds of a group's tasks (or of an
 * acquisition's groups) to stitch.ply and stitch.json, by the builtin stitch
 * (stitch/stitch.h) or a command backend, through the stage transaction.
 * Inputs are named after their directories; the builtin stitch's log goes to
 * the worker's log and to stitch.log; the summary for the queue and the log
 * say how many inputs were placed, how sure each placement is, and which were
 * left out and why.
 *
 * Each input's cloud and descriptors are localized at the stamp of the record
 * read (store.h): on a remote store, this host's copies when it made them,
 * else fetched into a folder of the input's own under the work folder. */
#include "stage/stage.h"
#include "stage/stage_int.h"
#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/version.h"
#include "base/xalloc.h"
#include "stage/quality.h"
#include "stitch/stitch.h"
#include "task/layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

/* What one stitch attempt holds. */
struct stitch_run {
	const struct sq_stitch_spec *s;
	const char *const *dirs; /* the inputs' output dirs */
	size_t n;
	struct sq_stage_ctx *ctx;
	struct sq_txn *x;
	char **plys;	/* local paths of the inputs' clouds */
	char **local;	/* the inputs' own folders under the work folder */
	char **records; /* the text of each input's record, read once */
	char *out, *sift;
	struct sq_stitch_record rec; /* what the backend did; warnings its own */
	char *result;
};

static const char *base_name(const char *dir)
{
	const char *s = strrchr(dir, '/');

	return s && s[1] ? s + 1 : dir;
}

/* The cloud of every input, whose record must be current. */
static int load_inputs(struct stitch_run *r, struct sq_err *err)
{
	enum sq_stage st = r->s->group ? SQ_STAGE_RECONSTRUCT : SQ_STAGE_STITCH;
	int copied;

	r->plys = xcalloc(r->n + 1, sizeof(*r->plys));
	r->local = xcalloc(r->n + 1, sizeof(*r->local));
	r->records = xcalloc(r->n + 1, sizeof(*r->records));
	for (size_t i = 0; i < r->n; i++) {
		char *rec = sq_layout_path(r->dirs[i], sq_layout_record(st));
		char *ply = sq_layout_path(r->dirs[i], sq_layout_main_output(st));
		char *text = sq_store_read(r->ctx->store, rec, NULL, NULL);
		int ok = sq_record_text_is_current(text, st, NULL);
		char stamp[SQ_STORE_STAMP_MAX];

		sq_store_stamp(text, stamp);
		r->records[i] = text;
		r->local[i] =
		    xasprintf("%s/inputs/%zu-%s", sq_txn_scratch(r->x), i, base_name(r->dirs[i]));
		if (!ok)
			sq_error(err, SQ_ERR_INVALID,
				 "stitch input '%s' is not done ('%s' missing)", r->dirs[i], rec);
		else if (!sq_store_path_is_remote(r->dirs[i]) || sq_mkdir_p(r->local[i], err) == 0)
			r->plys[i] =
			    sq_store_localize(r->ctx->store, ply, stamp, r->local[i], &copied, err);
		free(ply);
		free(rec);
		if (!r->plys[i])
			return -1;
	}
	return 0;
}

struct glue {
	struct sq_stage_ctx *sc;
	FILE *log; /* the stage's stitch.log, NULL if it cannot be opened */
};

/* Each line goes to the worker's log and to stitch.log. */
static void glue_log(void *ctx, const char *line)
{
	const struct glue *g = ctx;

	sq_hooks_log(&g->sc->hooks, "%s", line);
	if (g->log) {
		fprintf(g->log, "%s\n", line);
		fflush(g->log);
	}
}

static int glue_cancelled(void *ctx)
{
	const struct glue *g = ctx;

	return sq_hooks_cancelled(&g->sc->hooks);
}

/* "left out 1 of 3 inputs: auv2 (see stitch.json)", and the same as a warning */
static void say_left_out(struct stitch_run *r, struct glue *g, const struct sq_stitch_input *in,
			 const struct sq_stitch_result *res)
{
	struct sq_strbuf sb = SQ_STRBUF_INIT;
	int first = 1;

	sq_strbuf_addf(&sb, "left out %zu of %zu inputs: ", res->n - res->placed, res->n);
	for (size_t i = 0; i < res->n; i++)
		if (!res->p[i].placed) {
			sq_strbuf_addf(&sb, "%s%s", first ? "" : ", ", in[i].name);
			first = 0;
		}
	sq_record_warn(&r->rec.warnings, &r->rec.nwarnings, "%s", sb.buf);
	sq_strbuf_adds(&sb, " (see stitch.json)");
	glue_log(g, sb.buf);
	sq_strbuf_release(&sb);
}

/* "placed 2 of 3 inputs: auv1 (reference), auv3 (confidence 0.93, global+icp
 * on auv1)" */
static void say_placed(struct glue *g, const struct sq_stitch_input *in,
		       const struct sq_stitch_result *res)
{
	struct sq_strbuf sb = SQ_STRBUF_INIT;
	int first = 1;

	sq_strbuf_addf(&sb, "placed %zu of %zu inputs:", res->placed, res->n);
	for (size_t i = 0; i < res->n; i++) {
		const struct sq_stitch_placement *p = &res->p[i];

		if (!p->placed)
			continue;
		if (p->parent < 0)
			sq_strbuf_addf(&sb, "%s %s (reference)", first ? "" : ",", in[i].name);
		else
			sq_strbuf_addf(&sb, "%s %s (confidence %.2f, %s on %s)", first ? "" : ",",
				       in[i].name, p->confidence, p->method, in[p->parent].name);
		first = 0;
	}
	glue_log(g, sb.buf);
	sq_strbuf_release(&sb);
}

/* Each of the stitch's own warnings (a left-out input's reason, a placement
 * of low confidence) goes to the record and the log. */
struct warn_ctx {
	struct stitch_run *r;
	struct glue *g;
};

static void add_warning(void *ctx, const char *line)
{
	struct warn_ctx *w = ctx;
	char buf[512];

	sq_record_warn(&w->r->rec.warnings, &w->r->rec.nwarnings, "%s", line);
	snprintf(buf, sizeof(buf), "warning: %s", line);
	glue_log(w->g, buf);
}

/* Each input named after its directory, with its cameras and descriptors. */
static int builtin_inputs(struct stitch_run *r, struct sq_stitch_input *in,
			  struct sq_stitch_cams *cams, char **sifts, struct sq_err *err)
{
	for (size_t i = 0; i < r->n; i++) {
		if (sq_stage_stitch_evidence(r->ctx->store, r->dirs[i], r->s->group != NULL,
					     r->records[i], r->local[i], &cams[i], &sifts[i],
					     err) < 0)
			return -1;
		in[i] = (struct sq_stitch_input){.name = base_name(r->dirs[i]),
						 .ply = r->plys[i],
						 .sift = sifts[i],
						 .cams = &cams[i]};
	}
	return 0;
}

static void say_result(struct stitch_run *r, struct glue *g, const struct sq_stitch_input *in,
		       const struct sq_stitch_result *res)
{
	struct warn_ctx w = {.r = r, .g = g};
	char *figures;

	sq_stitch_record_of_result(&r->rec, in, res);
	say_placed(g, in, res);
	if (res->placed < r->n)
		say_left_out(r, g, in, res);
	sq_stitch_warnings(in, res, add_warning, &w);
	figures = sq_stitch_record_figures(&r->rec);
	r->result = sq_stage_result(figures, r->rec.warnings, r->rec.nwarnings);
	free(figures);
}

static int run_builtin(struct stitch_run *r, struct sq_err *err)
{
	struct sq_stitch_input *in = xcalloc(r->n, sizeof(*in));
	struct sq_stitch_cams *cams = xcalloc(r->n, sizeof(*cams));
	char **sifts = xcalloc(r->n, sizeof(*sifts));
	struct glue g = {.sc = r->ctx, .log = fopen(sq_txn_log(r->x), "ae")};
	struct sq_stitch_opts o = {
	    .sift_out = r->sift,
	    .hooks = {.log = glue_log, .cancelled = glue_cancelled, .ctx = &g}};
	struct sq_stitch_result res = {0};
	int rc = -1;

	if (builtin_inputs(r, in, cams, sifts, err) < 0)
		goto out;
	rc = r->n == 1 ? sq_stitch_passthrough(in, r->out, r->sift, &res, err)
		       : sq_stitch_run(in, r->n, r->out, &o, &res, err);
	if (rc == 0)
		say_result(r, &g, in, &res);
	sq_stitch_result_release(&res);
out:
	for (size_t i = 0; i < r->n; i++) {
		sq_stitch_cams_release(&cams[i]);
		free(sifts[i]);
	}
	if (g.log)
		fclose(g.log);
	free(sifts);
	free(cams);
	free(in);
	return rc;
}

static int run_command(struct stitch_run *r, struct sq_err *err)
{
	struct sq_proc_vars vars = {.output = r->out,
				    .workdir = sq_txn_scratch(r->x),
				    .gpu = r->ctx->gpu ? r->ctx->gpu : "",
				    .inputs = (const char *const *)r->plys,
				    .ninputs = r->n};
	struct sq_proc_result res = {0};

	if (sq_stage_command(&r->s->backend, &vars, sq_txn_log(r->x), r->ctx, &res, err) < 0)
		return -1;
	r->rec.builtin = 0;
	r->rec.wall_ms = res.wall_ms;
	r->rec.done_by_marker = res.done_by_marker;
	r->rec.ninput_plys = r->n;
	r->rec.input_plys = xcalloc(r->n + 1, sizeof(*r->rec.input_plys));
	for (size_t i = 0; i < r->n; i++)
		r->rec.input_plys[i] = xstrdup(r->plys[i]);
	r->result = xasprintf("{\"inputs\":%zu,\"warnings\":[]}", r->n);
	return 0;
}

static int produce(struct stitch_run *r, struct sq_err *err)
{
	int builtin = r->s->backend.kind != SQ_BACKEND_COMMAND;
	char *text;
	int rc = -1;

	sq_stage_provenance(&r->rec.prov, r->ctx, builtin ? "builtin" : "command",
			    builtin ? sq_version() : "", sq_backend_spec_json(&r->s->backend),
			    NULL);
	sq_stage_log_attempt(sq_txn_log(r->x), r->ctx);
	if (load_inputs(r, err) < 0 || (builtin ? run_builtin(r, err) : run_command(r, err)) < 0 ||
	    sq_stage_check_ply(r->out, builtin ? "builtin" : r->s->backend.cmd.argv[0],
			       sq_txn_log(r->x), err) < 0)
		return -1;
	snprintf(r->rec.version, sizeof(r->rec.version), "%s", r->s->version);
	text = sq_stitch_record_format(&r->rec);
	sq_stage_previews(r->x, r->out, text, r->ctx);
	rc = sq_txn_commit(r->x, text, err);
	if (rc == 0) {
		char *result = sq_quality_summary(text, r->result);

		r->result = result;
	}
	free(text);
	return rc;
}

/* A stitch's outdir is the acquisition's output root or a group folder in
 * it: its root is what it must stay under. */
char *sq_stage_stitch_root(const struct sq_stitch_spec *s)
{
	return s->group ? sq_path_dirname(s->outdir) : xstrdup(s->outdir);
}

int sq_stage_run_stitch(const struct sq_stitch_spec *s, const char *const *inputs, size_t ninputs,
			struct sq_stage_ctx *ctx, struct sq_err *err)
{
	char *root = sq_stage_stitch_root(s);
	struct sq_txn_opts to = {
	    .store = ctx->store, .root = root, .outdir = s->outdir, .stage = SQ_STAGE_STITCH};
	struct stitch_run r = {.s = s, .dirs = inputs, .n = ninputs, .ctx = ctx};
	int rc = -1;

	if (ninputs == 0) {
		sq_error(err, SQ_ERR_INVALID, "stitch of '%s' has no inputs", s->outdir);
		goto out;
	}
	if (!(r.x = sq_txn_begin(&to, err)))
		goto out;
	r.out = sq_txn_path(r.x, SQ_LAYOUT_STITCH_PLY);
	r.sift = sq_txn_path(r.x, SQ_LAYOUT_STITCH_SIFT);
	if (produce(&r, err) < 0)
		goto out;
	sq_hooks_log(&ctx->hooks, "stitched %zu input%s into '%s/%s'", ninputs,
		     ninputs == 1 ? "" : "s", s->outdir, SQ_LAYOUT_STITCH_PLY);
	ctx->result_json = r.result;
	r.result = NULL;
	rc = 0;
out:
	sq_txn_end(r.x);
	for (size_t i = 0; r.plys && i < ninputs; i++)
		free(r.plys[i]);
	free(r.plys);
	for (size_t i = 0; r.local && i < ninputs; i++)
		free(r.local[i]);
	free(r.local);
	for (size_t i = 0; r.records && i < ninputs; i++)
		free(r.records[i]);
	free(r.records);
	sq_stitch_record_release(&r.rec);
	free(r.result);
	free(r.sift);
	free(r.out);
	free(root);
	return rc;
}
