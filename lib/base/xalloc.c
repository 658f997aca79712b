/* xalloc.c - allocation wrappers that abort on exhaustion. */
#include "base/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/banned.h"

static void oom(size_t size_bytes)
{
	fprintf(stderr, "scanq: out of memory allocating %zu bytes\n", size_bytes);
	abort();
}

void *xmalloc(size_t size_bytes)
{
	void *p = malloc(size_bytes ? size_bytes : 1);

	if (!p)
		oom(size_bytes);
	return p;
}

void *xcalloc(size_t n, size_t size_bytes)
{
	void *p = calloc(n ? n : 1, size_bytes ? size_bytes : 1);

	if (!p)
		oom(n * size_bytes);
	return p;
}

void *xrealloc(void *p, size_t size_bytes)
{
	void *q = realloc(p, size_bytes ? size_bytes : 1);

	if (!q)
		oom(size_bytes);
	return q;
}

char *xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
	char *d;

	if (!s)
		return NULL;
	d = xmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	int len;
	char *s, probe[1]; /* sizing call; a NULL buffer trips -Wformat-truncation */

	va_start(ap, fmt);
	len = vsnprintf(probe, sizeof(probe), fmt, ap);
	va_end(ap);
	if (len < 0)
		abort();
	s = xmalloc((size_t)len + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)len + 1, fmt, ap);
	va_end(ap);
	return s;
}

void xgrow(void **arr, size_t *alloc, size_t need, size_t elem_size)
{
	size_t n = *alloc ? *alloc : 8;

	if (need <= *alloc)
		return;
	while (n < need)
		n *= 2;
	*arr = xrealloc(*arr, n * elem_size);
	*alloc = n;
}
