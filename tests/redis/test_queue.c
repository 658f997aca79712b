/* test_queue.c - the work queue against a private redis-server: enqueue
 * versions, claim and leases, fencing, retries and dead letters, fairness,
 * resource-aware claiming, pending counts, rate-limited lease expiry and the
 * status snapshot.
 *
 * Each case uses its own key prefix so cases never see each other's keys. The
 * cases run twice: with the scripts as Redis functions (FCALL, Redis >= 7) and
 * as EVALSHA scripts (what Redis 6.2 gets). */
#include "queue/queue.h"
#include "base/clock.h"
#include "queue/queue_priv.h"
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "t.h"
#include "fixture.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

/* --- fixture --- */

static int case_no;
static int eval_only; /* second pass: scripts as EVALSHA */

static struct sq_queue *open_q(char *prefix, size_t len, long long lease_ms)
{
	snprintf(prefix, len, "tq%d.%d:", (int)getpid(), ++case_no);
	return fx_open(prefix, lease_ms, eval_only);
}

/* Another handle on the same prefix (a second worker host). */
static struct sq_queue *reopen_q(const char *prefix, long long lease_ms)
{
	return fx_open(prefix, lease_ms, eval_only);
}

static int enqueue(struct sq_queue *q, struct acq *a)
{
	struct sq_err err = {0};
	int rc = sq_queue_enqueue(q, a->tasks, a->n, &a->stitch, a->out, &err);

	if (rc < 0)
		fprintf(stderr, "enqueue: %s\n", err.msg);
	return rc;
}

/* --- raw Redis access for assertions --- */

static struct sq_reply *cmd(struct sq_queue *q, const char *first, ...)
{
	struct sq_redis_args a = SQ_REDIS_ARGS_INIT;
	struct sq_err err = {0};
	struct sq_reply *rep;
	const char *s;
	va_list ap;

	va_start(ap, first);
	for (s = first; s; s = va_arg(ap, const char *))
		sq_redis_args_add(&a, s);
	va_end(ap);
	rep = sq_redis_command(sq_queue_redis(q), &a, &err);
	sq_redis_args_release(&a);
	if (!rep)
		fprintf(stderr, "redis: %s\n", err.msg);
	return rep;
}

static long long cmd_int(struct sq_queue *q, const char *c, const char *key, const char *arg)
{
	struct sq_reply *rep = cmd(q, c, key, arg, NULL);
	long long v = -1;

	if (rep && rep->type == SQ_REPLY_INTEGER)
		v = rep->integer;
	else if (rep && rep->type == SQ_REPLY_STRING)
		v = strtoll(rep->str, NULL, 10);
	sq_reply_free(rep);
	return v;
}

/* P<fmt> in a rotating static buffer (tests only). */
static const char *key(struct sq_queue *q, const char *fmt, ...)
{
	static char bufs[8][256];
	static int next;
	char *b = bufs[next++ % 8];
	size_t n = (size_t)snprintf(b, 256, "%s", sq_queue_prefix(q));
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b + n, 256 - n, fmt, ap);
	va_end(ap);
	return b;
}

/* Element i of LRANGE key 0 -1 (0 = left end), new string or NULL. */
static char *list_at(struct sq_queue *q, const char *k, long i)
{
	char idx[24];
	struct sq_reply *rep;
	char *v;

	snprintf(idx, sizeof(idx), "%ld", i);
	rep = cmd(q, "LINDEX", k, idx, NULL);
	v = rep && rep->type == SQ_REPLY_STRING ? xstrdup(rep->str) : NULL;
	sq_reply_free(rep);
	return v;
}

