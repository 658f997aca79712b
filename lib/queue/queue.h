/* queue.h - the distributed work queue on Redis: the one place keys are defined.
 *
 * REDIS DATA MODEL (every key below is prefixed with the deployment prefix P,
 * "" by default, e.g. "prod:" — see --prefix / SCANQ_PREFIX). <acq> is an
 * acquisition name, <stage> one of extract|reconstruct|stitch, <jid> a job id:
 * a task's name (unique in its acquisition), "@group:<group>" for a group stitch,
 * "@acq" for the acquisition stitch. All names match [A-Za-z0-9._-]{1,64}, so ids
 * never collide and never contain ':' ambiguity in a key tail.
 *
 *   P acqs                      SET   acquisitions known (workers discover new ones here)
 *   P <stage>:<acq>             LIST  queued jids; enqueue LPUSHes, claim takes from the
 *                                     right (oldest); a job handed back goes RPUSH (front)
 *   P failed:<acq>              LIST  dead letters, newest first: JSON {jid, stage, error,
 *                                     host, attempts, errors, crashes, history, time_ms}
 *   P job:<acq>:<jid>           HASH  one job: kind (task|group|acq), group, name, stage,
 *                                     state (waiting|queued|leased|retry|done|failed|
 *                                     cancelled),
 *                                     version, spec (JSON), outdir, inputs (JSON array,
 *                                     stitch), attempts, errors, crashes, max_attempts,
 *                                     backoff_ms, need_vram_mib, need_ram_mib, owner, token,
 *                                     host, claimed_ms, lease_until_ms, progress_done,
 *                                     progress_total, error, updated_ms, done_token
 *                                     also: need_vram_mib.<stage>/need_ram_mib.<stage>
 *                                     (per-stage needs; copied into need_vram_mib/
 *                                     need_ram_mib whenever stage changes), done_outcome
 *                                     (done|retry|dead|released|crash: what the lease
 *                                     done_token ended with, so a retried call answers
 *                                     the same), result (complete's result_json),
 *                                     created_ms, cancelled_ms (an operator's cancel),
 *                                     warnings.<stage> (JSON array: the stage's result
 *                                     had warnings, see P warn), enqueued_by
 *                                     ("<run>:<outcome>": the enqueue that last pushed
 *                                     it and what that did, so a push resent after a
 *                                     lost reply answers the same). Stitch jobs exist
 *                                     from enqueue on in state waiting.
 *   P hist:<acq>:<jid>          LIST  the job's attempts, oldest first, the last 32, one
 *                                     per lease as it ends: "stage\tworker\thost\t
 *                                     attempt\tstart_ms\tend_ms\toutcome[\terror]"
 *                                     (outcome done|error|crash|released); dead letters
 *                                     carry them as JSON {stage, worker, host, attempt,
 *                                     start_ms, end_ms, outcome[, error]}
 *   P leased:<acq>              ZSET  leased jids, score = lease deadline (ms, Redis TIME)
 *                                     or earlier: a lease chained to the task's next
 *                                     stage keeps its entry; the job's lease_until_ms
 *                                     decides, and expiry re-arms an entry found early
 *   P delayed:<acq>             ZSET  jids waiting for a retry, score = not-before (ms)
 *   P done:<acq>:<stage>        SET   jids whose stage is done (exact counts for status)
 *   P dead:<acq>:<stage>        SET   jids dead-lettered at that stage (failed counts)
 *   P cancelled:<acq>:<stage>   SET   jids an operator cancelled at that stage (state
 *                                     cancelled: out of every queue, a running one
 *                                     fenced; retry --cancelled takes it back)
 *   P warn:<acq>:<stage>        ZSET  jids done with warnings at that stage (their
 *                                     result's "warnings" list was not empty), score =
 *                                     completion time (ms): "done with warnings"
 *   P paused                    SET   acquisitions an operator paused: claims (and the
 *                                     extract -> reconstruct chaining) pass them by,
 *                                     running jobs finish, leases still expire, and
 *                                     --drain does not wait for their queued work
 *   P acq:<acq>                 HASH  the acquisition's stitch specs, written by enqueue
 *                                     and read by the fan-in: template (stitch spec JSON,
 *                                     group null, outdir = output_root), output_root,
 *                                     spec:<sjid>, version:<sjid>, outdir:<sjid> for each
 *                                     "@group:<g>" and "@acq" (full sq_stitch_spec JSON),
 *                                     stitch_max_attempts, stitch_backoff_ms,
 *                                     need_vram_mib.stitch, need_ram_mib.stitch,
 *                                     task_dir (the canonical task directory it was
 *                                     enqueued from: another one is refused unless it
 *                                     replaces it), created_ms, updated_ms
 *   P members:<acq>:<group>     SET   task jids of a group
 *   P groups:<acq>              SET   groups of the acquisition
 *   P gdone:<acq>:<group>       SET   task jids of the group whose reconstruct is done;
 *                                     the completion that settles the group (gdone and
 *                                     gcancel hold every member, gdone one at least)
 *                                     enqueues the group stitch, in the same script
 *                                     (fan-in), on the done members
 *   P gcancel:<acq>:<group>     SET   task jids of the group an operator cancelled:
 *                                     settled for the fan-in (the stitch runs without
 *                                     them; cancel re-plans a stitch so settled now)
 *   P sdone:<acq>               SET   groups whose stitch is done; settling the last
 *                                     group (sdone and scancel hold them all, >= 2)
 *                                     enqueues the acquisition stitch
 *   P scancel:<acq>             SET   groups whose stitch was cancelled (settled, left
 *                                     out of the acquisition stitch)
 *   P fence                     STRING counter: every claim takes a new token from it
 *   P owned:<wid>               STRING "<acq>\t<jid>" of the job a worker holds (its
 *                                     lease: the job's token; "<acq>\t<jid>\t<token>" as
 *                                     older scanq wrote it is read too)
 *   P workers                   ZSET  worker ids, score = last heartbeat (ms)
 *   P worker:<wid>              HASH  host, pid, stages, started_ms, last_beat_ms, job,
 *                                     gpu, lease_ms, vram_mib/ram_mib (free VRAM/RAM
 *                                     the worker last claimed with and found nothing:
 *                                     what it has when idle; -1 unknown or no GPU);
 *                                     expires one lease after its last heartbeat, so a
 *                                     killed worker leaves the registry with its job
 *   P wake:<stage>              LIST  doorbell: one token per push, trimmed; idle
 *                                     workers BLPOP it with a short timeout
 *   P cursor:<stage>            STRING round-robin cursor over acquisitions (fairness):
 *                                     the acquisition served last; the next claim starts
 *                                     at the next name in sorted order (not kept when a
 *                                     claim has a single acquisition to look at)
 *   P maint:<acq>               STRING when (ms, Redis TIME) the acquisition's lease
 *                                     expiry and retry promotion, which claims run on the
 *                                     way, are due next: 250 ms after the last run, so a
 *                                     lease is taken back at most ~250 ms after its
 *                                     deadline plus one idle worker's doorbell wait
 *                                     (sq_queue_pending runs them unconditionally)
 *
 * Every transition touching two keys is one Lua script (lib/queue/lua/, one .lua file
 * each; keys are built inside the scripts from P, so Redis Cluster is not
 * supported). Redis does not roll a failed script back, so every transition reads
 * and checks what it uses before its first write: the fields it decides on (numbers
 * are whole decimal numbers, states, stages and kinds are known names, inputs a JSON
 * array of strings, a spec a JSON object) and the type of every key it adds to. A job
 * that cannot be used is dead-lettered naming the field or key (never left in no
 * list and no lease, never handed back to its worker again); a key of the wrong type
 * that a transition would add to stops it before it starts (claims pass over that
 * acquisition, scanq-status names the key); keys holding no job state (wake:, hist:,
 * cursor:, maint:, the worker registry) are replaced when of the wrong type.
 *
 * On Redis >= 7 the scripts run as functions (FCALL) of one library,
 * "scanq_<hash of the scripts>" (FUNCTION LOAD when the server lacks it; it then
 * persists and replicates with the data; libraries of older scanq builds can be
 * dropped with FUNCTION DELETE once no worker of that build runs); on Redis 6.2,
 * or for a user whose ACL refuses functions, each is loaded once per connection
 * and called with EVALSHA (reloaded on NOSCRIPT). A change to a group's members (task added or re-versioned, or
 * re-injected by repair) re-opens that group's stitch and the acquisition stitch
 * (back to waiting, a running attempt fenced), so fan-in runs them again. Time is
 * Redis's TIME, so hosts need no synchronised clocks. Task versions: enqueueing a
 * task whose content changed replaces the job's spec and version and restarts it
 * at extract (fencing any running attempt); old outputs stay on disk until the new
 * version's stage replaces them atomically, and since every stage record names
 * the version it was made from, repair and the worker treat old records as absent.
 */
