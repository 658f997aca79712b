/* test_hostile.c - the scripts against a hostile Redis: every field a script
 * reads set to garbage or removed, keys given the wrong type, with the job
 * queued, leased, waiting for a retry, or (a stitch) queued by the fan-in or
 * waiting for it; then workers carry on as scanq-worker does.
 *
 * Whatever was corrupted: no job is lost (each is queued, leased, retrying,
 * waiting for its fan-in, done, or dead-lettered), no script fails half-way
 * (a Lua runtime error), a job that cannot be used is dead-lettered naming the
 * field or key, and once the key is fixed and the dead letters retried (as
 * scanq-repair --retry-failed does) the acquisition completes. Runs with the
 * scripts as functions and as EVALSHA. Prints how many hostile states it
 * tried. */
#include "queue/queue.h"
#include "queue/queue_priv.h"
#include "base/xalloc.h"
#include "t.h"
#include "fixture.h"

#include <cjson/cJSON.h>
#include <unistd.h>

#define ACQ "h"
#define LEASE_MS 300

static int case_no, eval_only, tried;
static const enum sq_stage st_all[] = {SQ_STAGE_EXTRACT, SQ_STAGE_RECONSTRUCT, SQ_STAGE_STITCH};
static const char *const jids[] = {"g1-1", "g1-2", "@group:g1"};

enum at {
	AT_QUEUED,  /* the victim queued at extract */
	AT_LEASED,  /* the victim leased by w1, which then heartbeats, completes, dies */
	AT_RETRY,   /* the victim failed once, waiting for its retry */
	AT_STITCH,  /* both tasks reconstructed: the group stitch queued */
	AT_WAITING, /* nothing run yet: the group stitch waits for its fan-in */
	AT_FAIL,    /* the victim's first attempt fails (the retry path runs) */
	AT_BEFORE,  /* the key broken before the enqueue */
};

struct world {
	const char *what; /* the case, for messages */
	char prefix[64];
	struct sq_queue *q;
	struct acq a;		       /* group g1: g1-1 (the victim), g1-2 */
	struct sq_stitch_spec gstitch; /* @group:g1's spec, to retry it */
	int fail_victim, failed_victim;
};

/* --- the world --- */

static void w_open_at(struct world *w, const char *what, int enqueue)
{
	struct sq_err err = {0};
	char *json;

	memset(w, 0, sizeof(*w));
	w->what = what;
	snprintf(w->prefix, sizeof(w->prefix), "th%d.%d:", (int)getpid(), ++case_no);
	w->q = fx_open(w->prefix, LEASE_MS, eval_only);
	acq_make(&w->a, ACQ, 1, 2, 2, 1);
	if (enqueue)
		T_EQ_INT(sq_queue_enqueue(w->q, w->a.tasks, w->a.n, &w->a.stitch, w->a.out, &err),
			 0);
	w->a.stitch.group = xstrdup("g1");
	free(w->a.stitch.outdir);
	w->a.stitch.outdir = xstrdup("/out/" ACQ "/g1");
	sq_stitch_spec_finalize(&w->a.stitch);
	json = sq_stitch_spec_to_json(&w->a.stitch);
	sq_stitch_spec_init(&w->gstitch);
	sq_stitch_spec_from_json(&w->gstitch, json, &err);
	free(json);
	free(w->a.stitch.group);
	w->a.stitch.group = NULL;
	free(w->a.stitch.outdir);
	w->a.stitch.outdir = xstrdup("/out/" ACQ);
	sq_stitch_spec_finalize(&w->a.stitch);
	tried++;
}

static void w_open(struct world *w, const char *what)
{
	w_open_at(w, what, 1);
}

static void w_close(struct world *w)
{
	acq_free(&w->a);
	sq_stitch_spec_release(&w->gstitch);
	sq_queue_free(w->q);
}

/* A call failed: fine when the scripts refused on purpose, a defect when Lua
 * itself failed (a script stopped half-way). */
static void note_error(struct world *w, const char *call, const struct sq_err *err)
{
	int crashed = strstr(err->msg, "attempt to ") || strstr(err->msg, "bad argument") ||
		      strstr(err->msg, "Error running script");

	if (crashed)
		fprintf(stderr, "%s: %s: lua failed: %s\n", w->what, call, err->msg);
	T_CHECK(!crashed);
}