static long long redis_now_ms(struct sq_queue *q)
{
	struct sq_reply *rep = cmd(q, "TIME", NULL);
	long long ms = sq_reply_ll(rep, 0, 0) * 1000 + sq_reply_ll(rep, 1, 0) / 1000;

	sq_reply_free(rep);
	return ms;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static const enum sq_stage st_extract[] = {SQ_STAGE_EXTRACT};
static const enum sq_stage st_reconstruct[] = {SQ_STAGE_RECONSTRUCT};
static const enum sq_stage st_all[] = {SQ_STAGE_EXTRACT, SQ_STAGE_RECONSTRUCT, SQ_STAGE_STITCH};

static struct sq_claim_opts copts(const char *wid, const enum sq_stage *stages, size_t n)
{
	struct sq_claim_opts o = {wid, stages, n, NULL, 0, -1, -1};

	return o;
}

static int claim(struct sq_queue *q, const char *wid, const enum sq_stage *stages, size_t n,
		 struct sq_job *job)
{
	struct sq_claim_opts o = copts(wid, stages, n);
	struct sq_err err = {0};
	int rc;

	sq_job_init(job);
	rc = sq_queue_claim(q, &o, job, &err);
	if (rc < 0)
		fprintf(stderr, "claim: %s\n", err.msg);
	return rc;
}

static int complete(struct sq_queue *q, const struct sq_job *job, const char *wid,
		    struct sq_err *err)
{
	return sq_queue_complete(q, job, wid, "{\"ok\":true}", err);
}

/* --- cases --- */

static void test_enqueue_versions(void)
{
	char p[64];
	struct sq_queue *q = open_q(p, sizeof(p), 0);
	struct acq a;
	char *v;

	acq_make(&a, "demo", 1, 3, 3, 100);
	T_EQ_INT(enqueue(q, &a), 0);
	T_EQ_INT(a.out[0], SQ_ENQUEUE_ADDED);
	T_EQ_INT(a.out[2], SQ_ENQUEUE_ADDED);
	T_EQ_INT(cmd_int(q, "LLEN", key(q, "extract:demo"), NULL), 3);
	T_EQ_INT(cmd_int(q, "SISMEMBER", key(q, "acqs"), "demo"), 1);
	T_EQ_INT(cmd_int(q, "SCARD", key(q, "members:demo:g1"), NULL), 3);
	T_FIELD(q, "demo", "g1-2", "state", "queued");
	T_FIELD(q, "demo", "g1-2", "stage", "extract");
	T_FIELD(q, "demo", "g1-2", "version", a.tasks[1].version);
	T_FIELD(q, "demo", "@group:g1", "state", "waiting");

	T_EQ_INT(enqueue(q, &a), 0);
	T_EQ_INT(a.out[0], SQ_ENQUEUE_UNCHANGED);
	T_EQ_INT(a.out[1], SQ_ENQUEUE_UNCHANGED);
	T_EQ_INT(cmd_int(q, "LLEN", key(q, "extract:demo"), NULL), 3);

	a.tasks[1].extract.fps_num = 5;
	sq_task_finalize(&a.tasks[1]);
	T_EQ_INT(enqueue(q, &a), 0);
	T_EQ_INT(a.out[0], SQ_ENQUEUE_UNCHANGED);
	T_EQ_INT(a.out[1], SQ_ENQUEUE_UPDATED);
	T_EQ_INT(a.out[2], SQ_ENQUEUE_UNCHANGED);
	T_EQ_INT(cmd_int(q, "LLEN", key(q, "extract:demo"), NULL), 3);
	T_FIELD(q, "demo", "g1-2", "version", a.tasks[1].version);
	/* the updated one is now the newest: at the left end */
	v = list_at(q, key(q, "extract:demo"), 0);
	T_EQ_STR(v, "g1-2");
	free(v);
	acq_free(&a);
	sq_queue_free(q);
}

static void test_claim_lease(void)
{
	char p[64];
	struct sq_queue *q = open_q(p, sizeof(p), 0);
	struct sq_job job, again;
	struct sq_task parsed;
	struct sq_err err = {0};
	struct acq a;
	long long until1, until2, now;
	char tok[24];

	acq_make(&a, "demo", 1, 3, 3, 100);
	enqueue(q, &a);
	now = redis_now_ms(q);
	T_EQ_INT(claim(q, "w1", st_extract, 1, &job), 1);
	T_EQ_STR(job.acq, "demo");
	T_EQ_STR(job.jid, "g1-1"); /* oldest first */
	T_EQ_INT(job.kind, SQ_JOB_TASK);
	T_EQ_INT(job.stage, SQ_STAGE_EXTRACT);
	T_EQ_STR(job.version, a.tasks[0].version);
	T_CHECK(job.token > 0);
	T_EQ_INT(job.attempt, 1);
	sq_task_init(&parsed);
	T_EQ_INT(sq_task_from_json(&parsed, job.spec_json, &err), 0);
	T_EQ_STR(parsed.name, "g1-1");
	T_EQ_STR(parsed.version, a.tasks[0].version);
	sq_task_release(&parsed);

	T_FIELD(q, "demo", "g1-1", "state", "leased");
	T_FIELD(q, "demo", "g1-1", "owner", "w1");
	snprintf(tok, sizeof(tok), "%lld", job.token);
	T_FIELD(q, "demo", "g1-1", "token", tok);
	T_FIELD(q, "demo", "g1-1", "host", sq_hostname());
	T_EQ_INT(field_ll(q, "demo", "g1-1", "attempts"), 1);
	until1 = field_ll(q, "demo", "g1-1", "lease_until_ms");
	T_CHECK(until1 >= now + 15000 - 50 && until1 <= now + 15000 + 1000);
	T_EQ_INT(cmd_int(q, "ZSCORE", key(q, "leased:demo"), "g1-1"), until1);
	T_EQ_INT(cmd_int(q, "LLEN", key(q, "extract:demo"), NULL), 2);

	/* idempotent: the same worker claiming again gets the same lease */
	T_EQ_INT(claim(q, "w1", st_extract, 1, &again), 1);
	T_EQ_STR(again.jid, "g1-1");
	T_EQ_INT(again.token, job.token);
	T_EQ_INT(again.attempt, 1);
	T_EQ_INT(cmd_int(q, "LLEN", key(q, "extract:demo"), NULL), 2);
	sq_job_release(&again);

	/* heartbeat extends and records progress */
	sleep_ms(30);
	until1 = field_ll(q, "demo", "g1-1", "lease_until_ms");
	T_EQ_INT(sq_queue_heartbeat(q, &job, "w1", 7, 10, &err), 0);
	until2 = field_ll(q, "demo", "g1-1", "lease_until_ms");
	T_CHECK(until2 > until1);
	T_EQ_INT(field_ll(q, "demo", "g1-1", "progress_done"), 7);
	T_EQ_INT(field_ll(q, "demo", "g1-1", "progress_total"), 10);
	T_EQ_INT(cmd_int(q, "ZSCORE", key(q, "leased:demo"), "g1-1"), until2);
	sq_job_release(&job);
	acq_free(&a);
	sq_queue_free(q);
}

/* Lease expiry, then fencing of the old owner. */
static void test_expiry_and_fencing(void)
{
	char p[64];
	struct sq_queue *q = open_q(p, sizeof(p), 300);
	struct sq_job j1, j2;
	struct sq_err err = {0};
	struct sq_claim_opts o = copts("w1", st_extract, 1);
	struct acq a;
	long long pending = -1;
	char *v;
	int dead = -1;

	acq_make(&a, "demo", 1, 3, 3, 100);
	enqueue(q, &a);
	T_EQ_INT(claim(q, "w1", st_extract, 1, &j1), 1);
	sleep_ms(400);
	/* pending expires stale leases: the job is back at the FRONT (right end) */
	T_EQ_INT(sq_queue_pending(q, &o, &pending, &err), 0);
	T_EQ_INT(pending, 3);
	v = list_at(q, key(q, "extract:demo"), -1);
	T_EQ_STR(v, "g1-1");
	free(v);
	T_FIELD(q, "demo", "g1-1", "state", "queued");
	T_EQ_INT(field_ll(q, "demo", "g1-1", "crashes"), 1);
	v = list_at(q, key(q, "hist:demo:g1-1"), -1);
	T_CONTAINS(v, "lease expired");
	free(v);

	T_EQ_INT(claim(q, "w2", st_extract, 1, &j2), 1);
	T_EQ_STR(j2.jid, "g1-1");
	T_EQ_INT(j2.attempt, 2);
	T_CHECK(j2.token > j1.token);

	/* the old owner is fenced off everywhere; nothing changes */
	err.code = SQ_OK;
	T_EQ_INT(complete(q, &j1, "w1", &err), -1);
	T_EQ_INT(err.code, SQ_ERR_STALE);
	T_CONTAINS(err.msg, "g1-1");
	err.code = SQ_OK;
	T_EQ_INT(sq_queue_fail(q, &j1, "w1", "boom", 0, &dead, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_STALE);
	err.code = SQ_OK;
	T_EQ_INT(sq_queue_heartbeat(q, &j1, "w1", 1, 2, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_STALE);
	err.code = SQ_OK;
	T_EQ_INT(sq_queue_release(q, &j1, "w1", &err), -1);
	T_EQ_INT(err.code, SQ_ERR_STALE);
	T_FIELD(q, "demo", "g1-1", "state", "leased");
	T_FIELD(q, "demo", "g1-1", "owner", "w2");
	T_EQ_INT(field_ll(q, "demo", "g1-1", "errors"), 0);
	T_EQ_INT(cmd_int(q, "LLEN", key(q, "reconstruct:demo"), NULL), 0);

	/* the new owner completes; twice is fine (a retried call after a lost reply) */
	T_EQ_INT(complete(q, &j2, "w2", &err), 0);
	T_EQ_INT(complete(q, &j2, "w2", &err), 0);
	T_FIELD(q, "demo", "g1-1", "state", "queued");
	T_FIELD(q, "demo", "g1-1", "stage", "reconstruct");
	T_EQ_INT(field_ll(q, "demo", "g1-1", "attempts"), 0);
	T_EQ_INT(cmd_int(q, "LLEN", key(q, "reconstruct:demo"), NULL), 1);
	T_EQ_INT(cmd_int(q, "SISMEMBER", key(q, "done:demo:extract"), "g1-1"), 1);
	T_EQ_INT(cmd_int(q, "ZCARD", key(q, "leased:demo"), NULL), 0);
	T_EQ_INT(cmd_int(q, "EXISTS", key(q, "owned:w2"), NULL), 0);
	sq_job_release(&j1);
	sq_job_release(&j2);
	acq_free(&a);
	sq_queue_free(q);
}

/* Claims run lease expiry at most every 250 ms per acquisition, and at least
 * that often while anyone claims. */
static void test_maintenance_rate(void)
{
	char p[64];
	struct sq_queue *q = open_q(p, sizeof(p), 100);
	struct sq_job j1, j2, j3;
	struct acq a;

	acq_make(&a, "demo", 1, 3, 3, 100);
	enqueue(q, &a);
	T_EQ_INT(claim(q, "w1", st_extract, 1, &j1), 1);
	T_EQ_STR(j1.jid, "g1-1");
	T_EQ_INT(claim(q, "w2", st_extract, 1, &j2), 1); /* maintenance ran: due again in 250 */
	sleep_ms(150);
	/* both leases are past their deadline, but maintenance is not due yet */
	T_EQ_INT(claim(q, "w3", st_extract, 1, &j3), 1);
	T_EQ_STR(j3.jid, "g1-3");
	T_FIELD(q, "demo", "g1-1", "state", "leased");
	T_FIELD(q, "demo", "g1-1", "owner", "w1");
	sq_job_release(&j3);
	sleep_ms(150);
	/* it is now: every expired lease is back at the front (w3's too) */
	T_EQ_INT(claim(q, "w4", st_extract, 1, &j3), 1);
	T_EQ_INT(j3.attempt, 2);
	T_EQ_INT(field_ll(q, "demo", "g1-1", "crashes"), 1);
	T_EQ_INT(field_ll(q, "demo", "g1-2", "crashes"), 1);
	T_EQ_INT(field_ll(q, "demo", "g1-3", "crashes"), 1);
	T_EQ_INT(cmd_int(q, "LLEN", key(q, "extract:demo"), NULL), 2);
	sq_job_release(&j1);
	sq_job_release(&j2);
	sq_job_release(&j3);
	acq_free(&a);
	sq_queue_free(q);
}

/* Checks the newest dead letter of demo. */
static void check_dead_letter(struct sq_queue *q, const char *jid, const char *error)
{
	char *dl = list_at(q, key(q, "failed:demo"), 0);
	cJSON *o = dl ? cJSON_Parse(dl) : NULL, *h;

	T_CHECK(o != NULL);
	if (!o) {
		free(dl);
		return;
	}
	T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "jid")), jid);
	T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "error")), error);
	T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "host")), sq_hostname());
	T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "stage")), "extract");
	T_EQ_INT(cJSON_GetObjectItem(o, "attempts")->valuedouble, 3);
	T_EQ_INT(cJSON_GetObjectItem(o, "errors")->valuedouble, 3);
	T_EQ_INT(cJSON_GetObjectItem(o, "crashes")->valuedouble, 0);
	h = cJSON_GetObjectItem(o, "history");
	T_CHECK(cJSON_IsArray(h));
	T_EQ_INT(cJSON_GetArraySize(h), 3);
	T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(h, 2), "error")),
		 error);
	T_EQ_INT(cJSON_GetObjectItem(cJSON_GetArrayItem(h, 1), "attempt")->valuedouble, 2);
	cJSON_Delete(o);
	free(dl);
}

