/* fixture.h - helpers shared by the tests/redis programs: open a queue, build
 * an acquisition of tasks to enqueue, read a job hash field straight from
 * Redis to check what the scripts wrote. */
#ifndef SQ_TEST_REDIS_FIXTURE_H
#define SQ_TEST_REDIS_FIXTURE_H

#include "queue/queue.h"
#include "queue/queue_priv.h"
#include "base/xalloc.h"
#include "t.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Opens a queue on SCANQ_REDIS under prefix, or exits: a test without its Redis
 * has nothing to check. eval_only: run the scripts as EVALSHA, not functions. */
static inline struct sq_queue *fx_open(const char *prefix, long long lease_ms, int eval_only)
{
	struct sq_queue_opts o = {getenv("SCANQ_REDIS"), prefix, lease_ms, 0, 0};
	struct sq_err err = {0};
	struct sq_queue *q = sq_queue_open(&o, &err);

	if (!q) {
		fprintf(stderr, "cannot open queue: %s\n", err.msg);
		exit(1);
	}
	sq_redis_debug_eval_only(sq_queue_redis(q), eval_only);
	return q;
}

/* An acquisition of ngroups x per_group tasks named g<G>-<i> in groups g1, g2,
 * ..., with its stitch spec, ready for sq_queue_enqueue (acq_make). */
struct acq {
	struct sq_task *tasks;
	size_t n;
	struct sq_stitch_spec stitch;
	enum sq_enqueue_outcome *out; /* n entries */
};

/* One task of acquisition acq with one video; max_attempts <= 0 keeps the task
 * model's retry defaults. */
static inline void task_make(struct sq_task *t, const char *acq, const char *group,
			     const char *name, int max_attempts, long long backoff_ms)
{
	sq_task_init(t);
	t->acquisition = xstrdup(acq);
	t->group = xstrdup(group);
	t->name = xstrdup(name);
	t->output_root = xasprintf("/out/%s", acq);
	t->videos = xcalloc(1, sizeof(*t->videos));
	t->videos[0] = xasprintf("/videos/%s.mp4", name);
	t->nvideos = 1;
	if (max_attempts > 0) {
		t->retry.max_attempts = max_attempts;
		t->retry.backoff_ms = backoff_ms;
	}
	sq_task_finalize(t);
}

static inline void acq_make(struct acq *a, const char *name, int ngroups, int per_group,
			    int max_attempts, long long backoff_ms)
{
	size_t cap = (size_t)(ngroups * per_group) + 1;

	memset(a, 0, sizeof(*a));
	a->tasks = xcalloc(cap, sizeof(*a->tasks));
	a->out = xcalloc(cap, sizeof(*a->out));
	for (int g = 1; g <= ngroups; g++)
		for (int i = 1; i <= per_group; i++) {
			char group[16], task[32];

			snprintf(group, sizeof(group), "g%d", g);
			snprintf(task, sizeof(task), "g%d-%d", g, i);
			task_make(&a->tasks[a->n++], name, group, task, max_attempts, backoff_ms);
		}
	sq_stitch_spec_init(&a->stitch);
	a->stitch.acquisition = xstrdup(name);
	a->stitch.outdir = xasprintf("/out/%s", name);
	sq_stitch_spec_finalize(&a->stitch);
}

static inline void acq_free(struct acq *a)
{
	for (size_t i = 0; i < a->n; i++)
		sq_task_release(&a->tasks[i]);
	free(a->tasks);
	free(a->out);
	sq_stitch_spec_release(&a->stitch);
}

/* HGET P job:<acq>:<jid> f, as a new string or NULL. */
static inline char *field(struct sq_queue *q, const char *acq, const char *jid, const char *f)
{
	struct sq_redis_args a = SQ_REDIS_ARGS_INIT;
	struct sq_err err = {0};
	struct sq_reply *rep;
	char *v = NULL;

	sq_redis_args_add(&a, "HGET");
	sq_redis_args_addf(&a, "%sjob:%s:%s", sq_queue_prefix(q), acq, jid);
	sq_redis_args_add(&a, f);
	rep = sq_redis_command(sq_queue_redis(q), &a, &err);
	if (rep && rep->type == SQ_REPLY_STRING)
		v = xstrdup(rep->str);
	sq_reply_free(rep);
	sq_redis_args_release(&a);
	return v;
}

static inline long long field_ll(struct sq_queue *q, const char *acq, const char *jid, const char *f)
{
	char *v = field(q, acq, jid, f);
	long long n = v ? strtoll(v, NULL, 10) : -1;

	free(v);
	return n;
}

#define T_FIELD(q, acq, jid, f, want)                                                              \
	do {                                                                                       \
		char *t_v_ = field(q, acq, jid, f);                                                \
		T_EQ_STR(t_v_, want);                                                              \
		free(t_v_);                                                                        \
	} while (0)

/* One raw command (NULL-terminated arguments); the reply (free with
 * sq_reply_free) or NULL, which an error reply is too. */
static inline struct sq_reply *fx_cmd(struct sq_queue *q, const char *first, ...)
{
	struct sq_redis_args a = SQ_REDIS_ARGS_INIT;
	struct sq_err err = {0};
	struct sq_reply *rep;
	const char *s;
	va_list ap;

	va_start(ap, first);
	for (s = first; s; s = va_arg(ap, const char *))
		sq_redis_args_add(&a, s);
	va_end(ap);
	rep = sq_redis_command(sq_queue_redis(q), &a, &err);
	sq_redis_args_release(&a);
	return rep;
}

/* fx_cmd's reply as an integer (decimal strings too), -1 when none. */
static inline long long fx_int(struct sq_queue *q, const char *c, const char *k, const char *arg)
{
	struct sq_reply *rep = fx_cmd(q, c, k, arg, NULL);
	long long v = -1;

	if (rep && rep->type == SQ_REPLY_INTEGER)
		v = rep->integer;
	else if (rep && rep->type == SQ_REPLY_STRING)
		v = strtoll(rep->str, NULL, 10);
	sq_reply_free(rep);
	return v;
}

/* P<fmt> in a rotating static buffer. */
static inline const char *fx_key(struct sq_queue *q, const char *fmt, ...)
{
	static char bufs[8][256];
	static int next;
	char *b = bufs[next++ % 8];
	size_t n = (size_t)snprintf(b, 256, "%s", sq_queue_prefix(q));
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b + n, 256 - n, fmt, ap);
	va_end(ap);
	return b;
}

static inline void fx_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

#endif
