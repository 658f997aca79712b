/* test_ctl.c - the operator actions against a real Redis: cancel (queued,
 * running and dead-lettered jobs; the stitches re-planned without them), pause
 * and resume, retry (also of cancelled jobs), clear, forget (refused while a job
 * runs unless forced), show, the worker registry, and "done with warnings".
 * Every action is run twice: the second run must change nothing. The cases run
 * with the scripts as Redis functions, then as EVALSHA scripts. */
#include "fixture.h"
#include "queue/queue.h"
#include "queue/queue_priv.h"
#include "base/xalloc.h"
#include "t.h"

#include <cjson/cJSON.h>
#include <unistd.h>

static int case_no, eval_only;

static struct sq_queue *open_q(char *prefix, size_t len, struct acq *a, int ngroups, int per)
{
	struct sq_queue *q;
	struct sq_err err = {0};

	snprintf(prefix, len, "tc%d.%d:", (int)getpid(), ++case_no);
	q = fx_open(prefix, 0, eval_only);
	acq_make(a, "demo", ngroups, per, 2, 10);
	if (sq_queue_enqueue(q, a->tasks, a->n, &a->stitch, a->out, &err) < 0) {
		fprintf(stderr, "enqueue: %s\n", err.msg);
		exit(1);
	}
	return q;
}

/* A plain command's reply as an integer (-1 for anything else). */
static long long cmd_int(struct sq_queue *q, const char *c, const char *key, const char *arg)
{
	struct sq_redis_args a = SQ_REDIS_ARGS_INIT;
	struct sq_err err = {0};
	struct sq_reply *rep;
	long long v = -1;

	sq_redis_args_add(&a, c);
	sq_redis_args_addf(&a, "%s%s", sq_queue_prefix(q), key);
	if (arg)
		sq_redis_args_add(&a, arg);
	rep = sq_redis_command(sq_queue_redis(q), &a, &err);
	if (rep && rep->type == SQ_REPLY_INTEGER)
		v = rep->integer;
	sq_reply_free(rep);
	sq_redis_args_release(&a);
	return v;
}

static int claim(struct sq_queue *q, const char *wid, enum sq_stage stage, struct sq_job *job)
{
	struct sq_claim_opts o = {wid, &stage, 1, NULL, 0, -1, -1};
	struct sq_err err = {0};

	sq_job_init(job);
	return sq_queue_claim(q, &o, job, &err);
}

/* Claims and completes one job of stage (result may be NULL); its jid, or "". */
static void run_one(struct sq_queue *q, enum sq_stage stage, const char *result, char *jid,
		    size_t len)
{
	struct sq_err err = {0};
	struct sq_job job;

	jid[0] = '\0';
	if (claim(q, "w", stage, &job) != 1)
		return;
	T_EQ_INT(sq_queue_complete(q, &job, "w", result, &err), 0);
	snprintf(jid, len, "%s", job.jid);
	sq_job_release(&job);
}

static cJSON *parse(char *json)
{
	cJSON *doc = json ? cJSON_Parse(json) : NULL;

	free(json);
	T_CHECK(doc != NULL);
	return doc;
}

static int arr_len(const cJSON *doc, const char *key)
{
	return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, key));
}

static long long num(const cJSON *doc, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);

	return cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;
}

/* Snapshot count of stage s's field f for demo. */
static long long snap_count(struct sq_queue *q, const char *s, const char *f)
{
	struct sq_err err = {0};
	cJSON *doc = parse(sq_queue_snapshot(q, "demo", 5, &err));
	const cJSON *a =
	    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "acquisitions"), 0);
	long long v = num(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(a, "stages"), s), f);

	cJSON_Delete(doc);
	return v;
}

