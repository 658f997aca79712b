/* strbuf.h - growable NUL-terminated byte buffer (after git's strbuf).
 *
 * Embedded use: struct sq_strbuf sb = SQ_STRBUF_INIT; ...; sq_strbuf_release(&sb).
 * buf is always NUL-terminated and never NULL after init. */
#ifndef SQ_STRBUF_H
#define SQ_STRBUF_H

#include <stddef.h>

struct sq_strbuf {
	char *buf;
	size_t len;
	size_t alloc;
};

extern char sq_strbuf_empty[];
#define SQ_STRBUF_INIT {sq_strbuf_empty, 0, 0}

void sq_strbuf_init(struct sq_strbuf *sb);
void sq_strbuf_release(struct sq_strbuf *sb);
void sq_strbuf_reset(struct sq_strbuf *sb);
void sq_strbuf_add(struct sq_strbuf *sb, const void *data, size_t len);
void sq_strbuf_adds(struct sq_strbuf *sb, const char *s);
void sq_strbuf_addch(struct sq_strbuf *sb, char c);
void sq_strbuf_addf(struct sq_strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hands the buffer to the caller (free with free()) and re-inits sb. */
char *sq_strbuf_detach(struct sq_strbuf *sb);


#endif