static void test_retry_and_dead_letter(void)
{
	char p[64];
	struct sq_queue *q = open_q(p, sizeof(p), 0);
	struct sq_err err = {0};
	struct sq_job job;
	struct acq a;
	long long delay;
	int i, dead = -1;

	acq_make(&a, "demo", 1, 1, 3, 300);
	enqueue(q, &a);
	for (i = 1; i <= 3; i++) {
		T_EQ_INT(claim(q, "w1", st_extract, 1, &job), 1);
		T_EQ_INT(job.attempt, i);
		T_EQ_INT(sq_queue_fail(q, &job, "w1", "decoder exploded", 0, &dead, &err), 0);
		/* a retried call answers the same */
		T_EQ_INT(sq_queue_fail(q, &job, "w1", "decoder exploded", 0, &dead, &err), 0);
		sq_job_release(&job);
		if (i == 3)
			break;
		T_EQ_INT(dead, 0);
		T_FIELD(q, "demo", "g1-1", "state", "retry");
		/* not before the failure (updated_ms) + backoff_ms * 2^(attempt-1) */
		delay = cmd_int(q, "ZSCORE", key(q, "delayed:demo"), "g1-1") -
			field_ll(q, "demo", "g1-1", "updated_ms");
		T_EQ_INT(delay, i == 1 ? 300 : 600);
		T_EQ_INT(claim(q, "w1", st_extract, 1, &job), 0); /* not due yet */
		sleep_ms(i == 1 ? 330 : 630);
	}
	T_EQ_INT(dead, 1);
	T_FIELD(q, "demo", "g1-1", "state", "failed");
	T_EQ_INT(cmd_int(q, "LLEN", key(q, "failed:demo"), NULL), 1);
	T_EQ_INT(cmd_int(q, "SISMEMBER", key(q, "dead:demo:extract"), "g1-1"), 1);
	T_EQ_INT(cmd_int(q, "ZCARD", key(q, "delayed:demo"), NULL), 0);
	check_dead_letter(q, "g1-1", "decoder exploded");
	T_EQ_INT(claim(q, "w1", st_all, 3, &job), 0);
	acq_free(&a);
	sq_queue_free(q);
}

