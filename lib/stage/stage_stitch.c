/* stage_stitch.c - the builtin stitch backend as a stage (see stage_stitch.h):
 * inputs named after their directories, progress and cancellation from the
 * stage context, the record from the stitch result, and a summary for the
 * queue that says how many inputs were placed and which were not. */
#include "stage/stage_stitch.h"
#include "base/fsutil.h"
#include "stitch/stitch.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

static const char *base_name(const char *dir)
{
	const char *s = strrchr(dir, '/');

	return s && s[1] ? s + 1 : dir;
}

struct glue {
	struct sq_stage_ctx *sc;
	FILE *log; /* the stage's stitch.log, NULL if it cannot be opened */
};

/* Each line goes to the worker's log and to stitch.log beside the output. */
static void stitch_log(void *ctx, const char *line)
{
	const struct glue *g = ctx;

	if (g->sc->log)
		g->sc->log(g->sc->ctx, line);
	if (g->log) {
		fprintf(g->log, "%s\n", line);
		fflush(g->log);
	}
}

static int stitch_cancelled(void *ctx)
{
	const struct glue *g = ctx;

	return g->sc->cancelled && g->sc->cancelled(g->sc->ctx);
}

/* "left out 1 of 3 inputs: auv2 (see stitch.json)" */
static void say_left_out(struct glue *g, const struct sq_stitch_input *in,
			 const struct sq_stitch_result *r)
{
	struct sq_strbuf sb;
	int first = 1;

	sq_strbuf_init(&sb);
	sq_strbuf_addf(&sb, "left out %zu of %zu inputs: ", r->n - r->placed, r->n);
	for (size_t i = 0; i < r->n; i++)
		if (!r->p[i].placed) {
			sq_strbuf_addf(&sb, "%s%s", first ? "" : ", ", in[i].name);
			first = 0;
		}
	sq_strbuf_adds(&sb, " (see stitch.json)");
	stitch_log(g, sb.buf);
	sq_strbuf_release(&sb);
}

/* {"placed":2,"inputs":3,"unplaced":["auv2"]} */
static char *summary_json(const struct sq_stitch_input *in, const struct sq_stitch_result *r)
{
	struct sq_strbuf sb;
	int first = 1;

	sq_strbuf_init(&sb);
	sq_strbuf_addf(&sb, "{\"placed\":%zu,\"inputs\":%zu,\"points\":%zu,\"unplaced\":[",
		       r->placed, r->n, r->points_out);
	for (size_t i = 0; i < r->n; i++)
		if (!r->p[i].placed) {
			sq_strbuf_addf(&sb, "%s\"%s\"", first ? "" : ",", in[i].name);
			first = 0;
		}
	sq_strbuf_adds(&sb, "]}");
	return sq_strbuf_detach(&sb);
}

int sq_stage_builtin_stitch(const char *const *dirs, const char *const *plys, size_t n,
			    const char *out_ply, const char *sift_out, const char *log_path,
			    struct sq_stage_ctx *ctx, char **record_json, struct sq_err *err)
{
	struct sq_stitch_input *in = xcalloc(n, sizeof(*in));
	struct glue g = {.sc = ctx, .log = fopen(log_path, "ae")};
	struct sq_stitch_opts o = {
	    .sift_out = sift_out, .log = stitch_log, .cancelled = stitch_cancelled, .ctx = &g};
	struct sq_stitch_result res;
	int rc;

	for (size_t i = 0; i < n; i++)
		in[i] = (struct sq_stitch_input){
		    .name = base_name(dirs[i]), .ply = plys[i], .dir = dirs[i]};
	rc = n == 1 ? sq_stitch_passthrough(in, out_ply, sift_out, &res, err)
		    : sq_stitch_run(in, n, out_ply, &o, &res, err);
	if (rc == 0) {
		*record_json = sq_stitch_result_json(in, &res);
		ctx->result_json = summary_json(in, &res);
		if (res.placed < n)
			say_left_out(&g, in, &res);
	}
	sq_stitch_result_release(&res);
	if (g.log)
		fclose(g.log);
	free(in);
	return rc;
}
