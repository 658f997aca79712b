/* repair.h - scanq-repair: compare outputs on disk with Redis and re-inject what is missing.
 *
 * Three steps, kept apart so the decisions can be tested without Redis or disk:
 *
 *   gather  sq_repair_load reads a task directory and the stage records on disk;
 *           sq_repair_read_queue adds what Redis knows of every job (one round trip).
 *   plan    sq_repair_plan is a pure function of the gathered state: which job to
 *           re-inject at which stage, which to mark done, which to leave alone and why.
 *   apply   sq_repair_apply executes the plan through the queue, which re-checks
 *           each step atomically (a job that became queued or leased meanwhile is
 *           left alone and reported so).
 *
 * Rules of the plan (DESIGN.md §4): a task restarts at its earliest stage without a
 * current record; nothing queued, leased or waiting for a retry is touched; a
 * failed job only with retry_failed; a task whose file changed since it was
 * enqueued is left to scanq-enqueue. A stitch is re-injected only when all its
 * inputs are complete on disk and it is missing or older than one of them; when an
 * input is being redone it follows by fan-in instead, so nothing runs twice. */
#ifndef SQ_REPAIR_H
#define SQ_REPAIR_H

#include "base/err.h"
#include "queue/queue.h"
#include "stage/store.h"
#include "task/task.h"
#include "task/taskfile.h"

#include <stddef.h>

struct sq_media_read_opts; /* media/media.h */

/* A task as seen on disk and in Redis. Indexes [SQ_STAGE_EXTRACT] and
 * [SQ_STAGE_RECONSTRUCT] of the arrays are used. */
struct sq_repair_task {
	const struct sq_task *task;	      /* borrowed from the acquisition */
	int current[SQ_STAGE_STITCH];	      /* record present with this version */
	long long record_ms[SQ_STAGE_STITCH]; /* record mtime, -1 if absent */
	struct sq_job_info job;	      /* Redis; job.exists 0 if unknown */
};

/* A group or acquisition stitch as seen on disk and in Redis. */
struct sq_repair_stitch {
	struct sq_stitch_spec spec; /* owned; spec.group NULL for the acquisition */
	int current;		    /* stitch.json present with spec.version */
	long long record_ms;	    /* stitch.json mtime, -1 if absent */
	struct sq_job_info job;
};

/* One task directory. groups[i] is the stitch of acq.groups[i]; top is the
 * acquisition stitch, meaningful only when acq.ngroups >= 2. */
struct sq_repair_acq {
	struct sq_acq acq;
	struct sq_repair_task *tasks; /* acq.ntasks, in acq.tasks order */
	struct sq_repair_stitch *groups;
	struct sq_repair_stitch top;
	/* What Redis lacks of the acquisition's registration (stitch specs,
	 * groups; all of it after a FLUSHALL), NULL when complete (owned). */
	char *unregistered;
};

void sq_repair_acq_init(struct sq_repair_acq *a);
void sq_repair_acq_release(struct sq_repair_acq *a);

/* Loads and validates dir (no video probing, the output root is not created) and
 * reads every stage record under its output root through store (stage/store.h;
 * NULL: the local store; an sftp:// root needs the SFTP store); videos are
 * identified as read says (SSH options for sftp://; NULL: the defaults).
 * Returns 0 with *out filled (an init'ed struct), or -1 with diagnostics in
 * diags and *out released. */
int sq_repair_load(const char *dir, const struct sq_media_read_opts *read, struct sq_store *store,
		   struct sq_repair_acq *out, struct sq_diags *diags);

/* Fills the job states of every task and stitch of a from Redis (a script per
 * chunk; a job that cannot be read is marked so, see sq_job_state) and checks
 * the acquisition's registration (a->unregistered). Returns 0, or -1 with err. */
int sq_repair_read_queue(struct sq_queue *q, struct sq_repair_acq *a, struct sq_err *err);

enum sq_repair_verb {
	SQ_REPAIR_REINJECT,  /* queue the job again at `stage` */
	SQ_REPAIR_MARK_DONE, /* complete on disk but not done in Redis: record it */
	SQ_REPAIR_FOLLOWS,   /* stitch: will be queued by fan-in, nothing to do */
	SQ_REPAIR_SKIP,	     /* needs work but is left alone, see `why` */
	SQ_REPAIR_REGISTER,  /* the acquisition: register its specs and groups again */
};