/* Cancel of queued tasks and a running one; the group stitch runs without them. */
static void test_cancel(void)
{
	char p[64], jid[64];
	struct acq a;
	struct sq_queue *q = open_q(p, sizeof(p), &a, 2, 3);
	struct sq_err err = {0};
	struct sq_job running, st;
	cJSON *doc;

	/* g1-1 finishes; g1-2 is running reconstruct; g1-3 is queued at extract */
	T_EQ_INT(claim(q, "w", SQ_STAGE_EXTRACT, &running), 1);
	T_EQ_STR(running.jid, "g1-1");
	T_EQ_INT(sq_queue_complete(q, &running, "w", NULL, &err), 0);
	sq_job_release(&running);
	run_one(q, SQ_STAGE_RECONSTRUCT, NULL, jid, sizeof(jid));
	T_EQ_STR(jid, "g1-1");
	T_EQ_INT(claim(q, "w2", SQ_STAGE_EXTRACT, &running), 1);
	T_EQ_STR(running.jid, "g1-2");

	doc = parse(sq_queue_cancel(q, "demo", "g1-2", &err));
	T_EQ_INT(arr_len(doc, "cancelled"), 1);
	cJSON_Delete(doc);
	T_FIELD(q, "demo", "g1-2", "state", "cancelled");
	/* fenced: the worker's heartbeat and completion are refused */
	T_EQ_INT(sq_queue_heartbeat(q, &running, "w2", 1, 2, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_STALE);
	T_EQ_INT(sq_queue_complete(q, &running, "w2", NULL, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_STALE);
	T_EQ_INT(cmd_int(q, "EXISTS", "owned:w2", NULL), 0);
	sq_job_release(&running);
	T_EQ_INT(cmd_int(q, "ZCARD", "leased:demo", NULL), 0);

	/* g1-3 is queued: cancelling it settles the group: its stitch runs on g1-1 */
	doc = parse(sq_queue_cancel(q, "demo", "g1-3", &err));
	T_EQ_INT(arr_len(doc, "queued"), 1);
	T_EQ_STR(
	    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "queued"), 0)->valuestring,
	    "@group:g1");
	cJSON_Delete(doc);
	T_EQ_INT(cmd_int(q, "LLEN", "extract:demo", NULL), 3); /* g2's three */
	T_EQ_INT(snap_count(q, "extract", "cancelled"), 2);
	T_EQ_INT(claim(q, "w", SQ_STAGE_STITCH, &st), 1);
	T_EQ_STR(st.jid, "@group:g1");
	T_EQ_INT(st.ninputs, 1);
	T_EQ_STR(st.inputs[0], "/out/demo/g1/g1-1");
	T_EQ_INT(sq_queue_complete(q, &st, "w", NULL, &err), 0);
	sq_job_release(&st);

	/* idempotent: a second cancel changes nothing */
	doc = parse(sq_queue_cancel(q, "demo", "g1-3", &err));
	T_EQ_INT(arr_len(doc, "cancelled"), 0);
	T_EQ_INT(num(doc, "unchanged"), 1);
	cJSON_Delete(doc);

	/* the whole of g2: its stitch is cancelled too, which settles the acquisition
	 * stitch: it runs on g1 alone */
	doc = parse(sq_queue_cancel(q, "demo", "g2", &err));
	T_EQ_INT(arr_len(doc, "cancelled"), 4);
	T_EQ_INT(arr_len(doc, "queued"), 1);
	cJSON_Delete(doc);
	T_FIELD(q, "demo", "@group:g2", "state", "cancelled");
	T_EQ_INT(cmd_int(q, "LLEN", "extract:demo", NULL), 0);
	T_EQ_INT(claim(q, "w", SQ_STAGE_STITCH, &st), 1);
	T_EQ_STR(st.jid, "@acq");
	T_EQ_INT(st.ninputs, 1);
	sq_job_release(&st);

	/* unknown targets are errors that name them */
	T_CHECK(sq_queue_cancel(q, "demo", "nope", &err) == NULL);
	T_EQ_INT(err.code, SQ_ERR_INVALID);
	T_CONTAINS(err.msg, "no task or group 'nope'");
	T_CHECK(sq_queue_cancel(q, "other", NULL, &err) == NULL);
	T_CONTAINS(err.msg, "no acquisition 'other'");
	sq_queue_free(q);
	acq_free(&a);
}

/* A group whose tasks are all cancelled cancels its stitch; cancel of a failed
 * job drops its dead letter; retry --cancelled takes a cancel back. */
