/* worker.c - one worker process: claim, run the stage, record the outcome.
 *
 * A heartbeat thread with its own Redis connection extends the lease and
 * publishes progress once a second, so hour-long backends keep their job; if
 * Redis says the lease is gone (taken over after an expiry, or the task was
 * re-versioned) the running stage is cancelled and its result dropped. */
#include "worker/worker.h"
#include "base/clock.h"
#include "base/fsutil.h"
#include "worker/host.h"
#include "queue/queue.h"
#include "stage/scratch.h"
#include "stage/stage.h"
#include "stage/store_sftp.h"
#include "task/taskfile.h"
#include "media/media.h"
#include "base/xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/banned.h"

struct worker {
	const struct sq_worker_opts *opts;
	const char *id;
	const char *gpu;
	atomic_llong *dead_lettered; /* the caller's count, or NULL */
	struct sq_queue *q;	     /* main thread's connection */
	/* heartbeat thread */
	pthread_t hb_thread;
	int hb_started;
	pthread_mutex_t mu; /* guards job */
	const struct sq_job *job;
	atomic_llong progress_done, progress_total;
	atomic_int lease_lost, quit;
	long long stop_seen_ms; /* monotonic; 0 until a stop is seen */
	/* free VRAM/RAM as last read, and when (monotonic): reading VRAM runs
	 * nvidia-smi, too slow to do before every claim */
	long long free_vram_mib, free_ram_mib, resources_read_ms;
	char stages_str[64];
	/* where outputs go: sftp:// roots through the store, staged in scratch */
	struct sq_scratch *scratch;
	struct sq_store *store;
	struct sq_sftp_opts sftp; /* the store's: the videos' SSH options */
	char **roots_ok;	  /* output roots checked writable by this process */
	size_t nroots_ok;
};

