/* queue_priv.h - what queue.c and queue_repair.c share; not for other modules.
 *
 * Tests may include it to reach the Redis connection's fault-injection seam. */
#ifndef SQ_QUEUE_PRIV_H
#define SQ_QUEUE_PRIV_H

#include "queue/queue.h"
#include "queue/redis.h"
#include "queue/task_args.h"

enum sq_queue_script {
	SQ_SCRIPT_CLAIM = 0,
	SQ_SCRIPT_COMPLETE,
	SQ_SCRIPT_ENQUEUE,
	SQ_SCRIPT_FAIL,
	SQ_SCRIPT_HEARTBEAT,
	SQ_SCRIPT_PENDING,
	SQ_SCRIPT_RELEASE,
	SQ_SCRIPT_RELEASE_OWNER,
	SQ_SCRIPT_SNAPSHOT,
	SQ_SCRIPT_REINJECT,
	SQ_SCRIPT_WORKER,
	SQ_SCRIPT_CANCEL,
	SQ_SCRIPT_PAUSE,
	SQ_SCRIPT_RETRY,
	SQ_SCRIPT_CLEAR,
	SQ_SCRIPT_FORGET,
	SQ_SCRIPT_SHOW,
	SQ_SCRIPT_WORKERS,
	SQ_SCRIPT_COUNT,
};

struct sq_queue {
	struct sq_redis *redis;
	char *prefix;
	long long lease_ms;
	int script[SQ_SCRIPT_COUNT];	/* ids from sq_redis_script */
	void (*after_batch)(void *ctx); /* test seam, see sq_queue_debug_after_batch */
	void *after_batch_ctx;
};

/* Starts a script's ARGV: the key prefix always comes first. */
void sq_queue_args_start(const struct sq_queue *q, struct sq_redis_args *a);

/* Appends the task fields every task-writing script takes, in the order of
 * task_args.h (lua/lib/fanin.lua's task_fields reads them by the same list). -1 (SQ_ERR_INVALID) for a task that
 * cannot be pushed (bad names, not finalized). */
int sq_queue_add_task(struct sq_redis_args *a, const struct sq_task *t, struct sq_err *err);

/* The distinct group names of tasks, sorted (new array of strings borrowed
 * from tasks; free the array with free()). */
const char **sq_queue_groups(const struct sq_task *tasks, size_t n, size_t *count);

/* Appends an acquisition's registration as enqueue.lua 'acq' and reinject.lua
 * 'acq' take it: acq template output_root max_attempts backoff_ms need_vram
 * need_ram. */
void sq_queue_add_acq(struct sq_redis_args *a, const struct sq_stitch_spec *stitch);

/* Appends n {sjid group spec version outdir}*n: every group's stitch, then
 * '@acq' (last: the scripts count the groups first). */
void sq_queue_add_stitch_specs(struct sq_redis_args *a, const struct sq_task *tasks, size_t n,
			       const struct sq_stitch_spec *stitch);

/* Runs script with a as ARGV; returns its reply (free with sq_reply_free) or NULL. */
struct sq_reply *sq_queue_eval(struct sq_queue *q, enum sq_queue_script script,
			       const struct sq_redis_args *a, struct sq_err *err);

/* Test seam: fn(ctx) runs after each pipelined batch an enqueue pushes (a
 * test restarts Redis there, mid-push). NULL: none. */
void sq_queue_debug_after_batch(struct sq_queue *q, void (*fn)(void *ctx), void *ctx);

/* The Redis connection (for tests' fault injection). */
struct sq_redis *sq_queue_redis(struct sq_queue *q);

#endif