static void test_release(void)
{
	char p[64];
	struct sq_queue *q = open_q(p, sizeof(p), 0);
	struct sq_err err = {0};
	struct sq_job job, next;
	struct acq a;

	acq_make(&a, "demo", 1, 3, 3, 100);
	enqueue(q, &a);
	T_EQ_INT(claim(q, "w1", st_extract, 1, &job), 1);
	T_EQ_STR(job.jid, "g1-1");
	T_EQ_INT(sq_queue_release(q, &job, "w1", &err), 0);
	T_FIELD(q, "demo", "g1-1", "state", "queued");
	T_EQ_INT(field_ll(q, "demo", "g1-1", "attempts"), 0);
	/* back first: the next claim (another worker) gets it, attempt not counted */
	T_EQ_INT(claim(q, "w2", st_extract, 1, &next), 1);
	T_EQ_STR(next.jid, "g1-1");
	T_EQ_INT(next.attempt, 1);
	sq_job_release(&job);

	/* release_owner: a supervisor's child died holding it */
	T_EQ_INT(sq_queue_release_owner(q, "w2", "worker killed by SIGKILL", &err), 1);
	T_FIELD(q, "demo", "g1-1", "state", "queued");
	T_EQ_INT(field_ll(q, "demo", "g1-1", "crashes"), 1);
	T_EQ_INT(sq_queue_release_owner(q, "w2", "again", &err), 0);
	T_EQ_INT(sq_queue_release_owner(q, "nobody", "none", &err), 0);
	T_EQ_INT(complete(q, &next, "w2", &err), -1);
	T_EQ_INT(err.code, SQ_ERR_STALE);
	sq_job_release(&next);
	T_EQ_INT(claim(q, "w3", st_extract, 1, &next), 1);
	T_EQ_STR(next.jid, "g1-1");
	T_EQ_INT(next.attempt, 2);
	sq_job_release(&next);
	acq_free(&a);
	sq_queue_free(q);
}

