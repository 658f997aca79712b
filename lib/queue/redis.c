/* redis.c - hiredis wrapped once: connections, reconnect with backoff, Lua
 * scripts by EVALSHA, pipelined batches. See redis.h for the contract.
 *
 * Every command goes through one loop (run_calls): a "round" sends whatever is
 * still to do and files each reply; a round that ends in a transient failure
 * (I/O error, timeout, LOADING) drops the connection and sleeps with backoff
 * before the next, until retry_for_ms has passed without progress. */
#include "queue/redis.h"
#include "queue/redis_int.h"

#include "base/strbuf.h"
#include "base/xalloc.h"

#include <hiredis.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "base/banned.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 2000
#define DEFAULT_COMMAND_TIMEOUT_MS 10000
#define DEFAULT_RETRY_FOR_MS 60000
#define BACKOFF_FIRST_MS 50
#define BACKOFF_CAP_MS 2000
#define NOSCRIPT_ROUNDS_MAX 3
#define REAL_RETRY_MS 100

struct script {
	const char *name;
	const char *body;
	char sha[41];
	int loaded;  /* SCRIPT LOADed on the current connection */
	char *fname; /* FCALL name, <library>_<name>; NULL: no library */
};

struct sq_redis {
	char *shown_url; /* password redacted: safe for messages */
	struct sq_redis_url url;
	long long connect_timeout_ms, command_timeout_ms, retry_for_ms;
	redisContext *ctx; /* NULL while disconnected */
	struct script *scripts;
	size_t nscripts, scripts_alloc;
	long long connects;
	unsigned int rng;     /* jitter */
	struct sq_strbuf out; /* commands being sent, in RESP (kept to reuse its buffer) */
	int connect_failed;   /* the last transient failure was a connect */
	const char *lib_name, *lib_code; /* Redis Functions library, or NULL */
	int lib_missing;		 /* FCALL said so: FUNCTION LOAD before the next */
	int fn_refused; /* this connection's server has no functions for us: EVALSHA */
	int eval_only;	/* test seam: never FCALL */
	sq_redis_outage_fn *on_outage;
	void *outage_ctx;
	long long down_since_ms; /* monotonic; 0 while Redis answers */
};

/* What a round ended with. */
enum round_rc {
	ROUND_DONE = 0,	  /* every call has its reply */
	ROUND_AGAIN,	  /* NOSCRIPT: reload and go again at once */
	ROUND_TRANSIENT,  /* back off, reconnect, go again */
	ROUND_FATAL = -1, /* err is set */
};

/* The state of one run_calls: which calls still need a reply. */
struct calls {
	int script;
	const struct sq_redis_args *args;
	size_t n;
	redisReply **raw; /* n entries; NULL until the call's reply came */
	size_t *todo;	  /* indices of calls still to send */
	size_t ntodo;
	long long block_ms;
	int noscript;	/* set by a round that saw NOSCRIPT (or a function missing) */
	int progressed; /* set by a round that filed a reply */
	int sent_fcall; /* the chunk in flight went as FCALL */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long long ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static struct timeval to_timeval(long long ms)
{
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};

	return tv;
}

/* --- connection --- */

static void drop(struct sq_redis *r)
{
	size_t i;

	if (r->ctx)
		redisFree(r->ctx);
	r->ctx = NULL;
	r->lib_missing = r->fn_refused = 0; /* the next server may differ */
	for (i = 0; i < r->nscripts; i++)
		r->scripts[i].loaded = 0;
}

/* Whether script runs as FCALL on the current connection. */
static int use_fcall(const struct sq_redis *r, int script)
{
	return script >= 0 && r->scripts[script].fname && !r->fn_refused && !r->eval_only;
}

/* Messages read "…: no such file or directory": strerror's capital goes, an
 * acronym ("LOADING ...") stays. */
