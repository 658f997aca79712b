/* repair.c - scanq-repair's library: gather disk and Redis state, plan, apply.
 *
 * The plan is computed from plain structs so every rule can be tested without
 * Redis or files (tests/unit/test_repair.c); only the gather and apply steps do
 * I/O. The queue functions called by apply re-check each job atomically, so a
 * plan that went stale between reading and applying never queues a job twice. */
#include "ops/repair.h"
#include "base/fsutil.h"
#include "media/media.h"
#include "stage/record.h"
#include "stage/store.h"
#include "task/layout.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include "base/banned.h"

void sq_repair_acq_init(struct sq_repair_acq *a)
{
	memset(a, 0, sizeof(*a));
	sq_acq_init(&a->acq);
	sq_stitch_spec_init(&a->top.spec);
}

void sq_repair_acq_release(struct sq_repair_acq *a)
{
	for (size_t i = 0; a->groups && i < a->acq.ngroups; i++)
		sq_stitch_spec_release(&a->groups[i].spec);
	free(a->groups);
	free(a->tasks);
	sq_stitch_spec_release(&a->top.spec);
	sq_acq_release(&a->acq);
	free(a->unregistered);
	sq_repair_acq_init(a);
}

/* --- gather --- */

/* A record's time (the store's mtime, -1 if absent) and whether it is
 * current. -1 with err when the store cannot say (a storage host out of
 * reach must stop repair, not look like missing outputs to re-run). */
static int read_record(struct sq_store *store, const char *path, enum sq_stage stage,
		       const char *version, long long *ms, int *current, struct sq_err *err)
{
	struct sq_store_stat st;
	char *text = NULL;
	int there = sq_store_stat(store, path, &st, err);

	if (there < 0 || (there && !(text = sq_store_read(store, path, NULL, err))))
		return -1;
	*ms = there ? st.mtime_ms : -1;
	*current = sq_record_text_is_current(text, stage, version);
	free(text);
	return 0;
}

static int read_task_disk(struct sq_store *store, struct sq_repair_task *rt, struct sq_err *err)
{
	int rc = 0;

	for (int s = SQ_STAGE_EXTRACT; rc == 0 && s <= SQ_STAGE_RECONSTRUCT; s++) {
		char *path = sq_layout_path(rt->task->outdir, sq_layout_record(s));

		rc = read_record(store, path, s, rt->task->version, &rt->record_ms[s],
				 &rt->current[s], err);
		free(path);
	}
	return rc;
}

static int read_stitch_disk(struct sq_store *store, struct sq_repair_stitch *rs, struct sq_err *err)
{
	char *path = sq_layout_path(rs->spec.outdir, SQ_LAYOUT_STITCH_RECORD);
	int rc = read_record(store, path, SQ_STAGE_STITCH, rs->spec.version, &rs->record_ms,
			     &rs->current, err);

	free(path);
	return rc;
}

static int load_stitches(struct sq_store *store, struct sq_repair_acq *a, struct sq_err *err)
{
	int rc = 0;

	a->groups = xcalloc(a->acq.ngroups, sizeof(*a->groups));
	for (size_t g = 0; g < a->acq.ngroups; g++)
		sq_stitch_spec_init(&a->groups[g].spec);
	for (size_t g = 0; rc == 0 && g < a->acq.ngroups; g++) {
		sq_stitch_spec_derive(&a->acq.stitch, a->acq.groups[g], &a->groups[g].spec);
		rc = read_stitch_disk(store, &a->groups[g], err);
	}
	if (rc < 0 || a->acq.ngroups < 2)
		return rc;
	sq_stitch_spec_derive(&a->acq.stitch, NULL, &a->top.spec);
	return read_stitch_disk(store, &a->top, err);
}

/* The identity extract recorded for video i of t, if the record is of it. */
static int recorded_identity(struct sq_store *store, const struct sq_task *t, size_t i,
			     struct sq_video_id *id)
{
	char *path = sq_layout_path(t->outdir, SQ_LAYOUT_FRAMES_RECORD);
	char *text = sq_store_read(store, path, NULL, NULL);
	struct sq_frames_record fr;
	int rc = -1;

