/* test_reconnect.c - the Redis wrapper: URL parsing, AUTH/SELECT, and the queue
 * carrying on across a killed connection, a flushed script cache, a command
 * timeout and a restart of the server; giving up after retry_for_ms. */
#include "queue/queue.h"
#include "queue/queue_priv.h"
#include "queue/redis.h"
#include "base/xalloc.h"
#include "t.h"

#include <arpa/inet.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_url_good(void)
{
	struct sq_redis_url u;
	struct sq_err err = {0};
	char *shown;

	T_EQ_INT(sq_redis_url_parse("redis://cache.lan", &u, &err), 0);
	T_EQ_STR(u.host, "cache.lan");
	T_EQ_INT(u.port, 6379);
	T_EQ_INT(u.db, 0);
	T_CHECK(!u.user && !u.pass && !u.path);
	sq_redis_url_release(&u);

	T_EQ_INT(sq_redis_url_parse("redis://ops:p%40ss@10.0.0.5:7000/3", &u, &err), 0);
	T_EQ_STR(u.user, "ops");
	T_EQ_STR(u.pass, "p@ss");
	T_EQ_STR(u.host, "10.0.0.5");
	T_EQ_INT(u.port, 7000);
	T_EQ_INT(u.db, 3);
	sq_redis_url_release(&u);

	/* the URL in messages: password masked, user encoded so that it reads as
	 * the same server (found by tests/fuzz/fuzz_redis_url) */
	T_EQ_INT(sq_redis_url_parse("redis://a%2Fb%40c:p@h:1/2", &u, &err), 0);
	T_EQ_STR(u.user, "a/b@c");
	shown = sq_redis_url_show(&u);
	T_EQ_STR(shown, "redis://a%2Fb%40c:***@h:1/2");
	free(shown);
	sq_redis_url_release(&u);

	T_EQ_INT(sq_redis_url_parse("redis://:secret@h/", &u, &err), 0);
	T_CHECK(u.user == NULL);
	T_EQ_STR(u.pass, "secret");
	T_EQ_INT(u.db, 0);
	sq_redis_url_release(&u);

	T_EQ_INT(sq_redis_url_parse("redis://[::1]:6380/1", &u, &err), 0);
	T_EQ_STR(u.host, "::1");
	T_EQ_INT(u.port, 6380);
	sq_redis_url_release(&u);

	T_EQ_INT(sq_redis_url_parse("redis://[fe80::1%eth0]:6379/2", &u, &err), 0);
	T_EQ_STR(u.host, "fe80::1%eth0");
	sq_redis_url_release(&u);

	T_EQ_INT(sq_redis_url_parse("redis://redis_1.svc-a.lan", &u, &err), 0);
	T_EQ_STR(u.host, "redis_1.svc-a.lan");
	sq_redis_url_release(&u);

	T_EQ_INT(sq_redis_url_parse("unix:///run/redis/r.sock?db=2", &u, &err), 0);
	T_EQ_STR(u.path, "/run/redis/r.sock");
	T_CHECK(u.host == NULL);
	T_EQ_INT(u.db, 2);
	sq_redis_url_release(&u);
}

static void test_url_bad(void)
{
	/* from redis://[[] on: hosts no resolver means, and a NUL that would cut the
	 * user or password short (found by tests/fuzz/fuzz_redis_url) */
	static const char *const bad[] = {
	    "http://h",	     "redis://",       "redis://h:0",	    "redis://h:99999",
	    "redis://h:abc", "redis://h/x",    "redis://user@h",    "unix://relative.sock",
	    "unix://",	     "unix:///s?x=1",  "redis://h?db=1",    "redis://[::1",
	    "redis://[[]",   "redis://[]:1",   "redis://a b",	    "redis://h%41",
	    "redis://[x]:1", "redis://[::1%]", "redis://u:p%00x@h", "redis://u%00:p@h",
	};
	struct sq_queue_opts o = {"redis//nope", NULL, 0, 0, 0};
	struct sq_redis_url u;
	struct sq_err err;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *quoted = xasprintf("'%s'", bad[i]);

		err.code = SQ_OK;
		T_EQ_INT(sq_redis_url_parse(bad[i], &u, &err), -1);
		T_EQ_INT(err.code, SQ_ERR_INVALID);
		T_CONTAINS(err.msg, quoted);
		free(quoted);
	}
	err.code = SQ_OK;
	T_CHECK(sq_queue_open(&o, &err) == NULL);
	T_EQ_INT(err.code, SQ_ERR_INVALID);
	T_CONTAINS(err.msg, "'redis//nope'");
}