static struct sq_claim_opts opts(const char *wid)
{
	struct sq_claim_opts o = {wid, st_all, 3, NULL, 0, -1, -1};

	return o;
}

static long long pending(struct world *w)
{
	struct sq_claim_opts o = opts("-");
	struct sq_err err = {0};
	long long n = -1;

	if (sq_queue_pending(w->q, &o, &n, &err) < 0)
		note_error(w, "pending", &err);
	return n;
}

static int claim(struct world *w, const char *wid, struct sq_job *job)
{
	struct sq_claim_opts o = opts(wid);
	struct sq_worker_info info = {wid, "host", 1, "extract,reconstruct,stitch", NULL, NULL};
	struct sq_err err = {0};
	int got;

	sq_queue_worker_beat(w->q, &info, NULL);
	sq_job_init(job);
	got = sq_queue_claim(w->q, &o, job, &err);
	if (got < 0)
		note_error(w, "claim", &err);
	return got;
}

/* Runs the held job as a worker does: heartbeat, then complete and claim the
 * next (or, once, fail the victim). Returns 1 if job holds a new lease. */
static int run(struct world *w, const char *wid, struct sq_job *job)
{
	struct sq_claim_opts o = opts(wid);
	struct sq_err err = {0};
	int got, dead;

	if (sq_queue_heartbeat(w->q, job, wid, 1, 2, &err) < 0 && err.code != SQ_ERR_STALE)
		note_error(w, "heartbeat", &err);
	if (w->fail_victim && !w->failed_victim && strcmp(job->jid, "g1-1") == 0) {
		w->failed_victim = 1;
		if (sq_queue_fail(w->q, job, wid, "it broke", 0, &dead, &err) < 0 &&
		    err.code != SQ_ERR_STALE)
			note_error(w, "fail", &err);
		return 0;
	}
	got = sq_queue_complete_and_claim(w->q, job, wid, "{}", &o, job, &err);
	if (got < 0 && err.code != SQ_ERR_STALE)
		note_error(w, "complete", &err);
	return got > 0;
}

/* Workers carry on until nothing is pending or rounds run out. */
static void drive(struct world *w, const char *wid, int rounds)
{
	struct sq_job job;
	int held = 0;

	sq_job_init(&job);
	for (int r = 0; r < rounds; r++) {
		if (!held) {
			sq_job_release(&job);
			int got = claim(w, wid, &job);

			if (got <= 0) {
				if (got == 0 && pending(w) == 0)
					break;
				fx_sleep_ms(60);
				continue;
			}
		}
		held = run(w, wid, &job);
	}
	sq_job_release(&job);
}

/* --- where a job is --- */

/* The error of the newest dead letter of jid, new string, or NULL. */
static char *dead_error(struct world *w, const char *jid)
{
	struct sq_reply *r = fx_cmd(w->q, "LRANGE", fx_key(w->q, "failed:" ACQ), "0", "-1", NULL);
	char *found = NULL;

	for (size_t i = 0; r && r->type == SQ_REPLY_ARRAY && i < r->nelements && !found; i++) {
		cJSON *o = cJSON_Parse(sq_reply_str(r, i));
		const char *j = cJSON_GetStringValue(cJSON_GetObjectItem(o, "jid"));
		const char *e = cJSON_GetStringValue(cJSON_GetObjectItem(o, "error"));

		if (j && e && strcmp(j, jid) == 0)
			found = xstrdup(e);
		cJSON_Delete(o);
	}
	sq_reply_free(r);
	return found;
}

static int is_done(struct world *w, const char *jid)
{
	return fx_int(w->q, "SISMEMBER",
		      fx_key(w->q, "done:" ACQ ":%s", jid[0] == '@' ? "stitch" : "reconstruct"),
		      jid) == 1;
}

static int state_is(struct world *w, const char *jid, const char *state)
{
	char *v = field(w->q, ACQ, jid, "state");
	int is = v && strcmp(v, state) == 0;

	free(v);
	return is;
}

