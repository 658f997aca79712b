/* queue.c - the work queue: C side of the Lua scripts in lib/queue/lua/.
 *
 * Every state change is one script call (see queue.h for the data model and
 * the scripts in lib/queue/lua/ for the transitions); this file builds their arguments and reads
 * their replies. Repair's operations live in queue_repair.c. */
#include "queue/queue.h"
#include "base/clock.h"

#include "base/fsutil.h"
#include "lua_scripts.h"
#include "queue/queue_priv.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "base/banned.h"

#define DEFAULT_LEASE_MS 15000

static const char *const script_names[SQ_SCRIPT_COUNT] = {
    [SQ_SCRIPT_CLAIM] = "claim",	 [SQ_SCRIPT_COMPLETE] = "complete",
    [SQ_SCRIPT_ENQUEUE] = "enqueue",	 [SQ_SCRIPT_FAIL] = "fail",
    [SQ_SCRIPT_HEARTBEAT] = "heartbeat", [SQ_SCRIPT_PENDING] = "pending",
    [SQ_SCRIPT_RELEASE] = "release",	 [SQ_SCRIPT_RELEASE_OWNER] = "release_owner",
    [SQ_SCRIPT_SNAPSHOT] = "snapshot",	 [SQ_SCRIPT_REINJECT] = "reinject",
    [SQ_SCRIPT_WORKER] = "worker",	 [SQ_SCRIPT_CANCEL] = "cancel",
    [SQ_SCRIPT_PAUSE] = "pause",	 [SQ_SCRIPT_RETRY] = "retry",
    [SQ_SCRIPT_CLEAR] = "clear",	 [SQ_SCRIPT_FORGET] = "forget",
    [SQ_SCRIPT_SHOW] = "show",		 [SQ_SCRIPT_WORKERS] = "workers",
};

static const char *const script_bodies[SQ_SCRIPT_COUNT] = {
    [SQ_SCRIPT_CLAIM] = sq_lua_claim,	      [SQ_SCRIPT_COMPLETE] = sq_lua_complete,
    [SQ_SCRIPT_ENQUEUE] = sq_lua_enqueue,     [SQ_SCRIPT_FAIL] = sq_lua_fail,
    [SQ_SCRIPT_HEARTBEAT] = sq_lua_heartbeat, [SQ_SCRIPT_PENDING] = sq_lua_pending,
    [SQ_SCRIPT_RELEASE] = sq_lua_release,     [SQ_SCRIPT_RELEASE_OWNER] = sq_lua_release_owner,
    [SQ_SCRIPT_SNAPSHOT] = sq_lua_snapshot,   [SQ_SCRIPT_REINJECT] = sq_lua_reinject,
    [SQ_SCRIPT_WORKER] = sq_lua_worker,	      [SQ_SCRIPT_CANCEL] = sq_lua_cancel,
    [SQ_SCRIPT_PAUSE] = sq_lua_pause,	      [SQ_SCRIPT_RETRY] = sq_lua_retry,
    [SQ_SCRIPT_CLEAR] = sq_lua_clear,	      [SQ_SCRIPT_FORGET] = sq_lua_forget,
    [SQ_SCRIPT_SHOW] = sq_lua_show,	      [SQ_SCRIPT_WORKERS] = sq_lua_workers,
};

struct sq_queue *sq_queue_open(const struct sq_queue_opts *opts, struct sq_err *err)
{
	struct sq_redis_opts ro = {opts->url ? opts->url : SQ_QUEUE_DEFAULT_URL,
				   opts->connect_timeout_ms, 0, opts->retry_for_ms};
	struct sq_queue *q;
	struct sq_redis *r;
	int i;

	if (!(r = sq_redis_open(&ro, err)))
		return NULL;
	q = xcalloc(1, sizeof(*q));
	q->redis = r;
	q->prefix = xstrdup(opts->prefix ? opts->prefix : "");
	q->lease_ms = opts->lease_ms > 0 ? opts->lease_ms : DEFAULT_LEASE_MS;
	sq_redis_library(r, SQ_LUA_LIBRARY_NAME, sq_lua_library);
	for (i = 0; i < SQ_SCRIPT_COUNT; i++)
		q->script[i] = sq_redis_script(r, script_names[i], script_bodies[i]);
	return q;
}

