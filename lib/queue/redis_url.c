/* redis_url.c - parsing and printing Redis URLs (no I/O, so tested without a
 * server). See redis.h for the accepted forms. */
#include "queue/redis.h"

#include "base/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/banned.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* New %-decoded copy of s[0..len), or NULL on a bad escape. */
static char *pct_decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		/* %00 would cut the C string AUTH is sent from: silently another password */
		if (i + 2 >= len || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0 ||
		    (s[i + 1] == '0' && s[i + 2] == '0')) {
			free(out);
			return NULL;
		}
		out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
		i += 2;
	}
	out[o] = '\0';
	return out;
}

/* Parses a decimal in s[0..len) within [lo, hi]; -1 if not. */
static long parse_num(const char *s, size_t len, long lo, long hi)
{
	long v = 0;
	size_t i;

	if (len == 0 || len > 9)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return (v < lo || v > hi) ? -1 : v;
}

static int parse_userinfo(const char *s, size_t len, struct sq_redis_url *u)
{
	const char *colon = memchr(s, ':', len);

	if (!colon)
		return -1;
	if (colon > s && !(u->user = pct_decode(s, (size_t)(colon - s))))
		return -1;
	u->pass = pct_decode(colon + 1, len - (size_t)(colon - s) - 1);
	return u->pass ? 0 : -1;
}

/* 1 if s[0..len) is a host name or IPv4 address, or with v6 an IPv6 address
 * (hex, ':' and '.', a %zone): nothing that resolves to a surprise, and nothing
 * that would make sq_redis_url_show() print another URL. */
static int host_valid(const char *s, size_t len, int v6)
{
	static const char name_chars[] = "abcdefghijklmnopqrstuvwxyz"
					 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_";
	const char *ok = v6 ? "0123456789abcdefABCDEF:.%" : name_chars;
	const char *zone = v6 ? memchr(s, '%', len) : NULL;
	size_t head = zone ? (size_t)(zone - s) : len;

	if (len == 0 || strspn(s, ok) < head || (v6 && !memchr(s, ':', head)))
		return 0;
	for (size_t i = head + 1; zone && i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-._", s[i]))
			return 0;
	return !zone || head + 1 < len;
}

/* host[:port] or [v6]:port in s[0..len). */
static int parse_hostport(const char *s, size_t len, struct sq_redis_url *u)
{
	const char *end = s + len, *hend, *colon;

	if (len > 0 && s[0] == '[') {
		hend = memchr(s, ']', len);
		if (!hend || !host_valid(s + 1, (size_t)(hend - s - 1), 1))
			return -1;
		u->host = xstrndup(s + 1, (size_t)(hend - s - 1));
		colon = hend + 1 < end ? hend + 1 : NULL;
		if (colon && *colon != ':')
			return -1;
	} else {
		colon = memchr(s, ':', len);
		hend = colon ? colon : end;
		if (!host_valid(s, (size_t)(hend - s), 0))
			return -1;
		u->host = xstrndup(s, (size_t)(hend - s));
	}
	u->port = 6379;
	if (colon) {
		long port = parse_num(colon + 1, (size_t)(end - colon - 1), 1, 65535);

		if (port < 0)
			return -1;
		u->port = (int)port;
	}
	return 0;
}

static int parse_tcp(const char *rest, struct sq_redis_url *u)
{
	const char *slash = strchr(rest, '/');
	size_t alen = slash ? (size_t)(slash - rest) : strlen(rest);
	const char *at = NULL, *p;
	long db = 0;

	for (p = rest; p < rest + alen; p++)
		if (*p == '@')
			at = p;
	if (strchr(rest, '?'))
		return -1;
	if (at && parse_userinfo(rest, (size_t)(at - rest), u) < 0)
		return -1;
	p = at ? at + 1 : rest;
	if (parse_hostport(p, alen - (size_t)(p - rest), u) < 0)
		return -1;
	if (slash && slash[1] && (db = parse_num(slash + 1, strlen(slash + 1), 0, 1000000)) < 0)
		return -1;
	u->db = (int)db;
	return 0;
}

static int parse_unix(const char *rest, struct sq_redis_url *u)
{
	const char *q = strchr(rest, '?');
	size_t plen = q ? (size_t)(q - rest) : strlen(rest);
	long db = 0;

	if (plen == 0 || rest[0] != '/')
		return -1;
	if (q) {
		if (strncmp(q, "?db=", 4) != 0)
			return -1;
		if ((db = parse_num(q + 4, strlen(q + 4), 0, 1000000)) < 0)
			return -1;
	}
	u->path = xstrndup(rest, plen);
	u->db = (int)db;
	return 0;
}

int sq_redis_url_parse(const char *url, struct sq_redis_url *out, struct sq_err *err)
{
	struct sq_redis_url u = {NULL, 0, NULL, NULL, NULL, 0};
	int rc = -1;

	if (!url)
		url = "redis://127.0.0.1:6379/0";
	if (strncmp(url, "redis://", 8) == 0)
		rc = parse_tcp(url + 8, &u);
	else if (strncmp(url, "unix://", 7) == 0)
		rc = parse_unix(url + 7, &u);
	if (rc < 0) {
		sq_redis_url_release(&u);
		return sq_error(err, SQ_ERR_INVALID,
				"bad redis url '%s': expected redis://[user:pass@]host[:port][/db] "
				"or unix:///path[?db=N]",
				url);
	}
	*out = u;
	return 0;
}

void sq_redis_url_release(struct sq_redis_url *u)
{
	free(u->host);
	free(u->path);
	free(u->user);
	free(u->pass);
	u->host = u->path = u->user = u->pass = NULL;
}

/* New %-encoded copy of s: a user named "a/b" or "a@b" shown raw would read as
 * another URL. */
static char *pct_encode(const char *s)
{
	char *out = xmalloc(3 * strlen(s) + 1), *o = out;

	for (; *s; s++) {
		if (isalnum((unsigned char)*s) || strchr("-._~", *s))
			*o++ = *s;
		else
			o += snprintf(o, 4, "%%%02X", (unsigned char)*s);
	}
	*o = '\0';
	return out;
}

char *sq_redis_url_show(const struct sq_redis_url *u)
{
	char *user, *shown;

	if (u->path)
		return u->db ? xasprintf("unix://%s?db=%d", u->path, u->db)
			     : xasprintf("unix://%s", u->path);
	user = pct_encode(u->user ? u->user : "");
	shown = xasprintf("redis://%s%s%s%s%s:%d/%d", user,
			  u->pass ? ":***@" : (u->user ? "@" : ""), strchr(u->host, ':') ? "[" : "",
			  u->host, strchr(u->host, ':') ? "]" : "", u->port, u->db);
	free(user);
	return shown;
}