static void set_why(struct sq_strbuf *why, const char *msg)
{
	sq_strbuf_reset(why);
	sq_strbuf_adds(why, msg && *msg ? msg : "connection lost");
	if (why->len > 1 && isupper((unsigned char)why->buf[0]) &&
	    islower((unsigned char)why->buf[1]))
		why->buf[0] = (char)tolower((unsigned char)why->buf[0]);
}

/* The connection broke (errno err): remember why and forget it. */
static enum round_rc io_failed(struct sq_redis *r, int err, struct sq_strbuf *why)
{
	if (err == EAGAIN || err == EWOULDBLOCK)
		set_why(why, "timed out");
	else if (err == 0)
		set_why(why, "connection closed by the server");
	else
		set_why(why, strerror(err));
	drop(r);
	return ROUND_TRANSIENT;
}

static int is_error(const redisReply *rep, const char *prefix)
{
	return rep->type == REDIS_REPLY_ERROR && rep->str &&
	       strncmp(rep->str, prefix, strlen(prefix)) == 0;
}

/* Errors that mean "the server is not ready yet", retried like a disconnect. */
static int is_transient(const redisReply *rep)
{
	return is_error(rep, "LOADING") || is_error(rep, "BUSY") || is_error(rep, "MASTERDOWN") ||
	       is_error(rep, "TRYAGAIN");
}

/* Appends a decimal number (hot path: no printf). */
static void add_count(struct sq_strbuf *out, char type, size_t n)
{
	char buf[24];
	size_t i = sizeof(buf);

	buf[--i] = '\n';
	buf[--i] = '\r';
	do
		buf[--i] = (char)('0' + n % 10);
	while ((n /= 10) > 0);
	buf[--i] = type;
	sq_strbuf_add(out, buf + i, sizeof(buf) - i);
}

/* Appends one bulk string, in RESP, to r->out. */
static void add_bulk(struct sq_redis *r, const char *data, size_t len)
{
	add_count(&r->out, '$', len);
	sq_strbuf_add(&r->out, data, len);
	sq_strbuf_add(&r->out, "\r\n", 2);
}

/* Appends one command, in RESP, to r->out. */
static void format_argv(struct sq_redis *r, size_t argc, const char *const *argv,
			const size_t *lens)
{
	size_t i;

	add_count(&r->out, '*', argc);
	for (i = 0; i < argc; i++)
		add_bulk(r, argv[i], lens ? lens[i] : strlen(argv[i]));
}

/* Sends r->out whole. hiredis only formats and parses here: writing ourselves
 * with MSG_NOSIGNAL makes a closed socket an EPIPE error rather than a SIGPIPE,
 * without touching the process's signal mask on every call. */
static enum round_rc send_out(struct sq_redis *r, struct sq_strbuf *why)
{
	size_t off = 0;
	ssize_t n;

	while (off < r->out.len) {
		n = send(r->ctx->fd, r->out.buf + off, r->out.len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			sq_strbuf_reset(&r->out);
			return io_failed(r, n < 0 ? errno : EPIPE, why);
		}
		off += (size_t)n;
	}
	sq_strbuf_reset(&r->out);
	return ROUND_DONE;
}

/* The next reply on the connection, reading as much as it takes. */
static enum round_rc read_reply(struct sq_redis *r, redisReply **out, struct sq_strbuf *why)
{
	char buf[16384];
	void *rep = NULL;
	ssize_t n;

	for (;;) {
		if (redisReaderGetReply(r->ctx->reader, &rep) != REDIS_OK) {
			set_why(why, r->ctx->reader->errstr);
			drop(r);
			return ROUND_TRANSIENT;
		}
		if (rep) {
			*out = rep;
			return ROUND_DONE;
		}
		n = recv(r->ctx->fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return io_failed(r, n < 0 ? errno : 0, why);
		if (redisReaderFeed(r->ctx->reader, buf, (size_t)n) != REDIS_OK) {
			set_why(why, r->ctx->reader->errstr);
			drop(r);
			return ROUND_TRANSIENT;
		}
	}
}

/* One command on the current connection, outside any pipeline. */
static enum round_rc simple(struct sq_redis *r, int argc, const char **argv, redisReply **out,
			    struct sq_strbuf *why)
{
	redisReply *rep = NULL;
	enum round_rc rc;

