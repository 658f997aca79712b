/* err.c - error reporting: the one place an sq_err is filled. */
#include "base/err.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "base/banned.h"

int sq_error(struct sq_err *err, enum sq_err_code code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int sq_error_errno(struct sq_err *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	if (!err)
		return -1;
	err->code = (errnum == ENOSPC || errnum == EDQUOT || errnum == EFBIG) ? SQ_ERR_NOSPC
									       : SQ_ERR_IO;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", strerror(errnum));
	/* house style: messages are lowercase ("no space left on device") */
	if (len + 2 < sizeof(err->msg))
		err->msg[len + 2] = (char)tolower((unsigned char)err->msg[len + 2]);
	return -1;
}

void sq_err_prefix(struct sq_err *err, const char *fmt, ...)
{
	char head[SQ_ERR_MSG_MAX];
	size_t hl, ol, cap = sizeof(err->msg) - 1;
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	hl = strlen(head);
	if (hl > cap - 2)
		hl = cap - 2;
	ol = strlen(err->msg);
	if (ol > cap - hl - 2)
		ol = cap - hl - 2;
	memmove(err->msg + hl + 2, err->msg, ol);
	memcpy(err->msg, head, hl);
	err->msg[hl] = ':';
	err->msg[hl + 1] = ' ';
	err->msg[hl + 2 + ol] = '\0';
}

const char *sq_err_code_name(enum sq_err_code code)
{
	static const char *const names[] = {
		[SQ_OK] = "ok",		    [SQ_ERR_IO] = "io",	      [SQ_ERR_NOSPC] = "nospc",
		[SQ_ERR_INVALID] = "invalid", [SQ_ERR_MEDIA] = "media", [SQ_ERR_REDIS] = "redis",
		[SQ_ERR_STALE] = "stale",   [SQ_ERR_PROC] = "proc",   [SQ_ERR_TIMEOUT] = "timeout",
		[SQ_ERR_CANCEL] = "cancel", [SQ_ERR_BACKEND] = "backend",
	};

	if ((size_t)code >= sizeof(names) / sizeof(names[0]) || !names[code])
		return "unknown";
	return names[code];
}
