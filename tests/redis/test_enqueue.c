/* test_enqueue.c - what an enqueue leaves in Redis: the truth after Redis
 * restarted empty in the middle of a push, the task directory an acquisition
 * belongs to, and tasks removed from a directory removed from Redis. */
#include "queue/queue.h"
#include "queue/queue_priv.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "t.h"
#include "fixture.h"

#include <cjson/cJSON.h>
#include <unistd.h>

static int case_no;

static struct sq_queue *open_q(void)
{
	char p[64];

	snprintf(p, sizeof(p), "te%d.%d:", (int)getpid(), ++case_no);
	return fx_open(p, 0, 0);
}

/* --- Redis restarted empty mid-push --- */

struct restart {
	int batches; /* pushed so far */
	int at;	     /* restart after this batch */
};

/* Kills the server (SIGKILL: no shutdown save), removes its AOF and starts
 * an empty one on the same socket: what an operator's restart of a Redis
 * without persistence, or a failover to an empty replica, does. */
static void restart_empty(void *ctx)
{
	struct restart *r = ctx;
	char *sh;

	if (++r->batches != r->at)
		return;
	sh = xasprintf(
	    ". \"$SCANQ_TESTS/lib.sh\" && d=\"%s/redis\" && pid=$(cat \"$d/redis.pid\") &&"
	    " kill -KILL $pid && while kill -0 $pid 2>/dev/null; do sleep 0.02; done &&"
	    " rm -rf \"$d/appendonlydir\" \"$d/redis.pid\" \"$d\"/*.rdb &&"
	    " sq_redis_start \"$d\"",
	    t_tmpdir());
	T_EQ_INT(system(sh), 0);
	free(sh);
}

static void restart_every(void *ctx)
{
	struct restart *r = ctx;

	r->at = r->batches + 1;
	restart_empty(r);
}

static void test_restart_mid_push(void)
{
	enum { NGROUPS = 3, PER_GROUP = 1000 };
	struct sq_queue *q = open_q();
	struct restart r = {0, 1};
	struct sq_err err = {0};
	struct acq a;
	long long added = 0;
	int rc;

	acq_make(&a, "big", NGROUPS, PER_GROUP, 3, 100);
	sq_queue_debug_after_batch(q, restart_empty, &r);
	rc = sq_queue_enqueue(q, a.tasks, a.n, &a.stitch, a.out, &err);
	sq_queue_debug_after_batch(q, NULL, NULL);
	T_CHECK(r.batches > 1); /* the restart came between two batches */
	if (rc < 0)
		fprintf(stderr, "enqueue: %s\n", err.msg);
	T_EQ_INT(rc, 0);
	/* what it said is what Redis holds */
	for (size_t i = 0; i < a.n; i++)
		added += a.out[i] == SQ_ENQUEUE_ADDED;
	T_EQ_INT(added, NGROUPS * PER_GROUP);
	T_EQ_INT(fx_int(q, "LLEN", fx_key(q, "extract:big"), NULL), NGROUPS * PER_GROUP);
	T_EQ_INT(fx_int(q, "SCARD", fx_key(q, "members:big:g1"), NULL), PER_GROUP);
	T_EQ_INT(fx_int(q, "SCARD", fx_key(q, "groups:big"), NULL), NGROUPS);
	T_EQ_INT(fx_int(q, "SISMEMBER", fx_key(q, "acqs"), "big"), 1);
	T_EQ_INT(fx_int(q, "HEXISTS", fx_key(q, "acq:big"), "spec:@group:g1"), 1);
	T_EQ_INT(fx_int(q, "HEXISTS", fx_key(q, "acq:big"), "spec:@acq"), 1);
	T_FIELD(q, "big", "@group:g2", "state", "waiting");
	T_FIELD(q, "big", "g1-1", "state", "queued");
	acq_free(&a);
	sq_queue_free(q);
}

/* Redis restarted empty after every batch, the pushes again included: the
 * enqueue fails saying what Redis does not hold, rather than report it. */
static void test_restart_every_batch(void)
{
	struct sq_queue *q = open_q();
	struct restart r = {0, 0};
	struct sq_err err = {0};
	struct acq a;

	acq_make(&a, "lossy", 1, 3, 3, 100);
	sq_queue_debug_after_batch(q, restart_every, &r);
	T_EQ_INT(sq_queue_enqueue(q, a.tasks, a.n, &a.stitch, a.out, &err), -1);
	sq_queue_debug_after_batch(q, NULL, NULL);
	T_EQ_INT(err.code, SQ_ERR_REDIS);
	T_CONTAINS(err.msg,
		   "redis does not hold what was pushed for 'lossy': 3 of 3 tasks missing");
	acq_free(&a);
	sq_queue_free(q);
}