static void test_cancel_failed_and_retry(void)
{
	char p[64], jid[64];
	struct acq a;
	struct sq_queue *q = open_q(p, sizeof(p), &a, 1, 2);
	struct sq_err err = {0};
	struct sq_job job;
	cJSON *doc;
	int dead = 0;

	for (int i = 0; i < 2; i++) { /* g1-1 fails for good (2 attempts) */
		T_EQ_INT(claim(q, "w", SQ_STAGE_EXTRACT, &job), 1);
		T_EQ_INT(sq_queue_fail(q, &job, "w", "boom", 0, &dead, &err), 0);
		sq_job_release(&job);
		usleep(60 * 1000);
		if (!dead) {
			struct sq_claim_opts o = {
			    "w", (enum sq_stage[]){SQ_STAGE_EXTRACT}, 1, NULL, 0, -1, -1};
			long long n;

			sq_queue_pending(q, &o, &n, &err); /* promotes the retry */
		}
	}
	T_CHECK(dead);
	T_EQ_INT(cmd_int(q, "LLEN", "failed:demo", NULL), 1);
	doc = parse(sq_queue_retry(q, "demo", "g1-1", 0, &err));
	T_EQ_INT(arr_len(doc, "retried"), 1);
	cJSON_Delete(doc);
	T_EQ_INT(cmd_int(q, "LLEN", "failed:demo", NULL), 0);
	T_FIELD(q, "demo", "g1-1", "state", "queued");
	T_FIELD(q, "demo", "g1-1", "attempts", "0");
	doc = parse(sq_queue_retry(q, "demo", "g1-1", 0, &err)); /* again: nothing */
	T_EQ_INT(arr_len(doc, "retried"), 0);
	cJSON_Delete(doc);

	/* fail it again, then cancel it: the letter goes, the job is cancelled */
	for (int i = 0; i < 2; i++) {
		T_EQ_INT(claim(q, "w", SQ_STAGE_EXTRACT, &job), 1);
		T_EQ_STR(job.jid, "g1-1");
		T_EQ_INT(sq_queue_fail(q, &job, "w", "boom", 0, &dead, &err), 0);
		sq_job_release(&job);
		if (!dead) {
			usleep(60 * 1000);
			struct sq_claim_opts o = {
			    "w", (enum sq_stage[]){SQ_STAGE_EXTRACT}, 1, NULL, 0, -1, -1};
			long long n;

			sq_queue_pending(q, &o, &n, &err);
		}
	}
	T_EQ_INT(snap_count(q, "extract", "failed"), 1);
	doc = parse(sq_queue_cancel(q, "demo", "g1-1", &err));
	T_EQ_STR(
	    cJSON_GetObjectItemCaseSensitive(
		cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "cancelled"), 0), "was")
		->valuestring,
	    "failed");
	cJSON_Delete(doc);
	T_EQ_INT(cmd_int(q, "LLEN", "failed:demo", NULL), 0);
	T_EQ_INT(snap_count(q, "extract", "failed"), 0);
	T_EQ_INT(snap_count(q, "extract", "cancelled"), 1);

	/* the other task done: the group stitch runs on it alone */
	run_one(q, SQ_STAGE_EXTRACT, NULL, jid, sizeof(jid));
	run_one(q, SQ_STAGE_RECONSTRUCT, NULL, jid, sizeof(jid));
	T_EQ_STR(jid, "g1-2");
	run_one(q, SQ_STAGE_STITCH, NULL, jid, sizeof(jid));
	T_EQ_STR(jid, "@group:g1");
	T_FIELD(q, "demo", "@group:g1", "state", "done");

	/* retry without --cancelled leaves the cancel; with it the task comes back
	 * and the group stitch, which ran without it, waits for it again */
	doc = parse(sq_queue_retry(q, "demo", NULL, 0, &err));
	T_EQ_INT(arr_len(doc, "retried"), 0);
	cJSON_Delete(doc);
	doc = parse(sq_queue_retry(q, "demo", NULL, 1, &err));
	T_EQ_INT(arr_len(doc, "retried"), 1);
	cJSON_Delete(doc);
	T_FIELD(q, "demo", "g1-1", "state", "queued");
	T_FIELD(q, "demo", "@group:g1", "state", "waiting");
	T_EQ_INT(snap_count(q, "extract", "cancelled"), 0);
	T_EQ_INT(snap_count(q, "stitch", "done"), 0);
	run_one(q, SQ_STAGE_EXTRACT, NULL, jid, sizeof(jid));
	run_one(q, SQ_STAGE_RECONSTRUCT, NULL, jid, sizeof(jid));
	T_EQ_INT(claim(q, "w", SQ_STAGE_STITCH, &job), 1);
	T_EQ_INT(job.ninputs, 2);
	sq_job_release(&job);

	/* a group whose every task is cancelled: its stitch is cancelled too */
	sq_queue_free(q);
	acq_free(&a);
	q = open_q(p, sizeof(p), &a, 1, 2);
	doc = parse(sq_queue_cancel(q, "demo", "g1-1", &err));
	cJSON_Delete(doc);
	T_FIELD(q, "demo", "@group:g1", "state", "waiting");
	doc = parse(sq_queue_cancel(q, "demo", "g1-2", &err));
	T_EQ_INT(arr_len(doc, "cancelled"), 2);
	cJSON_Delete(doc);
	T_FIELD(q, "demo", "@group:g1", "state", "cancelled");
	sq_queue_free(q);
	acq_free(&a);
}