/* Where jid is, or NULL: lost. */
static const char *where(struct world *w, const char *jid)
{
	static const char *const queues[] = {"extract", "reconstruct", "stitch"};
	char *dead;

	for (int s = 0; s < 3; s++)
		if (fx_int(w->q, "LPOS", fx_key(w->q, "%s:" ACQ, queues[s]), jid) >= 0)
			return "queued";
	if (fx_int(w->q, "ZSCORE", fx_key(w->q, "leased:" ACQ), jid) >= 0)
		return "leased";
	if (fx_int(w->q, "ZSCORE", fx_key(w->q, "delayed:" ACQ), jid) >= 0)
		return "retrying";
	if (is_done(w, jid))
		return "done";
	if ((dead = dead_error(w, jid))) {
		free(dead);
		return "dead";
	}
	for (int s = 0; s < 3; s++)
		if (fx_int(w->q, "SISMEMBER", fx_key(w->q, "cancelled:" ACQ ":%s", queues[s]),
			   jid) == 1)
			return "cancelled";
	return jid[0] == '@' && state_is(w, jid, "waiting") ? "waiting" : NULL;
}

static void check_none_lost(struct world *w, const char *when)
{
	for (size_t i = 0; i < 3; i++) {
		int found = where(w, jids[i]) != NULL;

		if (!found)
			fprintf(stderr, "%s: %s: '%s' is lost\n", w->what, when, jids[i]);
		T_CHECK(found);
	}
}

/* The victim is done, or dead-lettered naming needle. */
static void check_victim(struct world *w, const char *victim, const char *needle)
{
	char *e = dead_error(w, victim);

	if (e && !strstr(e, needle))
		fprintf(stderr, "%s: dead letter of '%s' does not name '%s': %s\n", w->what, victim,
			needle, e);
	T_CHECK(is_done(w, victim) || (e && strstr(e, needle)));
	free(e);
}

/* --- an operator looks and acts (scanq-ctl, the web console) --- */

/* One operator call: its JSON is dropped; a refusal is fine, Lua failing not. */
static void op(struct world *w, const char *what, char *json, const struct sq_err *err)
{
	if (!json && err->code != SQ_ERR_INVALID)
		note_error(w, what, err);
	free(json);
}

static void operator_looks(struct world *w, const char *victim)
{
	struct sq_err err = {0};

	op(w, "show", sq_queue_show(w->q, ACQ, "", &err), &err);
	op(w, "show job", sq_queue_show(w->q, ACQ, victim, &err), &err);
	op(w, "workers", sq_queue_workers(w->q, 60000, 0, &err), &err);
}

/* --- recovery: what scanq-repair --retry-failed does --- */

static int all_done(struct world *w)
{
	return is_done(w, "g1-1") && is_done(w, "g1-2") && is_done(w, "@group:g1");
}

/* A task to re-inject: not done, and dead-lettered or gone from Redis. */
static int needs_retry(struct world *w, const char *jid)
{
	char *st = field(w->q, ACQ, jid, "state");
	int yes = !is_done(w, jid) && (!st || strcmp(st, "failed") == 0);

	free(st);
	return yes;
}

static void recover(struct world *w)
{
	struct sq_err err = {0};

	for (int round = 0; round < 3 && !all_done(w); round++) {
		for (size_t i = 0; i < 2; i++)
			if (needs_retry(w, jids[i]) &&
			    sq_queue_reinject_task(w->q, &w->a.tasks[i], SQ_STAGE_EXTRACT, 1,
						   &err) < 0)
				note_error(w, "reinject task", &err);
		drive(w, "w3", 40);
		if (is_done(w, "g1-1") && is_done(w, "g1-2") && !is_done(w, "@group:g1") &&
		    sq_queue_reinject_stitch(w->q, &w->gstitch, 1, &err) < 0)
			note_error(w, "reinject stitch", &err);
		drive(w, "w3", 40);
	}
	if (!all_done(w))
		fprintf(stderr, "%s: not complete after recovery: %s %s %s\n", w->what,
			where(w, "g1-1"), where(w, "g1-2"), where(w, "@group:g1"));
	T_CHECK(all_done(w));
}