#ifndef SQ_QUEUE_H
#define SQ_QUEUE_H

#include "base/err.h"
#include "queue/redis.h"
#include "queue/job_state.h"
#include "task/task.h"

#include <stddef.h>

struct sq_queue;

struct sq_queue_opts {
	const char *url;    /* redis://[user:pass@]host:port/db or unix:///path; NULL: default */
	const char *prefix; /* key prefix, NULL or "" for none */
	long long lease_ms; /* 0: default 15000 */
	long long connect_timeout_ms; /* per attempt; 0: default 2000 */
	/* How long a command keeps retrying (reconnect with backoff) while Redis is
	 * unreachable before giving up with SQ_ERR_REDIS. 0: default 60000. */
	long long retry_for_ms;
};

#define SQ_QUEUE_DEFAULT_URL "redis://127.0.0.1:6379/0"

/* Connects. Returns new handle (free with sq_queue_free) or NULL. */
struct sq_queue *sq_queue_open(const struct sq_queue_opts *opts, struct sq_err *err);
void sq_queue_free(struct sq_queue *q);
/* Tells fn when Redis becomes unreachable and when it is back (see
 * sq_redis_outage_fn); NULL: nobody. */
void sq_queue_on_outage(struct sq_queue *q, sq_redis_outage_fn *fn, void *ctx);
const char *sq_queue_prefix(const struct sq_queue *q);
long long sq_queue_lease_ms(const struct sq_queue *q);