static int enqueue_dir(struct sq_queue *q, struct acq *a, size_t n, const char *dir, int replace,
		       struct sq_enqueue_report *rep, struct sq_err *err)
{
	struct sq_enqueue_opts o = {dir, replace, 1};

	sq_enqueue_report_release(rep);
	sq_enqueue_report_init(rep, a->out);
	return sq_queue_enqueue_dir(q, a->tasks, n, &a->stitch, &o, rep, err);
}

static void check_task_dir(struct sq_queue *q, const char *want)
{
	struct sq_reply *r = fx_cmd(q, "HGET", fx_key(q, "acq:own"), "task_dir", NULL);

	T_EQ_STR(r && r->type == SQ_REPLY_STRING ? r->str : NULL, want);
	sq_reply_free(r);
}

/* An acquisition belongs to the task directory it was enqueued from: another
 * one is refused, with nothing changed, unless it replaces it. */
static void test_task_dir(void)
{
	struct sq_queue *q = open_q();
	struct sq_enqueue_report rep;
	struct sq_err err = {0};
	struct acq a;

	acq_make(&a, "own", 1, 2, 3, 100);
	sq_enqueue_report_init(&rep, a.out);
	T_EQ_INT(enqueue_dir(q, &a, a.n, "/tasks/a", 0, &rep, &err), 0);
	T_CHECK(rep.replaced_dir == NULL);
	check_task_dir(q, "/tasks/a");
	/* another directory, fewer tasks: refused, nothing removed */
	T_EQ_INT(enqueue_dir(q, &a, 1, "/tasks/b", 0, &rep, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_INVALID);
	T_CONTAINS(err.msg, "acquisition 'own' was enqueued from '/tasks/a', not from '/tasks/b'");
	T_EQ_INT(fx_int(q, "SCARD", fx_key(q, "members:own:g1"), NULL), 2);
	T_FIELD(q, "own", "g1-2", "state", "queued");
	/* replaced: said, and the other directory's task removed */
	T_EQ_INT(enqueue_dir(q, &a, 1, "/tasks/b", 1, &rep, &err), 0);
	T_EQ_STR(rep.replaced_dir, "/tasks/a");
	T_EQ_INT(rep.nremoved, 1);
	T_EQ_INT(fx_int(q, "SCARD", fx_key(q, "members:own:g1"), NULL), 1);
	check_task_dir(q, "/tasks/b");
	/* the new owner needs no --replace */
	T_EQ_INT(enqueue_dir(q, &a, 1, "/tasks/b", 0, &rep, &err), 0);
	T_CHECK(rep.replaced_dir == NULL);
	sq_enqueue_report_release(&rep);
	acq_free(&a);
	sq_queue_free(q);
}

static const enum sq_stage st_all[] = {SQ_STAGE_EXTRACT, SQ_STAGE_RECONSTRUCT, SQ_STAGE_STITCH};

/* Runs every job there is to completion. */
static void drain(struct sq_queue *q)
{
	struct sq_claim_opts o = {"wd", st_all, 3, NULL, 0, -1, -1};
	struct sq_err err = {0};
	struct sq_job job;

	for (int i = 0; i < 100; i++) {
		sq_job_init(&job);
		if (sq_queue_claim(q, &o, &job, &err) != 1)
			break;
		T_EQ_INT(sq_queue_complete(q, &job, "wd", "{}", &err), 0);
		sq_job_release(&job);
	}
}

/* A stitch job's inputs as "a b ..." (new string). */
static char *inputs_of(struct sq_queue *q, const char *acq, const char *jid)
{
	char *json = field(q, acq, jid, "inputs");
	cJSON *a = json ? cJSON_Parse(json) : NULL, *e;
	struct sq_strbuf sb = SQ_STRBUF_INIT;

	cJSON_ArrayForEach(e, a) sq_strbuf_addf(&sb, "%s%s", sb.len ? " " : "",
						cJSON_GetStringValue(e) ? e->valuestring : "?");
	cJSON_Delete(a);
	free(json);
	return sq_strbuf_detach(&sb);
}

/* A task gone from the directory is gone from Redis: its queues and lease,
 * its group, the done marks; the stitches that counted it run again without
 * it. A group gone takes its stitch, and the acquisition stitch goes when one
 * group is left. */
static void test_prune(void)
{
	struct sq_queue *q = open_q();
	struct sq_claim_opts o = {"w1", st_all, 3, NULL, 0, -1, -1};
	struct sq_enqueue_report rep;
	struct sq_err err = {0};
	struct sq_job job;
	struct acq a;
	char *in;

	acq_make(&a, "p", 2, 2, 3, 100); /* g1-1 g1-2 g2-1 g2-2 */
	sq_enqueue_report_init(&rep, a.out);
	T_EQ_INT(enqueue_dir(q, &a, a.n, "/tasks/p", 0, &rep, &err), 0);
	drain(q);
	T_EQ_INT(fx_int(q, "SISMEMBER", fx_key(q, "done:p:stitch"), "@acq"), 1);
	/* g1-2 is leased when it is removed (re-injected, claimed) */
	T_EQ_INT(sq_queue_reinject_task(q, &a.tasks[1], SQ_STAGE_RECONSTRUCT, 0, &err), 1);
	sq_job_init(&job);
	T_EQ_INT(sq_queue_claim(q, &o, &job, &err), 1);
	T_EQ_STR(job.jid, "g1-2");
	/* the directory without g1-2 (tasks are in name order: move g2-* down) */
	sq_task_release(&a.tasks[1]);
	a.tasks[1] = a.tasks[2];
	a.tasks[2] = a.tasks[3];
	memset(&a.tasks[3], 0, sizeof(a.tasks[3]));
	a.n = 3;
	T_EQ_INT(enqueue_dir(q, &a, a.n, "/tasks/p", 0, &rep, &err), 0);
	T_EQ_INT(rep.nremoved, 1);
	T_EQ_STR(rep.removed[0].jid, "g1-2");
	T_EQ_STR(rep.removed[0].outdir, "/out/p/g1/g1-2");
	T_EQ_INT(fx_int(q, "EXISTS", fx_key(q, "job:p:g1-2"), NULL), 0);
	T_EQ_INT(fx_int(q, "SISMEMBER", fx_key(q, "members:p:g1"), "g1-2"), 0);
	T_EQ_INT(fx_int(q, "SISMEMBER", fx_key(q, "done:p:extract"), "g1-2"), 0);
	T_EQ_INT(fx_int(q, "ZSCORE", fx_key(q, "leased:p"), "g1-2"), -1);
	T_EQ_INT(sq_queue_complete(q, &job, "w1", "{}", &err), -1); /* its lease is gone */
	T_EQ_INT(err.code, SQ_ERR_STALE);
	sq_job_release(&job);
	/* its group's stitch runs again at once (every other member is done),
	 * without it; the acquisition stitch follows by fan-in */
	T_FIELD(q, "p", "@group:g1", "state", "queued");
	T_EQ_STR(in = inputs_of(q, "p", "@group:g1"), "/out/p/g1/g1-1");
	free(in);
	T_FIELD(q, "p", "@acq", "state", "waiting");
	drain(q);
	T_FIELD(q, "p", "@acq", "state", "done");
	/* group g2 gone: its stitch goes, and with one group left the acquisition
	 * stitch too; g1's is final */
	a.n = 1;
	T_EQ_INT(enqueue_dir(q, &a, a.n, "/tasks/p", 0, &rep, &err), 0);
	T_EQ_INT(rep.nremoved, 2);
	T_EQ_INT(fx_int(q, "SCARD", fx_key(q, "groups:p"), NULL), 1);
	T_EQ_INT(fx_int(q, "EXISTS", fx_key(q, "job:p:@group:g2"), NULL), 0);
	T_EQ_INT(fx_int(q, "EXISTS", fx_key(q, "job:p:@acq"), NULL), 0);
	T_EQ_INT(fx_int(q, "HEXISTS", fx_key(q, "acq:p"), "spec:@group:g2"), 0);
	T_EQ_INT(fx_int(q, "SISMEMBER", fx_key(q, "done:p:stitch"), "@acq"), 0);
	T_EQ_INT(fx_int(q, "SCARD", fx_key(q, "done:p:reconstruct"), NULL), 1);
	T_FIELD(q, "p", "@group:g1", "state", "done");
	/* the truth holds for the next enqueue: nothing more to remove */
	T_EQ_INT(enqueue_dir(q, &a, a.n, "/tasks/p", 0, &rep, &err), 0);
	T_EQ_INT(rep.nremoved, 0);
	T_EQ_INT(a.out[0], SQ_ENQUEUE_UNCHANGED);
	sq_enqueue_report_release(&rep);
	a.n = 3;
	acq_free(&a);
	sq_queue_free(q);
}

int main(void)
{
	if (!getenv("SCANQ_REDIS") || !getenv("SCANQ_TESTS")) {
		fprintf(stderr, "SCANQ_REDIS not set: run through tests/run-test\n");
		return 1;
	}
	test_restart_mid_push();
	test_restart_every_batch();
	test_task_dir();
	test_prune();
	return t_done();
}