static void test_fairness_and_discovery(void)
{
	char p[64], wid[32], *prev = NULL;
	struct sq_queue *q = open_q(p, sizeof(p), 0), *q2;
	struct acq a, b, c;
	struct sq_job job;
	int i, alternations = 0, got[2] = {0, 0};

	acq_make(&a, "fa", 1, 10, 3, 100);
	acq_make(&b, "fb", 1, 10, 3, 100);
	enqueue(q, &a);
	enqueue(q, &b);
	for (i = 0; i < 20; i++) {
		snprintf(wid, sizeof(wid), "w%d", i);
		T_EQ_INT(claim(q, wid, st_extract, 1, &job), 1);
		got[strcmp(job.acq, "fa") == 0 ? 0 : 1]++;
		if (prev && strcmp(prev, job.acq) != 0)
			alternations++;
		free(prev);
		prev = xstrdup(job.acq);
		sq_job_release(&job);
	}
	free(prev);
	T_EQ_INT(alternations, 19);
	T_EQ_INT(got[0], 10);
	T_EQ_INT(got[1], 10);
	T_EQ_INT(claim(q, "w99", st_extract, 1, &job), 0);

	/* a new acquisition, enqueued from elsewhere, is picked up by this handle */
	q2 = reopen_q(p, 0);
	acq_make(&c, "fc", 1, 1, 3, 100);
	enqueue(q2, &c);
	T_EQ_INT(claim(q, "w100", st_extract, 1, &job), 1);
	T_EQ_STR(job.acq, "fc");
	sq_job_release(&job);
	acq_free(&a);
	acq_free(&b);
	acq_free(&c);
	sq_queue_free(q2);
	sq_queue_free(q);
}

/* Runs extract for every job of q (so reconstruct requirements apply). */
static void finish_extract(struct sq_queue *q)
{
	struct sq_err err = {0};
	struct sq_job job;

	while (claim(q, "wx", st_extract, 1, &job) == 1) {
		T_EQ_INT(complete(q, &job, "wx", &err), 0);
		sq_job_release(&job);
	}
}

