/* test_fanin.c - the stitch fan-in: a group stitch exactly once when its last
 * task finishes reconstruct, an acquisition stitch exactly once when the last
 * group stitch finishes (>= 2 groups only), also when the last two completions
 * race from two processes; re-versioning a member re-opens the stitches; repair's
 * operations; and sq_queue_complete_and_claim (the worker's fused completion and
 * next claim): chaining to the task's next stage, fencing, retries, fan-in.
 * The cases run with the scripts as Redis functions, then as EVALSHA scripts. */
#include "queue/queue.h"
#include "queue/queue_priv.h"
#include "base/xalloc.h"
#include "t.h"
#include "fixture.h"

#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

static int case_no;
static int eval_only; /* second pass: scripts as EVALSHA */

static struct sq_queue *open_lease(const char *prefix, long long lease_ms)
{
	return fx_open(prefix, lease_ms, eval_only);
}

static struct sq_queue *open_prefix(const char *prefix)
{
	return open_lease(prefix, 0);
}

static struct sq_queue *open_q(char *prefix, size_t len)
{
	snprintf(prefix, len, "tf%d.%d:", (int)getpid(), ++case_no);
	return open_prefix(prefix);
}

static void enqueue(struct sq_queue *q, struct acq *a)
{
	struct sq_err err = {0};

	if (sq_queue_enqueue(q, a->tasks, a->n, &a->stitch, a->out, &err) < 0) {
		fprintf(stderr, "enqueue: %s\n", err.msg);
		exit(1);
	}
}

static long long cmd_int(struct sq_queue *q, const char *c, const char *k, const char *arg)
{
	struct sq_redis_args a = SQ_REDIS_ARGS_INIT;
	struct sq_err err = {0};
	struct sq_reply *rep;
	char *full = xasprintf("%s%s", sq_queue_prefix(q), k);
	long long v = -1;

	sq_redis_args_add(&a, c);
	sq_redis_args_add(&a, full);
	if (arg)
		sq_redis_args_add(&a, arg);
	rep = sq_redis_command(sq_queue_redis(q), &a, &err);
	if (rep && rep->type == SQ_REPLY_INTEGER)
		v = rep->integer;
	else if (rep && rep->type == SQ_REPLY_STRING) /* ZSCORE */
		v = strtoll(rep->str, NULL, 10);
	sq_reply_free(rep);
	sq_redis_args_release(&a);
	free(full);
	return v;
}

static int claim(struct sq_queue *q, const char *wid, enum sq_stage stage, struct sq_job *job)
{
	struct sq_claim_opts o = {wid, &stage, 1, NULL, 0, -1, -1};
	struct sq_err err = {0};
	int rc;

	sq_job_init(job);
	rc = sq_queue_claim(q, &o, job, &err);
	if (rc < 0)
		fprintf(stderr, "claim: %s\n", err.msg);
	return rc;
}

/* Claims and completes every job of stage; returns how many. */
static int run_stage(struct sq_queue *q, enum sq_stage stage)
{
	struct sq_err err = {0};
	struct sq_job job;
	int n = 0;

	while (claim(q, "w", stage, &job) == 1) {
		if (sq_queue_complete(q, &job, "w", NULL, &err) == 0)
			n++;
		else
			fprintf(stderr, "complete: %s\n", err.msg);
		sq_job_release(&job);
	}
	return n;
}

static void check_inputs(const struct sq_job *job, const char *const *want, size_t n)
{
	size_t i;

	T_EQ_INT(job->ninputs, n);
	for (i = 0; i < n && i < job->ninputs; i++)
		T_EQ_STR(job->inputs[i], want[i]);
}

/* Claims the one group stitch queued and checks its spec and inputs. */
static void check_group_stitch(struct sq_queue *q, const char *wid, struct sq_job *job)
{
	struct sq_stitch_spec s;
	struct sq_err err = {0};
	char *want[3], *gdir, *jid;
	int i;

	T_EQ_INT(claim(q, wid, SQ_STAGE_STITCH, job), 1);
	T_EQ_INT(job->kind, SQ_JOB_GROUP_STITCH);
	T_EQ_INT(job->stage, SQ_STAGE_STITCH);
	sq_stitch_spec_init(&s);
	T_EQ_INT(sq_stitch_spec_from_json(&s, job->spec_json, &err), 0);
	T_CHECK(s.group != NULL);
	if (!s.group) {
		sq_stitch_spec_release(&s);
		return;
	}
	jid = xasprintf("@group:%s", s.group);
	T_EQ_STR(job->jid, jid);
	free(jid);
	gdir = xasprintf("/out/demo/%s", s.group);
	T_EQ_STR(s.outdir, gdir);
	T_EQ_STR(job->version, s.version);
	for (i = 0; i < 3; i++)
		want[i] = xasprintf("%s/%s-%d", gdir, s.group, i + 1);
	check_inputs(job, (const char *const *)want, 3);
	for (i = 0; i < 3; i++)
		free(want[i]);
	free(gdir);
	sq_stitch_spec_release(&s);
}