enum sq_enqueue_outcome {
	SQ_ENQUEUE_ADDED = 0, /* new task, queued at extract */
	SQ_ENQUEUE_UNCHANGED, /* same version already known: nothing done */
	SQ_ENQUEUE_UPDATED,   /* content changed: new version queued at extract */
};

/* What an enqueue of a task directory asks beyond pushing its tasks. */
struct sq_enqueue_opts {
	/* The directory's canonical path, recorded on P acq:<acq> (task_dir): an
	 * acquisition recorded from another directory is refused (SQ_ERR_INVALID,
	 * nothing changed) unless replace. NULL: neither checked nor recorded. */
	const char *task_dir;
	int replace;
	/* The tasks are the whole acquisition: its other tasks are removed from
	 * Redis (outputs stay on disk) and the stitches that counted them re-planned. */
	int prune;
};

/* A task removed by a prune (both new strings). */
struct sq_removed_task {
	char *jid;
	char *outdir;
};

/* What an enqueue did (init with sq_enqueue_report_init, release with
 * sq_enqueue_report_release). */
struct sq_enqueue_report {
	enum sq_enqueue_outcome *outcomes; /* borrowed: ntasks entries, filled */
	char *replaced_dir;		   /* replace: the task_dir taken over, or NULL */
	char *owned_by;			   /* refused: the task_dir it belongs to, or NULL */
	struct sq_removed_task *removed;
	size_t nremoved, removed_alloc;
	/* Read back after the push: tasks Redis did not hold (lost to a restart)
	 * and that were pushed again, and whether the registration was redone. */
	size_t repushed;
	int reregistered;
};

void sq_enqueue_report_init(struct sq_enqueue_report *rep, enum sq_enqueue_outcome *outcomes);
void sq_enqueue_report_release(struct sq_enqueue_report *rep);

/* Registers the acquisition, its groups and stitch specs, pushes every task
 * (pipelined), prunes (opts->prune), then reads back what Redis holds: the
 * registration and every task at its version in its group. What Redis lost
 * meanwhile (a restart between two batches) is pushed again, a few rounds;
 * -1 (SQ_ERR_REDIS, naming what is missing) when it still lacks something.
 * opts NULL: no task_dir, no prune. rep->outcomes gets each task's outcome
 * (for a task pushed again, the last push's). */
