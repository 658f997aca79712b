/* hooks.c - calling a long operation's hooks (see hooks.h). */
#include "base/hooks.h"

#include <stdarg.h>
#include <stdio.h>

#include "base/banned.h"

void sq_hooks_vlog(const struct sq_hooks *h, const char *fmt, va_list ap)
{
	char line[1024];

	if (!h || !h->log)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	h->log(h->ctx, line);
}

void sq_hooks_log(const struct sq_hooks *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sq_hooks_vlog(h, fmt, ap);
	va_end(ap);
}

void sq_hooks_progress(const struct sq_hooks *h, long long done, long long total)
{
	if (h && h->progress)
		h->progress(h->ctx, done, total);
}

int sq_hooks_cancelled(const struct sq_hooks *h)
{
	return h && h->cancelled && h->cancelled(h->ctx) ? 1 : 0;
}