static void test_unreachable(void)
{
	struct sq_queue_opts o = {"unix:///nonexistent/redis.sock", NULL, 0, 0, 300};
	struct sq_err err = {0};
	double t0 = mono_s(), dt;

	T_CHECK(sq_queue_open(&o, &err) == NULL);
	dt = mono_s() - t0;
	T_EQ_INT(err.code, SQ_ERR_REDIS);
	T_CONTAINS(err.msg, "redis at 'unix:///nonexistent/redis.sock' unreachable for 0.3 s: ");
	T_CONTAINS(err.msg, ": no such file or directory");
	T_CHECK(dt >= 0.29 && dt < 3);

	/* no patience asked for: no retrying to report, just what failed */
	o.retry_for_ms = 1;
	err.code = SQ_OK;
	T_CHECK(sq_queue_open(&o, &err) == NULL);
	T_EQ_INT(err.code, SQ_ERR_REDIS);
	T_EQ_STR(err.msg, "cannot connect to redis at 'unix:///nonexistent/redis.sock': no such "
			  "file or directory");
}

static struct sq_redis *open_raw(const char *url, long long command_timeout_ms,
				 long long retry_for_ms, struct sq_err *err)
{
	struct sq_redis_opts o = {url, 0, command_timeout_ms, retry_for_ms};

	return sq_redis_open(&o, err);
}

static struct sq_reply *run(struct sq_redis *r, struct sq_err *err, const char *first, ...)
{
	struct sq_redis_args a = SQ_REDIS_ARGS_INIT;
	struct sq_reply *rep;
	const char *s;
	va_list ap;

	va_start(ap, first);
	for (s = first; s; s = va_arg(ap, const char *))
		sq_redis_args_add(&a, s);
	va_end(ap);
	rep = sq_redis_command(r, &a, err);
	sq_redis_args_release(&a);
	return rep;
}

/* Runs a command whose reply does not matter; returns 0 if it succeeded. */
static int run_ok(struct sq_redis *r, const char *first, const char *a1, const char *a2,
		  const char *a3, const char *a4)
{
	struct sq_err err = {0};
	struct sq_reply *rep = run(r, &err, first, a1, a2, a3, a4, NULL);

	if (!rep)
		fprintf(stderr, "%s: %s\n", first, err.msg);
	sq_reply_free(rep);
	return rep ? 0 : -1;
}

static void test_reply_errors(void)
{
	struct sq_err err = {0};
	struct sq_redis *r = open_raw(getenv("SCANQ_REDIS"), 200, 700, &err);
	struct sq_redis_args a = SQ_REDIS_ARGS_INIT;
	struct sq_reply *rep;
	double t0;

	T_CHECK(r != NULL);
	if (!r)
		return;
	/* a server error is not retried */
	t0 = mono_s();
	T_CHECK(run(r, &err, "NOSUCHCMD", "x", NULL) == NULL);
	T_EQ_INT(err.code, SQ_ERR_REDIS);
	T_CONTAINS(err.msg, "unknown command");
	T_CHECK(mono_s() - t0 < 0.5);

	/* a command outliving the socket timeout is retried, then given up */
	t0 = mono_s();
	err.code = SQ_OK;
	T_CHECK(run(r, &err, "BLPOP", "reconnect:nothing", "5", NULL) == NULL);
	T_EQ_INT(err.code, SQ_ERR_REDIS);
	T_CONTAINS(err.msg, "unreachable");
	T_CONTAINS(err.msg, "timed out");
	T_CHECK(mono_s() - t0 >= 0.6 && mono_s() - t0 < 3);

	/* the blocking form raises the timeout for that call */
	sq_redis_args_add(&a, "BLPOP");
	sq_redis_args_add(&a, "reconnect:nothing");
	sq_redis_args_add(&a, "0.4");
	rep = sq_redis_command_blocking(r, &a, 400, &err);
	T_CHECK(rep != NULL && rep->type == SQ_REPLY_NIL);
	sq_reply_free(rep);
	sq_redis_args_release(&a);
	sq_redis_free(r);
}