static void test_resources(void)
{
	char p[64];
	struct sq_queue *q = open_q(p, sizeof(p), 0);
	struct sq_claim_opts o = copts("w1", st_reconstruct, 1);
	struct sq_err err = {0};
	struct sq_job job;
	struct acq a;

	acq_make(&a, "demo", 1, 3, 3, 100);
	a.tasks[0].reconstruct.min_vram_mib = 8000; /* oldest: needs a big GPU */
	a.tasks[1].reconstruct.min_ram_mib = 64000;
	sq_task_finalize(&a.tasks[0]);
	sq_task_finalize(&a.tasks[1]);
	enqueue(q, &a);
	finish_extract(q);
	T_EQ_INT(field_ll(q, "demo", "g1-1", "need_vram_mib"), 8000);

	o.free_vram_mib = -1;  /* no GPU: the VRAM job is skipped */
	o.free_ram_mib = 1000; /* and the big-RAM one too */
	sq_job_init(&job);
	T_EQ_INT(sq_queue_claim(q, &o, &job, &err), 1);
	T_EQ_STR(job.jid, "g1-3");
	sq_job_release(&job);
	o.worker_id = "w2";
	o.free_vram_mib = 4000; /* too small */
	T_EQ_INT(sq_queue_claim(q, &o, &job, &err), 0);
	o.free_ram_mib = -1; /* unknown RAM: no check */
	T_EQ_INT(sq_queue_claim(q, &o, &job, &err), 1);
	T_EQ_STR(job.jid, "g1-2");
	sq_job_release(&job);
	o.worker_id = "w3";
	o.free_vram_mib = 9000;
	T_EQ_INT(sq_queue_claim(q, &o, &job, &err), 1);
	T_EQ_STR(job.jid, "g1-1");
	sq_job_release(&job);
	acq_free(&a);
	sq_queue_free(q);
}

static long long pending(struct sq_queue *q, const enum sq_stage *stages, size_t n)
{
	struct sq_claim_opts o = copts("wp", stages, n);
	struct sq_err err = {0};
	long long count = -1;

	if (sq_queue_pending(q, &o, &count, &err) < 0)
		fprintf(stderr, "pending: %s\n", err.msg);
	return count;
}

static void test_pending(void)
{
	char p[64];
	struct sq_queue *q = open_q(p, sizeof(p), 0);
	struct sq_err err = {0};
	struct sq_job j1, j2;
	struct acq a;
	int dead;

	acq_make(&a, "demo", 1, 3, 3, 60000);
	enqueue(q, &a);
	T_EQ_INT(pending(q, st_extract, 1), 3);
	T_EQ_INT(pending(q, st_reconstruct, 1), 0);
	claim(q, "w1", st_extract, 1, &j1);
	claim(q, "w2", st_extract, 1, &j2);
	T_EQ_INT(pending(q, st_extract, 1), 3); /* leased ones count */
	T_EQ_INT(sq_queue_fail(q, &j1, "w1", "x", 1, &dead, &err), 0);
	T_EQ_INT(pending(q, st_extract, 1), 3); /* and retrying ones */
	T_EQ_INT(complete(q, &j2, "w2", &err), 0);
	T_EQ_INT(pending(q, st_extract, 1), 2);
	T_EQ_INT(pending(q, st_reconstruct, 1), 1);
	T_EQ_INT(pending(q, st_all, 3), 3);
	sq_job_release(&j1);
	sq_job_release(&j2);
	acq_free(&a);
	sq_queue_free(q);
}

static const cJSON *get(const cJSON *o, const char *path)
{
	char buf[128], *save = NULL, *part;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); part && o; part = strtok_r(NULL, ".", &save))
		o = cJSON_IsArray(o) ? cJSON_GetArrayItem(o, (int)strtol(part, NULL, 10))
				     : cJSON_GetObjectItem(o, part);
	return o;
}

static long long get_ll(const cJSON *o, const char *path)
{
	const cJSON *v = get(o, path);

	return cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;
}

