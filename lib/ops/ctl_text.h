/* ctl_text.h - what scanq-ctl prints for people, from an action's JSON document
 * (ctl.c's private seam; no I/O, so it is tested from literal documents). */
#ifndef SQ_CTL_TEXT_H
#define SQ_CTL_TEXT_H

#include "base/err.h"
#include "base/strbuf.h"
#include "ops/ctl.h"

/* Appends the text for r's verb from its document doc. -1 (SQ_ERR_REDIS) when
 * doc is not the document the verb answers. */
int sq_ctl_text(const struct sq_ctl_req *r, const char *doc, struct sq_strbuf *out,
		struct sq_err *err);

#endif