void sq_queue_free(struct sq_queue *q)
{
	if (!q)
		return;
	sq_redis_free(q->redis);
	free(q->prefix);
	free(q);
}

void sq_queue_on_outage(struct sq_queue *q, sq_redis_outage_fn *fn, void *ctx)
{
	sq_redis_on_outage(q->redis, fn, ctx);
}

const char *sq_queue_prefix(const struct sq_queue *q)
{
	return q->prefix;
}

long long sq_queue_lease_ms(const struct sq_queue *q)
{
	return q->lease_ms;
}

struct sq_redis *sq_queue_redis(struct sq_queue *q)
{
	return q->redis;
}

void sq_queue_args_start(const struct sq_queue *q, struct sq_redis_args *a)
{
	sq_redis_args_init(a);
	sq_redis_args_add(a, q->prefix);
}

struct sq_reply *sq_queue_eval(struct sq_queue *q, enum sq_queue_script script,
			       const struct sq_redis_args *a, struct sq_err *err)
{
	return sq_redis_eval(q->redis, q->script[script], a, err);
}

/* Evaluates a script whose reply is a status word; copies it into out. */
static int eval_word(struct sq_queue *q, enum sq_queue_script script, struct sq_redis_args *a,
		     char *out, size_t outlen, struct sq_err *err)
{
	struct sq_reply *rep = sq_queue_eval(q, script, a, err);

	sq_redis_args_release(a);
	if (!rep)
		return -1;
	snprintf(out, outlen, "%s", rep->type == SQ_REPLY_STRING ? rep->str : "");
	sq_reply_free(rep);
	return 0;
}

/* --- claiming --- */

void sq_job_init(struct sq_job *j)
{
	memset(j, 0, sizeof(*j));
}

void sq_job_release(struct sq_job *j)
{
	size_t i;

	free(j->acq);
	free(j->jid);
	free(j->version);
	free(j->spec_json);
	for (i = 0; i < j->ninputs; i++)
		free(j->inputs[i]);
	free(j->inputs);
	sq_job_init(j);
}

static enum sq_job_kind parse_kind(const char *kind)
{
	if (kind && strcmp(kind, "group") == 0)
		return SQ_JOB_GROUP_STITCH;
	if (kind && strcmp(kind, "acq") == 0)
		return SQ_JOB_ACQ_STITCH;
	return SQ_JOB_TASK;
}

/* Fills job from claim.lua's reply. */
static int parse_job(const struct sq_reply *rep, struct sq_job *job, struct sq_err *err)
{
	const struct sq_reply *in;
	int stage;
	size_t i;

	if (rep->type != SQ_REPLY_ARRAY || rep->nelements < 9 ||
	    rep->elements[6].type != SQ_REPLY_ARRAY || !sq_reply_str(rep, 0) ||
	    !sq_reply_str(rep, 1) || (stage = sq_stage_parse(sq_reply_str(rep, 3))) < 0)
		return sq_error(err, SQ_ERR_REDIS, "claim returned a malformed job");
	job->acq = xstrdup(sq_reply_str(rep, 0));
	job->jid = xstrdup(sq_reply_str(rep, 1));
	job->kind = parse_kind(sq_reply_str(rep, 2));
	job->stage = (enum sq_stage)stage;
	job->version = xstrdup(sq_reply_str(rep, 4) ? sq_reply_str(rep, 4) : "");
	job->spec_json = xstrdup(sq_reply_str(rep, 5) ? sq_reply_str(rep, 5) : "");
	in = &rep->elements[6];
	job->inputs = xcalloc(in->nelements + 1, sizeof(*job->inputs));
	for (i = 0; i < in->nelements; i++)
		job->inputs[job->ninputs++] =
		    xstrdup(sq_reply_str(in, i) ? sq_reply_str(in, i) : "");
	job->token = sq_reply_ll(rep, 7, 0);
	job->attempt = (int)sq_reply_ll(rep, 8, 1);
	return 0;
}

/* nstages stage* nacqs acq* */
static void add_filter(struct sq_redis_args *a, const struct sq_claim_opts *opts)
{
	size_t i;

	sq_redis_args_addll(a, (long long)opts->nstages);
	for (i = 0; i < opts->nstages; i++)
		sq_redis_args_add(a, sq_stage_name(opts->stages[i]));
	sq_redis_args_addll(a, opts->acqs ? (long long)opts->nacqs : 0);
	for (i = 0; opts->acqs && i < opts->nacqs; i++)
		sq_redis_args_add(a, opts->acqs[i]);
}