static void test_two_groups(void)
{
	char p[64];
	struct sq_queue *q = open_q(p, sizeof(p));
	const char *acq_in[] = {"/out/demo/g1", "/out/demo/g2"};
	struct sq_stitch_spec s;
	struct sq_err err = {0};
	struct sq_job j1, j2, ja;
	struct acq a;

	acq_make(&a, "demo", 2, 3, 0, 0);
	enqueue(q, &a);
	T_EQ_INT(run_stage(q, SQ_STAGE_EXTRACT), 6);
	T_EQ_INT(cmd_int(q, "LLEN", "stitch:demo", NULL), 0);
	T_EQ_INT(run_stage(q, SQ_STAGE_RECONSTRUCT), 6);
	T_EQ_INT(cmd_int(q, "LLEN", "stitch:demo", NULL), 2);
	T_FIELD(q, "demo", "@acq", "state", "waiting");
	check_group_stitch(q, "ws1", &j1);
	check_group_stitch(q, "ws2", &j2);
	T_CHECK(strcmp(j1.jid, j2.jid) != 0);
	T_EQ_INT(cmd_int(q, "LLEN", "stitch:demo", NULL), 0);
	T_EQ_INT(sq_queue_complete(q, &j1, "ws1", NULL, &err), 0);
	T_EQ_INT(cmd_int(q, "LLEN", "stitch:demo", NULL), 0); /* one group left */
	T_EQ_INT(sq_queue_complete(q, &j2, "ws2", NULL, &err), 0);
	T_EQ_INT(sq_queue_complete(q, &j2, "ws2", NULL, &err), 0); /* retried: no 2nd push */
	T_EQ_INT(cmd_int(q, "LLEN", "stitch:demo", NULL), 1);

	T_EQ_INT(claim(q, "ws", SQ_STAGE_STITCH, &ja), 1);
	T_EQ_STR(ja.jid, "@acq");
	T_EQ_INT(ja.kind, SQ_JOB_ACQ_STITCH);
	check_inputs(&ja, acq_in, 2);
	sq_stitch_spec_init(&s);
	T_EQ_INT(sq_stitch_spec_from_json(&s, ja.spec_json, &err), 0);
	T_CHECK(s.group == NULL);
	T_EQ_STR(s.outdir, "/out/demo");
	sq_stitch_spec_release(&s);
	T_EQ_INT(sq_queue_complete(q, &ja, "ws", NULL, &err), 0);
	T_FIELD(q, "demo", "@acq", "state", "done");
	T_EQ_INT(cmd_int(q, "SCARD", "done:demo:stitch", NULL), 3);
	T_EQ_INT(cmd_int(q, "LLEN", "stitch:demo", NULL), 0);

	/* a member changes: its group stitch and the acquisition stitch re-open,
	 * and run again, once each, when it is done */
	a.tasks[4].extract.quality = 9;
	sq_task_finalize(&a.tasks[4]);
	enqueue(q, &a);
	T_EQ_INT(a.out[4], SQ_ENQUEUE_UPDATED);
	T_FIELD(q, "demo", "@group:g2", "state", "waiting");
	T_FIELD(q, "demo", "@group:g1", "state", "done");
	T_FIELD(q, "demo", "@acq", "state", "waiting");
	T_EQ_INT(cmd_int(q, "SCARD", "done:demo:stitch", NULL), 1);
	T_EQ_INT(run_stage(q, SQ_STAGE_EXTRACT), 1);
	T_EQ_INT(run_stage(q, SQ_STAGE_RECONSTRUCT), 1);
	T_EQ_INT(cmd_int(q, "LLEN", "stitch:demo", NULL), 1);
	T_EQ_INT(run_stage(q, SQ_STAGE_STITCH), 2); /* @group:g2 then @acq */
	T_FIELD(q, "demo", "@acq", "state", "done");
	T_EQ_INT(cmd_int(q, "SCARD", "done:demo:stitch", NULL), 3);
	sq_job_release(&j1);
	sq_job_release(&j2);
	sq_job_release(&ja);
	acq_free(&a);
	sq_queue_free(q);
}

static void test_single_group(void)
{
	char p[64];
	struct sq_queue *q = open_q(p, sizeof(p));
	struct sq_err err = {0};
	struct sq_job job;
	struct acq a;

	acq_make(&a, "solo", 1, 2, 0, 0);
	enqueue(q, &a);
	T_EQ_INT(run_stage(q, SQ_STAGE_EXTRACT), 2);
	T_EQ_INT(run_stage(q, SQ_STAGE_RECONSTRUCT), 2);
	T_EQ_INT(claim(q, "ws", SQ_STAGE_STITCH, &job), 1);
	T_EQ_STR(job.jid, "@group:g1");
	T_EQ_INT(job.ninputs, 2);
	T_EQ_INT(sq_queue_complete(q, &job, "ws", NULL, &err), 0);
	sq_job_release(&job);
	T_FIELD(q, "solo", "@group:g1", "state", "done");
	T_EQ_INT(cmd_int(q, "LLEN", "stitch:solo", NULL), 0);
	T_EQ_INT(cmd_int(q, "EXISTS", "job:solo:@acq", NULL), 0);
	acq_free(&a);
	sq_queue_free(q);
}