static void test_pause(void)
{
	char p[64];
	struct acq a;
	struct sq_queue *q = open_q(p, sizeof(p), &a, 1, 2);
	struct sq_err err = {0};
	struct sq_job job;
	enum sq_stage stages[] = {SQ_STAGE_EXTRACT, SQ_STAGE_RECONSTRUCT};
	struct sq_claim_opts o = {"w", stages, 2, NULL, 0, -1, -1};
	cJSON *doc;
	long long pending = -1;

	T_EQ_INT(claim(q, "w1", SQ_STAGE_EXTRACT, &job), 1); /* runs on through the pause */
	doc = parse(sq_queue_pause(q, "demo", 1, &err));
	T_CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "changed")));
	cJSON_Delete(doc);
	doc = parse(sq_queue_pause(q, "demo", 1, &err));
	T_CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(doc, "changed")));
	cJSON_Delete(doc);
	{
		struct sq_job other;

		const char *only[] = {"demo"};
		struct sq_claim_opts o1 = {"w2", stages, 2, only, 1, -1, -1};

		T_EQ_INT(sq_queue_claim(q, &o1, &other, &err), 0); /* one acquisition */
		T_EQ_INT(claim(q, "w2", SQ_STAGE_EXTRACT, &other), 0);
		o.worker_id = "w2";
		T_EQ_INT(sq_queue_claim(q, &o, &other, &err), 0); /* every acquisition */
	}
	/* the running job completes; its next stage is not chained while paused */
	o.worker_id = "w1";
	{
		struct sq_job next;

		sq_job_init(&next);
		T_EQ_INT(sq_queue_complete_and_claim(q, &job, "w1", NULL, &o, &next, &err), 0);
	}
	sq_job_release(&job);
	T_EQ_INT(cmd_int(q, "LLEN", "reconstruct:demo", NULL), 1);
	/* --drain does not wait for a paused acquisition's queued work */
	T_EQ_INT(sq_queue_pending(q, &o, &pending, &err), 0);
	T_EQ_INT(pending, 0);
	doc = parse(sq_queue_pause(q, "demo", 0, &err));
	T_CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "changed")));
	cJSON_Delete(doc);
	T_EQ_INT(sq_queue_pending(q, &o, &pending, &err), 0);
	T_EQ_INT(pending, 2);
	T_EQ_INT(claim(q, "w2", SQ_STAGE_RECONSTRUCT, &job), 1);
	sq_job_release(&job);
	T_CHECK(sq_queue_pause(q, "nope", 1, &err) == NULL);
	T_CONTAINS(err.msg, "no acquisition 'nope'");
	sq_queue_free(q);
	acq_free(&a);
}