/* --- bringing the victim where the case wants it --- */

static void bring(struct world *w, enum at at, const char *victim)
{
	struct sq_job job;
	struct sq_claim_opts o = opts("w0");
	struct sq_err err = {0};
	int dead = 0;

	if (at == AT_LEASED || at == AT_RETRY) {
		T_EQ_INT(claim(w, "w1", &job), 1);
		T_EQ_STR(job.jid, victim);
		if (at == AT_RETRY) {
			T_EQ_INT(sq_queue_fail(w->q, &job, "w1", "first try", 0, &dead, &err), 0);
			fx_sleep_ms(5);
		}
		sq_job_release(&job);
	} else if (at == AT_STITCH) {
		const enum sq_stage tasks_only[] = {SQ_STAGE_EXTRACT, SQ_STAGE_RECONSTRUCT};

		o.stages = tasks_only;
		o.nstages = 2;
		for (int i = 0; i < 4; i++) {
			T_EQ_INT(sq_queue_claim(w->q, &o, &job, &err), 1);
			T_EQ_INT(sq_queue_complete(w->q, &job, "w0", "{}", &err), 0);
			sq_job_release(&job);
		}
		T_EQ_INT(fx_int(w->q, "LLEN", fx_key(w->q, "stitch:" ACQ), NULL), 1);
	}
	w->fail_victim = at == AT_FAIL;
}

/* What w1 does with the lease it holds after the corruption: heartbeat,
 * complete; then it dies and its supervisor hands the job back. */
static void w1_carries_on(struct world *w, const char *victim)
{
	struct sq_job job;
	struct sq_err err = {0};

	sq_job_init(&job);
	job.acq = xstrdup(ACQ);
	job.jid = xstrdup(victim);
	job.token = fx_int(w->q, "GET", fx_key(w->q, "fence"), NULL);
	if (sq_queue_heartbeat(w->q, &job, "w1", 1, 2, &err) < 0 && err.code != SQ_ERR_STALE)
		note_error(w, "heartbeat", &err);
	if (sq_queue_complete(w->q, &job, "w1", "{}", &err) < 0 && err.code != SQ_ERR_STALE)
		note_error(w, "complete", &err);
	if (sq_queue_release_owner(w->q, "w1", "killed", &err) < 0)
		note_error(w, "release_owner", &err);
	sq_job_release(&job);
}

/* --- field cases --- */

struct field_case {
	const char *field;
	const char *value; /* NULL: the field removed */
};

/* HGET key field, new string or NULL. */
static char *hget(struct world *w, const char *key, const char *f)
{
	struct sq_reply *r = fx_cmd(w->q, "HGET", key, f, NULL);
	char *v = r && r->type == SQ_REPLY_STRING ? xstrdup(r->str) : NULL;

	sq_reply_free(r);
	return v;
}

/* Puts back a field corrupt_field changed (was: its value before, or NULL). */
static void restore_field(struct world *w, const char *key, const char *f, const char *was)
{
	sq_reply_free(was ? fx_cmd(w->q, "HSET", key, f, was, NULL)
			  : fx_cmd(w->q, "HDEL", key, f, NULL));
}

static void corrupt_field(struct world *w, const char *key, const struct field_case *c)
{
	struct sq_reply *r = c->value ? fx_cmd(w->q, "HSET", key, c->field, c->value, NULL)
				      : fx_cmd(w->q, "HDEL", key, c->field, NULL);

	T_CHECK(r != NULL);
	sq_reply_free(r);
}