static void check_state(struct sq_queue *q, const char *jid, int exists, const char *state,
			enum sq_stage stage)
{
	struct sq_job_info st;
	struct sq_err err = {0};

	T_EQ_INT(sq_queue_job_states(q, "demo", &jid, 1, &st, &err), 0);
	T_EQ_INT(st.exists, exists);
	T_EQ_STR(sq_job_state_name(st.state), state);
	if (exists)
		T_EQ_INT(st.stage, stage);
}

/* Claims one job of stage as wid and fails it (max_attempts 1: dead). */
static void kill_job(struct sq_queue *q, enum sq_stage stage, const char *want_jid)
{
	struct sq_err err = {0};
	struct sq_job job;
	int dead = 0;

	T_EQ_INT(claim(q, "wk", stage, &job), 1);
	T_EQ_STR(job.jid, want_jid);
	T_EQ_INT(sq_queue_fail(q, &job, "wk", "disk on fire", 0, &dead, &err), 0);
	T_EQ_INT(dead, 1);
	sq_job_release(&job);
}

/* Repair's operations: states, re-injection (fan-in re-runs), dead letters
 * retried, work Redis lost recorded, stitches queued by hand. */
static void test_repair_ops(void)
{
	char p[64];
	struct sq_queue *q = open_q(p, sizeof(p));
	const char *jids[] = {"g1-1", "@group:g1", "@acq", "nope"};
	struct sq_job_info st[4];
	struct sq_stitch_spec gs;
	struct sq_task extra;
	struct sq_err err = {0};
	struct sq_job job;
	struct acq a;

	acq_make(&a, "demo", 2, 3, 0, 0);
	enqueue(q, &a);
	run_stage(q, SQ_STAGE_EXTRACT);
	run_stage(q, SQ_STAGE_RECONSTRUCT);
	T_EQ_INT(run_stage(q, SQ_STAGE_STITCH), 3);
	T_EQ_INT(sq_queue_job_states(q, "demo", jids, 4, st, &err), 0);
	T_EQ_INT(st[0].exists, 1);
	T_EQ_STR(sq_job_state_name(st[0].state), "done");
	T_EQ_INT(st[0].stage, SQ_STAGE_RECONSTRUCT);
	T_EQ_STR(st[0].version, a.tasks[0].version);
	T_EQ_STR(sq_job_state_name(st[1].state), "done");
	T_EQ_INT(st[2].stage, SQ_STAGE_STITCH);
	T_EQ_INT(st[3].exists, 0);
	T_EQ_STR(sq_job_state_name(st[3].state), "");

	/* reconstruct of g1-2 lost on disk: re-run it, then both stitches */
	T_EQ_INT(sq_queue_reinject_task(q, &a.tasks[1], SQ_STAGE_RECONSTRUCT, 0, &err), 1);
	T_EQ_INT(sq_queue_reinject_task(q, &a.tasks[1], SQ_STAGE_RECONSTRUCT, 0, &err), 0);
	check_state(q, "g1-2", 1, "queued", SQ_STAGE_RECONSTRUCT);
	check_state(q, "@group:g1", 1, "waiting", SQ_STAGE_STITCH);
	check_state(q, "@acq", 1, "waiting", SQ_STAGE_STITCH);
	T_EQ_INT(cmd_int(q, "SISMEMBER", "done:demo:extract", "g1-2"), 1);
	T_EQ_INT(cmd_int(q, "SISMEMBER", "done:demo:reconstruct", "g1-2"), 0);
	T_EQ_INT(run_stage(q, SQ_STAGE_RECONSTRUCT), 1);
	T_EQ_INT(run_stage(q, SQ_STAGE_STITCH), 2);
	check_state(q, "@acq", 1, "done", SQ_STAGE_STITCH);

	/* a dead task is only retried when asked to */
	a.tasks[3].retry.max_attempts = 1;
	sq_task_finalize(&a.tasks[3]);
	T_EQ_INT(sq_queue_reinject_task(q, &a.tasks[3], SQ_STAGE_EXTRACT, 0, &err), 1);
	kill_job(q, SQ_STAGE_EXTRACT, "g2-1");
	check_state(q, "g2-1", 1, "failed", SQ_STAGE_EXTRACT);
	T_EQ_INT(cmd_int(q, "LLEN", "failed:demo", NULL), 1);
	T_EQ_INT(sq_queue_reinject_task(q, &a.tasks[3], SQ_STAGE_EXTRACT, 0, &err), 0);
	T_EQ_INT(sq_queue_reinject_task(q, &a.tasks[3], SQ_STAGE_EXTRACT, 1, &err), 1);
	T_EQ_INT(cmd_int(q, "LLEN", "failed:demo", NULL), 0);
	T_EQ_INT(cmd_int(q, "SCARD", "dead:demo:extract", NULL), 0);
	T_EQ_INT(run_stage(q, SQ_STAGE_EXTRACT), 1);
	T_EQ_INT(run_stage(q, SQ_STAGE_RECONSTRUCT), 1);
	T_EQ_INT(run_stage(q, SQ_STAGE_STITCH), 2);

	/* a task Redis never heard of, done on disk: recorded, nothing queued */
	sq_task_init(&extra);
	extra.acquisition = xstrdup("demo");
	extra.group = xstrdup("g1");
	extra.name = xstrdup("g1-4");
	extra.output_root = xstrdup("/out/demo");
	sq_task_finalize(&extra);
	T_EQ_INT(sq_queue_mark_task_done(q, &extra, &err), 1);
	check_state(q, "g1-4", 1, "done", SQ_STAGE_RECONSTRUCT);
	T_EQ_INT(cmd_int(q, "SISMEMBER", "gdone:demo:g1", "g1-4"), 1);
	T_EQ_INT(cmd_int(q, "SCARD", "members:demo:g1", NULL), 4);
	T_EQ_INT(cmd_int(q, "LLEN", "stitch:demo", NULL), 0);

	/* the group stitch queued by hand, with all four done members as inputs */
	sq_stitch_spec_init(&gs);
	gs.acquisition = xstrdup("demo");
	gs.group = xstrdup("g1");
	gs.outdir = xstrdup("/out/demo/g1");
	sq_stitch_spec_finalize(&gs);
	T_EQ_INT(sq_queue_reinject_stitch(q, &gs, 0, &err), 1);
	T_EQ_INT(sq_queue_reinject_stitch(q, &gs, 0, &err), 0);
	check_state(q, "@acq", 1, "waiting", SQ_STAGE_STITCH);
	T_EQ_INT(claim(q, "ws", SQ_STAGE_STITCH, &job), 1);
	T_EQ_STR(job.jid, "@group:g1");
	T_EQ_INT(job.ninputs, 4);
	T_EQ_STR(job.ninputs == 4 ? job.inputs[3] : NULL, "/out/demo/g1/g1-4");
	T_EQ_INT(sq_queue_complete(q, &job, "ws", NULL, &err), 0);
	sq_job_release(&job);
	T_EQ_INT(run_stage(q, SQ_STAGE_STITCH), 1); /* @acq by fan-in */
	sq_stitch_spec_release(&gs);
	sq_task_release(&extra);
	acq_free(&a);
	sq_queue_free(q);
}