int sq_queue_enqueue_dir(struct sq_queue *q, const struct sq_task *tasks, size_t ntasks,
			 const struct sq_stitch_spec *stitch, const struct sq_enqueue_opts *opts,
			 struct sq_enqueue_report *rep, struct sq_err *err);

/* sq_queue_enqueue_dir without options. outcomes (ntasks entries) receives
 * what happened to each. */
int sq_queue_enqueue(struct sq_queue *q, const struct sq_task *tasks, size_t ntasks,
		     const struct sq_stitch_spec *stitch, enum sq_enqueue_outcome *outcomes,
		     struct sq_err *err);

enum sq_job_kind {
	SQ_JOB_TASK = 0,
	SQ_JOB_GROUP_STITCH,
	SQ_JOB_ACQ_STITCH,
};

struct sq_job {
	char *acq;
	char *jid;
	enum sq_job_kind kind;
	enum sq_stage stage;
	char *version;
	char *spec_json; /* sq_task JSON (task) or sq_stitch_spec JSON (stitch) */
	char **inputs;	 /* stitch: the input output-dirs (task outdirs or group outdirs) */
	size_t ninputs;
	long long token; /* fencing token of this lease */
	int attempt;	 /* 1-based attempt number at this stage */
};

void sq_job_init(struct sq_job *j);
void sq_job_release(struct sq_job *j);

struct sq_claim_opts {
	const char *worker_id; /* unique per process: "<host>:<pid>:<random>" */
	const enum sq_stage *stages;
	size_t nstages;
	const char *const *acqs; /* NULL/0: every acquisition in P acqs */
	size_t nacqs;
	long long free_vram_mib; /* -1: no GPU known; jobs needing VRAM are skipped */
	long long free_ram_mib;	 /* -1: unknown; no RAM check */
};

/* Claims one job fairly across acquisitions (and expires stale leases, promotes
 * due retries on the way, at most every 250 ms per acquisition: see P maint).
 * Returns 1 with *job filled, 0 if nothing fits, -1 on error. Idempotent per
 * worker: if worker_id already holds a lease, that job is returned again (so a
 * claim retried after a lost reply loses nothing). */
int sq_queue_claim(struct sq_queue *q, const struct sq_claim_opts *opts, struct sq_job *job,
		   struct sq_err *err);

/* Blocks until a job may have become claimable for opts' stages or timeout_ms
 * passed. Returns 0 (either way) or -1 on error. */
int sq_queue_wait(struct sq_queue *q, const struct sq_claim_opts *opts, long long timeout_ms,
		  struct sq_err *err);

/* Extends the lease and records progress. -1 with SQ_ERR_STALE when the lease
 * was lost (expired and taken, or the task re-versioned): stop working on it. */
int sq_queue_heartbeat(struct sq_queue *q, const struct sq_job *job, const char *worker_id,
		       long long progress_done, long long progress_total, struct sq_err *err);

/* Records success and moves the job on (extract -> reconstruct queue, reconstruct ->
 * done + group fan-in, stitch -> done + acquisition fan-in), atomically.
 * result_json is kept on the job (may be NULL). -1 with SQ_ERR_STALE when the
 * lease is no longer ours (nothing is changed). Safe to call twice. */
int sq_queue_complete(struct sq_queue *q, const struct sq_job *job, const char *worker_id,
		      const char *result_json, struct sq_err *err);

/* sq_queue_complete and the worker's next claim in one script and round trip: a
 * worker holding a job calls this instead of sq_queue_complete, and
 * sq_queue_claim only when it holds none. job is completed exactly as
 * sq_queue_complete does (fencing, idempotent retry, fan-in, doorbells); then
 * the next job is claimed for opts (opts->worker_id NULL or worker_id) as
 * sq_queue_claim does, except that the same task's next stage (extract ->
 * reconstruct) is preferred when opts serves that stage and acquisition and its
 * VRAM/RAM needs fit opts: it is leased straight back (the frames are on this
 * host), without a queue push or doorbell. Returns 1 with *next filled, 0 when
 * job is completed and nothing was claimable, -1 on error; SQ_ERR_STALE: the
 * lease is no longer ours, nothing was changed and nothing claimed. Safe to call
 * twice: a retried call answers the job the first one leased. *next must be
 * empty (sq_job_init) or be job itself, which is then released and refilled
 * when 1 is returned (left as it was otherwise). */