	if (text && sq_frames_record_parse(&fr, text, NULL) == 0) {
		if (i < fr.prov.nsources && fr.prov.source_ids[i].size_bytes >= 0 &&
		    strcmp(fr.prov.source_paths[i], t->videos[i]) == 0) {
			*id = fr.prov.source_ids[i];
			rc = 0;
		}
		sq_frames_record_release(&fr);
	}
	free(text);
	free(path);
	return rc;
}

/* A task's version includes its videos' identities, as enqueue computed
 * them: each video is identified where it lies, or, when it is gone (outputs
 * outlive their sources), by what extract recorded of it. A task with a video
 * known neither way keeps no identity: its records then do not match, and it
 * is re-run, which is all that can honestly be said of it. */
static void identify_task(struct sq_store *store, struct sq_task *t,
			  const struct sq_media_read_opts *read)
{
	struct sq_video_id *ids = xcalloc(t->nvideos + 1, sizeof(*ids));

	for (size_t i = 0; i < t->nvideos; i++)
		if (sq_media_identify(t->videos[i], read, &ids[i], NULL) < 0 &&
		    recorded_identity(store, t, i, &ids[i]) < 0) {
			free(ids);
			return;
		}
	free(t->video_ids);
	t->video_ids = ids;
	sq_task_finalize(t);
}

/* A problem of the whole directory, not of one of its files. */
static void diag_dir(struct sq_diags *d, const char *dir, const char *msg)
{
	xgrow((void **)&d->v, &d->alloc, d->n + 1, sizeof(*d->v));
	d->v[d->n++] = (struct sq_diag){.file = xstrdup(dir), .msg = xstrdup(msg)};
}

int sq_repair_load(const char *dir, const struct sq_media_read_opts *read, struct sq_store *store,
		   struct sq_repair_acq *out, struct sq_diags *diags)
{
	/* outputs may outlive their source videos: repair judges outputs only */
	const struct sq_taskfile_opts opts = {.skip_video_check = 1};
	struct sq_err err = {SQ_OK, ""};
	int rc = 0;

	sq_repair_acq_init(out);
	if (sq_taskfile_load_dir(dir, &opts, &out->acq, diags) < 0)
		return -1;
	out->tasks = xcalloc(out->acq.ntasks, sizeof(*out->tasks));
	for (size_t i = 0; rc == 0 && i < out->acq.ntasks; i++) {
		identify_task(store, &out->acq.tasks[i], read);
		out->tasks[i].task = &out->acq.tasks[i];
		rc = read_task_disk(store, &out->tasks[i], &err);
	}
	if (rc == 0)
		rc = load_stitches(store, out, &err);
	if (rc < 0) {
		diag_dir(diags, dir, err.msg);
		sq_repair_acq_release(out);
	}
	return rc;
}

int sq_repair_read_queue(struct sq_queue *q, struct sq_repair_acq *a, struct sq_err *err)
{
	size_t nt = a->acq.ntasks, ng = a->acq.ngroups;
	size_t n = nt + ng + (ng >= 2);
	const char **jids = xcalloc(n, sizeof(*jids));
	char **group_jids = xcalloc(ng, sizeof(*group_jids));
	struct sq_job_info *st = xcalloc(n, sizeof(*st));
	int rc = 0;

	/* Job ids as queue.h defines them: task name, @group:<g>, @acq. */
	for (size_t i = 0; i < nt; i++)
		jids[i] = a->acq.tasks[i].name;
	for (size_t g = 0; g < ng; g++)
		jids[nt + g] = group_jids[g] = xasprintf("@group:%s", a->acq.groups[g]);
	if (ng >= 2)
		jids[nt + ng] = "@acq";
	if (n && sq_queue_job_states(q, a->acq.name, jids, n, st, err) < 0) {
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < nt; i++)
		a->tasks[i].job = st[i];
	for (size_t g = 0; g < ng; g++)
		a->groups[g].job = st[nt + g];
	if (ng >= 2)
		a->top.job = st[nt + ng];
	free(a->unregistered);
	a->unregistered = NULL;
	if (sq_queue_check_acq(q, a->acq.tasks, nt, a->acq.name, NULL, &a->unregistered, err) < 0)
		rc = -1;
out:
	for (size_t g = 0; g < ng; g++)
		free(group_jids[g]);
	free(group_jids);
	free(jids);
	free(st);
	return rc;
}