enum sq_repair_why {
	SQ_REPAIR_MISSING,	/* REINJECT: record absent */
	SQ_REPAIR_NOT_CURRENT,	/* REINJECT: record from another version or unreadable */
	SQ_REPAIR_STALE,	/* REINJECT (stitch): record older than input `detail` */
	SQ_REPAIR_NOT_DONE,	/* MARK_DONE */
	SQ_REPAIR_FAN_IN,	/* FOLLOWS */
	SQ_REPAIR_IN_FLIGHT,	/* SKIP: queued, leased or waiting for a retry */
	SQ_REPAIR_FAILED,	/* SKIP: dead-lettered, retry_failed not given */
	SQ_REPAIR_CHANGED,	/* SKIP: the directory has another version than Redis */
	SQ_REPAIR_WAITING,	/* SKIP (stitch): input `detail` cannot complete */
	SQ_REPAIR_CANCELLED,	/* SKIP: an operator cancelled it (scanq-ctl cancel) */
	SQ_REPAIR_UNREADABLE,	/* SKIP: Redis holds something else at the job's key */
	SQ_REPAIR_UNREGISTERED, /* REGISTER */
};

struct sq_repair_action {
	const struct sq_repair_acq *acq; /* borrowed: must outlive the plan */
	enum sq_job_kind kind;
	size_t index; /* task: index in acq->tasks; group: in acq->groups; acq: 0 */
	enum sq_repair_verb verb;
	enum sq_repair_why why;
	enum sq_stage stage; /* REINJECT: where the job restarts */
	int retry;	     /* REINJECT of a failed job (retry_failed given) */
	size_t detail;	     /* STALE / WAITING: index of the input concerned */
	/* after sq_repair_apply: 1 done, 0 left alone, -1 not tried, -2 refused
	 * by Redis (error says why) */
	int applied;
	char *error; /* owned; applied == -2 */
};

/* What a plan amounts to, one count per job (task or stitch). */
struct sq_repair_counts {
	size_t reinject, mark_done, follows, in_flight, failed, changed, waiting, up_to_date;
	size_t cancelled;
	size_t unreadable; /* skipped: Redis holds something else at their key */
};

struct sq_repair_plan {
	struct sq_repair_action *v; /* tasks first, then group stitches, then the acq */
	size_t n, alloc;
	struct sq_repair_counts counts;
};

#define SQ_REPAIR_PLAN_INIT                                                                        \
	{                                                                                          \
		NULL, 0, 0,                                                                        \
		{                                                                                  \
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0                                                 \
		}                                                                                  \
	}
void sq_repair_plan_release(struct sq_repair_plan *p);

/* Appends the actions for a to p and adds to p->counts. Pure: reads only *a (which
 * p then borrows). Jobs that need nothing get no action and count as up to date. */
void sq_repair_plan(const struct sq_repair_acq *a, int retry_failed, struct sq_repair_plan *p);

/* Executes every REGISTER, REINJECT and MARK_DONE of p in order, setting each
 * one's `applied`; an acquisition's registration is completed (idempotently)
 * before its first job is written, so no fan-in fires before its whole group
 * is counted. An action Redis refuses (a key of the wrong type) gets applied
 * -2 and its error, and the others go on. Returns 0; -1 with err when one was
 * refused (err: the first), or at the first other Redis error, which stops it
 * (later actions keep applied == -1). */
int sq_repair_apply(struct sq_queue *q, struct sq_repair_plan *p, struct sq_err *err);

/* Returns new line (no newline, free with free()) describing an action, e.g.
 * "reinject  demo/auv1-seg02  at reconstruct  (reconstruct.json missing)". */
char *sq_repair_action_format(const struct sq_repair_action *act);

/* Returns new line describing an action sq_repair_apply left alone or that
 * Redis refused, or NULL when the action was applied or not tried. */
char *sq_repair_result_format(const struct sq_repair_action *act);

/* Returns new summary line, e.g. "1 to re-inject, 0 to mark done, ...". */
char *sq_repair_counts_format(const struct sq_repair_counts *c);

#endif
