/* redis.h - the one wrapper around hiredis: connect, retry, scripts, pipelines.
 *
 * A struct sq_redis is one synchronous connection that survives Redis going away:
 * every command that fails with an I/O error, EOF, timeout or a LOADING/BUSY
 * reply is retried on a fresh connection (exponential backoff 50 ms .. 2 s with
 * jitter) until retry_for_ms has passed since the outage began; then the call
 * fails with SQ_ERR_REDIS. AUTH and SELECT are replayed on every reconnect. Error
 * replies (-ERR, script errors) are not retried: they fail with SQ_ERR_REDIS and
 * the server's message.
 *
 * Because a command may be retried after its reply was lost, callers only send
 * commands that are idempotent or fenced (scanq's Lua scripts are).
 *
 * Replies are copied into struct sq_reply so no caller ever sees hiredis. */
#ifndef SQ_REDIS_H
#define SQ_REDIS_H

#include "base/err.h"

#include <stddef.h>

struct sq_redis;

struct sq_redis_opts {
	const char *url;	      /* see sq_redis_url_parse; NULL: redis://127.0.0.1:6379/0 */
	long long connect_timeout_ms; /* per attempt; 0: 2000 */
	long long command_timeout_ms; /* socket read/write timeout; 0: 10000 */
	long long retry_for_ms;	      /* how long to keep reconnecting; 0: 60000 */
};

/* A parsed URL (parsing does no I/O). */
struct sq_redis_url {
	char *host; /* TCP host, NULL for a unix socket */
	int port;
	char *path; /* unix socket path, NULL for TCP */
	char *user; /* NULL: none (AUTH pass) */
	char *pass; /* NULL: no AUTH */
	int db;
};

/* Parses redis://[user:pass@]host[:port][/db] (port 6379, db 0 by default; user
 * and pass may be %-encoded, but not %00; host is a name or IPv4 address of
 * [A-Za-z0-9._-], or [v6addr] with an optional %zone) or unix:///path[?db=N].
 * Fills *out (release with sq_redis_url_release); -1 with SQ_ERR_INVALID naming
 * the URL otherwise. */
int sq_redis_url_parse(const char *url, struct sq_redis_url *out, struct sq_err *err);
void sq_redis_url_release(struct sq_redis_url *u);
/* Returns new string (free with free()): the URL for messages, the password
 * masked as ***. */
char *sq_redis_url_show(const struct sq_redis_url *u);

/* Connects (retrying as described above). Returns new handle (free with
 * sq_redis_free) or NULL. */
struct sq_redis *sq_redis_open(const struct sq_redis_opts *opts, struct sq_err *err);
void sq_redis_free(struct sq_redis *r);
/* The URL as given (borrowed; for messages). */
const char *sq_redis_url(const struct sq_redis *r);

enum sq_reply_type {
	SQ_REPLY_NIL = 0,
	SQ_REPLY_INTEGER,
	SQ_REPLY_STRING, /* bulk string or status ("OK") */
	SQ_REPLY_ARRAY,
};

struct sq_reply {
	enum sq_reply_type type;
	long long integer;
	char *str; /* NUL-terminated (may also contain NULs: use len) */
	size_t len;
	struct sq_reply *elements; /* nelements entries */
	size_t nelements;
};

/* Frees a reply returned by this module; NULL is fine. */
void sq_reply_free(struct sq_reply *reply);
/* Element i of an array reply as a string (borrowed), or NULL if absent or nil. */
const char *sq_reply_str(const struct sq_reply *reply, size_t i);
/* Element i as an integer (integer replies or decimal strings), else dflt. */
long long sq_reply_ll(const struct sq_reply *reply, size_t i, long long dflt);

/* Arguments of one command, each copied. */
struct sq_redis_args {
	char **v;
	size_t *len;
	size_t n, alloc;
};

