/* queue_repair.c - the queue operations scanq-repair needs: read job states,
 * re-inject tasks and stitches, record work Redis lost (reinject.lua). */
#include "queue/queue.h"

#include "queue/queue_priv.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/banned.h"

/* reinject.lua refused (a key of the wrong type; nothing written): that is
 * SQ_ERR_INVALID, not an unreachable Redis. Returns -1. */
static int refused(struct sq_err *err)
{
	if (err && err->code == SQ_ERR_REDIS && strstr(err->msg, "cannot repair '"))
		err->code = SQ_ERR_INVALID;
	return -1;
}

/* One job of reinject.lua 'states': {state, stage, version} or {'!', why}. */
static void fill_state(const struct sq_reply *rep, struct sq_job_info *out)
{
	const char *state = sq_reply_str(rep, 0), *stage = sq_reply_str(rep, 1),
		   *version = sq_reply_str(rep, 2);
	int s = stage ? sq_stage_parse(stage) : -1;

	memset(out, 0, sizeof(*out));
	if (state && strcmp(state, "!") == 0) {
		out->exists = 1;
		snprintf(out->unreadable, sizeof(out->unreadable), "%s",
			 stage ? stage : "cannot be read");
		return;
	}
	out->exists = state != NULL;
	out->state = sq_job_state_parse(state);
	out->stage = s < 0 ? SQ_STAGE_EXTRACT : (enum sq_stage)s;
	snprintf(out->version, sizeof(out->version), "%s", version ? version : "");
}

/* The states of jids[0..n) in one script call. */
static int states_chunk(struct sq_queue *q, const char *acq, const char *const *jids, size_t n,
			struct sq_job_info *out, struct sq_err *err)
{
	struct sq_redis_args a;
	struct sq_reply *rep;
	size_t i;

	sq_queue_args_start(q, &a);
	sq_redis_args_add(&a, "states");
	sq_redis_args_add(&a, acq);
	sq_redis_args_addll(&a, (long long)n);
	for (i = 0; i < n; i++)
		sq_redis_args_add(&a, jids[i]);
	rep = sq_queue_eval(q, SQ_SCRIPT_REINJECT, &a, err);
	sq_redis_args_release(&a);
	if (!rep)
		return -1;
	for (i = 0; i < n; i++)
		fill_state(rep->type == SQ_REPLY_ARRAY && i < rep->nelements ? &rep->elements[i]
									     : NULL,
			   &out[i]);
	sq_reply_free(rep);
	return 0;
}

int sq_queue_job_states(struct sq_queue *q, const char *acq, const char *const *jids, size_t n,
			struct sq_job_info *out, struct sq_err *err)
{
	size_t done, chunk;

	for (done = 0; done < n; done += chunk) {
		chunk = n - done < SQ_REDIS_PIPELINE ? n - done : SQ_REDIS_PIPELINE;
		if (states_chunk(q, acq, jids + done, chunk, out + done, err) < 0)
			return -1;
	}
	return 0;
}

int sq_queue_register_acq(struct sq_queue *q, const struct sq_task *tasks, size_t ntasks,
			  const struct sq_stitch_spec *stitch, const char *task_dir,
			  struct sq_err *err)
{
	struct sq_redis_args a;
	struct sq_reply *rep;

	if (!stitch || !stitch->acquisition || !sq_name_valid(stitch->acquisition) ||
	    !stitch->outdir)
		return sq_error(err, SQ_ERR_INVALID, "cannot register: bad acquisition");
	sq_queue_args_start(q, &a);
	sq_redis_args_add(&a, "acq");
	sq_queue_add_acq(&a, stitch);
	sq_redis_args_add(&a, task_dir);
	sq_queue_add_stitch_specs(&a, tasks, ntasks, stitch);
	sq_redis_args_addll(&a, (long long)ntasks);
	for (size_t i = 0; i < ntasks; i++) {
		sq_redis_args_add(&a, tasks[i].name);
		sq_redis_args_add(&a, tasks[i].group);
	}
	rep = sq_queue_eval(q, SQ_SCRIPT_REINJECT, &a, err);
	sq_redis_args_release(&a);
	sq_reply_free(rep);
	return rep ? 0 : refused(err);
}

/* Runs reinject.lua; *injected receives its 0/1. */
static int reinject(struct sq_queue *q, struct sq_redis_args *a, long long *injected,
		    struct sq_err *err)
{
	struct sq_reply *rep = sq_queue_eval(q, SQ_SCRIPT_REINJECT, a, err);

