/* strbuf.c - growable string buffer. */
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/banned.h"

char sq_strbuf_empty[1];

void sq_strbuf_init(struct sq_strbuf *sb)
{
	sb->buf = sq_strbuf_empty;
	sb->len = 0;
	sb->alloc = 0;
}

void sq_strbuf_release(struct sq_strbuf *sb)
{
	if (sb->alloc)
		free(sb->buf);
	sq_strbuf_init(sb);
}

void sq_strbuf_reset(struct sq_strbuf *sb)
{
	sb->len = 0;
	if (sb->alloc)
		sb->buf[0] = '\0';
}

static void grow(struct sq_strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;

	if (need <= sb->alloc)
		return;
	if (!sb->alloc) {
		sb->buf = NULL;
	}
	xgrow((void **)&sb->buf, &sb->alloc, need, 1);
	if (sb->len == 0)
		sb->buf[0] = '\0';
}

void sq_strbuf_add(struct sq_strbuf *sb, const void *data, size_t len)
{
	grow(sb, len);
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void sq_strbuf_adds(struct sq_strbuf *sb, const char *s)
{
	sq_strbuf_add(sb, s, strlen(s));
}

void sq_strbuf_addch(struct sq_strbuf *sb, char c)
{
	sq_strbuf_add(sb, &c, 1);
}

void sq_strbuf_addf(struct sq_strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;
	char probe[1]; /* sizing call; a NULL buffer trips -Wformat-truncation */

	va_start(ap, fmt);
	n = vsnprintf(probe, sizeof(probe), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	grow(sb, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

char *sq_strbuf_detach(struct sq_strbuf *sb)
{
	char *s = sb->alloc ? sb->buf : xstrdup("");

	sq_strbuf_init(sb);
	return s;
}