static void test_snapshot(void)
{
	char p[64];
	struct sq_queue *q = open_q(p, sizeof(p), 0);
	struct sq_worker_info w = {"w1", "hostA", 1234, "extract", NULL, "demo/g1-1/extract"};
	struct sq_err err = {0};
	struct sq_job j1, j2;
	struct acq a;
	cJSON *doc;
	char *json;
	int dead;

	/* empty prefix: arrays must come out as [] */
	json = sq_queue_snapshot(q, NULL, 10, &err);
	doc = json ? cJSON_Parse(json) : NULL;
	T_CHECK(cJSON_IsArray(get(doc, "acquisitions")));
	T_CHECK(cJSON_IsArray(get(doc, "workers")));
	T_CHECK(get_ll(doc, "now_ms") > 0);
	cJSON_Delete(doc);
	free(json);

	acq_make(&a, "demo", 2, 3, 1, 100);
	enqueue(q, &a);
	claim(q, "w1", st_extract, 1, &j1);
	claim(q, "w2", st_extract, 1, &j2);
	T_EQ_INT(sq_queue_heartbeat(q, &j1, "w1", 3, 9, &err), 0);
	T_EQ_INT(sq_queue_fail(q, &j2, "w2", "bad video", 0, &dead, &err), 0);
	T_EQ_INT(dead, 1);
	T_EQ_INT(sq_queue_worker_beat(q, &w, &err), 0);

	json = sq_queue_snapshot(q, NULL, 10, &err);
	doc = json ? cJSON_Parse(json) : NULL;
	T_CHECK(doc != NULL);
	T_EQ_STR(cJSON_GetStringValue(get(doc, "acquisitions.0.name")), "demo");
	T_EQ_INT(get_ll(doc, "acquisitions.0.tasks"), 6);
	T_EQ_INT(get_ll(doc, "acquisitions.0.groups"), 2);
	T_EQ_INT(get_ll(doc, "acquisitions.0.stages.extract.queued"), 4);
	T_EQ_INT(get_ll(doc, "acquisitions.0.stages.extract.running"), 1);
	T_EQ_INT(get_ll(doc, "acquisitions.0.stages.extract.failed"), 1);
	T_EQ_INT(get_ll(doc, "acquisitions.0.stages.extract.done"), 0);
	T_EQ_INT(get_ll(doc, "acquisitions.0.stages.reconstruct.queued"), 0);
	T_EQ_STR(cJSON_GetStringValue(get(doc, "acquisitions.0.running.0.jid")), j1.jid);
	T_EQ_STR(cJSON_GetStringValue(get(doc, "acquisitions.0.running.0.owner")), "w1");
	T_EQ_INT(get_ll(doc, "acquisitions.0.running.0.progress_done"), 3);
	T_EQ_INT(get_ll(doc, "acquisitions.0.running.0.progress_total"), 9);
	T_EQ_INT(get_ll(doc, "acquisitions.0.dead_total"), 1);
	T_EQ_STR(cJSON_GetStringValue(get(doc, "acquisitions.0.dead.0.error")), "bad video");
	T_EQ_STR(cJSON_GetStringValue(get(doc, "workers.0.id")), "w1");
	T_EQ_STR(cJSON_GetStringValue(get(doc, "workers.0.host")), "hostA");
	T_EQ_INT(get_ll(doc, "workers.0.pid"), 1234);
	T_CHECK(cJSON_IsNull(get(doc, "workers.0.gpu")));
	T_EQ_STR(cJSON_GetStringValue(get(doc, "workers.0.job")), "demo/g1-1/extract");
	cJSON_Delete(doc);
	free(json);

	/* one acquisition, no dead letters asked for, worker gone */
	T_EQ_INT(sq_queue_worker_gone(q, "w1", &err), 0);
	json = sq_queue_snapshot(q, "demo", 0, &err);
	doc = json ? cJSON_Parse(json) : NULL;
	T_CHECK(cJSON_IsArray(get(doc, "acquisitions.0.dead")));
	T_EQ_INT(cJSON_GetArraySize(get(doc, "acquisitions.0.dead")), 0);
	T_EQ_INT(cJSON_GetArraySize(get(doc, "workers")), 0);
	cJSON_Delete(doc);
	free(json);
	sq_job_release(&j1);
	sq_job_release(&j2);
	acq_free(&a);
	sq_queue_free(q);
}

