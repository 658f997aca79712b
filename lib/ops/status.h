/* status.h - scanq-status's model and renderer: a queue snapshot to console text.
 *
 * The data comes from sq_queue_snapshot (one JSON document, one round trip; its
 * shape is documented in lib/queue/lua/snapshot.lua). Parsing and rendering do no I/O,
 * so the whole view is tested from literal JSON without Redis or a terminal.
 * Times in the snapshot are Redis's clock (ms since the epoch), so ages are
 * computed against the snapshot's own now_ms and no host clock matters. */
#ifndef SQ_STATUS_H
#define SQ_STATUS_H

#include "base/err.h"
#include "base/strbuf.h"
#include "task/task.h"

#include <stddef.h>

/* The heartbeat period assumed for workers when none is given: a third of the
 * default 15 s lease. A worker silent for 3 periods (its lease would have
 * expired) is shown as stale. */
#define SQ_STATUS_BEAT_MS 5000

struct sq_status_counts {
	long long queued, running, done, failed, retrying;
	long long cancelled; /* by an operator: not expected to run any more */
	long long warnings;  /* of done, how many done with warnings */
};

struct sq_status_running {
	char *jid, *kind, *stage, *owner, *host; /* never NULL ("" when absent) */
	long long claimed_ms, lease_until_ms;
	long long progress_done, progress_total; /* total 0: unknown */
	long long attempt;
};

struct sq_status_dead {
	char *jid, *stage, *error, *host; /* never NULL */
	long long attempts, time_ms;
};

/* A job done with warnings (its result's figures fell below their thresholds). */
struct sq_status_warned {
	char *jid, *stage, *warning; /* never NULL; warning: the first one */
	long long nwarnings, time_ms;
};

/* A queued job no live worker can take, and why (never NULL). */
struct sq_status_blocked {
	char *jid, *stage, *reason;
};

struct sq_status_acq {
	char *name;
	long long tasks, groups;
	int paused; /* an operator paused it: its jobs are not claimed */
	struct sq_status_counts stages[SQ_STAGE_COUNT];
	struct sq_status_running *running;
	size_t nrunning;
	struct sq_status_dead *dead; /* newest first, at most the max_dead asked for */
	size_t ndead;
	long long dead_total;
	struct sq_status_warned *warned; /* newest first, at most max_dead */
	size_t nwarned;
	long long warned_total; /* (job, stage) pairs done with warnings */
	struct sq_status_blocked *blocked;
	size_t nblocked;
	char **problems; /* what is wrong in Redis (a key of the wrong type, ...) */
	size_t nproblems;
};

struct sq_status_worker {
	char *id, *host, *stages; /* never NULL */
	char *gpu, *job;	  /* NULL: none / idle */
	long long pid, last_beat_ms, started_ms;
};

struct sq_status {
	long long now_ms; /* Redis TIME when the snapshot was taken */
	struct sq_status_acq *acqs;
	size_t nacqs;
	struct sq_status_worker *workers;
	size_t nworkers;
	char **problems; /* deployment-wide, as in sq_status_acq */
	size_t nproblems;
};

void sq_status_init(struct sq_status *st);
void sq_status_release(struct sq_status *st);

/* Parses a snapshot document into an init'ed *st (released first, so it can be
 * reused). Missing fields read as 0 or ""; empty arrays may be {} (Lua's cjson).
 * Returns 0, or -1 (SQ_ERR_REDIS: not a snapshot) with *st left empty. */
int sq_status_parse(struct sq_status *st, const char *json, struct sq_err *err);

struct sq_status_view {
	int width;	   /* columns; every line fits (<= 0: 80, at least 20) */
	int height;	   /* at most this many lines, the last one saying what was cut; 0: all */
	long long now_ms;  /* 0: the snapshot's now_ms */
	long long beat_ms; /* workers' heartbeat period; 0: SQ_STATUS_BEAT_MS */
	int ascii;	   /* 1: no UTF-8 ("-" and "..." for "—" and "…") */
	const char *title; /* first line (program, Redis, time); NULL: none */
	const char *error; /* shown under the title (live mode lost Redis); NULL: none */
};

/* Appends the console view of st to out: per acquisition the stage table with a
 * progress bar (cancelled and "warned" columns when any job is cancelled or done
 * with warnings; PAUSED beside a paused acquisition's name), running jobs with
 * age and progress, the newest dead letters, the newest jobs done with warnings;
 * then the workers with their heartbeat age. Plain text, '\n'-terminated lines,
 * progress bar, running jobs with age and progress, the newest dead letters,
 * queued jobs no live worker can take and why, warnings about Redis; then the
 * workers with their heartbeat age. Plain text, '\n'-terminated lines,
 * no escape sequences (control characters in the data are blanked). st NULL
 * (no snapshot yet) renders only the title and the error. */
void sq_status_render(const struct sq_status *st, const struct sq_status_view *v,
		      struct sq_strbuf *out);

/* sq_status_parse + sq_status_render: snapshot text in, view text out. */
int sq_status_render_json(const char *json, const struct sq_status_view *v, struct sq_strbuf *out,
			  struct sq_err *err);

/* For --json: appends the snapshot document to out as is (pretty = 0) or
 * re-indented for people (pretty = 1), with a final newline. -1 if it is not
 * JSON. */
int sq_status_format_json(const char *json, int pretty, struct sq_strbuf *out, struct sq_err *err);

/* Formats a duration for a narrow column: "12s", "3m12s", "2h05m", "3d04h"
 * (negative reads as 0). Writes at most size bytes including the NUL. */
void sq_status_fmt_age(long long ms, char *buf, size_t size);

#endif