static const enum sq_stage st_rs[] = {SQ_STAGE_RECONSTRUCT, SQ_STAGE_STITCH};

/* --- sq_queue_mark_stitch_done --- */

static void stitch_spec(struct sq_stitch_spec *s, const char *group)
{
	sq_stitch_spec_init(s);
	s->acquisition = xstrdup("demo");
	s->group = group ? xstrdup(group) : NULL;
	s->outdir = group ? xasprintf("/out/demo/%s", group) : xstrdup("/out/demo");
	sq_stitch_spec_finalize(s);
}

/* Redis lost everything; the disk has every reconstruction and g1's stitch:
 * repair records them done, queues g2's stitch, and fan-in does the rest. */
static void test_mark_stitch_done(void)
{
	char p[64];
	struct sq_queue *q = open_q(p, sizeof(p));
	const char *acq_in[] = {"/out/demo/g1", "/out/demo/g2"};
	struct sq_stitch_spec g1, g2, top;
	struct sq_err err = {0};
	struct sq_job job;
	struct acq a;
	size_t i;

	acq_make(&a, "demo", 2, 2, 0, 0);
	/* the acquisition's own registration (no task pushed): '@acq' has a spec */
	T_EQ_INT(sq_queue_enqueue(q, a.tasks, 0, &a.stitch, a.out, &err), 0);
	for (i = 0; i < a.n; i++)
		T_EQ_INT(sq_queue_mark_task_done(q, &a.tasks[i], &err), 1);
	T_EQ_INT(sq_queue_mark_task_done(q, &a.tasks[0], &err), 1); /* done again: still 1 */
	stitch_spec(&g1, "g1");
	stitch_spec(&g2, "g2");
	stitch_spec(&top, NULL);
	T_EQ_INT(sq_queue_mark_stitch_done(q, &g1, &err), 1);
	check_state(q, "@group:g1", 1, "done", SQ_STAGE_STITCH);
	T_EQ_INT(cmd_int(q, "SISMEMBER", "sdone:demo", "g1"), 1);
	T_EQ_INT(cmd_int(q, "SISMEMBER", "done:demo:stitch", "@group:g1"), 1);
	T_EQ_INT(cmd_int(q, "LLEN", "stitch:demo", NULL), 0);

	T_EQ_INT(sq_queue_reinject_stitch(q, &g2, 0, &err), 1);
	T_EQ_INT(sq_queue_mark_stitch_done(q, &g2, &err), 0); /* queued: left alone */
	T_EQ_INT(claim(q, "ws", SQ_STAGE_STITCH, &job), 1);
	T_EQ_STR(job.jid, "@group:g2");
	T_EQ_INT(job.ninputs, 2);
	T_EQ_INT(sq_queue_mark_stitch_done(q, &g2, &err), 0); /* leased: left alone */
	T_EQ_INT(sq_queue_complete(q, &job, "ws", NULL, &err), 0);
	sq_job_release(&job);
	/* g1 recorded done + g2 just done: the acquisition stitch, once */
	T_EQ_INT(cmd_int(q, "LLEN", "stitch:demo", NULL), 1);
	T_EQ_INT(claim(q, "ws", SQ_STAGE_STITCH, &job), 1);
	T_EQ_STR(job.jid, "@acq");
	check_inputs(&job, acq_in, 2);
	T_EQ_INT(sq_queue_complete(q, &job, "ws", NULL, &err), 0);
	sq_job_release(&job);
	T_EQ_INT(sq_queue_mark_stitch_done(q, &top, &err), 1);
	check_state(q, "@acq", 1, "done", SQ_STAGE_STITCH);
	T_EQ_INT(cmd_int(q, "LLEN", "stitch:demo", NULL), 0);
	sq_stitch_spec_release(&g1);
	sq_stitch_spec_release(&g2);
	sq_stitch_spec_release(&top);
	acq_free(&a);
	sq_queue_free(q);
}

