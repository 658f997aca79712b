/* ctl.h - scanq-ctl's library: the operator verbs, their arguments, and what
 * each prints (text for people, the action's JSON document for scripts).
 *
 * Every verb is one call of one queue action (queue.h, "operator actions"),
 * atomic and idempotent; show ACQ/TASK then reads the job's outputs on disk
 * (detail.h). The verbs are a table (sq_ctl_verbs) so the program's help, its
 * argument checks and the web console's actions come from one place. */
#ifndef SQ_CTL_H
#define SQ_CTL_H

#include "base/err.h"
#include "base/strbuf.h"

#include <stddef.h>

struct sq_queue;

enum sq_ctl_verb {
	SQ_CTL_SHOW = 0,
	SQ_CTL_CANCEL,
	SQ_CTL_PAUSE,
	SQ_CTL_RESUME,
	SQ_CTL_RETRY,
	SQ_CTL_CLEAR,
	SQ_CTL_FORGET,
	SQ_CTL_WORKERS,
	SQ_CTL_VERB_COUNT,
};

/* What a verb's operand may be. */
enum sq_ctl_operand {
	SQ_CTL_NONE,	   /* workers */
	SQ_CTL_ACQ,	   /* ACQ */
	SQ_CTL_ACQ_TARGET, /* ACQ[/TARGET] */
};

struct sq_ctl_verb_info {
	const char *name;
	enum sq_ctl_operand operand;
	const char *args;  /* for the usage line: "ACQ[/GROUP|/TASK]" */
	const char *flags; /* its own flags, for the usage line: "[--force]" */
	const char *text;  /* one line for --help */
	int web;	   /* offered as an action by the web console */
};

extern const struct sq_ctl_verb_info sq_ctl_verbs[SQ_CTL_VERB_COUNT];

/* The verb named name, or -1. */
int sq_ctl_verb_find(const char *name);

#define SQ_CTL_DEAD_AFTER_MS 60000 /* workers: dead without a heartbeat this long */

struct sq_store; /* stage/store.h */

struct sq_ctl_req {
	enum sq_ctl_verb verb;
	char *acq;		 /* NULL for workers */
	char *target;		 /* NULL: the whole acquisition */
	int force;		 /* forget: stop running jobs */
	int cancelled;		 /* retry: cancelled jobs too */
	int forget_dead;	 /* workers */
	long long dead_after_ms; /* workers; 0: SQ_CTL_DEAD_AFTER_MS */
	int log_lines;		 /* show: log tail; 0: the default */
	struct sq_store *store;	 /* show: reads sftp:// outdirs (borrowed); NULL: local only */
};

void sq_ctl_req_init(struct sq_ctl_req *r);
void sq_ctl_req_release(struct sq_ctl_req *r);

/* Fills r->acq and r->target from an operand "ACQ" or "ACQ/TARGET" for the
 * verb already in r: names are checked (sq_name_valid; a target may also be
 * "@acq" or "@group:<g>"), a target where the verb takes none is refused.
 * -1 with SQ_ERR_INVALID and a message naming the operand otherwise. */
int sq_ctl_parse_operand(struct sq_ctl_req *r, const char *operand, struct sq_err *err);

/* Runs r. Appends to out what happened: the action's JSON document (plus the
 * disk for show of one job) with a final newline when json, else text lines.
 * now_ms: the wall clock for ages in text (0: read it). -1 with err when the
 * action failed or was refused (nothing appended). */
int sq_ctl_run(struct sq_queue *q, const struct sq_ctl_req *r, int json, struct sq_strbuf *out,
	       struct sq_err *err);

/* The action alone, as the web console runs it: the new JSON document of
 * queue.h's action for r (show of one job with its disk), or NULL with err. */
char *sq_ctl_doc(struct sq_queue *q, const struct sq_ctl_req *r, struct sq_err *err);

#endif