static void sleep_ms(long long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void wlog(const struct worker *w, const struct sq_job *job, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One line: time, host:pid, acq/job, stage, event. */
static void wlog(const struct worker *w, const struct sq_job *job, const char *fmt, ...)
{
	char line[1536], stamp[320], msg[1024];
	va_list ap;

	if (!w->opts->hooks.log)
		return;
	sq_log_stamp(stamp, sizeof(stamp));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s %s%s%s %s %s", stamp, job ? job->acq : "-", job ? "/" : "",
		 job ? job->jid : "", job ? sq_stage_name(job->stage) : "-", msg);
	w->opts->hooks.log(w->opts->hooks.ctx, line);
}

/* The worker's connections tell it when Redis goes away and comes back; an
 * operator reading the log must not see silence while nothing can run. */
static void log_outage(struct worker *w, const char *conn, int down, const char *why,
		       long long down_ms)
{
	if (down)
		wlog(w, NULL, "redis unreachable (%s), retrying: %s", conn, why);
	else
		wlog(w, NULL, "redis reachable again (%s) after %.1f s", conn,
		     (double)down_ms / 1000.0);
}

static void outage_main(void *ctx, int down, const char *why, long long down_ms)
{
	log_outage(ctx, "claims", down, why, down_ms);
}

static void outage_heartbeat(void *ctx, int down, const char *why, long long down_ms)
{
	log_outage(ctx, "heartbeat", down, why, down_ms);
}

/* retry_for_ms: how long one call rides out a Redis outage before failing. */
static struct sq_queue *open_queue(struct worker *w, long long retry_for_ms,
				   sq_redis_outage_fn *on_outage, struct sq_err *err)
{
	struct sq_queue_opts qo = {.url = w->opts->redis_url,
				   .prefix = w->opts->prefix,
				   .lease_ms = w->opts->lease_ms,
				   .retry_for_ms = retry_for_ms};
	struct sq_queue *q = sq_queue_open(&qo, err);

	if (q)
		sq_queue_on_outage(q, on_outage, w);
	return q;
}

static void beat_registry(struct worker *w, struct sq_queue *q, const struct sq_job *job)
{
	char label[256];
	struct sq_worker_info info = {.worker_id = w->id,
				      .host = sq_hostname(),
				      .pid = (long)getpid(),
				      .stages = w->stages_str,
				      .gpu = w->gpu};

	if (job) {
		snprintf(label, sizeof(label), "%s/%s/%s", job->acq, job->jid,
			 sq_stage_name(job->stage));
		info.job = label;
	}
	sq_queue_worker_beat(q, &info, NULL);
}

static void *heartbeat_main(void *arg)
{
	struct worker *w = arg;
	long long lease = w->opts->lease_ms > 0 ? w->opts->lease_ms : 15000;
	long long tick = lease / 3 < 1000 ? lease / 3 : 1000;
	struct sq_queue *q = NULL;
	struct sq_err err;

	while (!atomic_load(&w->quit)) {
		if (!q)
			q = open_queue(w, lease, outage_heartbeat, &err);
		if (q) {
			pthread_mutex_lock(&w->mu);
			if (w->job && !atomic_load(&w->lease_lost) &&
			    sq_queue_heartbeat(q, w->job, w->id, atomic_load(&w->progress_done),
					       atomic_load(&w->progress_total), &err) < 0 &&
			    err.code == SQ_ERR_STALE)
				atomic_store(&w->lease_lost, 1);
			beat_registry(w, q, w->job);
			pthread_mutex_unlock(&w->mu);
		}
		for (long long t = 0; t < tick && !atomic_load(&w->quit); t += 50)
			sleep_ms(50);
	}
	sq_queue_free(q);
	return NULL;
}

static void on_progress(void *ctx, long long done, long long total)
{
	struct worker *w = ctx;

	atomic_store(&w->progress_done, done);
	atomic_store(&w->progress_total, total);
}

/* Cancels the stage when the lease is lost, on a second stop signal, or when the
 * grace period after the first one has run out. */
static int on_cancelled(void *ctx)
{
	struct worker *w = ctx;
	int stop = w->opts->stop ? *w->opts->stop : 0;

	if (atomic_load(&w->lease_lost) || stop >= 2)
		return 1;
	if (stop == 1) {
		if (!w->stop_seen_ms)
			w->stop_seen_ms = sq_mono_ms();
		return sq_mono_ms() - w->stop_seen_ms > w->opts->grace_ms;
	}
	return 0;
}

static void on_stage_log(void *ctx, const char *line)
{
	struct worker *w = ctx;
	const struct sq_job *job;

	pthread_mutex_lock(&w->mu);
	job = w->job;
	pthread_mutex_unlock(&w->mu);
	wlog(w, job, "%s", line);
}

/* The scratch folder and the store of this process, made for the first job
 * whose output root is on a storage host (a host whose roots are all local
 * never makes a scratch folder). */
static int open_store(struct worker *w, struct sq_err *err)
{
	const struct sq_media_read_opts *media = w->opts->media;
	struct sq_scratch_opts so = {.dir = w->opts->scratch_dir ? w->opts->scratch_dir
								 : SQ_WORKER_SCRATCH_DEFAULT,
				     .max_bytes = w->opts->scratch_max_bytes};
	struct sq_store_sftp_opts to = {.sftp = &w->sftp};

	if (w->store)
		return 0;
	if (!(w->scratch = sq_scratch_open(&so, err)))
		return -1;
	/* the videos' SSH options: one session per storage host for both */
	w->sftp = (struct sq_sftp_opts){.ssh = media ? &media->ssh : NULL,
					.stall_ms = media ? media->stall_ms : 0,
					.hooks = {.cancelled = on_cancelled, .ctx = w}};
	to.scratch = w->scratch;
	w->store = sq_store_sftp_new(&to);
	wlog(w, NULL, "scratch folder '%s', cap %lld bytes", sq_scratch_dir(w->scratch),
	     sq_scratch_max(w->scratch));
	return 0;
}

/* The store for a job under root (NULL: the local store). */
static int store_for(struct worker *w, const char *root, struct sq_stage_ctx *sc,
		     struct sq_err *err)
{
	if (sq_store_path_is_remote(root) && open_store(w, err) < 0)
		return -1;
	sc->store = w->store;
	return 0;
}

static void close_store(struct worker *w)
{
	for (size_t i = 0; i < w->nroots_ok; i++)
		free(w->roots_ok[i]);
	free(w->roots_ok);
	sq_store_free(w->store);
	sq_scratch_free(w->scratch);
}

/* The job's output root must be there and writable from this host: probed
 * on its first job here, seen on every later one (worker.h). */
static int check_root(struct worker *w, const struct sq_job *job, const char *root,
		      struct sq_err *err)
{
	int seen = 0, rc;

	for (size_t i = 0; i < w->nroots_ok && !seen; i++)
		seen = !strcmp(w->roots_ok[i], root);
	rc = seen ? sq_store_exists(w->store, root, err)
		  : sq_store_check_root(w->store, root, SQ_STORE_ROOT_EXISTS, err) == 0;
	if (rc == 0 && seen)
		sq_error(err, SQ_ERR_IO, "output root '%s' is not there", root);
	if (rc <= 0) {
		if (!sq_store_path_is_remote(root))
			sq_err_prefix(err, "cannot use the output root on this host (a local "
					   "output_root must be a shared filesystem mounted at the "
					   "same path on every host)");
		return -1;
	}
	if (!seen) {
		w->roots_ok = xrealloc(w->roots_ok, (w->nroots_ok + 1) * sizeof(*w->roots_ok));
		w->roots_ok[w->nroots_ok++] = xstrdup(root);
		wlog(w, job, "output root '%s' is there and writable", root);
	}
	return 0;
}

/* Runs the job's stage; returns 0 on success, else -1 with err. */
static int run_stage(struct worker *w, const struct sq_job *job, struct sq_stage_ctx *sc,
		     struct sq_err *err)
{
	struct sq_task t;
	struct sq_stitch_spec s;
	char *root;
	int rc;

	if (job->kind == SQ_JOB_TASK) {
		sq_task_init(&t);
		rc = sq_task_from_json(&t, job->spec_json, err);
		if (rc == 0 && store_for(w, t.output_root, sc, err) == 0)
			rc = check_root(w, job, t.output_root, err);
		else
			rc = -1;
		if (rc == 0)
			rc = sq_stage_run_task(&t, job->stage, sc, err);
		sq_task_release(&t);
		return rc;
	}
	sq_stitch_spec_init(&s);
	rc = sq_stitch_spec_from_json(&s, job->spec_json, err);
	if (rc == 0) {
		root = sq_stage_stitch_root(&s);
		rc = store_for(w, root, sc, err) == 0 ? check_root(w, job, root, err) : -1;
		free(root);
	}
	if (rc == 0)
		rc = sq_stage_run_stitch(&s, (const char *const *)job->inputs, job->ninputs, sc,
					 err);
	sq_stitch_spec_release(&s);
	return rc;
}

/* What the job moved to and from a storage host, for the log (and
 * tests/bench/hosts, which sums it per stage). */
static void log_moved(struct worker *w, const struct sq_job *job,
		      const struct sq_store_counters *before)
{
	struct sq_store_counters now;
	char evicted[96] = "";

	sq_store_counters(w->store, &now);
	if (now.evicted_bytes > before->evicted_bytes)
		snprintf(evicted, sizeof(evicted), "; evicted %lld bytes of older copies",
			 now.evicted_bytes - before->evicted_bytes);
	if (now.up_bytes == before->up_bytes && now.down_bytes == before->down_bytes &&
	    now.read_bytes == before->read_bytes && now.kept_bytes == before->kept_bytes)
		return;
	wlog(w, job,
	     "store: sent %lld bytes in %lld files, fetched %lld bytes in %lld files, "
	     "read %lld bytes of records, %lld bytes from this host's copies%s",
	     now.up_bytes - before->up_bytes, now.up_files - before->up_files,
	     now.down_bytes - before->down_bytes, now.down_files - before->down_files,
	     now.read_bytes - before->read_bytes, now.kept_bytes - before->kept_bytes, evicted);
}

static void set_job(struct worker *w, const struct sq_job *job)
{
	pthread_mutex_lock(&w->mu);
	w->job = job;
	atomic_store(&w->progress_done, 0);
	atomic_store(&w->progress_total, 0);
	atomic_store(&w->lease_lost, 0);
	pthread_mutex_unlock(&w->mu);
}

static int stopping(const struct worker *w)
{
	return w->opts->stop && *w->opts->stop;
}

#define SQ_WORKER_RESOURCES_TTL_MS 2000

static void fill_claim(struct worker *w, struct sq_claim_opts *co)
{
	long long now = sq_mono_ms();

	if (!w->resources_read_ms || now - w->resources_read_ms >= SQ_WORKER_RESOURCES_TTL_MS) {
		w->free_vram_mib = w->gpu ? sq_host_free_vram_mib(w->gpu) : -1;
		w->free_ram_mib = sq_host_free_ram_mib();
		w->resources_read_ms = now;
	}
	memset(co, 0, sizeof(*co));
	co->worker_id = w->id;
	co->stages = w->opts->stages;
	co->nstages = w->opts->nstages;
	co->acqs = w->opts->acqs;
	co->nacqs = w->opts->nacqs;
	co->free_vram_mib = w->free_vram_mib;
	co->free_ram_mib = w->free_ram_mib;
}

/* Records a success; unless stopping, claims the next job in the same round trip
 * (job is replaced by it). Returns 1 if job now holds a new lease, else 0. */
static int settle_success(struct worker *w, struct sq_job *job, const char *result_json,
			  long long wall_ms)
{
	struct sq_claim_opts co;
	struct sq_job next;
	struct sq_err err;
	int got;

	if (stopping(w)) {
		if (sq_queue_complete(w->q, job, w->id, result_json, &err) == 0)
			wlog(w, job, "done in %.1f s", (double)wall_ms / 1000.0);
		else
			wlog(w, job, "result dropped: %s", err.msg);
		return 0;
	}
	fill_claim(w, &co);
	sq_job_init(&next);
	got = sq_queue_complete_and_claim(w->q, job, w->id, result_json, &co, &next, &err);
	if (got < 0)
		wlog(w, job, "result dropped: %s", err.msg);
	else
		wlog(w, job, "done in %.1f s", (double)wall_ms / 1000.0);
	if (got > 0) {
		sq_job_release(job);
		*job = next;
	}
	return got > 0;
}

/* Reports a failed or cancelled run to the queue and the log. */
static void settle_failure(struct worker *w, const struct sq_job *job, const struct sq_err *serr)
{
	struct sq_err err;
	int dead = 0;

	if (serr->code == SQ_ERR_CANCEL) {
		if (sq_queue_release(w->q, job, w->id, &err) == 0)
			wlog(w, job, "handed back: %s", serr->msg);
		else
			wlog(w, job, "hand back failed: %s", err.msg);
		return;
	}
	if (sq_queue_fail(w->q, job, w->id, serr->msg, 0, &dead, &err) < 0)
		wlog(w, job, "failure not recorded: %s (error was: %s)", err.msg, serr->msg);
	else
		wlog(w, job, "%s: %s",
		     dead ? "failed for good, dead-lettered" : "failed, will retry", serr->msg);
	if (dead && w->dead_lettered)
		atomic_fetch_add(w->dead_lettered, 1);
}

/* Runs the job and settles it. Returns 1 if job was refilled with the next lease. */
static int run_job(struct worker *w, struct sq_job *job)
{
	struct sq_stage_ctx sc = {.hooks = {.progress = on_progress,
					    .cancelled = on_cancelled,
					    .log = on_stage_log,
					    .ctx = w},
				  .gpu = w->gpu,
				  .hwaccel = w->opts->hwaccel,
				  .media = w->opts->media,
				  .worker_id = w->id};
	struct sq_err err = {0};
	struct sq_store_counters moved;
	long long t0 = sq_mono_ms();
	int rc, next = 0;

	wlog(w, job, "claimed (attempt %d, lease token %lld)", job->attempt, job->token);
	set_job(w, job);
	sq_store_counters(w->store, &moved);
	rc = run_stage(w, job, &sc, &err);
	log_moved(w, job, &moved);
	pthread_mutex_lock(&w->mu);
	w->job = NULL;
	pthread_mutex_unlock(&w->mu);
	if (atomic_load(&w->lease_lost))
		wlog(w, job, "abandoned: lease lost to another worker, result dropped");
	else if (rc == 0)
		next = settle_success(w, job, sc.result_json, sq_mono_ms() - t0);
	else
		settle_failure(w, job, &err);
	free(sc.result_json);
	return next;
}

/* One pass of the loop: 1 to go on, 0 when drained. job persists across passes
 * (*held says whether it holds a lease) so a completion can hand over the next. */
static int loop_once(struct worker *w, struct sq_job *job, int *held)
{
	struct sq_claim_opts co;
	struct sq_err err;
	long long pending = 0;
	int got;

	if (!*held) {
		fill_claim(w, &co);
		sq_job_release(job);
		sq_job_init(job);
		got = sq_queue_claim(w->q, &co, job, &err);
		if (got < 0) {
			wlog(w, NULL, "claim failed: %s", err.msg);
			sleep_ms(1000);
			return 1;
		}
		if (got == 0) {
			/* drained only when nothing is queued, waiting for a retry or
			 * running anywhere for our stages: a running extract may feed us */
			if (w->opts->drain && sq_queue_pending(w->q, &co, &pending, &err) == 0 &&
			    pending == 0)
				return 0;
			sq_queue_wait(w->q, &co, 1000, &err);
			return 1;
		}
	}
	*held = run_job(w, job);
	return 1;
}

static void stages_string(const struct sq_worker_opts *o, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < o->nstages && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "",
					 sq_stage_name(o->stages[i]));
}