static void field_case(enum at at, const char *victim, const struct field_case *c)
{
	char what[160], *was;
	struct world w;

	snprintf(what, sizeof(what), "%s%s: %s field '%s' %s%s%s", eval_only ? "evalsha " : "",
		 at == AT_QUEUED   ? "queued"
		 : at == AT_LEASED ? "leased"
		 : at == AT_RETRY  ? "retry"
				   : "stitch",
		 victim, c->field, c->value ? "= '" : "removed", c->value ? c->value : "",
		 c->value ? "'" : "");
	w_open(&w, what);
	bring(&w, at, victim);
	was = hget(&w, fx_key(w.q, "job:" ACQ ":%s", victim), c->field);
	corrupt_field(&w, fx_key(w.q, "job:" ACQ ":%s", victim), c);
	operator_looks(&w, victim);
	if (at == AT_LEASED)
		w1_carries_on(&w, victim);
	drive(&w, "w2", 40);
	check_none_lost(&w, "after the workers");
	check_victim(&w, victim, c->field);
	{
		struct sq_err err = {0};

		/* scanq-ctl retry of the dead letter: put back, or left for repair */
		op(&w, "retry", sq_queue_retry(w.q, ACQ, victim, 0, &err), &err);
		check_none_lost(&w, "after an operator's retry");
		drive(&w, "w2", 40);
		check_none_lost(&w, "after the retry ran");
	}
	/* the fix: a retry rewrites every field a script decides on, but not the
	 * outdir of a task already done, which its group stitch reads */
	if (strcmp(c->field, "outdir") == 0)
		restore_field(&w, fx_key(w.q, "job:" ACQ ":%s", victim), c->field, was);
	free(was);
	recover(&w);
	w_close(&w);
}

static const struct field_case task_cases[] = {
    {"state", "bogus"},
    {"state", NULL},
    {"stage", "bogus"},
    {"stage", NULL},
    {"kind", "bogus"},
    {"group", "no/such group"},
    {"group", NULL},
    {"spec", "not json"},
    {"inputs", "not json"},
    {"inputs", "{\"a\":1}"},
    {"attempts", "x!"},
    {"attempts", "1e400"},
    {"attempts", "-"},
    {"errors", "x!"},
    {"crashes", "99999999999999999999999"},
    {"max_attempts", "x!"},
    {"backoff_ms", "soon"},
    {"need_vram_mib", "lots"},
    {"need_ram_mib", "lots"},
    {"need_vram_mib.reconstruct", "lots"},
    {"need_ram_mib.reconstruct", "0x10"},
    {"owner", "someone-else"},
    {"token", "x!"},
    {"host", "\x01\xff\""},
    {"claimed_ms", "x!"},
    {"lease_until_ms", "x!"},
    {"progress_done", "x!"},
    {"progress_total", "x!"},
    {"done_token", "x!"},
    {"done_outcome", "bogus"},
    {"version", ""},
    {"outdir", NULL},
    {"error", "\x1b[2J"},
    {"created_ms", "x!"},
    {"enqueued_by", "x"},
};

static const struct field_case stitch_cases[] = {
    {"state", "bogus"}, {"stage", "bogus"},	 {"kind", "bogus"},	 {"group", "a b"},
    {"inputs", "nope"}, {"inputs", "[1, 2]"},	 {"inputs", "\"str\""},	 {"spec", "x"},
    {"spec", NULL},	{"attempts", "x!"},	 {"max_attempts", "x!"}, {"need_vram_mib", "?"},
    {"token", "x!"},	{"lease_until_ms", "x"}, {"outdir", NULL},
};

/* An operator cancels an acquisition holding an ill-typed job, then takes
 * the cancel back: nothing is lost either way. */
static void cancel_case(const struct field_case *c)
{
	char what[160];
	struct sq_err err = {0};
	struct world w;

	snprintf(what, sizeof(what), "%scancel with field '%s' = '%s'", eval_only ? "evalsha " : "",
		 c->field, c->value ? c->value : "(removed)");
	w_open(&w, what);
	corrupt_field(&w, fx_key(w.q, "job:" ACQ ":g1-1"), c);
	op(&w, "cancel", sq_queue_cancel(w.q, ACQ, "", &err), &err);
	check_none_lost(&w, "after the cancel");
	op(&w, "retry", sq_queue_retry(w.q, ACQ, "", 1, &err), &err);
	check_none_lost(&w, "after the cancel was taken back");
	drive(&w, "w2", 40);
	check_none_lost(&w, "after the workers");
	w_close(&w);
}