/* --- plan --- */

/* What an input of a stitch (a task, or a group stitch) will become. */
enum outlook {
	OUTLOOK_COMPLETE,  /* done on disk, nothing to wait for */
	OUTLOOK_PENDING,   /* being redone or in flight: fan-in will follow */
	OUTLOOK_BLOCKED,   /* cannot complete without the operator (failed, changed) */
	OUTLOOK_CANCELLED, /* cancelled by an operator: the stitch goes on without it */
};

struct repair_input {
	enum outlook outlook;
	long long record_ms; /* the input's record mtime, -1 if absent */
	size_t index;	     /* task index (group stitch) or group index (acq stitch) */
};

static int job_is(const struct sq_job_info *js, enum sq_job_state state)
{
	return js->exists && js->state == state;
}

static int in_flight(const struct sq_job_info *js)
{
	return job_is(js, SQ_JOB_QUEUED) || job_is(js, SQ_JOB_LEASED) || job_is(js, SQ_JOB_RETRY);
}

static void count(struct sq_repair_counts *c, enum sq_repair_verb verb, enum sq_repair_why why)
{
	if (verb == SQ_REPAIR_REGISTER)
		return; /* not a job */
	if (why == SQ_REPAIR_UNREADABLE)
		c->unreadable++;
	else if (verb == SQ_REPAIR_REINJECT)
		c->reinject++;
	else if (verb == SQ_REPAIR_MARK_DONE)
		c->mark_done++;
	else if (verb == SQ_REPAIR_FOLLOWS)
		c->follows++;
	else if (why == SQ_REPAIR_IN_FLIGHT)
		c->in_flight++;
	else if (why == SQ_REPAIR_FAILED)
		c->failed++;
	else if (why == SQ_REPAIR_CHANGED)
		c->changed++;
	else if (why == SQ_REPAIR_CANCELLED)
		c->cancelled++;
	else
		c->waiting++;
}

static struct sq_repair_action *add(struct sq_repair_plan *p, const struct sq_repair_acq *a,
				    enum sq_job_kind kind, size_t index, enum sq_repair_verb verb,
				    enum sq_repair_why why)
{
	struct sq_repair_action *act;

	xgrow((void **)&p->v, &p->alloc, p->n + 1, sizeof(*p->v));
	act = &p->v[p->n++];
	memset(act, 0, sizeof(*act));
	act->acq = a;
	act->kind = kind;
	act->index = index;
	act->verb = verb;
	act->why = why;
	act->applied = -1;
	count(&p->counts, verb, why);
	return act;
}

/* Earliest stage without a current record, or -1 when the task is complete. */
static int first_missing(const struct sq_repair_task *rt)
{
	for (int s = SQ_STAGE_EXTRACT; s <= SQ_STAGE_RECONSTRUCT; s++)
		if (!rt->current[s])
			return s;
	return -1;
}

/* What every job goes through before its outputs are judged: one that cannot
 * be read is left alone, one queued or running is left to run. Returns 1 with
 * *o set when that decides. */