int sq_worker_run_one(const struct sq_worker_opts *opts, int slot, const char *worker_id,
		      atomic_llong *dead_lettered, struct sq_err *err)
{
	struct worker w = {.opts = opts, .id = worker_id, .dead_lettered = dead_lettered};
	struct sq_job job;
	int rc = -1, held = 0;

	w.gpu = opts->ngpus ? opts->gpus[(size_t)slot % opts->ngpus] : NULL;
	stages_string(opts, w.stages_str, sizeof(w.stages_str));
	pthread_mutex_init(&w.mu, NULL);
	while (!(w.q = open_queue(&w, 600000, outage_main, err)) && !stopping(&w)) {
		wlog(&w, NULL, "cannot reach redis, retrying: %s", err->msg);
		sleep_ms(2000);
	}
	if (!w.q)
		goto out;
	if (pthread_create(&w.hb_thread, NULL, heartbeat_main, &w) != 0) {
		sq_error(err, SQ_ERR_IO, "cannot start the heartbeat thread");
		goto out;
	}
	w.hb_started = 1;
	wlog(&w, NULL, "worker %s serving %s%s%s", w.id, w.stages_str, w.gpu ? " on gpu " : "",
	     w.gpu ? w.gpu : "");
	sq_job_init(&job);
	while (!stopping(&w) && loop_once(&w, &job, &held))
		;
	if (held) /* stopped right after a completion handed us the next job */
		sq_queue_release(w.q, &job, w.id, NULL);
	sq_job_release(&job);
	wlog(&w, NULL, "worker %s exiting (%s)", w.id, stopping(&w) ? "stopped" : "drained");
	rc = 0;
out:
	atomic_store(&w.quit, 1);
	if (w.hb_started)
		pthread_join(w.hb_thread, NULL);
	if (w.q)
		sq_queue_worker_gone(w.q, w.id, NULL);
	sq_queue_free(w.q);
	close_store(&w);
	pthread_mutex_destroy(&w.mu);
	return rc;
}