static void test_fields(void)
{
	static const enum at task_ats[] = {AT_QUEUED, AT_LEASED, AT_RETRY};

	for (size_t a = 0; a < 3; a++)
		for (size_t i = 0; i < sizeof(task_cases) / sizeof(task_cases[0]); i++)
			field_case(task_ats[a], "g1-1", &task_cases[i]);
	for (size_t i = 0; i < sizeof(stitch_cases) / sizeof(stitch_cases[0]); i++)
		field_case(AT_STITCH, "@group:g1", &stitch_cases[i]);
	for (size_t i = 0; i < 12; i++)
		cancel_case(&task_cases[i]);
}

/* --- what the fan-in reads: the acquisition's registration, its inputs --- */

struct reg_case {
	const char *key; /* after P */
	struct field_case f;
	const char *needle;
};

static void reg_case(const struct reg_case *c)
{
	char what[160], *was;
	struct world w;

	snprintf(what, sizeof(what), "%s%s field '%s' %s", eval_only ? "evalsha " : "", c->key,
		 c->f.field, c->f.value ? c->f.value : "removed");
	w_open(&w, what);
	was = hget(&w, fx_key(w.q, "%s", c->key), c->f.field);
	corrupt_field(&w, fx_key(w.q, "%s", c->key), &c->f);
	drive(&w, "w2", 40);
	check_none_lost(&w, "after the workers");
	check_victim(&w, "@group:g1", c->needle);
	/* the fix: the field as it was */
	restore_field(&w, fx_key(w.q, "%s", c->key), c->f.field, was);
	free(was);
	recover(&w);
	w_close(&w);
}