	sq_redis_args_release(a);
	if (!rep)
		return refused(err);
	*injected = rep->type == SQ_REPLY_INTEGER ? rep->integer : 0;
	sq_reply_free(rep);
	return 0;
}

int sq_queue_reinject_task(struct sq_queue *q, const struct sq_task *t, enum sq_stage from,
			   int retry_failed, struct sq_err *err)
{
	struct sq_redis_args a;
	long long injected;

	if (from != SQ_STAGE_EXTRACT && from != SQ_STAGE_RECONSTRUCT)
		return sq_error(err, SQ_ERR_INVALID, "cannot re-inject task '%s' at stage '%s'",
				t->name ? t->name : "",
				sq_stage_name(from) ? sq_stage_name(from) : "?");
	sq_queue_args_start(q, &a);
	sq_redis_args_add(&a, "task");
	if (sq_queue_add_task(&a, t, err) < 0) {
		sq_redis_args_release(&a);
		return -1;
	}
	sq_redis_args_add(&a, sq_stage_name(from));
	sq_redis_args_add(&a, retry_failed ? "1" : "0");
	if (reinject(q, &a, &injected, err) < 0)
		return -1;
	return injected ? 1 : 0;
}

int sq_queue_mark_task_done(struct sq_queue *q, const struct sq_task *t, struct sq_err *err)
{
	struct sq_redis_args a;
	long long marked;

	sq_queue_args_start(q, &a);
	sq_redis_args_add(&a, "done");
	if (sq_queue_add_task(&a, t, err) < 0) {
		sq_redis_args_release(&a);
		return -1;
	}
	if (reinject(q, &a, &marked, err) < 0)
		return -1;
	return marked ? 1 : 0;
}

/* Starts reinject.lua's ARGV for a stitch: P mode acq sjid group spec version
 * outdir max_attempts backoff_ms need_vram need_ram. -1 for a bad spec. */
static int stitch_args(struct sq_queue *q, struct sq_redis_args *a, const char *mode,
		       const struct sq_stitch_spec *s, struct sq_err *err)
{
	char *json, *sjid;

	if (!s->acquisition || !sq_name_valid(s->acquisition) || !s->outdir ||
	    (s->group && !sq_name_valid(s->group)) || !s->version[0])
		return sq_error(err, SQ_ERR_INVALID, "cannot %s stitch of '%s': bad spec",
				strcmp(mode, "stitch") == 0 ? "re-inject" : "record",
				s->acquisition ? s->acquisition : "");
	json = sq_stitch_spec_to_json(s);
	sjid = s->group ? xasprintf("@group:%s", s->group) : xstrdup("@acq");
	sq_queue_args_start(q, a);
	sq_redis_args_add(a, mode);
	sq_redis_args_add(a, s->acquisition);
	sq_redis_args_add(a, sjid);
	sq_redis_args_add(a, s->group);
	sq_redis_args_add(a, json);
	sq_redis_args_add(a, s->version);
	sq_redis_args_add(a, s->outdir);
	sq_redis_args_addll(a, s->retry.max_attempts > 0 ? s->retry.max_attempts : 1);
	sq_redis_args_addll(a, s->retry.backoff_ms);
	sq_redis_args_addll(a, s->backend.min_vram_mib);
	sq_redis_args_addll(a, s->backend.min_ram_mib);
	free(json);
	free(sjid);
	return 0;
}

int sq_queue_reinject_stitch(struct sq_queue *q, const struct sq_stitch_spec *s, int retry_failed,
			     struct sq_err *err)
{
	struct sq_redis_args a;
	long long injected;

	if (stitch_args(q, &a, "stitch", s, err) < 0)
		return -1;
	sq_redis_args_add(&a, retry_failed ? "1" : "0");
	if (reinject(q, &a, &injected, err) < 0)
		return -1;
	return injected ? 1 : 0;
}

int sq_queue_mark_stitch_done(struct sq_queue *q, const struct sq_stitch_spec *s,
			      struct sq_err *err)
{
	struct sq_redis_args a;
	long long marked;

	if (stitch_args(q, &a, "stitch_done", s, err) < 0)
		return -1;
	if (reinject(q, &a, &marked, err) < 0)
		return -1;
	return marked ? 1 : 0;
}