int sq_queue_complete_and_claim(struct sq_queue *q, const struct sq_job *job, const char *worker_id,
				const char *result_json, const struct sq_claim_opts *opts,
				struct sq_job *next, struct sq_err *err);

/* Records a failed attempt: error counted (crash = 0) or crash counted (crash = 1).
 * Retries after backoff_ms * 2^(attempt-1) while attempts < max_attempts, else the
 * job goes to failed:<acq>. *dead_out (may be NULL) says which. STALE as above. */
int sq_queue_fail(struct sq_queue *q, const struct sq_job *job, const char *worker_id,
		  const char *error, int crash, int *dead_out, struct sq_err *err);

/* Hands a leased job back untouched to the front of its queue (graceful stop):
 * the attempt is not counted. STALE as above. */
int sq_queue_release(struct sq_queue *q, const struct sq_job *job, const char *worker_id,
		     struct sq_err *err);

/* For a supervisor whose child died: whatever worker_id held goes back to the front
 * of its queue at once, counted as a crash (reason recorded). Returns 1 if a job was
 * held and handed back, 2 if it was held and that crash was its last attempt (it
 * is dead-lettered), 0 if none. */
int sq_queue_release_owner(struct sq_queue *q, const char *worker_id, const char *reason,
			   struct sq_err *err);

/* Number of jobs queued, waiting for retry, or leased for opts' stages and
 * acquisitions (for --drain). Also expires stale leases first. */
int sq_queue_pending(struct sq_queue *q, const struct sq_claim_opts *opts, long long *count_out,
		     struct sq_err *err);

struct sq_worker_info {
	const char *worker_id;
	const char *host;
	long pid;
	const char *stages; /* "extract,reconstruct" */
	const char *gpu;    /* NULL if none */
	const char *job;    /* "<acq>/<jid>/<stage>" or NULL when idle */
};

/* Records the worker's liveness (P workers, P worker:<wid>). */
int sq_queue_worker_beat(struct sq_queue *q, const struct sq_worker_info *w, struct sq_err *err);
/* Removes a worker from the registry (clean exit). */
int sq_queue_worker_gone(struct sq_queue *q, const char *worker_id, struct sq_err *err);

/* One consistent snapshot for scanq-status, in one round trip, as a new JSON
 * document (free with free()); acq NULL for all. Shape documented in
 * lib/queue/lua/snapshot.lua. */
char *sq_queue_snapshot(struct sq_queue *q, const char *acq, int max_dead, struct sq_err *err);

/* --- repair --- */

struct sq_job_info {
	int exists;
	enum sq_job_state state; /* SQ_JOB_ABSENT if !exists (or not a scanq state) */
	enum sq_stage stage;
	char version[SQ_VERSION_LEN + 1];
	char unreadable[256]; /* why the job cannot be read (its key is of the wrong
				 type), "" when it can; exists is 1 then */
};

/* Reads the state of n jobs of one acquisition (a script per chunk): a job
 * that cannot be read says why in its unreadable field, the others are read. */
int sq_queue_job_states(struct sq_queue *q, const char *acq, const char *const *jids, size_t n,
			struct sq_job_info *out, struct sq_err *err);

/* Registers what an emptied Redis lacks before jobs of the acquisition are
 * re-injected: the acquisition (task_dir: its canonical task directory, NULL
 * for none), the stitch specs not registered (a registered one is left:
 * changing it is scanq-enqueue's), the stitch jobs (waiting), and every
 * task's group membership, so that no fan-in fires before its whole group is
 * counted. Idempotent. */
int sq_queue_register_acq(struct sq_queue *q, const struct sq_task *tasks, size_t ntasks,
			  const struct sq_stitch_spec *stitch, const char *task_dir,
			  struct sq_err *err);

/* Whether Redis holds the acquisition's registration: 0 complete, 1 not (then
 * *why, a new string, says what is missing), -1 error. task_dir NULL: not
 * compared. */