static int probe_adapter(void *ctx, const char *video, struct sq_err *err)
{
	const struct sq_media_read_opts *read = ctx;

	return sq_media_probe(video, read, NULL, err);
}

static int identify_adapter(void *ctx, const char *video, struct sq_video_id *id,
			    struct sq_err *err)
{
	(void)ctx;
	const struct sq_media_read_opts *read = ctx;

	return sq_media_identify(video, read, id, err);
}

/* The group stitch of a single task: the task's reconstruction passes through. */
static int local_stitch(const struct sq_task *t, struct sq_stage_ctx *sc, struct sq_err *err)
{
	struct sq_stitch_spec s;
	const char *inputs[1] = {t->outdir};
	int rc;

	sq_stitch_spec_init(&s);
	sq_stitch_spec_of_task(t, &s);
	rc = sq_stage_run_stitch(&s, inputs, 1, sc, err);
	sq_stitch_spec_release(&s);
	return rc;
}

int sq_worker_run_local(const char *task_file, int stage, const struct sq_worker_opts *opts,
			struct sq_err *err)
{
	struct sq_taskfile_opts to = {
	    .probe = probe_adapter, .probe_ctx = (void *)opts->media, .identify = identify_adapter};
	struct sq_diags diags = SQ_DIAGS_INIT;
	struct worker w = {.opts = opts, .id = "local"};
	struct sq_stage_ctx sc = {.hooks = {.progress = on_progress,
					    .cancelled = on_cancelled,
					    .log = on_stage_log,
					    .ctx = &w},
				  .hwaccel = opts->hwaccel,
				  .media = opts->media};
	struct sq_task t;
	int rc = -1;