	format_argv(r, (size_t)argc, argv, NULL);
	if ((rc = send_out(r, why)) != ROUND_DONE || (rc = read_reply(r, &rep, why)) != ROUND_DONE)
		return rc;
	*out = rep;
	if (is_transient(rep)) {
		set_why(why, rep->str);
		freeReplyObject(rep);
		*out = NULL;
		drop(r);
		return ROUND_TRANSIENT;
	}
	return ROUND_DONE;
}

/* AUTH and SELECT, replayed on every new connection. */
static enum round_rc handshake(struct sq_redis *r, struct sq_strbuf *why, struct sq_err *err)
{
	const char *auth[3] = {"AUTH", r->url.user ? r->url.user : r->url.pass, r->url.pass};
	char db[16];
	const char *sel[2] = {"SELECT", db};
	redisReply *rep = NULL;
	enum round_rc rc = ROUND_DONE;

	if (r->url.pass && (rc = simple(r, r->url.user ? 3 : 2, auth, &rep, why)) != ROUND_DONE)
		return rc;
	if (rep && rep->type == REDIS_REPLY_ERROR)
		rc = sq_error(err, SQ_ERR_REDIS, "redis at '%s' refused AUTH: %s", r->shown_url,
			      rep->str);
	freeReplyObject(rep);
	rep = NULL;
	if (rc != ROUND_DONE || !r->url.db)
		return rc;
	snprintf(db, sizeof(db), "%d", r->url.db);
	if ((rc = simple(r, 2, sel, &rep, why)) != ROUND_DONE)
		return rc;
	if (rep->type == REDIS_REPLY_ERROR)
		rc = sq_error(err, SQ_ERR_REDIS, "redis at '%s' cannot select db %d: %s",
			      r->shown_url, r->url.db, rep->str);
	freeReplyObject(rep);
	return rc;
}

static enum round_rc connect_now(struct sq_redis *r, struct sq_strbuf *why, struct sq_err *err)
{
	struct timeval tv = to_timeval(r->connect_timeout_ms);
	redisContext *c;
	enum round_rc rc;

	c = r->url.path ? redisConnectUnixWithTimeout(r->url.path, tv)
			: redisConnectWithTimeout(r->url.host, r->url.port, tv);
	if (!c || c->err) {
		set_why(why, c ? c->errstr : "cannot allocate a connection");
		if (c)
			redisFree(c);
		r->connect_failed = 1;
		return ROUND_TRANSIENT;
	}
	r->connect_failed = 0;
	redisSetTimeout(c, to_timeval(r->command_timeout_ms));
	r->ctx = c;
	r->connects++;
	rc = handshake(r, why, err);
	if (rc == ROUND_FATAL)
		drop(r);
	return rc;
}

static enum round_rc load_script(struct sq_redis *r, struct script *s, struct sq_strbuf *why,
				 struct sq_err *err)
{
	const char *argv[3] = {"SCRIPT", "LOAD", s->body};
	redisReply *rep = NULL;
	enum round_rc rc;

	if ((rc = simple(r, 3, argv, &rep, why)) != ROUND_DONE)
		return rc;
	if (rep->type == REDIS_REPLY_STRING && rep->len == 40) {
		memcpy(s->sha, rep->str, 40);
		s->sha[40] = '\0';
		s->loaded = 1;
	} else {
		rc = sq_error(err, SQ_ERR_REDIS,
			      "cannot load lua script '%s' into redis at '%s': %s", s->name,
			      r->shown_url, rep->str ? rep->str : "unexpected reply");
	}
	freeReplyObject(rep);
	return rc;
}

/* FUNCTION LOAD of the library (once: it outlives connections, and is kept by
 * the server's persistence and replicas). A server that refuses it gets
 * EVALSHA from now on. */
static enum round_rc load_library(struct sq_redis *r, struct sq_strbuf *why, struct sq_err *err)
{
	const char *argv[3] = {"FUNCTION", "LOAD", r->lib_code};
	redisReply *rep = NULL;
	enum round_rc rc;