/* The claim options every claiming script takes (lua/lib/claim.lua claim_opts):
 * lease_ms host free_vram_mib free_ram_mib nstages stage* nacqs acq* */
static void add_claim_opts(const struct sq_queue *q, struct sq_redis_args *a,
			   const struct sq_claim_opts *opts)
{
	sq_redis_args_addll(a, q->lease_ms);
	sq_redis_args_add(a, sq_hostname());
	sq_redis_args_addll(a, opts->free_vram_mib);
	sq_redis_args_addll(a, opts->free_ram_mib);
	add_filter(a, opts);
}

int sq_queue_claim(struct sq_queue *q, const struct sq_claim_opts *opts, struct sq_job *job,
		   struct sq_err *err)
{
	struct sq_redis_args a;
	struct sq_reply *rep;
	int rc = 0;

	if (!opts->worker_id || !*opts->worker_id || !opts->nstages)
		return sq_error(err, SQ_ERR_INVALID, "cannot claim: no worker id or no stage");
	sq_queue_args_start(q, &a);
	sq_redis_args_add(&a, opts->worker_id);
	add_claim_opts(q, &a, opts);
	rep = sq_queue_eval(q, SQ_SCRIPT_CLAIM, &a, err);
	sq_redis_args_release(&a);
	if (!rep)
		return -1;
	if (rep->type != SQ_REPLY_NIL)
		rc = parse_job(rep, job, err) < 0 ? -1 : 1;
	sq_reply_free(rep);
	return rc;
}

/* The doorbell of a stage, P wake:<stage>: the one key C names, because a
 * blocking pop cannot run in a script (lua/lib/keys.lua's k_wake is its twin,
 * and the two are checked equal by tests/redis/test_queue.c's doorbell test). */
static void add_wake_key(struct sq_redis_args *a, const struct sq_queue *q, enum sq_stage stage)
{
	sq_redis_args_addf(a, "%swake:%s", q->prefix, sq_stage_name(stage));
}

int sq_queue_wait(struct sq_queue *q, const struct sq_claim_opts *opts, long long timeout_ms,
		  struct sq_err *err)
{
	struct sq_redis_args a = SQ_REDIS_ARGS_INIT;
	struct sq_reply *rep;
	size_t i;

	if (timeout_ms <= 0)
		return 0;
	sq_redis_args_add(&a, "BLPOP");
	for (i = 0; i < opts->nstages; i++)
		add_wake_key(&a, q, opts->stages[i]);
	sq_redis_args_addf(&a, "%lld.%03lld", timeout_ms / 1000, timeout_ms % 1000);
	rep = sq_redis_command_blocking(q->redis, &a, timeout_ms, err);
	sq_redis_args_release(&a);
	if (!rep) {
		/* a doorbell of the wrong type fails at once: waiting the time out
		 * keeps an idle worker from spinning on it until a push replaces it */
		struct timespec ts = {(time_t)(timeout_ms / 1000),
				      (long)(timeout_ms % 1000) * 1000000L};

		nanosleep(&ts, NULL);
		return -1;
	}
	sq_reply_free(rep);
	return 0;
}

/* --- one lease --- */

/* ARGV start of the lease scripts: P acq jid wid token. */
static void lease_args(struct sq_queue *q, struct sq_redis_args *a, const struct sq_job *job,
		       const char *worker_id)
{
	sq_queue_args_start(q, a);
	sq_redis_args_add(a, job->acq);
	sq_redis_args_add(a, job->jid);
	sq_redis_args_add(a, worker_id);
	sq_redis_args_addll(a, job->token);
}

static int stale(const struct sq_job *job, const char *what, struct sq_err *err)
{
	return sq_error(err, SQ_ERR_STALE, "cannot %s '%s/%s' (%s): lease %lld is no longer ours",
			what, job->acq, job->jid, sq_stage_name(job->stage), job->token);
}

