/* fixture.h - helpers shared by the tests/redis programs: read a job hash field
 * straight from Redis, to check what the scripts wrote. */
#ifndef SQ_TEST_REDIS_FIXTURE_H
#define SQ_TEST_REDIS_FIXTURE_H

#include "queue.h"
#include "queue_priv.h"
#include "xalloc.h"
#include "t.h"

#include <stdio.h>
#include <stdlib.h>

/* Opens a queue on SCANQ_REDIS under prefix, or exits: a test without its Redis
 * has nothing to check. eval_only: run the scripts as EVALSHA, not functions. */
static struct sq_queue *fx_open(const char *prefix, long long lease_ms, int eval_only)
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

/* HGET P job:<acq>:<jid> f, as a new string or NULL. */
static char *field(struct sq_queue *q, const char *acq, const char *jid, const char *f)
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

static long long field_ll(struct sq_queue *q, const char *acq, const char *jid, const char *f)
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

#endif