/* --- sq_queue_complete_and_claim --- */

static const enum sq_stage st_all[] = {SQ_STAGE_EXTRACT, SQ_STAGE_RECONSTRUCT, SQ_STAGE_STITCH};
static const enum sq_stage st_extract[] = {SQ_STAGE_EXTRACT};

static struct sq_claim_opts fopts(const char *wid, const enum sq_stage *stages, size_t n)
{
	struct sq_claim_opts o = {wid, stages, n, NULL, 0, -1, -1};

	return o;
}

static int claim_o(struct sq_queue *q, const struct sq_claim_opts *o, struct sq_job *job)
{
	struct sq_err err = {0};

	sq_job_init(job);
	return sq_queue_claim(q, o, job, &err);
}

static char *str_cmd(struct sq_queue *q, const char *c, const char *k, const char *a1,
		     const char *a2)
{
	struct sq_redis_args a = SQ_REDIS_ARGS_INIT;
	struct sq_err err = {0};
	struct sq_reply *rep;
	char *v = NULL;

	sq_redis_args_add(&a, c);
	sq_redis_args_addf(&a, "%s%s", sq_queue_prefix(q), k);
	if (a1)
		sq_redis_args_add(&a, a1);
	if (a2)
		sq_redis_args_add(&a, a2);
	rep = sq_redis_command(sq_queue_redis(q), &a, &err);
	if (rep && rep->type == SQ_REPLY_STRING)
		v = xstrdup(rep->str);
	sq_reply_free(rep);
	sq_redis_args_release(&a);
	return v;
}

#define T_CMD_STR(q, c, k, a1, a2, want)                                                           \
	do {                                                                                       \
		char *t_v_ = str_cmd(q, c, k, a1, a2);                                             \
		T_EQ_STR(t_v_, want);                                                              \
		free(t_v_);                                                                        \
	} while (0)

/* Checks the chained lease of g1-1 at reconstruct as Redis holds it. */
static void check_chained(struct sq_queue *q, const struct sq_job *extract,
			  const struct sq_job *next)
{
	char tok[24], done_tok[24];

	T_EQ_STR(next->jid, "g1-1");
	T_EQ_INT(next->kind, SQ_JOB_TASK);
	T_EQ_INT(next->stage, SQ_STAGE_RECONSTRUCT);
	T_EQ_INT(next->attempt, 1);
	T_CHECK(next->token > extract->token);
	T_EQ_STR(next->version, extract->version);
	T_EQ_STR(next->spec_json, extract->spec_json);
	snprintf(tok, sizeof(tok), "%lld", next->token);
	snprintf(done_tok, sizeof(done_tok), "%lld", extract->token);
	T_FIELD(q, "demo", "g1-1", "state", "leased");
	T_FIELD(q, "demo", "g1-1", "owner", "w1");
	T_FIELD(q, "demo", "g1-1", "stage", "reconstruct");
	T_FIELD(q, "demo", "g1-1", "attempts", "1");
	T_FIELD(q, "demo", "g1-1", "token", tok);
	T_FIELD(q, "demo", "g1-1", "done_token", done_tok);
	T_FIELD(q, "demo", "g1-1", "result", "{\"frames\":3}");
	/* leased straight back: no queue push, no doorbell */
	T_EQ_INT(cmd_int(q, "LLEN", "reconstruct:demo", NULL), 0);
	T_EQ_INT(cmd_int(q, "LLEN", "wake:reconstruct", NULL), 0);
	T_EQ_INT(cmd_int(q, "SISMEMBER", "done:demo:extract", "g1-1"), 1);
	T_EQ_INT(cmd_int(q, "ZCARD", "leased:demo", NULL), 1);
	T_CMD_STR(q, "GET", "owned:w1", NULL, NULL, "demo\tg1-1");
	T_EQ_INT(cmd_int(q, "LLEN", "hist:demo:g1-1", NULL), 1);
}