/* A queue with one leased job, for the reconnect cases. */
struct fixture {
	struct sq_queue *q;
	struct sq_task task;
	struct sq_stitch_spec stitch;
	struct sq_job job;
	char prefix[64];
};

static void fixture_init(struct fixture *f, const char *url, const char *tag)
{
	struct sq_queue_opts o = {url, f->prefix, 0, 0, 10000};
	enum sq_stage stage = SQ_STAGE_EXTRACT;
	struct sq_claim_opts co = {"w1", &stage, 1, NULL, 0, -1, -1};
	enum sq_enqueue_outcome out;
	struct sq_err err = {0};

	memset(f, 0, sizeof(*f));
	snprintf(f->prefix, sizeof(f->prefix), "tr%d.%s:", (int)getpid(), tag);
	if (!(f->q = sq_queue_open(&o, &err))) {
		fprintf(stderr, "open: %s\n", err.msg);
		exit(1);
	}
	sq_task_init(&f->task);
	f->task.acquisition = xstrdup("demo");
	f->task.group = xstrdup("g1");
	f->task.name = xstrdup("t1");
	f->task.output_root = xstrdup("/out/demo");
	sq_task_finalize(&f->task);
	sq_stitch_spec_init(&f->stitch);
	f->stitch.acquisition = xstrdup("demo");
	f->stitch.outdir = xstrdup("/out/demo");
	sq_stitch_spec_finalize(&f->stitch);
	sq_job_init(&f->job);
	if (sq_queue_enqueue(f->q, &f->task, 1, &f->stitch, &out, &err) < 0 ||
	    sq_queue_claim(f->q, &co, &f->job, &err) != 1) {
		fprintf(stderr, "setup: %s\n", err.msg);
		exit(1);
	}
}

static void fixture_release(struct fixture *f)
{
	sq_job_release(&f->job);
	sq_task_release(&f->task);
	sq_stitch_spec_release(&f->stitch);
	sq_queue_free(f->q);
}

/* How many function libraries the server holds. */
static long long count_libraries(struct sq_redis *admin)
{
	struct sq_err err = {0};
	struct sq_reply *rep = run(admin, &err, "FUNCTION", "LIST", NULL);
	long long n = rep && rep->type == SQ_REPLY_ARRAY ? (long long)rep->nelements : -1;

	sq_reply_free(rep);
	return n;
}

static void test_killed_connection(void)
{
	struct sq_err err = {0};
	struct sq_redis *admin = open_raw(getenv("SCANQ_REDIS"), 0, 0, &err);
	struct fixture f;
	long long connects;

	fixture_init(&f, getenv("SCANQ_REDIS"), "kill");
	connects = sq_redis_debug_connects(sq_queue_redis(f.q));
	T_EQ_INT(connects, 1);

	/* the server drops us (as on a failover or an idle timeout) */
	T_EQ_INT(run_ok(admin, "CLIENT", "KILL", "TYPE", "normal", NULL), 0);
	T_EQ_INT(sq_queue_heartbeat(f.q, &f.job, "w1", 1, 2, &err), 0);
	T_EQ_INT(sq_redis_debug_connects(sq_queue_redis(f.q)), 2);

	/* the seam: the socket breaks under us */
	sq_redis_debug_break(sq_queue_redis(f.q));
	T_EQ_INT(sq_queue_heartbeat(f.q, &f.job, "w1", 2, 2, &err), 0);
	T_EQ_INT(sq_redis_debug_connects(sq_queue_redis(f.q)), 3);

	/* the function library is deleted: FCALL finds no function, the library is
	 * loaded again, no reconnect needed */
	T_EQ_INT(run_ok(admin, "FUNCTION", "FLUSH", NULL, NULL, NULL), 0);
	T_EQ_INT(sq_queue_heartbeat(f.q, &f.job, "w1", 3, 4, &err), 0);
	T_EQ_INT(sq_redis_debug_connects(sq_queue_redis(f.q)), 3);
	T_EQ_INT(count_libraries(admin), 1);

	/* as EVALSHA (Redis 6.2): the script cache is flushed: NOSCRIPT, reloaded */
	sq_redis_debug_eval_only(sq_queue_redis(f.q), 1);
	T_EQ_INT(sq_queue_heartbeat(f.q, &f.job, "w1", 4, 4, &err), 0);
	T_EQ_INT(run_ok(admin, "SCRIPT", "FLUSH", NULL, NULL, NULL), 0);
	T_EQ_INT(sq_queue_complete(f.q, &f.job, "w1", NULL, &err), 0);
	T_EQ_INT(sq_redis_debug_connects(sq_queue_redis(f.q)), 3);
	fixture_release(&f);
	sq_redis_free(admin);
}