	if ((rc = simple(r, 3, argv, &rep, why)) != ROUND_DONE)
		return rc;
	if (rep->type != REDIS_REPLY_ERROR || is_error(rep, "ERR Library")) /* already exists */
		r->lib_missing = 0;
	else if (is_error(rep, "ERR unknown") || is_error(rep, "NOPERM"))
		r->fn_refused = 1;
	else
		rc = sq_error(err, SQ_ERR_REDIS,
			      "cannot load lua library '%s' into redis at '%s': %s", r->lib_name,
			      r->shown_url, rep->str);
	freeReplyObject(rep);
	return rc;
}

/* --- running commands --- */

/* Appends call i (FCALL name 0 args..., EVALSHA sha 0 args..., or the command
 * itself) to r->out. */
static void append_call(struct sq_redis *r, const struct calls *c, size_t i)
{
	const struct sq_redis_args *a = &c->args[i];
	const struct script *s;
	size_t j;

	if (c->script < 0) {
		format_argv(r, a->n, (const char *const *)a->v, a->len);
		return;
	}
	s = &r->scripts[c->script];
	add_count(&r->out, '*', a->n + 3);
	if (c->sent_fcall) {
		add_bulk(r, "FCALL", 5);
		add_bulk(r, s->fname, strlen(s->fname));
	} else {
		add_bulk(r, "EVALSHA", 7);
		add_bulk(r, s->sha, strlen(s->sha));
	}
	add_bulk(r, "0", 1); /* no KEYS: the scripts build their keys */
	for (j = 0; j < a->n; j++)
		add_bulk(r, a->v[j], a->len[j]);
}

/* Files one reply: kept, or left to do again (NOSCRIPT, LOADING). */
static void file_reply(struct sq_redis *r, struct calls *c, size_t i, redisReply *rep,
		       struct sq_strbuf *why)
{
	if (c->script >= 0 && !c->sent_fcall && is_error(rep, "NOSCRIPT")) {
		r->scripts[c->script].loaded = 0;
		c->noscript = 1;
		freeReplyObject(rep);
	} else if (c->sent_fcall && is_error(rep, "ERR Function not found")) {
		r->lib_missing = 1; /* flushed, or a new server: load it, call again */
		c->noscript = 1;
		freeReplyObject(rep);
	} else if (c->sent_fcall &&
		   (is_error(rep, "ERR unknown command") || is_error(rep, "NOPERM"))) {
		r->fn_refused = 1; /* Redis 6.2, or an ACL without FCALL: EVALSHA */
		c->noscript = 1;
		freeReplyObject(rep);
	} else if (is_transient(rep)) {
		set_why(why, rep->str);
		freeReplyObject(rep);
	} else {
		c->raw[i] = rep;
		c->progressed = 1;
	}
}

static enum round_rc send_chunk(struct sq_redis *r, struct calls *c, const size_t *idx, size_t n,
				struct sq_strbuf *why)
{
	redisReply *rep;
	enum round_rc rc;
	size_t i;

	c->sent_fcall = use_fcall(r, c->script);
	for (i = 0; i < n; i++)
		append_call(r, c, idx[i]);
	if ((rc = send_out(r, why)) != ROUND_DONE)
		return rc;
	for (i = 0; i < n; i++) {
		rep = NULL;
		if ((rc = read_reply(r, &rep, why)) != ROUND_DONE)
			return rc;
		file_reply(r, c, idx[i], rep, why);
	}
	return ROUND_DONE;
}

static void compact_todo(struct calls *c)
{
	size_t i, k = 0;

	for (i = 0; i < c->ntodo; i++)
		if (!c->raw[c->todo[i]])
			c->todo[k++] = c->todo[i];
	c->ntodo = k;
}

/* Sends every call still to do once, on a connection made if needed. */
static enum round_rc run_round(struct sq_redis *r, struct calls *c, struct sq_strbuf *why,
			       struct sq_err *err)
{
	enum round_rc rc = ROUND_DONE;
	size_t sent, chunk;