/* The same task's next stage is leased straight back to the worker that
 * completed extract when it serves reconstruct and the needs fit; otherwise the
 * completion queues it and the worker gets the next job from the queues. */
static void test_chain(void)
{
	char p[64];
	struct sq_queue *q = open_q(p, sizeof(p));
	struct sq_claim_opts all = fopts("w1", st_all, 3), ext = fopts("w2", st_extract, 1);
	struct sq_err err = {0};
	struct sq_job job, next, again, j2;
	char *h;
	struct acq a;

	acq_make(&a, "demo", 1, 3, 0, 0);
	a.tasks[2].reconstruct.min_vram_mib = 8000;
	sq_task_finalize(&a.tasks[2]);
	enqueue(q, &a);
	cmd_int(q, "DEL", "wake:extract", NULL);
	T_EQ_INT(claim_o(q, &all, &job), 1);
	T_EQ_STR(job.jid, "g1-1");
	sq_job_init(&next);
	T_EQ_INT(sq_queue_complete_and_claim(q, &job, "w1", "{\"frames\":3}", &all, &next, &err),
		 1);
	check_chained(q, &job, &next);
	h = str_cmd(q, "LINDEX", "hist:demo:g1-1", "0", NULL);
	/* stage worker host attempt start_ms end_ms outcome */
	T_CHECK(h && strncmp(h, "extract\tw1\t", 11) == 0);
	T_CHECK(h && strstr(h, "\t1\t") != NULL);
	T_CHECK(h && strlen(h) > 5 && strcmp(h + strlen(h) - 5, "\tdone") == 0);
	free(h);
	/* a retried call (its reply lost) answers the same lease; so does complete */
	sq_job_init(&again);
	T_EQ_INT(sq_queue_complete_and_claim(q, &job, "w1", "{}", &all, &again, &err), 1);
	T_EQ_STR(again.jid, "g1-1");
	T_EQ_INT(again.stage, SQ_STAGE_RECONSTRUCT);
	T_EQ_INT(again.token, next.token);
	T_EQ_INT(sq_queue_complete(q, &job, "w1", NULL, &err), 0);
	check_chained(q, &job, &again);
	sq_job_release(&again);
	/* the chained lease is a lease like any other */
	T_EQ_INT(sq_queue_heartbeat(q, &next, "w1", 1, 2, &err), 0);
	T_EQ_INT(cmd_int(q, "ZSCORE", "leased:demo", "g1-1"),
		 field_ll(q, "demo", "g1-1", "lease_until_ms"));

	/* w2 serves extract only: g1-2 is queued at reconstruct, w2 gets g1-3 (the
	 * job struct reused for the next one) */
	T_EQ_INT(claim_o(q, &ext, &j2), 1);
	T_EQ_STR(j2.jid, "g1-2");
	T_EQ_INT(sq_queue_complete_and_claim(q, &j2, "w2", NULL, &ext, &j2, &err), 1);
	T_EQ_STR(j2.jid, "g1-3");
	T_EQ_INT(j2.stage, SQ_STAGE_EXTRACT);
	T_FIELD(q, "demo", "g1-2", "state", "queued");
	T_FIELD(q, "demo", "g1-2", "stage", "reconstruct");
	T_EQ_INT(cmd_int(q, "LLEN", "reconstruct:demo", NULL), 1);
	T_EQ_INT(cmd_int(q, "LLEN", "wake:reconstruct", NULL), 1);
	/* g1-3's reconstruct needs 8000 MiB of VRAM, w2 has no GPU: not chained,
	 * and w2 gets g1-2's reconstruct from the queue instead */
	ext.stages = st_all;
	ext.nstages = 3;
	T_EQ_INT(sq_queue_complete_and_claim(q, &j2, "w2", NULL, &ext, &j2, &err), 1);
	T_EQ_STR(j2.jid, "g1-2");
	T_EQ_INT(j2.stage, SQ_STAGE_RECONSTRUCT);
	T_FIELD(q, "demo", "g1-3", "state", "queued");
	T_FIELD(q, "demo", "g1-3", "need_vram_mib", "8000");
	T_CMD_STR(q, "GET", "owned:w2", NULL, NULL, "demo\tg1-2");
	/* nothing left that fits w1: completed, 0, and w1 holds nothing */
	T_EQ_INT(sq_queue_complete_and_claim(q, &next, "w1", NULL, &all, &next, &err), 0);
	T_FIELD(q, "demo", "g1-1", "state", "done");
	T_EQ_INT(cmd_int(q, "EXISTS", "owned:w1", NULL), 0);
	T_EQ_INT(cmd_int(q, "LLEN", "stitch:demo", NULL), 0); /* g1-2 and g1-3 not done */
	sq_job_release(&job);
	sq_job_release(&next);
	sq_job_release(&j2);
	acq_free(&a);
	sq_queue_free(q);
}