/* A pipelined batch sent on a connection that is already broken. */
static void test_batch_after_break(void)
{
	enum { N = 1500 };
	struct sq_redis_args *calls = xcalloc(N, sizeof(*calls));
	struct sq_reply **replies = xcalloc(N, sizeof(*replies));
	struct sq_err err = {0};
	struct sq_redis *r = open_raw(getenv("SCANQ_REDIS"), 0, 0, &err);
	int i, ok = 0;

	for (i = 0; i < N; i++) {
		sq_redis_args_add(&calls[i], "INCR");
		sq_redis_args_add(&calls[i], "reconnect:counter");
	}
	sq_redis_debug_break(r);
	T_EQ_INT(sq_redis_batch(r, -1, calls, N, replies, &err), 0);
	for (i = 0; i < N; i++) {
		ok += replies[i]->type == SQ_REPLY_INTEGER && replies[i]->integer == i + 1;
		sq_reply_free(replies[i]);
		sq_redis_args_release(&calls[i]);
	}
	T_EQ_INT(ok, N);
	free(calls);
	free(replies);
	sq_redis_free(r);
}

static void test_select_db(void)
{
	char *url = xasprintf("%s?db=5", getenv("SCANQ_REDIS"));
	struct sq_err err = {0};
	struct sq_redis *db0 = open_raw(getenv("SCANQ_REDIS"), 0, 0, &err);
	struct sq_reply *rep;
	struct fixture f;
	char *k;

	fixture_init(&f, url, "db");
	k = xasprintf("%sjob:demo:t1", f.prefix);
	rep = run(db0, &err, "EXISTS", k, NULL);
	T_EQ_INT(rep ? rep->integer : -1, 0);
	sq_reply_free(rep);
	/* after a reconnect the queue is still on db 5 */
	sq_redis_debug_break(sq_queue_redis(f.q));
	T_EQ_INT(sq_queue_complete(f.q, &f.job, "w1", NULL, &err), 0);
	T_EQ_INT(run_ok(db0, "SELECT", "5", NULL, NULL, NULL), 0);
	rep = run(db0, &err, "HGET", k, "stage", NULL);
	T_EQ_STR(rep ? rep->str : NULL, "reconstruct");
	sq_reply_free(rep);
	free(k);
	free(url);
	fixture_release(&f);
	sq_redis_free(db0);
}

/* Runs a tests/lib.sh function on a server dir. */
static int lib_sh(const char *fn, const char *dir, const char *extra)
{
	char *cmdline = xasprintf(". \"$SCANQ_TESTS/lib.sh\" && %s \"%s\" %s", fn, dir, extra);
	int rc = system(cmdline);

	free(cmdline);
	return rc;
}

/* Stops the server of dir by its pid file: tests/lib.sh's sq_redis_stop cannot
 * SHUTDOWN a server that wants a password. */
static int stop_by_pid(const char *dir)
{
	char *path = xasprintf("%s/redis.pid", dir);
	FILE *f = fopen(path, "r");
	long pid = -1;
	int i;

	if (f && fscanf(f, "%ld", &pid) != 1)
		pid = -1;
	if (f)
		fclose(f);
	if (pid > 0 && kill((pid_t)pid, SIGTERM) == 0)
		for (i = 0; i < 200 && kill((pid_t)pid, 0) == 0; i++)
			usleep(20000);
	unlink(path);
	free(path);
	return pid > 0 && kill((pid_t)pid, 0) < 0 ? 0 : -1;
}