int sq_queue_heartbeat(struct sq_queue *q, const struct sq_job *job, const char *worker_id,
		       long long progress_done, long long progress_total, struct sq_err *err)
{
	struct sq_redis_args a;
	struct sq_reply *rep;
	int held;

	lease_args(q, &a, job, worker_id);
	sq_redis_args_addll(&a, q->lease_ms);
	sq_redis_args_addll(&a, progress_done);
	sq_redis_args_addll(&a, progress_total);
	rep = sq_queue_eval(q, SQ_SCRIPT_HEARTBEAT, &a, err);
	sq_redis_args_release(&a);
	if (!rep)
		return -1;
	held = rep->type == SQ_REPLY_INTEGER && rep->integer == 1;
	sq_reply_free(rep);
	return held ? 0 : stale(job, "extend lease of", err);
}

int sq_queue_complete(struct sq_queue *q, const struct sq_job *job, const char *worker_id,
		      const char *result_json, struct sq_err *err)
{
	struct sq_redis_args a;
	char word[16];

	lease_args(q, &a, job, worker_id);
	sq_redis_args_add(&a, result_json ? result_json : "");
	if (eval_word(q, SQ_SCRIPT_COMPLETE, &a, word, sizeof(word), err) < 0)
		return -1;
	return strcmp(word, "OK") == 0 ? 0 : stale(job, "complete", err);
}

/* The job leased on to its next stage ({'chained', token}): what the caller
 * holds, at reconstruct, first attempt, under the new token. */
static void chained_job(const struct sq_job *job, long long token, struct sq_job *got)
{
	size_t i;

	sq_job_init(got);
	got->acq = xstrdup(job->acq);
	got->jid = xstrdup(job->jid);
	got->kind = job->kind;
	got->version = xstrdup(job->version ? job->version : "");
	got->spec_json = xstrdup(job->spec_json ? job->spec_json : "");
	got->inputs = xcalloc(job->ninputs + 1, sizeof(*got->inputs));
	for (i = 0; i < job->ninputs; i++)
		got->inputs[got->ninputs++] = xstrdup(job->inputs[i]);
	got->stage = SQ_STAGE_RECONSTRUCT;
	got->token = token;
	got->attempt = 1;
}

/* Files complete.lua's answer to a complete-and-claim: STALE, 0, the same job
 * chained on, or a job. */
static int next_job(const struct sq_reply *rep, const struct sq_job *job, struct sq_job *next,
		    struct sq_err *err)
{
	const char *first = sq_reply_str(rep, 0);
	struct sq_job got;

	if (rep->type == SQ_REPLY_STRING)
		return stale(job, "complete", err);
	if (rep->type != SQ_REPLY_ARRAY)
		return 0;
	if (rep->nelements == 2 && first && strcmp(first, "chained") == 0) {
		chained_job(job, sq_reply_ll(rep, 1, 0), &got);
	} else {
		sq_job_init(&got);
		if (parse_job(rep, &got, err) < 0) {
			sq_job_release(&got);
			return -1;
		}
	}
	if (next == job)
		sq_job_release(next);
	*next = got;
	return 1;
}

int sq_queue_complete_and_claim(struct sq_queue *q, const struct sq_job *job, const char *worker_id,
				const char *result_json, const struct sq_claim_opts *opts,
				struct sq_job *next, struct sq_err *err)
{
	struct sq_redis_args a;
	struct sq_reply *rep;
	int rc;

	if (!worker_id || !*worker_id || !opts->nstages ||
	    (opts->worker_id && strcmp(opts->worker_id, worker_id) != 0))
		return sq_error(err, SQ_ERR_INVALID,
				"cannot complete and claim: no worker id, no stage, or two "
				"worker ids");
	lease_args(q, &a, job, worker_id);
	sq_redis_args_add(&a, result_json ? result_json : "");
	add_claim_opts(q, &a, opts);
	rep = sq_queue_eval(q, SQ_SCRIPT_COMPLETE, &a, err);
	sq_redis_args_release(&a);
	if (!rep)
		return -1;
	rc = next_job(rep, job, next, err);
	sq_reply_free(rep);
	return rc;
}