static void test_clear_forget(void)
{
	char p[64];
	struct acq a;
	struct sq_queue *q = open_q(p, sizeof(p), &a, 2, 2);
	struct sq_err err = {0};
	struct sq_job job;
	cJSON *doc;
	int dead = 0;

	T_EQ_INT(claim(q, "w", SQ_STAGE_EXTRACT, &job), 1);
	sq_queue_fail(q, &job, "w", "boom", 1, &dead, &err);
	sq_job_release(&job);
	usleep(30 * 1000);
	{
		struct sq_claim_opts o = {"w", (enum sq_stage[]){SQ_STAGE_EXTRACT}, 1, NULL, 0, -1,
					  -1};
		long long n;

		sq_queue_pending(q, &o, &n, &err);
	}
	T_EQ_INT(claim(q, "w", SQ_STAGE_EXTRACT, &job), 1);
	sq_queue_fail(q, &job, "w", "boom", 1, &dead, &err);
	sq_job_release(&job);
	T_CHECK(dead);
	doc = parse(sq_queue_clear(q, "demo", NULL, &err));
	T_EQ_INT(num(doc, "cleared"), 1);
	cJSON_Delete(doc);
	T_EQ_INT(snap_count(q, "extract", "failed"), 1); /* still failed, no letter */
	doc = parse(sq_queue_clear(q, "demo", NULL, &err));
	T_EQ_INT(num(doc, "cleared"), 0);
	cJSON_Delete(doc);

	/* forget: refused while a job runs, unless forced; then nothing is left */
	T_EQ_INT(claim(q, "w", SQ_STAGE_EXTRACT, &job), 1);
	T_CHECK(sq_queue_forget(q, "demo", 0, &err) == NULL);
	T_EQ_INT(err.code, SQ_ERR_INVALID);
	T_CONTAINS(err.msg, "1 job(s) running");
	T_EQ_INT(cmd_int(q, "SISMEMBER", "acqs", "demo"), 1);
	doc = parse(sq_queue_forget(q, "demo", 1, &err));
	T_EQ_INT(arr_len(doc, "fenced"), 1);
	T_CHECK(num(doc, "keys") > 10);
	cJSON_Delete(doc);
	T_EQ_INT(sq_queue_heartbeat(q, &job, "w", 0, 0, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_STALE);
	sq_job_release(&job);
	T_EQ_INT(cmd_int(q, "SISMEMBER", "acqs", "demo"), 0);
	T_EQ_INT(cmd_int(q, "EXISTS", "owned:w", NULL), 0);
	{
		/* no key of the acquisition is left under the prefix */
		struct sq_redis_args ar = SQ_REDIS_ARGS_INIT;
		struct sq_reply *rep;

		sq_redis_args_add(&ar, "KEYS");
		sq_redis_args_addf(&ar, "%s*demo*", p);
		rep = sq_redis_command(sq_queue_redis(q), &ar, &err);
		T_CHECK(rep && rep->type == SQ_REPLY_ARRAY);
		if (rep && rep->nelements)
			fprintf(stderr, "left: %s\n", sq_reply_str(rep, 0));
		T_EQ_INT(rep ? rep->nelements : 99, 0);
		sq_reply_free(rep);
		sq_redis_args_release(&ar);
	}
	doc = parse(sq_queue_forget(q, "demo", 0, &err)); /* again: nothing to do */
	T_CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(doc, "known")));
	cJSON_Delete(doc);
	sq_queue_free(q);
	acq_free(&a);
}