	if (!r->ctx && (rc = connect_now(r, why, err)) != ROUND_DONE)
		return rc;
	if (use_fcall(r, c->script) && r->lib_missing &&
	    (rc = load_library(r, why, err)) != ROUND_DONE)
		return rc;
	if (c->script >= 0 && !use_fcall(r, c->script) && !r->scripts[c->script].loaded &&
	    (rc = load_script(r, &r->scripts[c->script], why, err)) != ROUND_DONE)
		return rc;
	if (c->block_ms > 0)
		redisSetTimeout(r->ctx, to_timeval(r->command_timeout_ms + c->block_ms));
	for (sent = 0; sent < c->ntodo && rc == ROUND_DONE; sent += chunk) {
		chunk = c->ntodo - sent < SQ_REDIS_PIPELINE ? c->ntodo - sent : SQ_REDIS_PIPELINE;
		rc = send_chunk(r, c, c->todo + sent, chunk, why);
	}
	if (r->ctx && c->block_ms > 0)
		redisSetTimeout(r->ctx, to_timeval(r->command_timeout_ms));
	compact_todo(c);
	if (rc == ROUND_DONE && c->ntodo)
		rc = c->noscript ? ROUND_AGAIN : ROUND_TRANSIENT;
	return rc;
}

/* The error once an outage has lasted retry_for_ms. Only a real retrying (at
 * least REAL_RETRY_MS) is reported as "unreachable for N s"; a caller that asked
 * for no patience hears what failed. */
static int give_up(const struct sq_redis *r, long long elapsed_ms, const char *why,
		   struct sq_err *err)
{
	if (elapsed_ms >= REAL_RETRY_MS)
		return sq_error(err, SQ_ERR_REDIS, "redis at '%s' unreachable for %.1f s: %s",
				r->shown_url, (double)elapsed_ms / 1000.0, why);
	if (r->connect_failed)
		return sq_error(err, SQ_ERR_REDIS, "cannot connect to redis at '%s': %s",
				r->shown_url, why);
	return sq_error(err, SQ_ERR_REDIS, "lost connection to redis at '%s': %s", r->shown_url,
			why);
}

/* Sleeps before the next try; -1 (err set) once the outage has lasted too long. */
static int back_off(struct sq_redis *r, long long *outage_start_ms, long long *backoff_ms,
		    const char *why, struct sq_err *err)
{
	long long now = now_ms(), elapsed, wait;

	if (!*outage_start_ms)
		*outage_start_ms = now;
	elapsed = now - *outage_start_ms;
	if (elapsed >= r->retry_for_ms)
		return give_up(r, elapsed, why, err);
	/* Full doubling with jitter in [b/2, b], so a fleet of workers losing Redis
	 * together does not reconnect in lockstep. */
	wait = *backoff_ms / 2 + rand_r(&r->rng) % (*backoff_ms / 2 + 1);
	if (wait > r->retry_for_ms - elapsed)
		wait = r->retry_for_ms - elapsed;
	sleep_ms(wait > 0 ? wait : 1);
	*backoff_ms = *backoff_ms * 2 > BACKOFF_CAP_MS ? BACKOFF_CAP_MS : *backoff_ms * 2;
	return 0;
}

/* An outage began (the first transient failure since Redis last answered). */
static void outage_begins(struct sq_redis *r, const char *why)
{
	if (r->down_since_ms)
		return;
	r->down_since_ms = now_ms();
	if (r->on_outage)
		r->on_outage(r->outage_ctx, 1, why, 0);
}

static void outage_ends(struct sq_redis *r)
{
	long long down_ms = now_ms() - r->down_since_ms;

	if (!r->down_since_ms)
		return;
	r->down_since_ms = 0;
	if (r->on_outage)
		r->on_outage(r->outage_ctx, 0, NULL, down_ms);
}

static int run_calls(struct sq_redis *r, struct calls *c, struct sq_err *err)
{
	struct sq_strbuf why = SQ_STRBUF_INIT;
	long long outage_start_ms = 0, backoff_ms = BACKOFF_FIRST_MS;
	int noscript_rounds = 0, ret = -1;
	enum round_rc rc;

	for (;;) {
		c->noscript = c->progressed = 0;
		rc = run_round(r, c, &why, err);
		if (rc == ROUND_DONE || rc == ROUND_FATAL)
			break;
		if (c->progressed) {
			outage_start_ms = 0;
			backoff_ms = BACKOFF_FIRST_MS;
			noscript_rounds = 0;
		}
		if (rc == ROUND_AGAIN) {
			if (++noscript_rounds > NOSCRIPT_ROUNDS_MAX) {
				sq_error(err, SQ_ERR_REDIS,
					 "lua script '%s' keeps vanishing from "
					 "redis at '%s'",
					 r->scripts[c->script].name, r->shown_url);
				break;
			}
			continue;
		}
		outage_begins(r, why.buf);
		if (back_off(r, &outage_start_ms, &backoff_ms, why.buf, err) < 0)
			break;
	}
	if (rc == ROUND_DONE) {
		outage_ends(r);
		ret = 0;
	}
	sq_strbuf_release(&why);
	return ret;
}

/* Length of an error reply's message without what Redis appends to a
 * script's own error (" script: <sha or name>, on @user_script:N."). */
static int error_len(const char *msg)
{
	const char *tail = strstr(msg, " script: ");

	return (int)(tail && strstr(tail, ", on @user_") ? (size_t)(tail - msg) : strlen(msg));
}

static const char *call_name(const struct sq_redis *r, int script, const struct sq_redis_args *a)
{
	if (script >= 0)
		return r->scripts[script].name;
	return a->n ? a->v[0] : "";
}

/* Runs calls[0..n); on success replies[i] are new sq_replies. */
static int execute(struct sq_redis *r, int script, const struct sq_redis_args *calls, size_t n,
		   long long block_ms, struct sq_reply **replies, struct sq_err *err)
{
	struct calls c = {.script = script,
			  .args = calls,
			  .n = n,
			  .raw = xcalloc(n + 1, sizeof(redisReply *)),
			  .todo = xmalloc((n + 1) * sizeof(size_t)),
			  .ntodo = n,
			  .block_ms = block_ms};
	int rc;
	size_t i;

	for (i = 0; i < n; i++)
		c.todo[i] = i;
	rc = run_calls(r, &c, err);
	for (i = 0; rc == 0 && i < n; i++)
		if (c.raw[i]->type == REDIS_REPLY_ERROR)
			rc = sq_error(err, SQ_ERR_REDIS, "redis command '%s' failed: %.*s",
				      call_name(r, script, &calls[i]), error_len(c.raw[i]->str),
				      c.raw[i]->str);
	for (i = 0; i < n; i++) {
		if (rc == 0) {
			replies[i] = xmalloc(sizeof(**replies));
			sq_redis_reply_fill(replies[i], c.raw[i]);
		}
		if (c.raw[i])
			freeReplyObject(c.raw[i]);
	}
	free(c.raw);
	free(c.todo);
	return rc;
}

int sq_redis_batch(struct sq_redis *r, int script, const struct sq_redis_args *calls, size_t n,
		   struct sq_reply **replies, struct sq_err *err)
{
	return execute(r, script, calls, n, 0, replies, err);
}

struct sq_reply *sq_redis_command(struct sq_redis *r, const struct sq_redis_args *a,
				  struct sq_err *err)
{
	struct sq_reply *rep = NULL;

