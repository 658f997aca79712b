/* queue_ctl.c - the operator actions: C side of cancel, pause, retry, clear,
 * forget, show and workers (lib/queue/lua/, one script each).
 *
 * Every script answers one JSON document; a refusal (unknown acquisition or
 * target, forget while a job runs) is {"error": ...}, which becomes
 * SQ_ERR_INVALID here so programs can tell it from Redis failing. */
#include "queue/queue.h"
#include "queue/queue_priv.h"
#include "base/xalloc.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include "base/banned.h"

/* A refusal's message, or NULL for an answer. */
static int refused(const char *json, struct sq_err *err)
{
	cJSON *doc;
	const cJSON *e;
	int no = 0;

	if (strncmp(json, "{\"error\":", 9) != 0)
		return 0;
	doc = cJSON_Parse(json);
	e = cJSON_GetObjectItemCaseSensitive(doc, "error");
	if (cJSON_IsString(e)) {
		sq_error(err, SQ_ERR_INVALID, "%s", e->valuestring);
		no = 1;
	}
	cJSON_Delete(doc);
	return no;
}

/* Runs an operator script (args: what follows P) and returns its document. */
static char *eval_doc(struct sq_queue *q, enum sq_queue_script script, struct sq_redis_args *a,
		      struct sq_err *err)
{
	struct sq_reply *rep = sq_queue_eval(q, script, a, err);
	char *json = NULL;

	sq_redis_args_release(a);
	if (!rep)
		return NULL;
	if (rep->type != SQ_REPLY_STRING)
		sq_error(err, SQ_ERR_REDIS, "an operator script returned no document");
	else if (!refused(rep->str, err))
		json = xstrdup(rep->str);
	sq_reply_free(rep);
	return json;
}

/* P acq target: the start of the target-taking scripts. */
static void target_args(struct sq_queue *q, struct sq_redis_args *a, const char *acq,
			const char *target)
{
	sq_queue_args_start(q, a);
	sq_redis_args_add(a, acq);
	sq_redis_args_add(a, target ? target : "");
}

static int check_acq(const char *acq, struct sq_err *err)
{
	if (!acq || !sq_name_valid(acq))
		return sq_error(err, SQ_ERR_INVALID, "bad acquisition name '%s'", acq ? acq : "");
	return 0;
}

char *sq_queue_cancel(struct sq_queue *q, const char *acq, const char *target, struct sq_err *err)
{
	struct sq_redis_args a;

	if (check_acq(acq, err) < 0)
		return NULL;
	target_args(q, &a, acq, target);
	return eval_doc(q, SQ_SCRIPT_CANCEL, &a, err);
}

char *sq_queue_pause(struct sq_queue *q, const char *acq, int pause, struct sq_err *err)
{
	struct sq_redis_args a;

	if (check_acq(acq, err) < 0)
		return NULL;
	sq_queue_args_start(q, &a);
	sq_redis_args_add(&a, pause ? "pause" : "resume");
	sq_redis_args_add(&a, acq);
	return eval_doc(q, SQ_SCRIPT_PAUSE, &a, err);
}

char *sq_queue_retry(struct sq_queue *q, const char *acq, const char *target, int cancelled_too,
		     struct sq_err *err)
{
	struct sq_redis_args a;

	if (check_acq(acq, err) < 0)
		return NULL;
	target_args(q, &a, acq, target);
	sq_redis_args_add(&a, cancelled_too ? "1" : "0");
	return eval_doc(q, SQ_SCRIPT_RETRY, &a, err);
}

char *sq_queue_clear(struct sq_queue *q, const char *acq, const char *target, struct sq_err *err)
{
	struct sq_redis_args a;

	if (check_acq(acq, err) < 0)
		return NULL;
	target_args(q, &a, acq, target);
	return eval_doc(q, SQ_SCRIPT_CLEAR, &a, err);
}

char *sq_queue_forget(struct sq_queue *q, const char *acq, int force, struct sq_err *err)
{
	struct sq_redis_args a;

	if (check_acq(acq, err) < 0)
		return NULL;
	sq_queue_args_start(q, &a);
	sq_redis_args_add(&a, acq);
	sq_redis_args_add(&a, force ? "1" : "0");
	return eval_doc(q, SQ_SCRIPT_FORGET, &a, err);
}

char *sq_queue_show(struct sq_queue *q, const char *acq, const char *target, struct sq_err *err)
{
	struct sq_redis_args a;

	if (check_acq(acq, err) < 0)
		return NULL;
	target_args(q, &a, acq, target);
	return eval_doc(q, SQ_SCRIPT_SHOW, &a, err);
}

char *sq_queue_workers(struct sq_queue *q, long long dead_after_ms, int forget_dead,
		       struct sq_err *err)
{
	struct sq_redis_args a;

	sq_queue_args_start(q, &a);
	sq_redis_args_addll(&a, dead_after_ms);
	sq_redis_args_add(&a, forget_dead ? "1" : "0");
	return eval_doc(q, SQ_SCRIPT_WORKERS, &a, err);
}
