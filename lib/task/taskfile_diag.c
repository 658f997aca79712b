/* taskfile_diag.c - the diagnostics list of the task file loader.
 *
 * Problems are collected from every file before any is shown, then sorted by
 * file, line and column so that the report reads top to bottom like the files. */
#include "task/taskfile_schema.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/banned.h"

const char *sq_tf_errno_text(int e, char *buf, size_t len)
{
	if (e == ENOENT)
		return "no such file";
	if (e == EACCES)
		return "permission denied";
	snprintf(buf, len, "%s", strerror(e));
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

void sq_diags_release(struct sq_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	d->v = NULL;
	d->n = d->alloc = 0;
}

/* s with control characters written as \xNN: a name or path in a task file
 * (or a file name) must not move the operator's cursor or retitle the
 * terminal it is shown in. Returns new string. */
static char *printable(const char *s)
{
	struct sq_strbuf sb = SQ_STRBUF_INIT;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch == 0x7f)
			sq_strbuf_addf(&sb, "\\x%02x", ch);
		else
			sq_strbuf_add(&sb, s, 1);
	}
	return sq_strbuf_detach(&sb);
}

char *sq_diag_format(const struct sq_diag *d)
{
	char *file = printable(d->file), *msg = printable(d->msg), *out;

	if (d->line > 0)
		out = xasprintf("%s:%d:%d: %s", file, d->line, d->col, msg);
	else
		out = xasprintf("%s: %s", file, msg);
	free(file);
	free(msg);
	return out;
}

void sq_taskfile_diag(struct sq_diags *d, const char *file, struct sq_tf_pos pos, const char *fmt,
		      ...)
{
	char msg[SQ_ERR_MSG_MAX];
	struct sq_diag *x;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	xgrow((void **)&d->v, &d->alloc, d->n + 1, sizeof(*d->v));
	x = &d->v[d->n++];
	x->file = xstrdup(file);
	x->line = pos.line;
	x->col = pos.col;
	x->msg = xstrdup(msg);
}

/* A diagnostic and the order it was found in, so that sorting is stable. */
struct ranked {
	struct sq_diag d;
	size_t seq;
};

static int cmp_diag(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	int c = strcmp(x->d.file, y->d.file);

	if (c)
		return c;
	if (x->d.line != y->d.line)
		return x->d.line < y->d.line ? -1 : 1;
	if (x->d.col != y->d.col)
		return x->d.col < y->d.col ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

static int same_place(const struct sq_diag *x, const struct sq_diag *y)
{
	return x->line == y->line && x->col == y->col && !strcmp(x->file, y->file);
}

/* 1 if x repeats one of the kept diagnostics at the same place. */
static int repeated(const struct sq_diag *kept, size_t nkept, const struct sq_diag *x)
{
	for (size_t k = nkept; k > 0 && same_place(&kept[k - 1], x); k--)
		if (!strcmp(kept[k - 1].msg, x->msg))
			return 1;
	return 0;
}

void sq_taskfile_diags_sort(struct sq_diags *d, size_t from)
{
	size_t n = d->n - from, kept = 0;
	struct ranked *r = xcalloc(n + 1, sizeof(*r));

	for (size_t i = 0; i < n; i++) {
		r[i].d = d->v[from + i];
		r[i].seq = i;
	}
	qsort(r, n, sizeof(*r), cmp_diag);
	for (size_t i = 0; i < n; i++) {
		if (repeated(d->v + from, kept, &r[i].d)) {
			free(r[i].d.file);
			free(r[i].d.msg);
			continue;
		}
		d->v[from + kept++] = r[i].d;
	}
	d->n = from + kept;
	free(r);
}