	return execute(r, -1, a, 1, 0, &rep, err) < 0 ? NULL : rep;
}

struct sq_reply *sq_redis_command_blocking(struct sq_redis *r, const struct sq_redis_args *a,
					   long long block_ms, struct sq_err *err)
{
	struct sq_reply *rep = NULL;

	return execute(r, -1, a, 1, block_ms, &rep, err) < 0 ? NULL : rep;
}

struct sq_reply *sq_redis_eval(struct sq_redis *r, int script, const struct sq_redis_args *a,
			       struct sq_err *err)
{
	struct sq_reply *rep = NULL;

	return execute(r, script, a, 1, 0, &rep, err) < 0 ? NULL : rep;
}

void sq_redis_library(struct sq_redis *r, const char *name, const char *code)
{
	r->lib_name = name;
	r->lib_code = code;
}

int sq_redis_script(struct sq_redis *r, const char *name, const char *body)
{
	struct script *s;

	xgrow((void **)&r->scripts, &r->scripts_alloc, r->nscripts + 1, sizeof(*r->scripts));
	s = &r->scripts[r->nscripts];
	s->name = name;
	s->body = body;
	s->sha[0] = '\0';
	s->loaded = 0;
	s->fname = r->lib_name ? xasprintf("%s_%s", r->lib_name, name) : NULL;
	return (int)r->nscripts++;
}

/* --- handle --- */

static long long or_default(long long v, long long dflt)
{
	return v > 0 ? v : dflt;
}

struct sq_redis *sq_redis_open(const struct sq_redis_opts *opts, struct sq_err *err)
{
	struct sq_redis *r = xcalloc(1, sizeof(*r));
	struct sq_redis_args ping = SQ_REDIS_ARGS_INIT;
	struct sq_reply *rep;