static int gate(struct sq_repair_plan *p, const struct sq_repair_acq *a, enum sq_job_kind kind,
		size_t index, const struct sq_job_info *js, enum outlook *o)
{
	if (js->unreadable[0]) {
		add(p, a, kind, index, SQ_REPAIR_SKIP, SQ_REPAIR_UNREADABLE);
		*o = OUTLOOK_BLOCKED;
		return 1;
	}
	if (in_flight(js)) {
		add(p, a, kind, index, SQ_REPAIR_SKIP, SQ_REPAIR_IN_FLIGHT);
		*o = OUTLOOK_PENDING;
		return 1;
	}
	return 0;
}

/* Outputs complete on disk: the records are the proof, whatever Redis says,
 * and the fan-in one level up must count the job. */
static enum outlook complete(struct sq_repair_plan *p, const struct sq_repair_acq *a,
			     enum sq_job_kind kind, size_t index, const struct sq_job_info *js)
{
	if (!job_is(js, SQ_JOB_DONE))
		add(p, a, kind, index, SQ_REPAIR_MARK_DONE, SQ_REPAIR_NOT_DONE);
	else
		p->counts.up_to_date++;
	return OUTLOOK_COMPLETE;
}

/* Outputs to redo from stage: a dead letter stands unless asked; else the job
 * is re-injected. *act (may be NULL) gets the action, NULL when none. */
static enum outlook redo(struct sq_repair_plan *p, const struct sq_repair_acq *a,
			 enum sq_job_kind kind, size_t index, const struct sq_job_info *js,
			 int stage, enum sq_repair_why why, int retry_failed,
			 struct sq_repair_action **act)
{
	struct sq_repair_action *r = NULL;
	enum outlook o = OUTLOOK_PENDING;

	if (job_is(js, SQ_JOB_FAILED) && !retry_failed) {
		add(p, a, kind, index, SQ_REPAIR_SKIP, SQ_REPAIR_FAILED);
		o = OUTLOOK_BLOCKED;
	} else {
		r = add(p, a, kind, index, SQ_REPAIR_REINJECT, why);
		r->stage = stage;
		r->retry = job_is(js, SQ_JOB_FAILED) || job_is(js, SQ_JOB_CANCELLED);
	}
	if (act)
		*act = r;
	return o;
}

static enum outlook plan_task(struct sq_repair_plan *p, const struct sq_repair_acq *a, size_t i,
			      int retry_failed)
{
	const struct sq_repair_task *rt = &a->tasks[i];
	const struct sq_job_info *js = &rt->job;
	int stage = first_missing(rt);
	enum outlook o;

	if (gate(p, a, SQ_JOB_TASK, i, js, &o))
		return o;
	/* A changed task file must go through scanq-enqueue, which versions it and
	 * fences any attempt of the old version; repair would fight it. (A job
	 * without a recorded version cannot be compared.) */
	if (js->exists && js->version[0] && strcmp(js->version, rt->task->version) != 0) {
		add(p, a, SQ_JOB_TASK, i, SQ_REPAIR_SKIP, SQ_REPAIR_CHANGED);
		return OUTLOOK_BLOCKED;
	}
	/* an operator's cancel stands, as a dead letter does, unless asked */
	if (job_is(js, SQ_JOB_CANCELLED) && !retry_failed) {
		add(p, a, SQ_JOB_TASK, i, SQ_REPAIR_SKIP, SQ_REPAIR_CANCELLED);
		return OUTLOOK_CANCELLED;
	}
	if (stage < 0)
		return complete(p, a, SQ_JOB_TASK, i, js);
	return redo(p, a, SQ_JOB_TASK, i, js, stage,
		    rt->record_ms[stage] < 0 ? SQ_REPAIR_MISSING : SQ_REPAIR_NOT_CURRENT,
		    retry_failed, NULL);
}

/* Index in in[] of the first input with the given outlook, or n. */
static size_t find_outlook(const struct repair_input *in, size_t n, enum outlook o)
{
	size_t k = 0;

	while (k < n && in[k].outlook != o)
		k++;
	return k;
}

/* Removes the cancelled inputs from in[0..n); returns how many are left. */
static size_t drop_cancelled(struct repair_input *in, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (in[i].outlook != OUTLOOK_CANCELLED)
			in[k++] = in[i];
	return k;
}