/* A completion whose lease was taken over is refused, and nothing is claimed. */
static void test_fused_stale(void)
{
	char p[64];
	struct sq_queue *q;
	struct sq_claim_opts o1 = fopts("w1", st_all, 3), o2 = fopts("w2", st_all, 3);
	struct sq_err err = {0};
	struct sq_job j1, j2, next;
	struct acq a;

	snprintf(p, sizeof(p), "tf%d.%d:", (int)getpid(), ++case_no);
	q = open_lease(p, 200);
	acq_make(&a, "demo", 1, 2, 0, 0);
	enqueue(q, &a);
	T_EQ_INT(claim_o(q, &o1, &j1), 1);
	T_EQ_STR(j1.jid, "g1-1");
	usleep(300000); /* expired, and the claims' maintenance is due again */
	T_EQ_INT(claim_o(q, &o2, &j2), 1);
	T_EQ_STR(j2.jid, "g1-1");
	T_EQ_INT(j2.attempt, 2);
	sq_job_init(&next);
	T_EQ_INT(sq_queue_complete_and_claim(q, &j1, "w1", NULL, &o1, &next, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_STALE);
	T_CONTAINS(err.msg, "g1-1");
	T_CHECK(next.jid == NULL);
	T_EQ_INT(cmd_int(q, "EXISTS", "owned:w1", NULL), 0);
	T_EQ_INT(cmd_int(q, "LLEN", "extract:demo", NULL), 1);
	T_EQ_INT(cmd_int(q, "ZCARD", "leased:demo", NULL), 1);
	T_FIELD(q, "demo", "g1-1", "owner", "w2");
	T_FIELD(q, "demo", "g1-1", "stage", "extract");
	T_EQ_INT(cmd_int(q, "SISMEMBER", "done:demo:extract", "g1-1"), 0);
	T_EQ_INT(cmd_int(q, "LLEN", "hist:demo:g1-1", NULL), 1); /* the expiry alone */
	sq_job_release(&j1);
	sq_job_release(&j2);
	acq_free(&a);
	sq_queue_free(q);
}

/* One worker runs a whole acquisition through complete_and_claim: every stage
 * once, every stitch once, by fan-in. */
static void test_fused_fan_in(void)
{
	char p[64];
	struct sq_queue *q = open_q(p, sizeof(p));
	struct sq_claim_opts o = fopts("w1", st_all, 3);
	struct sq_err err = {0};
	struct sq_job job;
	struct acq a;
	int got, n[SQ_STAGE_COUNT] = {0}, groups = 0, acqs = 0, chained = 0;
	enum sq_stage stage;
	char *prev = NULL;

	acq_make(&a, "demo", 2, 3, 0, 0);
	enqueue(q, &a);
	got = claim_o(q, &o, &job);
	while (got == 1) {
		stage = job.stage;
		n[stage]++;
		groups += job.kind == SQ_JOB_GROUP_STITCH;
		acqs += job.kind == SQ_JOB_ACQ_STITCH;
		chained += stage == SQ_STAGE_RECONSTRUCT && prev && !strcmp(prev, job.jid);
		free(prev);
		prev = xstrdup(job.jid);
		got = sq_queue_complete_and_claim(q, &job, "w1", NULL, &o, &job, &err);
	}
	free(prev);
	T_EQ_INT(got, 0);
	T_EQ_INT(n[SQ_STAGE_EXTRACT], 6);
	T_EQ_INT(n[SQ_STAGE_RECONSTRUCT], 6);
	T_EQ_INT(chained, 6);
	T_EQ_INT(groups, 2);
	T_EQ_INT(acqs, 1);
	T_FIELD(q, "demo", "@acq", "state", "done");
	T_EQ_INT(cmd_int(q, "SCARD", "done:demo:stitch", NULL), 3);
	T_EQ_INT(cmd_int(q, "ZCARD", "leased:demo", NULL), 0);
	T_EQ_INT(cmd_int(q, "EXISTS", "owned:w1", NULL), 0);
	sq_job_release(&job);
	acq_free(&a);
	sq_queue_free(q);
}

/* A chained lease keeps the P leased entry of its extract lease, earlier than
 * its own deadline: expiry re-arms it rather than taking it back early, and
 * takes it back once its own deadline has passed. */
static void test_chained_lease_expiry(void)
{
	char p[64];
	struct sq_queue *q;
	struct sq_claim_opts o = fopts("w1", st_all, 3);
	struct sq_err err = {0};
	struct sq_job job;
	struct acq a;
	long long pending = -1, until;

	snprintf(p, sizeof(p), "tf%d.%d:", (int)getpid(), ++case_no);
	q = open_lease(p, 1000);
	acq_make(&a, "demo", 1, 1, 0, 0);
	enqueue(q, &a);
	T_EQ_INT(claim_o(q, &o, &job), 1);
	usleep(600000);
	T_EQ_INT(sq_queue_complete_and_claim(q, &job, "w1", NULL, &o, &job, &err), 1);
	T_EQ_INT(job.stage, SQ_STAGE_RECONSTRUCT);
	until = field_ll(q, "demo", "g1-1", "lease_until_ms");
	T_CHECK(cmd_int(q, "ZSCORE", "leased:demo", "g1-1") < until);
	usleep(550000); /* past the extract lease's deadline, not the chained one's */
	T_EQ_INT(sq_queue_pending(q, &o, &pending, &err), 0);
	T_EQ_INT(pending, 1);
	T_FIELD(q, "demo", "g1-1", "state", "leased");
	T_EQ_INT(cmd_int(q, "ZSCORE", "leased:demo", "g1-1"), until);
	usleep(600000);
	T_EQ_INT(sq_queue_pending(q, &o, &pending, &err), 0);
	T_FIELD(q, "demo", "g1-1", "state", "queued");
	T_EQ_INT(field_ll(q, "demo", "g1-1", "crashes"), 1);
	T_EQ_INT(sq_queue_complete_and_claim(q, &job, "w1", NULL, &o, &job, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_STALE);
	sq_job_release(&job);
	acq_free(&a);
	sq_queue_free(q);
}

/* Child of the race: completes job as wid once the parent opens the gate, with
 * sq_queue_complete or (fused) sq_queue_complete_and_claim for reconstruct and
 * stitch, which may claim the stitch its fan-in queues. */
static void race_child(const char *prefix, const struct sq_job *job, const char *wid, int gate,
		       int fused)
{
	struct sq_queue *q = open_prefix(prefix);
	struct sq_claim_opts o = {wid, st_rs, 2, NULL, 0, -1, -1};
	struct sq_job bogus = *job, next;
	struct sq_err err = {0};
	char c;
	int rc;

	/* warm up: connection made and complete.lua loaded before the gate */
	bogus.token = -1;
	sq_queue_complete(q, &bogus, wid, NULL, &err);
	if (read(gate, &c, 1) < 0)
		_exit(3);
	sq_job_init(&next);
	if (fused)
		rc = sq_queue_complete_and_claim(q, job, wid, NULL, &o, &next, &err) < 0 ? -1 : 0;
	else
		rc = sq_queue_complete(q, job, wid, NULL, &err);
	sq_job_release(&next);
	sq_queue_free(q);
	_exit(rc == 0 ? 0 : 2);
}

/* Two processes complete the last two tasks of a group at the same moment;
 * *pushed: the group stitches queued or claimed (must be 1). */
static int race_once(const char *prefix, int fused, int *pushed)
{
	struct sq_queue *q = open_prefix(prefix);
	struct sq_job j1, j2;
	struct acq a;
	pid_t pids[2];
	int gate[2], i, status, ok = 1;

	acq_make(&a, "race", 1, 2, 0, 0);
	enqueue(q, &a);
	run_stage(q, SQ_STAGE_EXTRACT);
	if (claim(q, "c1", SQ_STAGE_RECONSTRUCT, &j1) != 1 ||
	    claim(q, "c2", SQ_STAGE_RECONSTRUCT, &j2) != 1 || pipe(gate) < 0)
		return 0;
	for (i = 0; i < 2; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			close(gate[1]);
			race_child(prefix, i ? &j2 : &j1, i ? "c2" : "c1", gate[0], fused);
		}
	}
	close(gate[0]);
	usleep(20000);
	close(gate[1]); /* both reads return at once */
	for (i = 0; i < 2; i++)
		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			ok = 0;
	*pushed = (int)(cmd_int(q, "LLEN", "stitch:race", NULL) +
			cmd_int(q, "ZCARD", "leased:race", NULL));
	sq_job_release(&j1);
	sq_job_release(&j2);
	acq_free(&a);
	sq_queue_free(q);
	return ok;
}

static void test_race(void)
{
	char p[64];
	int i, pushed, bad = 0, failed = 0;

	fflush(NULL);
	for (i = 0; i < 200; i++) {
		snprintf(p, sizeof(p), "tr%d.%d.%d:", (int)getpid(), eval_only, i);
		if (!race_once(p, i % 2, &pushed))
			failed++;
		else if (pushed != 1)
			bad++;
	}
	T_EQ_INT(failed, 0);
	T_EQ_INT(bad, 0);
}

int main(void)
{
	if (!getenv("SCANQ_REDIS")) {
		fprintf(stderr, "SCANQ_REDIS not set: run through tests/run-test\n");
		return 1;
	}
	for (eval_only = 0; eval_only <= 1; eval_only++) {
		test_two_groups();
		test_single_group();
		test_repair_ops();
		test_mark_stitch_done();
		test_chain();
		test_fused_stale();
		test_fused_fan_in();
		test_chained_lease_expiry();
		test_race();
	}
	return t_done();
}