static void test_registration(void)
{
	static const struct reg_case cases[] = {
	    {"acq:" ACQ, {"spec:@group:g1", NULL}, "no stitch spec registered"},
	    {"acq:" ACQ, {"spec:@group:g1", "[]"}, "spec:@group:g1"},
	    {"acq:" ACQ, {"outdir:@group:g1", NULL}, "outdir:@group:g1"},
	    {"acq:" ACQ, {"stitch_max_attempts", "x!"}, "stitch_max_attempts"},
	    {"acq:" ACQ, {"need_vram_mib.stitch", "lots"}, "need_vram_mib.stitch"},
	    {"job:" ACQ ":g1-2", {"outdir", NULL}, "outdir"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		reg_case(&cases[i]);
}

/* --- keys of the wrong type --- */

struct key_case {
	enum at at;
	const char *key;    /* after P */
	const char *type;   /* what it is made: string, hash, list, set, zset */
	const char *needle; /* the victim's dead letter names it, or NULL */
	const char *victim;
	struct field_case f; /* and a field of the victim corrupted, or {NULL} */
};

static void make_type(struct world *w, const char *key, const char *type)
{
	struct sq_reply *r;

	sq_reply_free(fx_cmd(w->q, "DEL", key, NULL));
	if (strcmp(type, "string") == 0)
		r = fx_cmd(w->q, "SET", key, "garbage", NULL);
	else if (strcmp(type, "hash") == 0)
		r = fx_cmd(w->q, "HSET", key, "garbage", "1", NULL);
	else if (strcmp(type, "list") == 0)
		r = fx_cmd(w->q, "RPUSH", key, "garbage", NULL);
	else if (strcmp(type, "set") == 0)
		r = fx_cmd(w->q, "SADD", key, "garbage", NULL);
	else
		r = fx_cmd(w->q, "ZADD", key, "1", "garbage", NULL);
	T_CHECK(r != NULL);
	sq_reply_free(r);
}

/* The fix: the key deleted, and what it held, where the test knows it. */
static void fix_key(struct world *w, const struct key_case *c)
{
	struct sq_err err = {0};

	sq_reply_free(fx_cmd(w->q, "DEL", fx_key(w->q, "%s", c->key), NULL));
	if (strcmp(c->key, "fence") == 0)
		sq_reply_free(fx_cmd(w->q, "SET", fx_key(w->q, "fence"), "1000000", NULL));
	if (strcmp(c->key, "members:" ACQ ":g1") == 0)
		sq_reply_free(
		    fx_cmd(w->q, "SADD", fx_key(w->q, "%s", c->key), "g1-1", "g1-2", NULL));
	if (strcmp(c->key, "acqs") == 0 || strcmp(c->key, "groups:" ACQ) == 0 ||
	    strcmp(c->key, "acq:" ACQ) == 0)
		T_EQ_INT(sq_queue_enqueue(w->q, w->a.tasks, w->a.n, &w->a.stitch, w->a.out, &err),
			 0);
}

/* An enqueue into a broken key is refused naming it, and leaves no task
 * half-registered; once the key is fixed it goes through. */
static void enqueue_refused(struct world *w, const struct key_case *c)
{
	struct sq_err err = {0};

	T_EQ_INT(sq_queue_enqueue(w->q, w->a.tasks, w->a.n, &w->a.stitch, w->a.out, &err), -1);
	T_CONTAINS(err.msg, c->needle);
	T_EQ_INT(fx_int(w->q, "EXISTS", fx_key(w->q, "job:" ACQ ":g1-1"), NULL), 0);
	T_EQ_INT(fx_int(w->q, "EXISTS", fx_key(w->q, "job:" ACQ ":g1-2"), NULL), 0);
	fix_key(w, c);
	T_EQ_INT(sq_queue_enqueue(w->q, w->a.tasks, w->a.n, &w->a.stitch, w->a.out, &err), 0);
	drive(w, "w2", 40);
	T_CHECK(all_done(w));
}

static void key_case(const struct key_case *c)
{
	const char *victim = c->victim ? c->victim : "g1-1";
	char what[200];
	struct world w;

	snprintf(what, sizeof(what), "%skey '%s' made a %s%s%s", eval_only ? "evalsha " : "",
		 c->key, c->type, c->f.field ? " and field " : "", c->f.field ? c->f.field : "");
	w_open_at(&w, what, c->at != AT_BEFORE);
	if (c->at == AT_BEFORE) {
		make_type(&w, fx_key(w.q, "%s", c->key), c->type);
		enqueue_refused(&w, c);
		w_close(&w);
		return;
	}
	bring(&w, c->at, victim);
	make_type(&w, fx_key(w.q, "%s", c->key), c->type);
	if (c->f.field)
		corrupt_field(&w, fx_key(w.q, "job:" ACQ ":%s", victim), &c->f);
	if (c->at == AT_LEASED)
		w1_carries_on(&w, victim);
	drive(&w, "w2", 12);
	if (strncmp(c->key, "job:", 4) != 0)
		check_none_lost(&w, "with the key broken");
	if (c->needle)
		check_victim(&w, victim, c->needle);
	fix_key(&w, c);
	drive(&w, "w2", 40);
	check_none_lost(&w, "after the fix");
	recover(&w);
	w_close(&w);
}

static void test_keys(void)
{
	static const struct key_case cases[] = {
	    {AT_QUEUED,
	     "job:" ACQ ":g1-1",
	     "string",
	     "is a string, not a hash",
	     NULL,
	     {NULL, NULL}},
	    {AT_LEASED, "job:" ACQ ":g1-1", "list", "is a list, not a hash", NULL, {NULL, NULL}},
	    {AT_QUEUED,
	     "job:" ACQ ":@group:g1",
	     "string",
	     "is a string",
	     "@group:g1",
	     {NULL, NULL}},
	    {AT_QUEUED, "leased:" ACQ, "string", NULL, NULL, {NULL, NULL}},
	    {AT_FAIL, "delayed:" ACQ, "list", "delayed:" ACQ, NULL, {NULL, NULL}},
	    {AT_QUEUED, "failed:" ACQ, "string", NULL, NULL, {"attempts", "x!"}},
	    {AT_QUEUED, "failed:" ACQ, "hash", NULL, NULL, {NULL, NULL}},
	    {AT_QUEUED, "dead:" ACQ ":extract", "string", NULL, NULL, {"stage", NULL}},
	    {AT_QUEUED, "done:" ACQ ":extract", "list", "done:" ACQ ":extract", NULL, {NULL, NULL}},
	    {AT_QUEUED,
	     "done:" ACQ ":reconstruct",
	     "zset",
	     "done:" ACQ ":reconstruct",
	     NULL,
	     {NULL, NULL}},
	    {AT_QUEUED,
	     "done:" ACQ ":stitch",
	     "string",
	     "done:" ACQ ":stitch",
	     "@group:g1",
	     {NULL, NULL}},
	    {AT_QUEUED, "reconstruct:" ACQ, "hash", "reconstruct:" ACQ, NULL, {NULL, NULL}},
	    {AT_QUEUED, "stitch:" ACQ, "hash", "stitch:" ACQ, "@group:g1", {NULL, NULL}},
	    {AT_STITCH, "extract:" ACQ, "string", NULL, "@group:g1", {NULL, NULL}},
	    {AT_BEFORE, "extract:" ACQ, "hash", "extract:" ACQ, NULL, {NULL, NULL}},
	    {AT_BEFORE, "members:" ACQ ":g1", "string", "members:" ACQ ":g1", NULL, {NULL, NULL}},
	    {AT_BEFORE, "acq:" ACQ, "list", "acq:" ACQ, NULL, {NULL, NULL}},
	    {AT_BEFORE, "acqs", "hash", "acqs", NULL, {NULL, NULL}},
	    {AT_QUEUED, "gdone:" ACQ ":g1", "string", "gdone:" ACQ ":g1", NULL, {NULL, NULL}},
	    {AT_QUEUED, "members:" ACQ ":g1", "string", "members:" ACQ ":g1", NULL, {NULL, NULL}},
	    {AT_QUEUED, "groups:" ACQ, "string", NULL, NULL, {NULL, NULL}},
	    {AT_QUEUED, "sdone:" ACQ, "list", "sdone:" ACQ, "@group:g1", {NULL, NULL}},
	    {AT_QUEUED, "acq:" ACQ, "string", "acq:" ACQ, "@group:g1", {NULL, NULL}},
	    {AT_QUEUED, "acqs", "string", NULL, NULL, {NULL, NULL}},
	    {AT_QUEUED, "fence", "string", NULL, NULL, {NULL, NULL}},
	    {AT_QUEUED, "fence", "hash", NULL, NULL, {NULL, NULL}},
	    {AT_QUEUED, "owned:w2", "hash", NULL, NULL, {NULL, NULL}},
	    {AT_LEASED, "owned:w1", "zset", NULL, NULL, {NULL, NULL}},
	    {AT_QUEUED, "hist:" ACQ ":g1-1", "string", NULL, NULL, {NULL, NULL}},
	    {AT_FAIL, "hist:" ACQ ":g1-1", "set", NULL, NULL, {NULL, NULL}},
	    {AT_QUEUED, "wake:extract", "string", NULL, NULL, {NULL, NULL}},
	    {AT_QUEUED, "wake:reconstruct", "hash", NULL, NULL, {NULL, NULL}},
	    {AT_QUEUED, "maint:" ACQ, "list", NULL, NULL, {NULL, NULL}},
	    {AT_QUEUED, "cursor:extract", "hash", NULL, NULL, {NULL, NULL}},
	    {AT_QUEUED, "workers", "string", NULL, NULL, {NULL, NULL}},
	    {AT_QUEUED, "worker:w2", "list", NULL, NULL, {NULL, NULL}},
	    {AT_QUEUED, "paused", "string", NULL, NULL, {NULL, NULL}},
	    {AT_QUEUED, "warn:" ACQ ":extract", "list", "warn:" ACQ ":extract", NULL, {NULL, NULL}},
	    {AT_QUEUED, "gcancel:" ACQ ":g1", "string", "gcancel:" ACQ ":g1", NULL, {NULL, NULL}},
	    {AT_QUEUED, "scancel:" ACQ, "list", "scancel:" ACQ, "@group:g1", {NULL, NULL}},
	    {AT_QUEUED, "cancelled:" ACQ ":extract", "string", NULL, NULL, {NULL, NULL}},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		key_case(&cases[i]);
}

int main(void)
{
	if (!getenv("SCANQ_REDIS")) {
		fprintf(stderr, "SCANQ_REDIS not set: run through tests/run-test\n");
		return 1;
	}
	for (eval_only = 0; eval_only <= 1; eval_only++) {
		test_fields();
		test_registration();
		test_keys();
	}
	printf("hostile redis states tried: %d\n", tried);
	return t_done();
}
