/* stitch_run.c - what every step of a stitch in progress calls: its log and
 * its cancel check (see stitch_run.h). */
#include "stitch/stitch_run.h"

#include <stdarg.h>

#include "base/banned.h"

void stitch_say(const struct stitch_state *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sq_hooks_vlog(&r->o->hooks, fmt, ap);
	va_end(ap);
}

int stitch_cancelled(const struct stitch_state *r, struct sq_err *err)
{
	if (sq_hooks_cancelled(&r->o->hooks))
		return sq_error(err, SQ_ERR_CANCEL, "stitch cancelled");
	return 0;
}
