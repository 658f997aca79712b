/* fuzz_redis_url.c - the Redis URL parser (lib/queue/redis_url.c).
 *
 * Input: one URL. Besides memory errors, checks what the parser promises: a
 * parsed URL is TCP or unix, never both, with a port and db in range, and the
 * URL shown in messages parses back to the same place (host, port, path, db). */
#include "fuzz.h"

#include "queue/redis.h"

#include <stdlib.h>
#include <string.h>

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void check_parsed(const char *url, const struct sq_redis_url *u)
{
	struct sq_redis_url back;
	struct sq_err err;
	char *shown;

	if (!u->host == !u->path)
		fz_fail("'%s': host and path both set or both unset", url);
	if (u->host && (u->port < 1 || u->port > 65535))
		fz_fail("'%s': port %d", url, u->port);
	if (u->db < 0)
		fz_fail("'%s': db %d", url, u->db);
	shown = sq_redis_url_show(u);
	if (sq_redis_url_parse(shown, &back, &err) < 0)
		fz_fail("'%s' is shown as '%s', which does not parse: %s", url, shown, err.msg);
	if (!same_str(u->host, back.host) || !same_str(u->path, back.path) ||
	    u->port != back.port || u->db != back.db)
		fz_fail("'%s' is shown as '%s', which names another server", url, shown);
	sq_redis_url_release(&back);
	free(shown);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url = fz_strndup(data, size);
	struct sq_redis_url u;
	struct sq_err err;

	if (sq_redis_url_parse(url, &u, &err) == 0) {
		check_parsed(url, &u);
		sq_redis_url_release(&u);
	}
	free(url);
	return 0;
}
