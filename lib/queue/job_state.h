/* job_state.h - the states of a job (the `state` field of P job:<acq>:<jid>),
 * written once, here.
 *
 * SQ_JOB_STATES is the one list: the C enum and names below come from it, and
 * lib/queue/lua/embed.py reads it to give every Lua script the same states as
 * constants (ST_WAITING = 'waiting', ...), so the scripts and C never spell a
 * state apart. Add a state here and both sides have it. */
#ifndef SQ_JOB_STATE_H
#define SQ_JOB_STATE_H

/* X(NAME, "name"): one line per state. */
#define SQ_JOB_STATES(X)                                                                           \
	X(WAITING, "waiting")	  /* a stitch waiting for its fan-in */                            \
	X(QUEUED, "queued")	  /* in its stage's queue */                                       \
	X(LEASED, "leased")	  /* held by a worker (owner, token, lease_until_ms) */            \
	X(RETRY, "retry")	  /* failed, back after its backoff (P delayed:<acq>) */           \
	X(DONE, "done")		  /* its last stage is done */                                     \
	X(FAILED, "failed")	  /* dead-lettered (P failed:<acq>) */                             \
	X(CANCELLED, "cancelled") /* cancelled by an operator (scanq-ctl) */

enum sq_job_state {
	SQ_JOB_ABSENT = 0, /* no such job, or a state no scanq writes */
#define SQ_JOB_STATE_ENUM(name, text) SQ_JOB_##name,
	SQ_JOB_STATES(SQ_JOB_STATE_ENUM)
#undef SQ_JOB_STATE_ENUM
	    SQ_JOB_STATE_COUNT,
};

/* "queued", ...; "" for SQ_JOB_ABSENT or out of range. */
const char *sq_job_state_name(enum sq_job_state s);

/* The state called name, or SQ_JOB_ABSENT. */
enum sq_job_state sq_job_state_parse(const char *name);

#endif