/* A stitch waits for its inputs: one blocked blocks it; one being redone
 * re-runs it by fan-in when it completes (queueing it now would run it
 * twice). Returns 1 with *o set when the inputs decide. */
static int inputs_decide(struct sq_repair_plan *p, const struct sq_repair_acq *a,
			 enum sq_job_kind kind, size_t index, const struct repair_input *in,
			 size_t n, enum outlook *o)
{
	size_t blocked = find_outlook(in, n, OUTLOOK_BLOCKED);

	if (blocked < n) {
		add(p, a, kind, index, SQ_REPAIR_SKIP, SQ_REPAIR_WAITING)->detail =
		    in[blocked].index;
		*o = OUTLOOK_BLOCKED;
		return 1;
	}
	if (find_outlook(in, n, OUTLOOK_PENDING) < n) {
		add(p, a, kind, index, SQ_REPAIR_FOLLOWS, SQ_REPAIR_FAN_IN);
		*o = OUTLOOK_PENDING;
		return 1;
	}
	return 0;
}

static enum outlook plan_stitch(struct sq_repair_plan *p, const struct sq_repair_acq *a,
				enum sq_job_kind kind, size_t index,
				const struct sq_repair_stitch *rs, struct repair_input *in,
				size_t n, int retry_failed)
{
	size_t newer = 0;
	struct sq_repair_action *act;
	enum sq_repair_why why;
	enum outlook o;

	if (gate(p, a, kind, index, &rs->job, &o))
		return o;
	/* cancelled inputs are left out (the fan-in does the same); with none
	 * left, or itself cancelled, the stitch is cancelled */
	n = drop_cancelled(in, n);
	if ((job_is(&rs->job, SQ_JOB_CANCELLED) && !retry_failed) || n == 0) {
		add(p, a, kind, index, SQ_REPAIR_SKIP, SQ_REPAIR_CANCELLED);
		return OUTLOOK_CANCELLED;
	}
	if (inputs_decide(p, a, kind, index, in, n, &o))
		return o;
	while (newer < n && in[newer].record_ms <= rs->record_ms)
		newer++;
	if (rs->current && newer == n)
		return complete(p, a, kind, index, &rs->job);
	why = rs->current	  ? SQ_REPAIR_STALE
	      : rs->record_ms < 0 ? SQ_REPAIR_MISSING
				  : SQ_REPAIR_NOT_CURRENT;
	o = redo(p, a, kind, index, &rs->job, SQ_STAGE_STITCH, why, retry_failed, &act);
	if (act && why == SQ_REPAIR_STALE)
		act->detail = in[newer].index;
	return o;
}

static enum outlook plan_group(struct sq_repair_plan *p, const struct sq_repair_acq *a, size_t g,
			       const enum outlook *task_outlook, struct repair_input *scratch,
			       int retry_failed)
{
	size_t n = 0;

	for (size_t i = 0; i < a->acq.ntasks; i++) {
		if (strcmp(a->tasks[i].task->group, a->acq.groups[g]) != 0)
			continue;
		scratch[n].outlook = task_outlook[i];
		scratch[n].record_ms = a->tasks[i].record_ms[SQ_STAGE_RECONSTRUCT];
		scratch[n].index = i;
		n++;
	}
	return plan_stitch(p, a, SQ_JOB_GROUP_STITCH, g, &a->groups[g], scratch, n, retry_failed);
}

