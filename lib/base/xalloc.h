/* xalloc.h - allocation that cannot fail.
 *
 * Out of memory is not a condition scanq recovers from: these abort() with a
 * message instead of returning NULL, so callers never check. */
#ifndef SQ_XALLOC_H
#define SQ_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size_bytes);
void *xcalloc(size_t n, size_t size_bytes);
void *xrealloc(void *p, size_t size_bytes);
/* Returns a new copy of s (free with free()); NULL in, NULL out. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a new formatted string (free with free()). */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grows *arr (of *alloc elements of elem_size bytes) to hold at least need elements. */
void xgrow(void **arr, size_t *alloc, size_t need, size_t elem_size);


#endif