	pthread_mutex_init(&w.mu, NULL);
	sq_task_init(&t);
	if (sq_taskfile_load_one(task_file, &to, &t, &diags) < 0) {
		char *msg = diags.n ? sq_diag_format(&diags.v[0]) : xstrdup(task_file);

		sq_error(err, SQ_ERR_INVALID, "%s%s", msg, diags.n > 1 ? " (and more)" : "");
		free(msg);
		goto out;
	}
	if (store_for(&w, t.output_root, &sc, err) < 0)
		goto out;
	for (int s = 0; s < SQ_STAGE_COUNT; s++) {
		if ((stage < 0 && s == SQ_STAGE_STITCH) || (stage >= 0 && s != stage))
			continue;
		wlog(&w, NULL, "%s %s: %s", t.name, sq_stage_name((enum sq_stage)s), "started");
		rc = s == SQ_STAGE_STITCH ? local_stitch(&t, &sc, err)
					  : sq_stage_run_task(&t, (enum sq_stage)s, &sc, err);
		free(sc.result_json);
		sc.result_json = NULL;
		if (rc < 0)
			goto out;
		wlog(&w, NULL, "%s %s: %s", t.name, sq_stage_name((enum sq_stage)s), "done");
	}
	rc = 0;
out:
	sq_task_release(&t);
	sq_diags_release(&diags);
	close_store(&w);
	pthread_mutex_destroy(&w.mu);
	return rc;
}