/* A free TCP port on 127.0.0.1 (the kernel picks it). */
static int free_port(void)
{
	struct sockaddr_in sa = {0};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* A second server over TCP with a password: AUTH (with and without a user) is
 * sent on connect and replayed on reconnect; a wrong password is not retried. */
/* A user whose ACL refuses functions still gets the queue, as EVALSHA. */
static void test_no_functions(struct sq_redis *admin, int port)
{
	char *url = xasprintf("redis://nofn:pw2@127.0.0.1:%d/0", port);
	struct sq_err err = {0};
	struct sq_reply *rep;
	struct fixture f;

	rep = run(admin, &err, "ACL", "SETUSER", "nofn", "on", ">pw2", "~*", "&*", "+@all",
		  "-fcall", "-function", NULL);
	T_CHECK(rep != NULL);
	sq_reply_free(rep);
	fixture_init(&f, url, "nofn");
	T_EQ_STR(f.job.jid, "t1");
	T_EQ_INT(sq_queue_complete(f.q, &f.job, "w1", NULL, &err), 0);
	T_EQ_INT(count_libraries(admin), 0);
	fixture_release(&f);
	free(url);
}

static void test_auth(void)
{
	char *dir = xasprintf("%s/redis-auth", t_tmpdir());
	char *mk = xasprintf("mkdir -p '%s'", dir);
	int port = free_port();
	char *args = xasprintf("--requirepass s3cret --port %d --bind 127.0.0.1", port);
	char *good = xasprintf("redis://:s3cret@127.0.0.1:%d/0", port);
	char *user = xasprintf("redis://default:s3cret@127.0.0.1:%d/2", port);
	char *wrong = xasprintf("redis://:nope@127.0.0.1:%d", port);
	struct sq_err err = {0};
	struct sq_redis *r;
	double t0;

	T_CHECK(port > 0);
	T_EQ_INT(system(mk), 0);
	T_EQ_INT(lib_sh("sq_redis_start", dir, args), 0);
	r = open_raw(good, 0, 2000, &err);
	T_CHECK(r != NULL);
	if (r) {
		T_CONTAINS(sq_redis_url(r), "redis://:***@127.0.0.1:");
		T_CHECK(strstr(sq_redis_url(r), "s3cret") == NULL);
		sq_redis_debug_break(r);
		T_EQ_INT(run_ok(r, "SET", "auth:k", "v", NULL, NULL), 0);
		T_EQ_INT(sq_redis_debug_connects(r), 2);
	}
	sq_redis_free(r);
	r = open_raw(user, 0, 2000, &err);
	T_CHECK(r != NULL);
	T_EQ_INT(r ? run_ok(r, "SET", "auth:k", "v2", NULL, NULL) : -1, 0);
	if (r)
		test_no_functions(r, port);
	sq_redis_free(r);
	t0 = mono_s();
	r = open_raw(wrong, 0, 5000, &err);
	T_CHECK(r == NULL);
	T_EQ_INT(err.code, SQ_ERR_REDIS);
	T_CONTAINS(err.msg, "refused AUTH");
	T_CHECK(mono_s() - t0 < 1);
	T_EQ_INT(stop_by_pid(dir), 0);
	free(dir);
	free(mk);
	free(args);
	free(good);
	free(user);
	free(wrong);
}

/* Redis stops while a worker heartbeats, and comes back a second later (with
 * its AOF): the call waits it out and succeeds; the lease survived. */
static void test_restart(void)
{
	char *dir = xasprintf("%s/redis", t_tmpdir());
	struct sq_err err = {0};
	struct fixture f;
	double t0, dt;
	pid_t pid;
	int status;

	fixture_init(&f, getenv("SCANQ_REDIS"), "restart");
	T_EQ_INT(lib_sh("sq_redis_stop", dir, ""), 0);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		sleep(1);
		_exit(lib_sh("sq_redis_start", dir, "") == 0 ? 0 : 1);
	}
	t0 = mono_s();
	T_EQ_INT(sq_queue_heartbeat(f.q, &f.job, "w1", 5, 9, &err), 0);
	dt = mono_s() - t0;
	T_CHECK(dt > 0.7);
	if (err.code)
		fprintf(stderr, "heartbeat: %s\n", err.msg);
	T_CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* scripts are gone after a restart: reloaded on NOSCRIPT */
	T_EQ_INT(sq_queue_complete(f.q, &f.job, "w1", NULL, &err), 0);
	fixture_release(&f);
	free(dir);
}

int main(void)
{
	if (!getenv("SCANQ_REDIS") || !getenv("SCANQ_TESTS")) {
		fprintf(stderr, "SCANQ_REDIS not set: run through tests/run-test\n");
		return 1;
	}
	test_url_good();
	test_url_bad();
	test_unreachable();
	test_reply_errors();
	test_killed_connection();
	test_batch_after_break();
	test_select_db();
	test_auth();
	test_restart();
	return t_done();
}
