/* hooks.h - what a long operation (an extraction, a backend run, a stitch)
 * tells its caller and asks it, in one struct every such operation takes.
 *
 * The worker fills it once per job (its log with the job's prefix, progress
 * to the heartbeat, cancelled when the lease is lost or on shutdown) and every
 * layer below passes the same struct on. */
#ifndef SQ_HOOKS_H
#define SQ_HOOKS_H

#include <stdarg.h>

struct sq_hooks {
	void (*log)(void *ctx, const char *line);		      /* may be NULL */
	void (*progress)(void *ctx, long long done, long long total); /* may be NULL */
	int (*cancelled)(void *ctx); /* non-zero: stop now; may be NULL */
	void *ctx;
};

/* Formats one log line (at most 1 KiB) and hands it to h->log; h may be NULL. */
void sq_hooks_log(const struct sq_hooks *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* sq_hooks_log with a va_list, for callers with their own printf-style
 * wrapper. */
void sq_hooks_vlog(const struct sq_hooks *h, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Reports progress; nothing when h or h->progress is NULL. */
void sq_hooks_progress(const struct sq_hooks *h, long long done, long long total);

/* 1 if the caller asked to stop; 0 when h or h->cancelled is NULL. */
int sq_hooks_cancelled(const struct sq_hooks *h);

#endif