void sq_repair_plan(const struct sq_repair_acq *a, int retry_failed, struct sq_repair_plan *p)
{
	size_t nt = a->acq.ntasks, ng = a->acq.ngroups;
	enum outlook *task_outlook = xcalloc(nt, sizeof(*task_outlook));
	struct repair_input *scratch = xcalloc(nt, sizeof(*scratch));
	struct repair_input *groups = xcalloc(ng, sizeof(*groups));

	/* first: every job written after it may need what it registers */
	if (a->unregistered)
		add(p, a, SQ_JOB_ACQ_STITCH, 0, SQ_REPAIR_REGISTER, SQ_REPAIR_UNREGISTERED);
	for (size_t i = 0; i < nt; i++)
		task_outlook[i] = plan_task(p, a, i, retry_failed);
	for (size_t g = 0; g < ng; g++) {
		groups[g].outlook = plan_group(p, a, g, task_outlook, scratch, retry_failed);
		groups[g].record_ms = a->groups[g].record_ms;
		groups[g].index = g;
	}
	/* With one group the group stitch is final (DESIGN.md §1). */
	if (ng >= 2)
		plan_stitch(p, a, SQ_JOB_ACQ_STITCH, 0, &a->top, groups, ng, retry_failed);
	free(groups);
	free(scratch);
	free(task_outlook);
}

void sq_repair_plan_release(struct sq_repair_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].error);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* --- apply --- */

static void add_subject(struct sq_strbuf *sb, const struct sq_repair_action *act)
{
	const struct sq_acq *acq = &act->acq->acq;

	if (act->verb == SQ_REPAIR_REGISTER)
		sq_strbuf_adds(sb, acq->name);
	else if (act->kind == SQ_JOB_TASK)
		sq_strbuf_addf(sb, "%s/%s", acq->name, act->acq->tasks[act->index].task->name);
	else if (act->kind == SQ_JOB_GROUP_STITCH)
		sq_strbuf_addf(sb, "%s/@group:%s", acq->name, acq->groups[act->index]);
	else
		sq_strbuf_addf(sb, "%s/@acq", acq->name);
}

/* Returns 1 if applied, 0 if the queue left the job alone, -1 on error. */
static int apply_one(struct sq_queue *q, const struct sq_repair_action *act, struct sq_err *err)
{
	const struct sq_repair_acq *a = act->acq;

	if (act->verb == SQ_REPAIR_MARK_DONE && act->kind == SQ_JOB_TASK)
		return sq_queue_mark_task_done(q, a->tasks[act->index].task, err);
	if (act->verb == SQ_REPAIR_MARK_DONE)
		return sq_queue_mark_stitch_done(
		    q,
		    act->kind == SQ_JOB_GROUP_STITCH ? &a->groups[act->index].spec : &a->top.spec,
		    err);
	if (act->kind == SQ_JOB_TASK)
		return sq_queue_reinject_task(q, a->tasks[act->index].task, act->stage, act->retry,
					      err);
	if (act->kind == SQ_JOB_GROUP_STITCH)
		return sq_queue_reinject_stitch(q, &a->groups[act->index].spec, act->retry, err);
	return sq_queue_reinject_stitch(q, &a->top.spec, act->retry, err);
}

/* Completes the registration of a's acquisition (sq_queue_register_acq). */
static int register_acq(struct sq_queue *q, const struct sq_repair_acq *a, struct sq_err *err)
{
	char *dir = realpath(a->acq.dir, NULL);
	int rc = sq_queue_register_acq(q, a->acq.tasks, a->acq.ntasks, &a->acq.stitch, dir, err);

	free(dir);
	return rc < 0 ? -1 : 1;
}

/* Whether a's registration was completed by this apply already (done holds
 * the acquisitions it was, n of them); if not, it is now. */
static int registered_before(const struct sq_repair_acq **done, size_t *n,
			     const struct sq_repair_acq *a)
{
	for (size_t i = 0; i < *n; i++)
		if (done[i] == a)
			return 1;
	done[(*n)++] = a;
	return 0;
}

/* Runs one action (and, before an acquisition's first, its registration).
 * Returns 1 applied, 0 left alone, -1 on error. */
static int apply_action(struct sq_queue *q, const struct sq_repair_action *act,
			const struct sq_repair_acq **done, size_t *ndone, struct sq_err *err)
{
	if (!registered_before(done, ndone, act->acq) && register_acq(q, act->acq, err) < 0)
		return -1;
	if (act->verb == SQ_REPAIR_REGISTER)
		return 1;
	return apply_one(q, act, err);
}

