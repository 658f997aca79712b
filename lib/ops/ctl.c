/* ctl.c - scanq-ctl's verbs: the table, operand parsing, and running one (the
 * text each prints is in ctl_text.c). */
#include "ops/ctl.h"
#include "ops/ctl_text.h"
#include "ops/detail.h"
#include "queue/queue.h"
#include "base/xalloc.h"
#include "task/task.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

const struct sq_ctl_verb_info sq_ctl_verbs[SQ_CTL_VERB_COUNT] = {
    [SQ_CTL_SHOW] = {.name = "show",
		     .operand = SQ_CTL_ACQ_TARGET,
		     .args = "ACQ[/GROUP|/TASK]",
		     .flags = "[--log-lines N]",
		     .text =
			 "the acquisition's jobs, or one job: states, attempts, history, errors, "
			 "quality, provenance, log tail"},
    [SQ_CTL_CANCEL] = {.name = "cancel",
		       .operand = SQ_CTL_ACQ_TARGET,
		       .args = "ACQ[/GROUP|/TASK]",
		       .flags = "",
		       .text = "cancel jobs not done: queued ones leave their queue, running ones "
			       "are stopped; the stitches are re-planned without them",
		       .web = 1},
    [SQ_CTL_PAUSE] = {.name = "pause",
		      .operand = SQ_CTL_ACQ,
		      .args = "ACQ",
		      .flags = "",
		      .text = "workers stop claiming the acquisition's jobs; running ones finish",
		      .web = 1},
    [SQ_CTL_RESUME] = {.name = "resume",
		       .operand = SQ_CTL_ACQ,
		       .args = "ACQ",
		       .flags = "",
		       .text = "undo pause",
		       .web = 1},
    [SQ_CTL_RETRY] = {.name = "retry",
		      .operand = SQ_CTL_ACQ_TARGET,
		      .args = "ACQ[/GROUP|/TASK]",
		      .flags = "[--cancelled]",
		      .text = "dead-lettered jobs (and cancelled ones with --cancelled) back to "
			      "their queue",
		      .web = 1},
    [SQ_CTL_CLEAR] = {.name = "clear",
		      .operand = SQ_CTL_ACQ_TARGET,
		      .args = "ACQ[/GROUP|/TASK]",
		      .flags = "",
		      .text = "drop dead letters (the jobs stay failed)",
		      .web = 1},
    [SQ_CTL_FORGET] = {.name = "forget",
		       .operand = SQ_CTL_ACQ,
		       .args = "ACQ",
		       .flags = "[--force]",
		       .text = "remove the acquisition from Redis (outputs stay); refused while a "
			       "job runs unless --force"},
    [SQ_CTL_WORKERS] = {.name = "workers",
			.operand = SQ_CTL_NONE,
			.args = "",
			.flags = "[--forget-dead] [--dead-after DURATION]",
			.text = "workers: host, pid, GPU, heartbeat, current job"},
};

int sq_ctl_verb_find(const char *name)
{
	for (int i = 0; i < SQ_CTL_VERB_COUNT; i++)
		if (name && strcmp(name, sq_ctl_verbs[i].name) == 0)
			return i;
	return -1;
}

void sq_ctl_req_init(struct sq_ctl_req *r)
{
	memset(r, 0, sizeof(*r));
}

void sq_ctl_req_release(struct sq_ctl_req *r)
{
	free(r->acq);
	free(r->target);
	sq_ctl_req_init(r);
}

/* A target: a name, "@acq" or "@group:<name>". */
static int target_valid(const char *t)
{
	if (strcmp(t, "@acq") == 0)
		return 1;
	if (strncmp(t, "@group:", 7) == 0)
		return sq_name_valid(t + 7);
	return sq_name_valid(t);
}

int sq_ctl_parse_operand(struct sq_ctl_req *r, const char *operand, struct sq_err *err)
{
	const struct sq_ctl_verb_info *v = &sq_ctl_verbs[r->verb];
	const char *slash = strchr(operand, '/');
	char *acq = slash ? xstrndup(operand, (size_t)(slash - operand)) : xstrdup(operand);

	if (!sq_name_valid(acq)) {
		free(acq);
		return sq_error(err, SQ_ERR_INVALID, "bad acquisition name in '%s'", operand);
	}
	if (slash && v->operand != SQ_CTL_ACQ_TARGET) {
		free(acq);
		return sq_error(err, SQ_ERR_INVALID, "%s takes an acquisition, not '%s'", v->name,
				operand);
	}
	if (slash && !target_valid(slash + 1)) {
		free(acq);
		return sq_error(err, SQ_ERR_INVALID, "bad task or group name in '%s'", operand);
	}
	free(r->acq);
	free(r->target);
	r->acq = acq;
	r->target = slash ? xstrdup(slash + 1) : NULL;
	return 0;
}

/* show of one job (a task, "@acq" or "@group:..."), rather than an overview
 * (show.lua writes "job":{ for one, "jobs":[ for the other): told without
 * parsing an overview of thousands of jobs. */
static int is_job_doc(const char *json)
{
	return strstr(json, ",\"job\":{") != NULL;
}

static char *show(struct sq_queue *q, const struct sq_ctl_req *r, struct sq_err *err)
{
	struct sq_detail_opts o = {.log_lines = r->log_lines, .store = r->store};
	char *json = sq_queue_show(q, r->acq, r->target, err), *full;

	if (!json || !is_job_doc(json))
		return json;
	full = sq_detail_job(json, &o, err);
	free(json);
	return full;
}

char *sq_ctl_doc(struct sq_queue *q, const struct sq_ctl_req *r, struct sq_err *err)
{
	switch (r->verb) {
	case SQ_CTL_SHOW:
		return show(q, r, err);
	case SQ_CTL_CANCEL:
		return sq_queue_cancel(q, r->acq, r->target, err);
	case SQ_CTL_PAUSE:
	case SQ_CTL_RESUME:
		return sq_queue_pause(q, r->acq, r->verb == SQ_CTL_PAUSE, err);
	case SQ_CTL_RETRY:
		return sq_queue_retry(q, r->acq, r->target, r->cancelled, err);
	case SQ_CTL_CLEAR:
		return sq_queue_clear(q, r->acq, r->target, err);
	case SQ_CTL_FORGET:
		return sq_queue_forget(q, r->acq, r->force, err);
	case SQ_CTL_WORKERS:
		return sq_queue_workers(
		    q, r->dead_after_ms > 0 ? r->dead_after_ms : SQ_CTL_DEAD_AFTER_MS,
		    r->forget_dead, err);
	default:
		sq_error(err, SQ_ERR_INVALID, "unknown verb");
		return NULL;
	}
}

int sq_ctl_run(struct sq_queue *q, const struct sq_ctl_req *r, int json, struct sq_strbuf *out,
	       struct sq_err *err)
{
	char *doc = sq_ctl_doc(q, r, err);
	int rc = 0;

	if (!doc)
		return -1;
	if (json) {
		sq_strbuf_adds(out, doc);
		sq_strbuf_addch(out, '\n');
	} else {
		rc = sq_ctl_text(r, doc, out, err);
	}
	free(doc);
	return rc;
}