static void test_update_while_leased(void)
{
	char p[64];
	struct sq_queue *q = open_q(p, sizeof(p), 0);
	struct sq_err err = {0};
	struct sq_job job;
	struct acq a;

	acq_make(&a, "demo", 1, 1, 3, 100);
	enqueue(q, &a);
	T_EQ_INT(claim(q, "w1", st_extract, 1, &job), 1);
	a.tasks[0].videos[0][1] = 'V';
	sq_task_finalize(&a.tasks[0]);
	T_EQ_INT(enqueue(q, &a), 0);
	T_EQ_INT(a.out[0], SQ_ENQUEUE_UPDATED);
	T_EQ_INT(sq_queue_heartbeat(q, &job, "w1", 1, 1, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_STALE);
	err.code = SQ_OK;
	T_EQ_INT(complete(q, &job, "w1", &err), -1);
	T_EQ_INT(err.code, SQ_ERR_STALE);
	T_FIELD(q, "demo", "g1-1", "state", "queued");
	T_FIELD(q, "demo", "g1-1", "version", a.tasks[0].version);
	T_EQ_INT(cmd_int(q, "LLEN", key(q, "extract:demo"), NULL), 1);
	T_EQ_INT(cmd_int(q, "LLEN", key(q, "reconstruct:demo"), NULL), 0);
	T_EQ_INT(cmd_int(q, "ZCARD", key(q, "leased:demo"), NULL), 0);
	T_EQ_INT(cmd_int(q, "EXISTS", key(q, "owned:w1"), NULL), 0);
	sq_job_release(&job);
	T_EQ_INT(claim(q, "w2", st_extract, 1, &job), 1);
	T_EQ_STR(job.version, a.tasks[0].version);
	sq_job_release(&job);
	acq_free(&a);
	sq_queue_free(q);
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The doorbell: an idle wait lasts its timeout; a push wakes it at once. */
static void test_wait(void)
{
	char p[64];
	struct sq_queue *q = open_q(p, sizeof(p), 0);
	struct sq_claim_opts o = copts("w1", st_all, 3);
	struct sq_err err = {0};
	struct acq a;
	double t0, dt;

	t0 = mono_s();
	T_EQ_INT(sq_queue_wait(q, &o, 300, &err), 0);
	dt = mono_s() - t0;
	T_CHECK(dt >= 0.28 && dt < 2);
	acq_make(&a, "demo", 1, 40, 3, 100);
	enqueue(q, &a);
	enqueue(q, &a); /* unchanged: rings nothing more */
	T_EQ_INT(cmd_int(q, "LLEN", key(q, "wake:extract"), NULL), 40);
	t0 = mono_s();
	T_EQ_INT(sq_queue_wait(q, &o, 5000, &err), 0);
	T_CHECK(mono_s() - t0 < 1);
	T_EQ_INT(cmd_int(q, "LLEN", key(q, "wake:extract"), NULL), 39);
	acq_free(&a);
	acq_make(&a, "demo", 1, 70, 3, 100); /* 30 more: 69 tokens, trimmed */
	enqueue(q, &a);
	T_EQ_INT(cmd_int(q, "LLEN", key(q, "wake:extract"), NULL), 64);
	acq_free(&a);
	sq_queue_free(q);
}

/* Not a benchmark: a guard against a pathological slowdown, with the rates
 * printed for the log. */
static void test_throughput(void)
{
	enum { NTASKS = 20000, NCYCLES = 2000 };
	char p[64];
	struct sq_queue *q = open_q(p, sizeof(p), 0);
	struct sq_stitch_spec st;
	struct sq_task *tasks = xcalloc(NTASKS, sizeof(*tasks));
	enum sq_enqueue_outcome *out = xcalloc(NTASKS, sizeof(*out));
	struct sq_err err = {0};
	struct sq_job job;
	char name[32];
	double t0, t_enq, t_cyc;
	int i, ok = 0;

	for (i = 0; i < NTASKS; i++) {
		snprintf(name, sizeof(name), "t%05d", i);
		task_make(&tasks[i], "big", i % 2 ? "g1" : "g2", name, 3, 1000);
	}
	sq_stitch_spec_init(&st);
	st.acquisition = xstrdup("big");
	st.outdir = xstrdup("/out/big");
	sq_stitch_spec_finalize(&st);
	t0 = mono_s();
	T_EQ_INT(sq_queue_enqueue(q, tasks, NTASKS, &st, out, &err), 0);
	t_enq = mono_s() - t0;
	T_EQ_INT(out[NTASKS - 1], SQ_ENQUEUE_ADDED);
	T_EQ_INT(cmd_int(q, "LLEN", key(q, "extract:big"), NULL), NTASKS);
	t0 = mono_s();
	for (i = 0; i < NCYCLES; i++) {
		if (claim(q, "wb", st_extract, 1, &job) != 1)
			break;
		ok += complete(q, &job, "wb", &err) == 0;
		sq_job_release(&job);
	}
	t_cyc = mono_s() - t0;
	T_EQ_INT(ok, NCYCLES);
	printf("enqueue: %d tasks in %.2f s (%.0f/s); claim+complete: %.0f/s from one process\n",
	       NTASKS, t_enq, NTASKS / t_enq, NCYCLES / t_cyc);
	T_CHECK(t_enq < 60);
	for (i = 0; i < NTASKS; i++)
		sq_task_release(&tasks[i]);
	free(tasks);
	free(out);
	sq_stitch_spec_release(&st);
	sq_queue_free(q);
}

int main(void)
{
	if (!getenv("SCANQ_REDIS")) {
		fprintf(stderr, "SCANQ_REDIS not set: run through tests/run-test\n");
		return 1;
	}
	for (eval_only = 0; eval_only <= 1; eval_only++) {
		test_enqueue_versions();
		test_claim_lease();
		test_expiry_and_fencing();
		test_maintenance_rate();
		test_retry_and_dead_letter();
		test_release();
		test_fairness_and_discovery();
		test_resources();
		test_pending();
		test_snapshot();
		test_update_while_leased();
		test_wait();
	}
	eval_only = 0;
	test_throughput();
	return t_done();
}
