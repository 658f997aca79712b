/* json.h - cJSON, wrapped once: parsing, printing and typed reads for every
 * module that writes or reads JSON (task specs, records, Redis replies).
 *
 * One allocation policy: cJSON allocates through xmalloc (xalloc.h), installed
 * when the program loads, so out of memory aborts with a message, as
 * everywhere in scanq, and a NULL from cJSON or these functions always means
 * bad input, never a failed allocation. Callers build
 * documents with cJSON's own cJSON_Add* functions; the typed getters below
 * read them back with the checks every reader needs (type, range, finite). */
#ifndef SQ_JSON_H
#define SQ_JSON_H

#include "base/err.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* Parses text (len bytes; (size_t)-1: up to its NUL). Returns a new document
 * (free with cJSON_Delete) or NULL with err set (SQ_ERR_INVALID, "not JSON"
 * and where), naming `what` ("'frames.json'", "job field 'spec'"). */
cJSON *sq_json_parse(const char *text, size_t len, const char *what, struct sq_err *err);

/* Prints doc compactly (pretty: indented). Returns new string (free with free()). */
char *sq_json_print(const cJSON *doc, int pretty);

/* Typed members of an object. Each returns 0 with *out set, or -1 with err
 * set naming `what` and the key when the member is absent (unless it may be:
 * see each), of the wrong type or out of range. */
int sq_json_get_str(const cJSON *obj, const char *key, const char **out, const char *what,
		    struct sq_err *err);
int sq_json_get_num(const cJSON *obj, const char *key, double lo, double hi, double *out,
		    const char *what, struct sq_err *err);
int sq_json_get_ll(const cJSON *obj, const char *key, long long lo, long long hi,
		   long long *out, const char *what, struct sq_err *err);
int sq_json_get_bool(const cJSON *obj, const char *key, int *out, const char *what,
		     struct sq_err *err);
/* n numbers (an array of exactly n) into out. */
int sq_json_get_vec(const cJSON *obj, const char *key, double *out, int n, const char *what,
		    struct sq_err *err);
/* A list of strings: *out new (free each and the array), *n set. An absent
 * member is an empty list. */
int sq_json_get_strs(const cJSON *obj, const char *key, char ***out, size_t *n, const char *what,
		     struct sq_err *err);

/* A new empty object, the root of a document to print (free with cJSON_Delete). */
cJSON *sq_json_object(void);

/* New arrays of strings / numbers (for cJSON_AddItemToObject). */
cJSON *sq_json_strs(const char *const *v, size_t n);
cJSON *sq_json_nums(const double *v, size_t n);

#endif