/* Applies act; a refusal is noted on it (and in *first, if the first) and
 * is no error. Returns -1 only for an error that stops the apply. */
static int apply_noting(struct sq_queue *q, struct sq_repair_action *act,
			const struct sq_repair_acq **done, size_t *ndone, struct sq_err *first,
			struct sq_err *err)
{
	struct sq_strbuf subject = SQ_STRBUF_INIT;
	int got = apply_action(q, act, done, ndone, err);

	if (got >= 0) {
		act->applied = got > 0;
		return 0;
	}
	add_subject(&subject, act);
	sq_err_prefix(err, "cannot repair '%s'", subject.buf);
	sq_strbuf_release(&subject);
	if (err->code != SQ_ERR_INVALID) /* Redis unreachable: the rest would be too */
		return -1;
	act->applied = -2;
	act->error = xstrdup(err->msg);
	if (first->code == SQ_OK)
		*first = *err;
	return 0;
}

int sq_repair_apply(struct sq_queue *q, struct sq_repair_plan *p, struct sq_err *err)
{
	const struct sq_repair_acq **done = xcalloc(p->n + 1, sizeof(*done));
	struct sq_err first = {SQ_OK, ""};
	size_t ndone = 0;
	int rc = 0;

	for (size_t i = 0; i < p->n && rc == 0; i++) {
		enum sq_repair_verb verb = p->v[i].verb;

		if (verb == SQ_REPAIR_REINJECT || verb == SQ_REPAIR_MARK_DONE ||
		    verb == SQ_REPAIR_REGISTER)
			rc = apply_noting(q, &p->v[i], done, &ndone, &first, err);
	}
	free(done);
	if (rc == 0 && first.code != SQ_OK) {
		*err = first;
		rc = -1;
	}
	return rc;
}

/* --- describe --- */

/* Names the input act->detail of a stitch: a task or a group. */
static const char *input_name(const struct sq_repair_action *act)
{
	if (act->kind == SQ_JOB_GROUP_STITCH)
		return act->acq->tasks[act->detail].task->name;
	return act->acq->acq.groups[act->detail];
}

static void add_reinject_reason(struct sq_strbuf *sb, const struct sq_repair_action *act)
{
	const char *record = sq_layout_record(act->stage);

	if (act->why == SQ_REPAIR_MISSING)
		sq_strbuf_addf(sb, "%s missing", record);
	else if (act->why == SQ_REPAIR_NOT_CURRENT)
		sq_strbuf_addf(sb, "%s not current", record);
	else
		sq_strbuf_addf(sb, "%s older than %s/%s", record, input_name(act),
			       sq_layout_record(act->kind == SQ_JOB_GROUP_STITCH
						    ? SQ_STAGE_RECONSTRUCT
						    : SQ_STAGE_STITCH));
	if (act->retry)
		sq_strbuf_adds(sb, "; it had failed");
}

static const struct sq_job_info *action_job(const struct sq_repair_action *act)
{
	if (act->kind == SQ_JOB_TASK)
		return &act->acq->tasks[act->index].job;
	if (act->kind == SQ_JOB_GROUP_STITCH)
		return &act->acq->groups[act->index].job;
	return &act->acq->top.job;
}