int sq_queue_fail(struct sq_queue *q, const struct sq_job *job, const char *worker_id,
		  const char *error, int crash, int *dead_out, struct sq_err *err)
{
	struct sq_redis_args a;
	char word[16];

	lease_args(q, &a, job, worker_id);
	sq_redis_args_add(&a, error ? error : "unknown error");
	sq_redis_args_add(&a, crash ? "1" : "0");
	if (eval_word(q, SQ_SCRIPT_FAIL, &a, word, sizeof(word), err) < 0)
		return -1;
	if (strcmp(word, "STALE") == 0)
		return stale(job, "record failure of", err);
	if (dead_out)
		*dead_out = strcmp(word, "dead") == 0;
	return 0;
}

int sq_queue_release(struct sq_queue *q, const struct sq_job *job, const char *worker_id,
		     struct sq_err *err)
{
	struct sq_redis_args a;
	char word[16];

	lease_args(q, &a, job, worker_id);
	if (eval_word(q, SQ_SCRIPT_RELEASE, &a, word, sizeof(word), err) < 0)
		return -1;
	return strcmp(word, "OK") == 0 ? 0 : stale(job, "release", err);
}

/* Evaluates a script replying with an integer into *out. */
static int eval_int(struct sq_queue *q, enum sq_queue_script script, struct sq_redis_args *a,
		    long long *out, struct sq_err *err)
{
	struct sq_reply *rep = sq_queue_eval(q, script, a, err);

	sq_redis_args_release(a);
	if (!rep)
		return -1;
	*out = rep->type == SQ_REPLY_INTEGER ? rep->integer : 0;
	sq_reply_free(rep);
	return 0;
}

int sq_queue_release_owner(struct sq_queue *q, const char *worker_id, const char *reason,
			   struct sq_err *err)
{
	struct sq_redis_args a;
	long long held;

	sq_queue_args_start(q, &a);
	sq_redis_args_add(&a, worker_id);
	sq_redis_args_add(&a, reason ? reason : "worker died");
	if (eval_int(q, SQ_SCRIPT_RELEASE_OWNER, &a, &held, err) < 0)
		return -1;
	return held == 2 ? 2 : held ? 1 : 0;
}

int sq_queue_pending(struct sq_queue *q, const struct sq_claim_opts *opts, long long *count_out,
		     struct sq_err *err)
{
	struct sq_redis_args a;

	sq_queue_args_start(q, &a);
	add_filter(&a, opts);
	return eval_int(q, SQ_SCRIPT_PENDING, &a, count_out, err);
}

/* --- workers and status --- */

int sq_queue_worker_beat(struct sq_queue *q, const struct sq_worker_info *w, struct sq_err *err)
{
	struct sq_redis_args a;
	long long ok;

	sq_queue_args_start(q, &a);
	sq_redis_args_add(&a, "beat");
	sq_redis_args_add(&a, w->worker_id);
	sq_redis_args_add(&a, w->host);
	sq_redis_args_addll(&a, w->pid);
	sq_redis_args_add(&a, w->stages);
	sq_redis_args_add(&a, w->gpu);
	sq_redis_args_add(&a, w->job);
	sq_redis_args_addll(&a, q->lease_ms); /* the registry entry lives as long */
	return eval_int(q, SQ_SCRIPT_WORKER, &a, &ok, err);
}

int sq_queue_worker_gone(struct sq_queue *q, const char *worker_id, struct sq_err *err)
{
	struct sq_redis_args a;
	long long ok;

	sq_queue_args_start(q, &a);
	sq_redis_args_add(&a, "gone");
	sq_redis_args_add(&a, worker_id);
	return eval_int(q, SQ_SCRIPT_WORKER, &a, &ok, err);
}

char *sq_queue_snapshot(struct sq_queue *q, const char *acq, int max_dead, struct sq_err *err)
{
	struct sq_redis_args a;
	struct sq_reply *rep;
	char *json = NULL;

	sq_queue_args_start(q, &a);
	sq_redis_args_add(&a, acq);
	sq_redis_args_addll(&a, max_dead > 0 ? max_dead : 0);
	rep = sq_queue_eval(q, SQ_SCRIPT_SNAPSHOT, &a, err);
	sq_redis_args_release(&a);
	if (!rep)
		return NULL;
	if (rep->type == SQ_REPLY_STRING)
		json = xstrdup(rep->str);
	else
		sq_error(err, SQ_ERR_REDIS, "snapshot returned no document");
	sq_reply_free(rep);
	return json;
}