int sq_queue_check_acq(struct sq_queue *q, const struct sq_task *tasks, size_t ntasks,
		       const char *acq, const char *task_dir, char **why, struct sq_err *err);

/* Puts a task back at stage `from` (clearing its done marks from that stage on, so
 * the group and acquisition stitches re-run by fan-in when it completes), creating
 * the job if Redis does not know it. Checked atomically: a job queued, leased or
 * waiting for a retry is left alone (returns 0), a failed one only when
 * retry_failed. Returns 1 if injected. These repair writes fail with
 * SQ_ERR_INVALID, nothing written, when Redis holds a key of the wrong type
 * where they would write (the message names it). */
int sq_queue_reinject_task(struct sq_queue *q, const struct sq_task *t, enum sq_stage from,
			   int retry_failed, struct sq_err *err);

/* Records a task as done through reconstruct without queueing anything (its
 * outputs are on disk but Redis lost it), so fan-in counts it. A job queued,
 * leased or waiting for a retry is left alone; a failed one is recorded done.
 * Returns 1 if marked, 0 if left alone, -1 on error. */
int sq_queue_mark_task_done(struct sq_queue *q, const struct sq_task *t, struct sq_err *err);

/* Records a group (s->group != NULL) or acquisition stitch whose output is on
 * disk as done, without queueing anything: its spec is registered for fan-in,
 * the job is done (P done:<acq>:stitch) and a group stitch counts towards the
 * acquisition fan-in (P sdone:<acq>), so after a Redis wipe repair can rebuild
 * the fan-in state. Same rules and return values as sq_queue_mark_task_done. */
int sq_queue_mark_stitch_done(struct sq_queue *q, const struct sq_stitch_spec *s,
			      struct sq_err *err);

/* Queues a group (group != NULL) or acquisition stitch now, with inputs built from
 * the done members, under the same rules as sq_queue_reinject_task. */
int sq_queue_reinject_stitch(struct sq_queue *q, const struct sq_stitch_spec *s, int retry_failed,
			     struct sq_err *err);

/* --- operator actions (scanq-ctl, the web console): each one script call,
 * atomic and idempotent. Each returns a new JSON document (free with free())
 * whose shape is documented at the top of its script in lib/queue/lua/, or NULL
 * with err: SQ_ERR_INVALID when the acquisition or target does not exist or the
 * action is refused (the message says why), SQ_ERR_REDIS otherwise. A target is
 * NULL or "" (the whole acquisition), a task name, a group name or
 * "@group:<group>" (the group's tasks and its stitch), or "@acq" (the
 * acquisition stitch). --- */

/* Cancels the target's jobs that are not done (cancel.lua): queued ones leave
 * their queues, running ones are fenced (their worker stops the stage at its
 * next heartbeat), dead letters go; the stitches depending on them are
 * re-planned. */
char *sq_queue_cancel(struct sq_queue *q, const char *acq, const char *target, struct sq_err *err);

/* Pauses (pause = 1) or resumes an acquisition (pause.lua). */
char *sq_queue_pause(struct sq_queue *q, const char *acq, int pause, struct sq_err *err);

/* Sends the target's dead-lettered jobs (and cancelled ones when cancelled_too)
 * back to their queues (retry.lua). */
char *sq_queue_retry(struct sq_queue *q, const char *acq, const char *target, int cancelled_too,
		     struct sq_err *err);

/* Drops the target's dead letters; the jobs stay failed (clear.lua). */
char *sq_queue_clear(struct sq_queue *q, const char *acq, const char *target, struct sq_err *err);

/* Removes every key of the acquisition (forget.lua); refused (SQ_ERR_INVALID)
 * while a job runs unless force. An unknown acquisition is not an error. */
char *sq_queue_forget(struct sq_queue *q, const char *acq, int force, struct sq_err *err);

/* The acquisition's or a group's jobs, or one job with its history and dead
 * letters (show.lua). */
char *sq_queue_show(struct sq_queue *q, const char *acq, const char *target, struct sq_err *err);

/* The worker registry; alive = a heartbeat within dead_after_ms. forget_dead:
 * the others leave it, and jobs they hold go back to their queues (workers.lua). */
char *sq_queue_workers(struct sq_queue *q, long long dead_after_ms, int forget_dead,
		       struct sq_err *err);

#endif