static void test_show_and_warnings(void)
{
	char p[64], jid[64];
	struct acq a;
	struct sq_queue *q = open_q(p, sizeof(p), &a, 1, 2);
	struct sq_err err = {0};
	const cJSON *jobs, *j;
	cJSON *doc;

	run_one(q, SQ_STAGE_EXTRACT, "{\"frames\":4,\"warnings\":[\"'a.mp4' is truncated\"]}", jid,
		sizeof(jid));
	T_EQ_STR(jid, "g1-1");
	run_one(q, SQ_STAGE_RECONSTRUCT, "{\"warnings\":[]}", jid, sizeof(jid));
	T_EQ_INT(snap_count(q, "extract", "warnings"), 1);
	T_EQ_INT(snap_count(q, "reconstruct", "warnings"), 0);

	doc = parse(sq_queue_show(q, "demo", NULL, &err));
	jobs = cJSON_GetObjectItemCaseSensitive(doc, "jobs");
	T_EQ_INT(cJSON_GetArraySize(jobs), 3); /* g1-1 g1-2 @group:g1 */
	j = cJSON_GetArrayItem(jobs, 0);
	T_EQ_STR(cJSON_GetObjectItemCaseSensitive(j, "jid")->valuestring, "g1-1");
	T_EQ_STR(cJSON_GetObjectItemCaseSensitive(j, "status")->valuestring, "done with warnings");
	T_EQ_STR(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(jobs, 1), "status")->valuestring,
	    "queued");
	cJSON_Delete(doc);

	doc = parse(sq_queue_show(q, "demo", "g1-1", &err));
	T_EQ_STR(cJSON_GetObjectItemCaseSensitive(doc, "status")->valuestring,
		 "done with warnings");
	T_EQ_INT(arr_len(doc, "history"), 2);
	T_EQ_STR(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "job"), "outdir")
		->valuestring,
	    "/out/demo/g1/g1-1");
	cJSON_Delete(doc);
	doc = parse(sq_queue_show(q, "demo", "@group:g1", &err));
	T_EQ_STR(cJSON_GetObjectItemCaseSensitive(doc, "status")->valuestring, "waiting");
	cJSON_Delete(doc);
	T_CHECK(sq_queue_show(q, "demo", "g9", &err) == NULL);
	T_CONTAINS(err.msg, "'g9'");

	/* a new version forgets the warnings of the old */
	a.tasks[0].extract.quality = 9;
	sq_task_finalize(&a.tasks[0]);
	T_EQ_INT(sq_queue_enqueue(q, a.tasks, a.n, &a.stitch, a.out, &err), 0);
	T_EQ_INT(snap_count(q, "extract", "warnings"), 0);
	sq_queue_free(q);
	acq_free(&a);
}

static void test_workers(void)
{
	char p[64];
	struct acq a;
	struct sq_queue *q = open_q(p, sizeof(p), &a, 1, 1);
	struct sq_err err = {0};
	struct sq_worker_info alive = {"h:1:a", "h", 1, "extract", NULL, NULL};
	struct sq_worker_info gone = {"h:2:b", "h", 2, "extract", "0", "demo/g1-1/extract"};
	struct sq_job job;
	cJSON *doc;

	sq_queue_worker_beat(q, &alive, &err);
	sq_queue_worker_beat(q, &gone, &err);
	T_EQ_INT(claim(q, "h:2:b", SQ_STAGE_EXTRACT, &job), 1);
	sq_job_release(&job);
	usleep(300 * 1000);
	sq_queue_worker_beat(q, &alive, &err);
	doc = parse(sq_queue_workers(q, 200, 0, &err));
	T_EQ_INT(arr_len(doc, "workers"), 2);
	T_EQ_INT(arr_len(doc, "forgotten"), 0);
	cJSON_Delete(doc);
	doc = parse(sq_queue_workers(q, 200, 1, &err));
	T_EQ_INT(arr_len(doc, "forgotten"), 1);
	T_EQ_STR(
	    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "forgotten"), 0)->valuestring,
	    "h:2:b");
	cJSON_Delete(doc);
	/* the job it held is back in its queue */
	T_FIELD(q, "demo", "g1-1", "state", "queued");
	doc = parse(sq_queue_workers(q, 200, 1, &err));
	T_EQ_INT(arr_len(doc, "workers"), 1);
	T_EQ_INT(arr_len(doc, "forgotten"), 0);
	cJSON_Delete(doc);
	sq_queue_free(q);
	acq_free(&a);
}

int main(void)
{
	if (!getenv("SCANQ_REDIS")) {
		fprintf(stderr, "SCANQ_REDIS not set: run through tests/run-test\n");
		return 1;
	}
	for (eval_only = 0; eval_only <= 1; eval_only++) {
		test_cancel();
		test_cancel_failed_and_retry();
		test_pause();
		test_clear_forget();
		test_show_and_warnings();
		test_workers();
	}
	return t_done();
}
