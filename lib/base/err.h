/* err.h - error reporting for libscanq.
 *
 * Fallible functions take `struct sq_err *err` last and return -1 (or NULL) after
 * filling it through sq_error(); on success `err` is untouched. Messages are
 * lowercase, problem first, subject quoted: "cannot open 'x.mp4': no such file".
 * `err` may be NULL when the caller does not care. */
#ifndef SQ_ERR_H
#define SQ_ERR_H

#include <stddef.h>

enum sq_err_code {
	SQ_OK = 0,
	SQ_ERR_IO,      /* filesystem or OS call failed */
	SQ_ERR_NOSPC,   /* disk full / quota */
	SQ_ERR_INVALID, /* bad input from the user (task file, option, URL) */
	SQ_ERR_MEDIA,   /* cannot demux/decode/encode */
	SQ_ERR_REDIS,   /* Redis unreachable or replied with an error */
	SQ_ERR_STALE,   /* our lease was taken over: the result must be dropped */
	SQ_ERR_PROC,    /* external command failed */
	SQ_ERR_TIMEOUT, /* something took longer than allowed */
	SQ_ERR_CANCEL,  /* stopped on request (shutdown, lease lost) */
	SQ_ERR_BACKEND, /* backend ran but its result is unusable */
};

#define SQ_ERR_MSG_MAX 1024

struct sq_err {
	enum sq_err_code code;
	char msg[SQ_ERR_MSG_MAX];
};

/* Sets err (if not NULL) to code and the formatted message; returns -1 so callers
 * can `return sq_error(err, ...)`. */
int sq_error(struct sq_err *err, enum sq_err_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like sq_error() but appends ": <strerror(errnum)>" and maps ENOSPC/EDQUOT/EFBIG
 * (disk full, quota, file size limit) to
 * SQ_ERR_NOSPC. */
int sq_error_errno(struct sq_err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes the message already in err with the formatted context + ": ". */
void sq_err_prefix(struct sq_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Short name of a code, e.g. "io", "nospc"; never NULL. */
const char *sq_err_code_name(enum sq_err_code code);


#endif
