/* redis_reply.c - a command's arguments as scanq builds them, and replies as
 * scanq reads them, apart from the connection that carries them (redis.c).
 * See redis.h. */
#include "queue/redis_int.h"

#include "base/xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

/* --- arguments --- */

void sq_redis_args_init(struct sq_redis_args *a)
{
	a->v = NULL;
	a->len = NULL;
	a->n = a->alloc = 0;
}

void sq_redis_args_release(struct sq_redis_args *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	free(a->len);
	sq_redis_args_init(a);
}

void sq_redis_args_addn(struct sq_redis_args *a, const void *data, size_t len)
{
	size_t alloc = a->alloc;

	xgrow((void **)&a->v, &a->alloc, a->n + 1, sizeof(*a->v));
	xgrow((void **)&a->len, &alloc, a->n + 1, sizeof(*a->len));
	a->v[a->n] = xstrndup(data, len);
	a->len[a->n] = len;
	a->n++;
}

void sq_redis_args_add(struct sq_redis_args *a, const char *s)
{
	if (!s)
		s = "";
	sq_redis_args_addn(a, s, strlen(s));
}

void sq_redis_args_addll(struct sq_redis_args *a, long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	sq_redis_args_add(a, buf);
}

void sq_redis_args_addf(struct sq_redis_args *a, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int len;

	va_start(ap, fmt);
	len = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (len < 0)
		abort(); /* out of memory: as xalloc does */
	sq_redis_args_addn(a, s, (size_t)len);
	free(s);
}

/* --- replies --- */

void sq_redis_reply_fill(struct sq_reply *out, const redisReply *in)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	switch (in->type) {
	case REDIS_REPLY_INTEGER:
		out->type = SQ_REPLY_INTEGER;
		out->integer = in->integer;
		break;
	case REDIS_REPLY_STRING:
	case REDIS_REPLY_STATUS:
	case REDIS_REPLY_ERROR:
		out->type = SQ_REPLY_STRING;
		out->str = xstrndup(in->str, in->len);
		out->len = in->len;
		break;
	case REDIS_REPLY_ARRAY:
		out->type = SQ_REPLY_ARRAY;
		out->nelements = in->elements;
		out->elements = xcalloc(in->elements ? in->elements : 1, sizeof(*out->elements));
		for (i = 0; i < in->elements; i++)
			sq_redis_reply_fill(&out->elements[i], in->element[i]);
		break;
	default:
		out->type = SQ_REPLY_NIL;
	}
}

static void reply_clear(struct sq_reply *r)
{
	size_t i;

	for (i = 0; i < r->nelements; i++)
		reply_clear(&r->elements[i]);
	free(r->elements);
	free(r->str);
}

void sq_reply_free(struct sq_reply *reply)
{
	if (!reply)
		return;
	reply_clear(reply);
	free(reply);
}

const char *sq_reply_str(const struct sq_reply *reply, size_t i)
{
	if (!reply || reply->type != SQ_REPLY_ARRAY || i >= reply->nelements)
		return NULL;
	return reply->elements[i].type == SQ_REPLY_STRING ? reply->elements[i].str : NULL;
}

long long sq_reply_ll(const struct sq_reply *reply, size_t i, long long dflt)
{
	const struct sq_reply *e;
	char *end;
	long long v;

	if (!reply || reply->type != SQ_REPLY_ARRAY || i >= reply->nelements)
		return dflt;
	e = &reply->elements[i];
	if (e->type == SQ_REPLY_INTEGER)
		return e->integer;
	if (e->type != SQ_REPLY_STRING || !e->len)
		return dflt;
	errno = 0;
	v = strtoll(e->str, &end, 10);
	return (errno || *end) ? dflt : v;
}