static void add_skip_reason(struct sq_strbuf *sb, const struct sq_repair_action *act)
{
	const struct sq_job_info *js = action_job(act);

	if (act->why == SQ_REPAIR_UNREADABLE)
		sq_strbuf_addf(sb, "unreadable in redis: %s; fix or delete the key",
			       js->unreadable);
	else if (act->why == SQ_REPAIR_IN_FLIGHT)
		sq_strbuf_adds(sb, job_is(js, SQ_JOB_RETRY) ? "waiting for a retry"
							    : sq_job_state_name(js->state));
	else if (act->why == SQ_REPAIR_FAILED)
		sq_strbuf_addf(sb, "failed at %s; use --retry-failed", sq_stage_name(js->stage));
	else if (act->why == SQ_REPAIR_CANCELLED)
		sq_strbuf_adds(sb,
			       "cancelled by an operator; use --retry-failed or scanq-ctl retry "
			       "--cancelled");
	else if (act->why == SQ_REPAIR_CHANGED)
		sq_strbuf_adds(sb, "the directory has a newer version than Redis: re-enqueue "
				   "it with scanq-enqueue");
	else if (act->kind == SQ_JOB_GROUP_STITCH)
		sq_strbuf_addf(sb, "waits for %s", input_name(act));
	else
		sq_strbuf_addf(sb, "waits for @group:%s", input_name(act));
}

char *sq_repair_action_format(const struct sq_repair_action *act)
{
	static const char *const verbs[] = {
	    [SQ_REPAIR_REINJECT] = "reinject", [SQ_REPAIR_MARK_DONE] = "mark done",
	    [SQ_REPAIR_FOLLOWS] = "follows",   [SQ_REPAIR_SKIP] = "skip",
	    [SQ_REPAIR_REGISTER] = "register",
	};
	const struct sq_job_info *js = action_job(act);
	struct sq_strbuf sb = SQ_STRBUF_INIT;

	sq_strbuf_addf(&sb, "%-9s ", verbs[act->verb]);
	add_subject(&sb, act);
	if (act->verb == SQ_REPAIR_REGISTER) {
		sq_strbuf_addf(&sb, "  (redis lacks its registration: %s)", act->acq->unregistered);
	} else if (act->verb == SQ_REPAIR_REINJECT) {
		sq_strbuf_addf(&sb, "  at %s  (", sq_stage_name(act->stage));
		add_reinject_reason(&sb, act);
		sq_strbuf_addch(&sb, ')');
	} else if (act->verb == SQ_REPAIR_MARK_DONE) {
		if (js->exists)
			sq_strbuf_addf(&sb, "  (complete on disk; Redis says %s)",
				       sq_job_state_name(js->state));
		else
			sq_strbuf_adds(&sb, "  (complete on disk; unknown to Redis)");
	} else if (act->verb == SQ_REPAIR_FOLLOWS) {
		sq_strbuf_adds(&sb, "  by fan-in");
	} else {
		sq_strbuf_adds(&sb, "  (");
		add_skip_reason(&sb, act);
		sq_strbuf_addch(&sb, ')');
	}
	return sq_strbuf_detach(&sb);
}

char *sq_repair_result_format(const struct sq_repair_action *act)
{
	struct sq_strbuf sb = SQ_STRBUF_INIT;

	if (act->applied != 0 && act->applied != -2)
		return NULL;
	sq_strbuf_adds(&sb, act->applied == 0 ? "unchanged " : "refused   ");
	add_subject(&sb, act);
	if (act->applied == 0)
		sq_strbuf_adds(&sb, "  (it became queued, leased or failed meanwhile)");
	else
		sq_strbuf_addf(&sb, "  (%s)", act->error);
	return sq_strbuf_detach(&sb);
}

char *sq_repair_counts_format(const struct sq_repair_counts *c)
{
	char *s = xasprintf("%zu to re-inject, %zu to mark done, %zu to follow by fan-in, "
			    "%zu in flight, %zu failed (use --retry-failed), %zu changed "
			    "(re-enqueue), %zu waiting, %zu up to date",
			    c->reinject, c->mark_done, c->follows, c->in_flight, c->failed,
			    c->changed, c->waiting, c->up_to_date),
	     *all;

	if (c->cancelled) {
		all = xasprintf("%s, %zu cancelled", s, c->cancelled);
		free(s);
		s = all;
	}
	if (c->unreadable) {
		all = xasprintf("%s, %zu unreadable (skipped)", s, c->unreadable);
		free(s);
		s = all;
	}
	return s;
}
