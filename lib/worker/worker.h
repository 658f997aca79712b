/* worker.h - the worker: a supervisor forking one process per slot, each claiming
 * jobs from the queue, running their stage and recording the outcome.
 *
 * Signals belong to the program: it installs handlers that set *stop (first
 * SIGTERM/SIGINT: 1 = stop claiming, finish the running job within grace_ms, else
 * hand it back; second: 2 = hand back at once). The supervisor forwards them to
 * its children. */
#ifndef SQ_WORKER_H
#define SQ_WORKER_H

#include "base/err.h"
#include "base/hooks.h"
#include "task/task.h"

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>

struct sq_media_read_opts; /* media/media.h */

#define SQ_WORKER_SCRATCH_DEFAULT "/var/tmp/scanq"

struct sq_worker_opts {
	const char *redis_url; /* NULL: default */
	const char *prefix;
	enum sq_stage stages[SQ_STAGE_COUNT];
	size_t nstages;
	const char *const *acqs; /* NULL/0: all */
	size_t nacqs;
	int nprocs;		  /* slots (processes) */
	const char *const *gpus; /* round-robin over slots; NULL/0: none */
	size_t ngpus;
	int drain;		/* exit once nothing is queued or running for our stages */
	int hwaccel;		/* extract: try hardware decoding */
	/* how videos are read: SSH options, stall timeout (borrowed); NULL: defaults */
	const struct sq_media_read_opts *media;
	/* Where stages whose output root is on a storage host (sftp://) work and
	 * keep copies (stage/scratch.h); NULL: SQ_WORKER_SCRATCH_DEFAULT. */
	const char *scratch_dir;
	long long scratch_max_bytes; /* its cap; 0: scratch.h's default */
	long long lease_ms;	/* 0: queue default */
	long long grace_ms;	/* on stop: how long the running job may finish */
	volatile sig_atomic_t *stop;
	/* log: one line per event (already formatted with time, host:pid, job,
	 * stage); progress and cancelled are not used (stop is the flag above). */
	struct sq_hooks hooks;
};

/* Runs the pool until stopped or drained: forks nprocs workers, restarts one that
 * dies (handing its job back at once). At start it logs the GPUs of opts->gpus
 * that this host cannot see (no nvidia-smi, or an id it does not list): their
 * slots never claim a job that needs VRAM. Returns, on a clean stop or drain,
 * how many jobs the pool ran that ended dead-lettered: failed for good by one
 * of its workers, or crashed on their last attempt with the worker running
 * them (0 when none); -1 with err when the pool cannot run.
 *
 * Output roots. Before the first job of each output root, a worker process
 * checks that it sees the root and can write in it (a probe file); before
 * every job, that the root is still there. A local root must be a shared
 * filesystem mounted at the same path on every host: a host where it is not
 * mounted fails the job with that said, instead of writing the outputs to its
 * own disk under the mount point. */
int sq_worker_run_pool(const struct sq_worker_opts *opts, struct sq_err *err);

/* Runs one worker loop in this process (slot: index for GPU assignment). Each
 * job it fails for good (dead-lettered) adds 1 to *dead_lettered (may be NULL;
 * may live in memory shared with the supervisor). Returns 0, or -1 with err. */
int sq_worker_run_one(const struct sq_worker_opts *opts, int slot, const char *worker_id,
		      atomic_llong *dead_lettered, struct sq_err *err);

/* Runs stages of one task file in-process, without Redis. stage < 0: extract and
 * reconstruct; otherwise only that stage (stitch: the task's group stitch with the
 * task as its only input). */
int sq_worker_run_local(const char *task_file, int stage, const struct sq_worker_opts *opts,
			struct sq_err *err);

#endif
