/* queue_enqueue.c - pushing an acquisition (enqueue.lua): register its stitch
 * specs, push its tasks, remove the tasks its directory no longer has, then
 * check what Redis holds and push again what it lost.
 *
 * Redis may restart empty between two pipelined batches (or lose the last
 * second of writes with its AOF): the connection reconnects and sends the
 * rest, and only reading back shows what went missing. So an enqueue ends by
 * verifying the acquisition's registration and every task's version and group
 * membership, pushes again whatever is missing (a few rounds), and fails,
 * saying what is missing, rather than report a push Redis does not hold. */
#include "queue/queue.h"
#include "base/clock.h"

#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "queue/queue_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/banned.h"

/* Verify-and-push-again rounds before an enqueue gives up. */
#define VERIFY_ROUNDS 3

int sq_queue_add_task(struct sq_redis_args *a, const struct sq_task *t, struct sq_err *err)
{
	const char *v[SQ_TA_COUNT] = {0};
	char num[SQ_TA_COUNT][24] = {{0}};
	char *spec;

	if (!t->acquisition || !sq_name_valid(t->acquisition) || !t->group ||
	    !sq_name_valid(t->group) || !t->name || !sq_name_valid(t->name))
		return sq_error(err, SQ_ERR_INVALID,
				"cannot queue task '%s': bad acquisition, "
				"group or name",
				t->name ? t->name : "");
	if (!t->version[0] || !t->outdir)
		return sq_error(err, SQ_ERR_INVALID, "cannot queue task '%s': not finalized",
				t->name);
	spec = sq_task_to_json(t);
	snprintf(num[SQ_TA_MAX_ATTEMPTS], sizeof(num[0]), "%d",
		 t->retry.max_attempts > 0 ? t->retry.max_attempts : 1);
	snprintf(num[SQ_TA_BACKOFF_MS], sizeof(num[0]), "%lld", t->retry.backoff_ms);
	snprintf(num[SQ_TA_VRAM_EXTRACT], sizeof(num[0]), "%lld",
		 sq_task_need_vram_mib(t, SQ_STAGE_EXTRACT));
	snprintf(num[SQ_TA_RAM_EXTRACT], sizeof(num[0]), "%lld",
		 sq_task_need_ram_mib(t, SQ_STAGE_EXTRACT));
	snprintf(num[SQ_TA_VRAM_RECONSTRUCT], sizeof(num[0]), "%lld",
		 sq_task_need_vram_mib(t, SQ_STAGE_RECONSTRUCT));
	snprintf(num[SQ_TA_RAM_RECONSTRUCT], sizeof(num[0]), "%lld",
		 sq_task_need_ram_mib(t, SQ_STAGE_RECONSTRUCT));
	v[SQ_TA_ACQ] = t->acquisition;
	v[SQ_TA_JID] = t->name;
	v[SQ_TA_GROUP] = t->group;
	v[SQ_TA_VERSION] = t->version;
	v[SQ_TA_SPEC] = spec;
	v[SQ_TA_OUTDIR] = t->outdir;
	for (int i = 0; i < SQ_TA_COUNT; i++) /* in task_args.h's order, which the scripts read */
		sq_redis_args_add(a, v[i] ? v[i] : num[i]);
	free(spec);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **sq_queue_groups(const struct sq_task *tasks, size_t n, size_t *count)
{
	const char **g = xmalloc((n + 1) * sizeof(*g));
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		g[i] = tasks[i].group;
	if (n)
		qsort(g, n, sizeof(*g), cmp_str);
	for (i = 0; i < n; i++)
		if (k == 0 || strcmp(g[k - 1], g[i]) != 0)
			g[k++] = g[i];
	*count = k;
	return g;
}

/* Appends one stitch job's registration: sjid group spec version outdir. */
static void add_stitch_spec(struct sq_redis_args *a, const struct sq_stitch_spec *tmpl,
			    const char *group)
{
	struct sq_stitch_spec s;
	char *json, *sjid;

	sq_stitch_spec_init(&s);
	sq_stitch_spec_derive(tmpl, group, &s);
	json = sq_stitch_spec_to_json(&s);
	sjid = group ? xasprintf("@group:%s", group) : xstrdup("@acq");
	sq_redis_args_add(a, sjid);
	sq_redis_args_add(a, group);
	sq_redis_args_add(a, json);
	sq_redis_args_add(a, s.version);
	sq_redis_args_add(a, s.outdir);
	sq_stitch_spec_release(&s);
	free(json);
	free(sjid);
}

void sq_queue_add_acq(struct sq_redis_args *a, const struct sq_stitch_spec *stitch)
{
	char *tmpl = sq_stitch_spec_to_json(stitch);

	sq_redis_args_add(a, stitch->acquisition);
	sq_redis_args_add(a, tmpl);
	sq_redis_args_add(a, stitch->outdir);
	sq_redis_args_addll(a, stitch->retry.max_attempts > 0 ? stitch->retry.max_attempts : 1);
	sq_redis_args_addll(a, stitch->retry.backoff_ms);
	sq_redis_args_addll(a, stitch->backend.min_vram_mib);
	sq_redis_args_addll(a, stitch->backend.min_ram_mib);
	free(tmpl);
}

void sq_queue_add_stitch_specs(struct sq_redis_args *a, const struct sq_task *tasks, size_t n,
			       const struct sq_stitch_spec *stitch)
{
	size_t ngroups, i;
	const char **groups = sq_queue_groups(tasks, n, &ngroups);

	sq_redis_args_addll(a, (long long)ngroups + 1);
	for (i = 0; i < ngroups; i++)
		add_stitch_spec(a, stitch, groups[i]);
	add_stitch_spec(a, stitch, NULL); /* last: the scripts count groups first */
	free(groups);
}

/* Registers the acquisition and the specs of its group and acquisition
 * stitches, recording (and checking) the task directory. */
static int register_acq(struct sq_queue *q, const struct sq_task *tasks, size_t n,
			const struct sq_stitch_spec *stitch, const struct sq_enqueue_opts *o,
			struct sq_enqueue_report *rep, struct sq_err *err)
{
	struct sq_redis_args a;
	struct sq_reply *r;
	const char *what, *dir;
	int rc = 0;

	sq_queue_args_start(q, &a);
	sq_redis_args_add(&a, "acq");
	sq_queue_add_acq(&a, stitch);
	sq_redis_args_add(&a, o->task_dir ? o->task_dir : "");
	sq_redis_args_add(&a, o->replace ? "1" : "0");
	sq_queue_add_stitch_specs(&a, tasks, n, stitch);
	r = sq_queue_eval(q, SQ_SCRIPT_ENQUEUE, &a, err);
	sq_redis_args_release(&a);
	if (!r)
		return -1;
	what = sq_reply_str(r, 0);
	dir = sq_reply_str(r, 1);
	if (what && dir && strcmp(what, "owned") == 0 && !rep->owned_by)
		rep->owned_by = xstrdup(dir);
	if (what && dir && strcmp(what, "owned") == 0)
		rc = sq_error(err, SQ_ERR_INVALID,
			      "acquisition '%s' was enqueued from '%s', not from '%s': "
			      "refusing to replace its tasks",
			      stitch->acquisition, dir, o->task_dir);
	else if (what && dir && strcmp(what, "replaced") == 0 && !rep->replaced_dir)
		rep->replaced_dir = xstrdup(dir);
	sq_reply_free(r);
	return rc;
}

static int check_enqueue(const struct sq_task *tasks, size_t n, const struct sq_stitch_spec *stitch,
			 struct sq_err *err)
{
	size_t i;

	if (!stitch || !stitch->acquisition || !sq_name_valid(stitch->acquisition) ||
	    !stitch->outdir || stitch->group)
		return sq_error(err, SQ_ERR_INVALID,
				"cannot queue: bad acquisition stitch template");
	for (i = 0; i < n; i++)
		if (!tasks[i].acquisition || strcmp(tasks[i].acquisition, stitch->acquisition) != 0)
			return sq_error(err, SQ_ERR_INVALID,
					"cannot queue task '%s': acquisition '%s' is not '%s'",
					tasks[i].name ? tasks[i].name : "",
					tasks[i].acquisition ? tasks[i].acquisition : "",
					stitch->acquisition);
	return 0;
}

/* One task's reply: 0/1/2, or "refused: why" (a key of the wrong type). */
static int file_outcome(const struct sq_reply *r, const struct sq_task *t,
			enum sq_enqueue_outcome *out, struct sq_err *err)
{
	if (r->type == SQ_REPLY_STRING)
		return sq_error(err, SQ_ERR_REDIS, "cannot queue task '%s': %s", t->name, r->str);
	*out = r->integer == 2	 ? SQ_ENQUEUE_UPDATED
	       : r->integer == 1 ? SQ_ENQUEUE_UNCHANGED
				 : SQ_ENQUEUE_ADDED;
	return 0;
}

/* Pushes the tasks idx[0..n) (indexes into tasks) in one pipeline. */
static int push_tasks(struct sq_queue *q, const char *run, const struct sq_task *tasks,
		      const size_t *idx, size_t n, enum sq_enqueue_outcome *outcomes,
		      struct sq_err *err)
{
	struct sq_redis_args *calls = xcalloc(n + 1, sizeof(*calls));
	struct sq_reply **replies = xcalloc(n + 1, sizeof(*replies));
	size_t i, built = 0;
	int rc = -1;

	for (; built < n; built++) {
		sq_queue_args_start(q, &calls[built]);
		sq_redis_args_add(&calls[built], "task");
		if (sq_queue_add_task(&calls[built], &tasks[idx[built]], err) < 0) {
			built++;
			goto out;
		}
		sq_redis_args_add(&calls[built], run);
	}
	if (sq_redis_batch(sq_queue_redis(q), q->script[SQ_SCRIPT_ENQUEUE], calls, n, replies,
			   err) < 0)
		goto out;
	rc = 0;
	for (i = 0; i < n; i++) {
		if (rc == 0 && file_outcome(replies[i], &tasks[idx[i]], &outcomes[idx[i]], err) < 0)
			rc = -1;
		sq_reply_free(replies[i]);
	}
out:
	for (i = 0; i < built; i++)
		sq_redis_args_release(&calls[i]);
	free(calls);
	free(replies);
	return rc;
}

/* Pushes tasks idx[0..n) in pipelines of SQ_REDIS_PIPELINE. */
static int push_all(struct sq_queue *q, const char *run, const struct sq_task *tasks,
		    const size_t *idx, size_t n, enum sq_enqueue_outcome *outcomes,
		    struct sq_err *err)
{
	size_t done, chunk;

	for (done = 0; done < n; done += chunk) {
		chunk = n - done < SQ_REDIS_PIPELINE ? n - done : SQ_REDIS_PIPELINE;
		if (push_tasks(q, run, tasks, idx + done, chunk, outcomes, err) < 0)
			return -1;
		if (q->after_batch)
			q->after_batch(q->after_batch_ctx);
	}
	return 0;
}

/* Removes the acquisition's tasks that are not among tasks (enqueue.lua prune). */
static int prune(struct sq_queue *q, const struct sq_task *tasks, size_t n, const char *acq,
		 struct sq_enqueue_report *rep, struct sq_err *err)
{
	struct sq_redis_args a;
	struct sq_reply *r;
	size_t i;

	sq_queue_args_start(q, &a);
	sq_redis_args_add(&a, "prune");
	sq_redis_args_add(&a, acq);
	sq_redis_args_addll(&a, (long long)n);
	for (i = 0; i < n; i++)
		sq_redis_args_add(&a, tasks[i].name);
	r = sq_queue_eval(q, SQ_SCRIPT_ENQUEUE, &a, err);
	sq_redis_args_release(&a);
	if (!r)
		return -1;
	for (i = 0; r->type == SQ_REPLY_ARRAY && i + 1 < r->nelements; i += 2) {
		struct sq_removed_task *t;

		xgrow((void **)&rep->removed, &rep->removed_alloc, rep->nremoved + 1,
		      sizeof(*rep->removed));
		t = &rep->removed[rep->nremoved++];
		t->jid = xstrdup(sq_reply_str(r, i) ? sq_reply_str(r, i) : "");
		t->outdir = xstrdup(sq_reply_str(r, i + 1) ? sq_reply_str(r, i + 1) : "");
	}
	sq_reply_free(r);
	return 0;
}

/* The acquisition's registration as Redis holds it: problems (one per line)
 * appended to out; returns how many, or -1. */
static int verify_acq(struct sq_queue *q, const struct sq_task *tasks, size_t n, const char *acq,
		      const char *task_dir, struct sq_strbuf *out, struct sq_err *err)
{
	struct sq_redis_args a;
	struct sq_reply *r;
	size_t ngroups, i;
	const char **groups = sq_queue_groups(tasks, n, &ngroups);
	int count;

	sq_queue_args_start(q, &a);
	sq_redis_args_add(&a, "verify_acq");
	sq_redis_args_add(&a, acq);
	sq_redis_args_add(&a, task_dir ? task_dir : "");
	sq_redis_args_addll(&a, (long long)ngroups);
	for (i = 0; i < ngroups; i++)
		sq_redis_args_add(&a, groups[i]);
	free(groups);
	r = sq_queue_eval(q, SQ_SCRIPT_ENQUEUE, &a, err);
	sq_redis_args_release(&a);
	if (!r)
		return -1;
	for (i = 0; r->type == SQ_REPLY_ARRAY && i < r->nelements; i++)
		sq_strbuf_addf(out, "%s%s", out->len ? "; " : "",
			       sq_reply_str(r, i) ? sq_reply_str(r, i) : "?");
	count = r->type == SQ_REPLY_ARRAY ? (int)r->nelements : 0;
	sq_reply_free(r);
	return count;
}

/* Appends to missing the indexes (into tasks) of tasks[first..first+n) that
 * Redis does not hold at their version and group. */
static int verify_chunk(struct sq_queue *q, const struct sq_task *tasks, size_t first, size_t n,
			size_t *missing, size_t *nmissing, struct sq_err *err)
{
	struct sq_redis_args a;
	struct sq_reply *r;
	size_t i;

	sq_queue_args_start(q, &a);
	sq_redis_args_add(&a, "verify");
	sq_redis_args_add(&a, tasks[first].acquisition);
	sq_redis_args_addll(&a, (long long)n);
	for (i = first; i < first + n; i++) {
		sq_redis_args_add(&a, tasks[i].name);
		sq_redis_args_add(&a, tasks[i].version);
		sq_redis_args_add(&a, tasks[i].group);
	}
	r = sq_queue_eval(q, SQ_SCRIPT_ENQUEUE, &a, err);
	sq_redis_args_release(&a);
	if (!r)
		return -1;
	for (i = 0; r->type == SQ_REPLY_ARRAY && i < r->nelements; i++) {
		long long k = sq_reply_ll(r, i, 0);

		if (k >= 1 && (size_t)k <= n)
			missing[(*nmissing)++] = first + (size_t)k - 1;
	}
	sq_reply_free(r);
	return 0;
}

static int verify_tasks(struct sq_queue *q, const struct sq_task *tasks, size_t n, size_t *missing,
			size_t *nmissing, struct sq_err *err)
{
	size_t done, chunk;

	*nmissing = 0;
	for (done = 0; done < n; done += chunk) {
		chunk = n - done < SQ_REDIS_PIPELINE ? n - done : SQ_REDIS_PIPELINE;
		if (verify_chunk(q, tasks, done, chunk, missing, nmissing, err) < 0)
			return -1;
	}
	return 0;
}

/* The error after the last round: what Redis still lacks. */
static int still_missing(const struct sq_task *tasks, size_t n, const size_t *missing,
			 size_t nmissing, const struct sq_strbuf *acq_problems, struct sq_err *err)
{
	const char *acq = n ? tasks[0].acquisition : "?";

	if (nmissing)
		return sq_error(err, SQ_ERR_REDIS,
				"redis does not hold what was pushed for '%s': %zu of %zu "
				"task%s missing (first '%s')%s%s",
				acq, nmissing, n, n == 1 ? "" : "s", tasks[missing[0]].name,
				acq_problems->len ? "; " : "", acq_problems->buf);
	return sq_error(err, SQ_ERR_REDIS, "redis does not hold what was pushed for '%s': %s", acq,
			acq_problems->buf);
}

/* Reads back what was pushed and pushes again what Redis lost, a few rounds. */
static int verify_all(struct sq_queue *q, const char *run, const struct sq_task *tasks, size_t n,
		      const struct sq_stitch_spec *stitch, const struct sq_enqueue_opts *o,
		      struct sq_enqueue_report *rep, struct sq_err *err)
{
	struct sq_strbuf problems = SQ_STRBUF_INIT;
	size_t *missing = xcalloc(n + 1, sizeof(*missing)), nmissing = 0;
	int round, bad = 0, rc = -1;

	for (round = 0; round <= VERIFY_ROUNDS; round++) {
		sq_strbuf_reset(&problems);
		if ((bad = verify_acq(q, tasks, n, stitch->acquisition, o->task_dir, &problems,
				      err)) < 0 ||
		    verify_tasks(q, tasks, n, missing, &nmissing, err) < 0)
			goto out;
		if (!bad && !nmissing) {
			rc = 0;
			goto out;
		}
		if (round == VERIFY_ROUNDS)
			break;
		rep->reregistered |= bad > 0;
		rep->repushed += nmissing;
		if ((bad && register_acq(q, tasks, n, stitch, o, rep, err) < 0) ||
		    push_all(q, run, tasks, missing, nmissing, rep->outcomes, err) < 0)
			goto out;
	}
	rc = still_missing(tasks, n, missing, nmissing, &problems, err);
out:
	sq_strbuf_release(&problems);
	free(missing);
	return rc;
}

int sq_queue_enqueue_dir(struct sq_queue *q, const struct sq_task *tasks, size_t ntasks,
			 const struct sq_stitch_spec *stitch, const struct sq_enqueue_opts *opts,
			 struct sq_enqueue_report *rep, struct sq_err *err)
{
	static const struct sq_enqueue_opts none = {NULL, 0, 0};
	const struct sq_enqueue_opts *o = opts ? opts : &none;
	size_t *all = xcalloc(ntasks + 1, sizeof(*all));
	char run[96];
	int rc = -1;

	/* names this push, so a task it already pushed (a reply lost to a
	 * reconnect) answers what that push did rather than "unchanged" */
	snprintf(run, sizeof(run), "%s:%ld:%lld", sq_hostname(), (long)getpid(), sq_now_ms());
	for (size_t i = 0; i < ntasks; i++)
		all[i] = i;
	if (check_enqueue(tasks, ntasks, stitch, err) < 0 ||
	    /* specs first: a task's completion may need its group's stitch spec */
	    register_acq(q, tasks, ntasks, stitch, o, rep, err) < 0 ||
	    push_all(q, run, tasks, all, ntasks, rep->outcomes, err) < 0 ||
	    (o->prune && prune(q, tasks, ntasks, stitch->acquisition, rep, err) < 0) ||
	    verify_all(q, run, tasks, ntasks, stitch, o, rep, err) < 0)
		goto out;
	rc = 0;
out:
	free(all);
	return rc;
}

int sq_queue_enqueue(struct sq_queue *q, const struct sq_task *tasks, size_t ntasks,
		     const struct sq_stitch_spec *stitch, enum sq_enqueue_outcome *outcomes,
		     struct sq_err *err)
{
	struct sq_enqueue_report rep;
	int rc;

	sq_enqueue_report_init(&rep, outcomes);
	rc = sq_queue_enqueue_dir(q, tasks, ntasks, stitch, NULL, &rep, err);
	sq_enqueue_report_release(&rep);
	return rc;
}

void sq_queue_debug_after_batch(struct sq_queue *q, void (*fn)(void *ctx), void *ctx)
{
	q->after_batch = fn;
	q->after_batch_ctx = ctx;
}

void sq_enqueue_report_init(struct sq_enqueue_report *rep, enum sq_enqueue_outcome *outcomes)
{
	memset(rep, 0, sizeof(*rep));
	rep->outcomes = outcomes;
}

void sq_enqueue_report_release(struct sq_enqueue_report *rep)
{
	for (size_t i = 0; i < rep->nremoved; i++) {
		free(rep->removed[i].jid);
		free(rep->removed[i].outdir);
	}
	free(rep->removed);
	free(rep->replaced_dir);
	free(rep->owned_by);
	sq_enqueue_report_init(rep, rep->outcomes);
}

int sq_queue_check_acq(struct sq_queue *q, const struct sq_task *tasks, size_t ntasks,
		       const char *acq, const char *task_dir, char **why, struct sq_err *err)
{
	struct sq_strbuf problems = SQ_STRBUF_INIT;
	int n = verify_acq(q, tasks, ntasks, acq, task_dir, &problems, err);

	*why = n > 0 ? sq_strbuf_detach(&problems) : NULL;
	sq_strbuf_release(&problems);
	return n < 0 ? -1 : n > 0;
}