#define SQ_REDIS_ARGS_INIT                                                                         \
	{                                                                                          \
		NULL, NULL, 0, 0                                                                   \
	}

void sq_redis_args_init(struct sq_redis_args *a);
void sq_redis_args_release(struct sq_redis_args *a);
void sq_redis_args_add(struct sq_redis_args *a, const char *s); /* NULL adds "" */
void sq_redis_args_addn(struct sq_redis_args *a, const void *data, size_t len);
void sq_redis_args_addll(struct sq_redis_args *a, long long v);
void sq_redis_args_addf(struct sq_redis_args *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Told when Redis becomes unreachable (down = 1, why: the first failure) and
 * when a command succeeds again (down = 0, down_ms: how long it was), once
 * each per outage, however many calls gave up in between. */
typedef void sq_redis_outage_fn(void *ctx, int down, const char *why, long long down_ms);

/* Sets who is told of outages (fn NULL: nobody); fn runs on the calling thread. */
void sq_redis_on_outage(struct sq_redis *r, sq_redis_outage_fn *fn, void *ctx);

/* Registers a Redis Functions library (Redis >= 7): `code` starts with its
 * "#!lua name=<name>" line and registers each script as function <name>_<script>.
 * Call before sq_redis_script; both borrowed and must outlive r (scanq's are
 * static). Scripts then run as FCALL: no per-call set-up of shared helpers. The
 * library is loaded with FUNCTION LOAD only when FCALL says it is missing (the
 * server keeps it across connections, restarts and failovers); a server without
 * functions (Redis 6.2) or refusing them (ACL) gets EVALSHA instead. */
void sq_redis_library(struct sq_redis *r, const char *name, const char *code);

/* Registers a Lua script; returns its id for sq_redis_eval*. The body is
 * borrowed and must outlive r (scanq's are static). Run as FCALL of the library's
 * function when sq_redis_library came first and the server has functions;
 * otherwise loaded lazily with SCRIPT LOAD once per connection, called with
 * EVALSHA, reloaded on NOSCRIPT. */
int sq_redis_script(struct sq_redis *r, const char *name, const char *body);

/* Runs one command (a->v[0] is the command name). Returns new reply (free with
 * sq_reply_free) or NULL. */
struct sq_reply *sq_redis_command(struct sq_redis *r, const struct sq_redis_args *a,
				  struct sq_err *err);

/* Like sq_redis_command for a command that may block on the server for up to
 * block_ms (BLPOP): the socket timeout is raised by that much for this call. */
struct sq_reply *sq_redis_command_blocking(struct sq_redis *r, const struct sq_redis_args *a,
					   long long block_ms, struct sq_err *err);

/* Runs script id with no KEYS and a as ARGV. Returns new reply or NULL. */
struct sq_reply *sq_redis_eval(struct sq_redis *r, int script, const struct sq_redis_args *a,
			       struct sq_err *err);

/* Pipelines n calls (script id, or -1 for plain commands), sent in batches of
 * SQ_REDIS_PIPELINE. On success replies[0..n) are new replies (free each with
 * sq_reply_free); on failure (-1) none are left allocated. A command whose reply
 * was received is never sent again, so a reconnect mid-batch resends only the
 * rest. The first error reply fails the whole call (after every command ran). */
int sq_redis_batch(struct sq_redis *r, int script, const struct sq_redis_args *calls, size_t n,
		   struct sq_reply **replies, struct sq_err *err);

#define SQ_REDIS_PIPELINE 512

/* Test seam: breaks the current connection (shuts the socket down under hiredis)
 * so the next command sees an I/O error and must reconnect. */
void sq_redis_debug_break(struct sq_redis *r);
/* Test seam: number of connections made so far (1 after open). */
long long sq_redis_debug_connects(const struct sq_redis *r);
/* Test seam: on != 0 runs every script as EVALSHA, as against Redis 6.2. */
void sq_redis_debug_eval_only(struct sq_redis *r, int on);

#endif