	sq_strbuf_init(&r->out);
	if (sq_redis_url_parse(opts->url, &r->url, err) < 0) {
		free(r);
		return NULL;
	}
	r->shown_url = sq_redis_url_show(&r->url);
	r->connect_timeout_ms = or_default(opts->connect_timeout_ms, DEFAULT_CONNECT_TIMEOUT_MS);
	r->command_timeout_ms = or_default(opts->command_timeout_ms, DEFAULT_COMMAND_TIMEOUT_MS);
	r->retry_for_ms = or_default(opts->retry_for_ms, DEFAULT_RETRY_FOR_MS);
	r->rng = (unsigned int)(now_ms() ^ ((long long)getpid() << 16) ^ (uintptr_t)r);
	sq_redis_args_add(&ping, "PING");
	rep = sq_redis_command(r, &ping, err);
	sq_redis_args_release(&ping);
	if (!rep) {
		sq_redis_free(r);
		return NULL;
	}
	sq_reply_free(rep);
	return r;
}

void sq_redis_free(struct sq_redis *r)
{
	if (!r)
		return;
	drop(r);
	sq_redis_url_release(&r->url);
	free(r->shown_url);
	for (size_t i = 0; i < r->nscripts; i++)
		free(r->scripts[i].fname);
	free(r->scripts);
	sq_strbuf_release(&r->out);
	free(r);
}

void sq_redis_on_outage(struct sq_redis *r, sq_redis_outage_fn *fn, void *ctx)
{
	r->on_outage = fn;
	r->outage_ctx = ctx;
}

const char *sq_redis_url(const struct sq_redis *r)
{
	return r->shown_url;
}

void sq_redis_debug_break(struct sq_redis *r)
{
	if (r->ctx)
		shutdown(r->ctx->fd, SHUT_RDWR);
}

long long sq_redis_debug_connects(const struct sq_redis *r)
{
	return r->connects;
}

void sq_redis_debug_eval_only(struct sq_redis *r, int on)
{
	r->eval_only = on;
}
