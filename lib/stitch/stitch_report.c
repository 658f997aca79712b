/* stitch_report.c - what a stitch says of its result: a warning per input
 * left out and per placement of low confidence. (The record is the stage's:
 * stage/record.h turns the result into stitch.json.) */
#include "stitch/stitch.h"
#include "base/strbuf.h"

#include "base/banned.h"

/* One warning per left-out input and per placement below SQ_STITCH_CONFIDENT. */
size_t sq_stitch_warnings(const struct sq_stitch_input *in, const struct sq_stitch_result *r,
			  void (*fn)(void *ctx, const char *line), void *ctx)
{
	struct sq_strbuf sb;
	size_t n = 0;

	sq_strbuf_init(&sb);
	for (size_t i = 0; i < r->n; i++) {
		const struct sq_stitch_placement *p = &r->p[i];

		sq_strbuf_reset(&sb);
		if (!p->placed)
			sq_strbuf_addf(&sb, "'%s' left out: %s", in[i].name, p->why);
		else if (p->parent >= 0 && p->confidence < SQ_STITCH_CONFIDENT)
			sq_strbuf_addf(&sb, "'%s' placed with low confidence %.2f (%s on '%s')",
				       in[i].name, p->confidence, p->method, in[p->parent].name);
		else
			continue;
		n++;
		if (fn)
			fn(ctx, sb.buf);
	}
	sq_strbuf_release(&sb);
	return n;
}
