/* json.c - cJSON with scanq's allocation policy and typed reads (see json.h). */
#include "base/json.h"
#include "base/xalloc.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void install_hooks(void)
{
	cJSON_Hooks h = {.malloc_fn = xmalloc, .free_fn = free};

	cJSON_InitHooks(&h);
}

static void json_init(void)
{
	pthread_once(&hooks_once, install_hooks);
}

/* Installed when the program loads, so that every cJSON call in the process,
 * through these functions or not, allocates by the one policy. */
__attribute__((constructor)) static void json_at_load(void)
{
	json_init();
}

cJSON *sq_json_parse(const char *text, size_t len, const char *what, struct sq_err *err)
{
	const char *end = NULL;
	cJSON *doc;

	json_init();
	if (!text) {
		sq_error(err, SQ_ERR_INVALID, "%s is empty", what);
		return NULL;
	}
	if (len == (size_t)-1)
		len = strlen(text);
	doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!doc)
		sq_error(err, SQ_ERR_INVALID, "%s is not JSON (at byte %zu)", what,
			 end ? (size_t)(end - text) : (size_t)0);
	return doc;
}

char *sq_json_print(const cJSON *doc, int pretty)
{
	char *text;

	json_init();
	text = pretty ? cJSON_Print(doc) : cJSON_PrintUnformatted(doc);
	if (!text) /* cJSON fails only on allocation, and xmalloc aborts first */
		abort();
	return text;
}

static const cJSON *member(const cJSON *obj, const char *key)
{
	return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

static int bad(struct sq_err *err, const char *what, const char *key, const char *expected)
{
	return sq_error(err, SQ_ERR_INVALID, "%s: '%s' must be %s", what, key, expected);
}

int sq_json_get_str(const cJSON *obj, const char *key, const char **out, const char *what,
		    struct sq_err *err)
{
	const cJSON *v = member(obj, key);

	if (!cJSON_IsString(v))
		return bad(err, what, key, "a string");
	*out = v->valuestring;
	return 0;
}

int sq_json_get_num(const cJSON *obj, const char *key, double lo, double hi, double *out,
		    const char *what, struct sq_err *err)
{
	const cJSON *v = member(obj, key);

	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < lo ||
	    v->valuedouble > hi)
		return bad(err, what, key, "a number in range");
	*out = v->valuedouble;
	return 0;
}

int sq_json_get_ll(const cJSON *obj, const char *key, long long lo, long long hi,
		   long long *out, const char *what, struct sq_err *err)
{
	double d;

	/* doubles hold integers exactly up to 2^53: wider ranges are not asked for */
	if (sq_json_get_num(obj, key, (double)lo, (double)hi, &d, what, err) < 0)
		return -1;
	if (d != floor(d))
		return bad(err, what, key, "a whole number");
	*out = (long long)d;
	return 0;
}

int sq_json_get_bool(const cJSON *obj, const char *key, int *out, const char *what,
		     struct sq_err *err)
{
	const cJSON *v = member(obj, key);

	if (!cJSON_IsBool(v))
		return bad(err, what, key, "true or false");
	*out = cJSON_IsTrue(v);
	return 0;
}

int sq_json_get_vec(const cJSON *obj, const char *key, double *out, int n, const char *what,
		    struct sq_err *err)
{
	const cJSON *v = member(obj, key);

	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != n)
		return bad(err, what, key, "a list of numbers");
	for (int i = 0; i < n; i++) {
		const cJSON *x = cJSON_GetArrayItem(v, i);

		if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
			return bad(err, what, key, "a list of finite numbers");
		out[i] = x->valuedouble;
	}
	return 0;
}

int sq_json_get_strs(const cJSON *obj, const char *key, char ***out, size_t *n, const char *what,
		     struct sq_err *err)
{
	const cJSON *v = member(obj, key), *s;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (!v)
		return 0;
	if (!cJSON_IsArray(v))
		return bad(err, what, key, "a list of strings");
	*out = xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(**out));
	cJSON_ArrayForEach(s, v)
	{
		if (!cJSON_IsString(s)) {
			while (k)
				free((*out)[--k]);
			free(*out);
			*out = NULL;
			return bad(err, what, key, "a list of strings");
		}
		(*out)[k++] = xstrdup(s->valuestring);
	}
	*n = k;
	return 0;
}

cJSON *sq_json_object(void)
{
	json_init();
	return cJSON_CreateObject();
}

cJSON *sq_json_strs(const char *const *v, size_t n)
{
	cJSON *a;

	json_init();
	a = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

cJSON *sq_json_nums(const double *v, size_t n)
{
	cJSON *a;

	json_init();
	a = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
	return a;
}
