/* task_json.c - a task's and a stitch spec's canonical JSON, out and in.
 *
 * The canonical JSON is what travels through Redis and what a version is hashed
 * from, so it must be byte-stable: every object's keys are sorted before printing,
 * every number is an integer (fps is a rational for that reason) except the
 * camera parameters, which are printed in the shortest form that reads back as
 * the same double, and fields that do not describe the work (source_file,
 * version) are left out. Reading back checks every field's type and range. */
#include "task/task.h"
#include "task/task_int.h"
#include "base/fsutil.h"
#include "base/hash.h"
#include "base/xalloc.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

/* --- canonical JSON out ------------------------------------------------------- */

static int cmp_items(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

/* Sorts the keys of every object under item, recursively. cJSON keeps object
 * members in insertion order; sorting them here makes the text independent of the
 * order the code happened to add them in. */
static void sort_keys(cJSON *item)
{
	cJSON **kids, *c;
	size_t n = 0, i = 0;

	for (c = item->child; c; c = c->next) {
		sort_keys(c);
		n++;
	}
	if (!cJSON_IsObject(item) || n < 2)
		return;
	kids = xcalloc(n, sizeof(*kids));
	while (item->child)
		kids[i++] = cJSON_DetachItemViaPointer(item, item->child);
	qsort(kids, n, sizeof(*kids), cmp_items);
	/* AddItemToArray appends the node as is, keeping its key */
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(item, kids[i]);
	free(kids);
}

static void add_str(cJSON *obj, const char *key, const char *s)
{
	if (s)
		cJSON_AddStringToObject(obj, key, s);
	else
		cJSON_AddNullToObject(obj, key);
}

static cJSON *strlist_json(char *const *v, size_t n)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(v[i]));
	return arr;
}

/* A double as the shortest text that strtod reads back bit for bit. cJSON's own
 * printing accepts a 15-digit form that is only within an epsilon of the value,
 * and the version is a hash of this text, so it is printed here. */
static cJSON *exact_number(double d)
{
	char buf[32];

	for (int digits = 15; digits <= 17; digits++) {
		snprintf(buf, sizeof(buf), "%.*g", digits, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	return cJSON_CreateRaw(buf);
}

static cJSON *colmap_json(const struct sq_colmap_spec *c)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "threads", c->threads);
	cJSON_AddNumberToObject(o, "max_image_size", c->max_image_size);
	cJSON_AddNumberToObject(o, "max_features", c->max_features);
	cJSON_AddNumberToObject(o, "overlap", c->overlap);
	cJSON_AddNumberToObject(o, "min_registered_pct", c->min_registered_pct);
	cJSON_AddStringToObject(o, "camera_model", c->camera_model);
	/* only when set, so that every task without it keeps its version */
	if (c->ncamera_params > 0) {
		cJSON *arr = cJSON_AddArrayToObject(o, "camera_params");

		for (int i = 0; i < c->ncamera_params; i++)
			cJSON_AddItemToArray(arr, exact_number(c->camera_params[i]));
	}
	return o;
}

/* The stride keys go into the reconstruct object only: stitch has no frames. */
static void stride_json(cJSON *o, const struct sq_stride_spec *st)
{
	cJSON_AddNumberToObject(o, "stride", st->stride);
	cJSON_AddNumberToObject(o, "bytes_per_frame", (double)st->bytes_per_frame);
	cJSON_AddNumberToObject(o, "memory_budget_bytes", (double)st->memory_budget_bytes);
}

static cJSON *backend_json(const struct sq_backend_spec *b)
{
	cJSON *o = cJSON_CreateObject();
	const char *name = sq_backend_name(b->kind);

	add_str(o, "backend", name);
	cJSON_AddNumberToObject(o, "min_vram_mib", (double)b->min_vram_mib);
	cJSON_AddNumberToObject(o, "min_ram_mib", (double)b->min_ram_mib);
	if (b->kind == SQ_BACKEND_COLMAP)
		cJSON_AddItemToObject(o, "colmap", colmap_json(&b->colmap));
	if (b->kind != SQ_BACKEND_COMMAND)
		return o;
	cJSON_AddItemToObject(o, "argv", strlist_json(b->cmd.argv, b->cmd.argc));
	cJSON_AddNumberToObject(o, "timeout_ms", (double)b->cmd.timeout_ms);
	add_str(o, "done_log", b->cmd.done_log);
	add_str(o, "done_file", b->cmd.done_file);
	return o;
}

static cJSON *retry_json(const struct sq_retry_spec *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "max_attempts", r->max_attempts);
	cJSON_AddNumberToObject(o, "backoff_ms", (double)r->backoff_ms);
	return o;
}

static cJSON *extract_json(const struct sq_extract_spec *e)
{
	cJSON *o = cJSON_CreateObject(), *fps = cJSON_CreateObject();

	cJSON_AddNumberToObject(fps, "num", e->fps_num);
	cJSON_AddNumberToObject(fps, "den", e->fps_den);
	cJSON_AddItemToObject(o, "fps", fps);
	cJSON_AddNumberToObject(o, "width", e->width);
	cJSON_AddNumberToObject(o, "height", e->height);
	cJSON_AddNumberToObject(o, "quality", e->quality);
	return o;
}

/* 1 if some video of t is decoded only in part. */
static int has_until(const struct sq_task *t)
{
	for (size_t i = 0; t->video_until_ms && i < t->nvideos; i++)
		if (t->video_until_ms[i] > 0)
			return 1;
	return 0;
}

/* "video_until_ms": [0, 4000], parallel to "videos". Left out when no video has
 * a limit, so the JSON (and the version) of such tasks is what it always was. */
static void until_json(cJSON *o, const struct sq_task *t)
{
	cJSON *arr;

	if (!has_until(t))
		return;
	arr = cJSON_AddArrayToObject(o, "video_until_ms");
	for (size_t i = 0; i < t->nvideos; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)t->video_until_ms[i]));
}

/* Prints root canonically and frees it; returns new string. */
static char *print_canonical(cJSON *root)
{
	char *out, *s;

	sort_keys(root);
	s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!s)
		abort(); /* cJSON only fails here when out of memory */
	out = xstrdup(s);
	cJSON_free(s);
	return out;
}

char *sq_task_to_json(const struct sq_task *t)
{
	cJSON *o = cJSON_CreateObject(), *rc;

	add_str(o, "acquisition", t->acquisition);
	add_str(o, "group", t->group);
	add_str(o, "name", t->name);
	add_str(o, "output_root", t->output_root);
	add_str(o, "outdir", t->outdir);
	cJSON_AddItemToObject(o, "videos", strlist_json(t->videos, t->nvideos));
	until_json(o, t);
	sq_task_ids_to_json(o, t);
	cJSON_AddItemToObject(o, "extract", extract_json(&t->extract));
	rc = backend_json(&t->reconstruct);
	stride_json(rc, &t->reconstruct.stride);
	cJSON_AddItemToObject(o, "reconstruct", rc);
	cJSON_AddItemToObject(o, "stitch", backend_json(&t->stitch));
	cJSON_AddItemToObject(o, "retry", retry_json(&t->retry));
	return print_canonical(o);
}

char *sq_stitch_spec_to_json(const struct sq_stitch_spec *s)
{
	cJSON *o = cJSON_CreateObject();

	add_str(o, "acquisition", s->acquisition);
	add_str(o, "group", s->group);
	add_str(o, "outdir", s->outdir);
	cJSON_AddItemToObject(o, "backend", backend_json(&s->backend));
	cJSON_AddItemToObject(o, "retry", retry_json(&s->retry));
	return print_canonical(o);
}

char *sq_extract_spec_json(const struct sq_extract_spec *e)
{
	return print_canonical(extract_json(e));
}

char *sq_backend_spec_json(const struct sq_backend_spec *b)
{
	cJSON *o = backend_json(b);

	stride_json(o, &b->stride);
	return print_canonical(o);
}

static void version_of(const char *json, char version[SQ_VERSION_LEN + 1])
{
	char hex[SQ_HASH_HEX_LEN + 1];

	sq_hash_sha256_hex(json, strlen(json), hex);
	memcpy(version, hex, SQ_VERSION_LEN);
	version[SQ_VERSION_LEN] = '\0';
}

void sq_task_finalize(struct sq_task *t)
{
	char *json;

	free(t->outdir);
	t->outdir = NULL;
	if (t->output_root && t->group && t->name) {
		char *g = sq_path_join(t->output_root, t->group);

		t->outdir = sq_path_join(g, t->name);
		free(g);
	}
	json = sq_task_to_json(t);
	version_of(json, t->version);
	free(json);
}

void sq_stitch_spec_derive(const struct sq_stitch_spec *tmpl, const char *group,
			   struct sq_stitch_spec *out)
{
	sq_stitch_spec_release(out);
	out->acquisition = xstrdup(tmpl->acquisition);
	out->group = xstrdup(group);
	out->outdir = group ? sq_path_join(tmpl->outdir, group) : xstrdup(tmpl->outdir);
	sq_backend_spec_copy(&out->backend, &tmpl->backend);
	out->retry = tmpl->retry;
	sq_stitch_spec_finalize(out);
}

void sq_stitch_spec_of_task(const struct sq_task *t, struct sq_stitch_spec *out)
{
	struct sq_stitch_spec tmpl = {.acquisition = t->acquisition,
				      .outdir = t->output_root,
				      .backend = t->stitch,
				      .retry = t->retry};

	sq_stitch_spec_derive(&tmpl, t->group, out);
}

void sq_stitch_spec_finalize(struct sq_stitch_spec *s)
{
	/* outdir has no root to derive from here: the builder sets it */
	char *json = sq_stitch_spec_to_json(s);

	version_of(json, s->version);
	free(json);
}

/* --- JSON in ------------------------------------------------------------------ */

/* Fetches key of obj; missing or of the wrong type is an error naming it. */
static const cJSON *get(const cJSON *obj, const char *key, cJSON_bool (*is)(const cJSON *),
			const char *what, struct sq_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v || !is(v)) {
		sq_error(err, SQ_ERR_INVALID, "invalid spec json: '%s' must be %s", key, what);
		return NULL;
	}
	return v;
}

static int get_ll(const cJSON *obj, const char *key, long long min, long long max, long long *out,
		  struct sq_err *err)
{
	const cJSON *v = get(obj, key, cJSON_IsNumber, "an integer", err);
	double d;

	if (!v)
		return -1;
	d = v->valuedouble;
	/* in range (NaN is not) before the cast: a double beyond long long has no
	 * defined conversion; min and max are well inside, so both are exact enough */
	if (!(d >= (double)min && d <= (double)max) || d != floor(d))
		return sq_error(err, SQ_ERR_INVALID, "invalid spec json: '%s' out of range", key);
	*out = (long long)d;
	return 0;
}

static int get_int(const cJSON *obj, const char *key, int min, int max, int *out,
		   struct sq_err *err)
{
	long long v = 0;

	if (get_ll(obj, key, min, max, &v, err) < 0)
		return -1;
	*out = (int)v;
	return 0;
}

/* Copies a string member into *out (new); with nullable, JSON null gives NULL. */
static int get_str(const cJSON *obj, const char *key, int nullable, char **out, struct sq_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (nullable && v && cJSON_IsNull(v)) {
		*out = NULL;
		return 0;
	}
	v = get(obj, key, cJSON_IsString, "a string", err);
	if (!v)
		return -1;
	*out = xstrdup(v->valuestring);
	return 0;
}

static int get_name(const cJSON *obj, const char *key, char **out, struct sq_err *err)
{
	if (get_str(obj, key, 0, out, err) < 0)
		return -1;
	if (!sq_name_valid(*out))
		return sq_error(err, SQ_ERR_INVALID, "invalid spec json: bad %s name '%s'", key,
				*out);
	return 0;
}

/* Reads a list of strings into *v (new, *n entries). */
static int get_strlist(const cJSON *obj, const char *key, char ***v, size_t *n, struct sq_err *err)
{
	const cJSON *arr = get(obj, key, cJSON_IsArray, "a list of strings", err), *it;

	if (!arr)
		return -1;
	*v = xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(**v));
	*n = 0;
	cJSON_ArrayForEach(it, arr)
	{
		if (!cJSON_IsString(it))
			return sq_error(err, SQ_ERR_INVALID,
					"invalid spec json: '%s' must be a list of strings", key);
		(*v)[(*n)++] = xstrdup(it->valuestring);
	}
	return 0;
}

/* The optional "video_until_ms": nvideos integers >= 0 (all 0 reads as absent). */
static int until_from(const cJSON *o, struct sq_task *t, struct sq_err *err)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "video_until_ms"), *it;
	size_t i = 0;

	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr) || (size_t)cJSON_GetArraySize(arr) != t->nvideos)
		return sq_error(err, SQ_ERR_INVALID,
				"invalid spec json: 'video_until_ms' must be a list of %zu "
				"integers, one per video",
				t->nvideos);
	t->video_until_ms = xcalloc(t->nvideos, sizeof(*t->video_until_ms));
	cJSON_ArrayForEach(it, arr)
	{
		double d = cJSON_IsNumber(it) ? it->valuedouble : -1;

		if (!(d >= 0 && d <= (double)(LLONG_MAX / 2)) || d != (double)(long long)d)
			return sq_error(err, SQ_ERR_INVALID,
					"invalid spec json: 'video_until_ms' out of range");
		t->video_until_ms[i++] = (long long)d;
	}
	if (!has_until(t)) {
		free(t->video_until_ms);
		t->video_until_ms = NULL;
	}
	return 0;
}

static int command_from(const cJSON *o, struct sq_command_spec *c, struct sq_err *err)
{
	if (get_strlist(o, "argv", &c->argv, &c->argc, err) < 0 ||
	    get_ll(o, "timeout_ms", 0, LLONG_MAX / 2, &c->timeout_ms, err) < 0 ||
	    get_str(o, "done_log", 1, &c->done_log, err) < 0 ||
	    get_str(o, "done_file", 1, &c->done_file, err) < 0)
		return -1;
	if (c->argc == 0)
		return sq_error(err, SQ_ERR_INVALID, "invalid spec json: empty 'argv'");
	return 0;
}

/* The optional "camera_params": as many finite numbers as the model takes, its
 * focal lengths > 0. */
static int camera_params_from(const cJSON *o, const struct sq_colmap_model_info *cam,
			      struct sq_colmap_spec *c, struct sq_err *err)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "camera_params"), *it;
	int n = 0;

	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr))
		return sq_error(err, SQ_ERR_INVALID,
				"invalid spec json: 'camera_params' must be a list of numbers");
	if (cJSON_GetArraySize(arr) != cam->nparams)
		return sq_error(err, SQ_ERR_INVALID,
				"invalid spec json: 'camera_params' has %d numbers, camera_model "
				"%s takes %d",
				cJSON_GetArraySize(arr), cam->model, cam->nparams);
	cJSON_ArrayForEach(it, arr)
	{
		if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) ||
		    (n < cam->nfocal && !(it->valuedouble > 0)))
			return sq_error(err, SQ_ERR_INVALID,
					"invalid spec json: 'camera_params' item %d out of range",
					n + 1);
		c->camera_params[n++] = it->valuedouble;
	}
	c->ncamera_params = n;
	return 0;
}

static int colmap_from(const cJSON *parent, struct sq_colmap_spec *c, struct sq_err *err)
{
	const cJSON *o = get(parent, "colmap", cJSON_IsObject, "an object", err), *model;
	const struct sq_colmap_model_info *cam;

	if (!o)
		return -1;
	if (get_int(o, "threads", 0, 4096, &c->threads, err) < 0 ||
	    get_int(o, "max_image_size", 16, 1 << 20, &c->max_image_size, err) < 0 ||
	    get_int(o, "max_features", 1, 1 << 24, &c->max_features, err) < 0 ||
	    get_int(o, "overlap", 1, 1 << 20, &c->overlap, err) < 0 ||
	    get_int(o, "min_registered_pct", 0, 100, &c->min_registered_pct, err) < 0)
		return -1;
	model = get(o, "camera_model", cJSON_IsString, "a string", err);
	if (!model)
		return -1;
	cam = sq_colmap_model_find(model->valuestring);
	if (!cam)
		return sq_error(err, SQ_ERR_INVALID, "invalid spec json: bad camera_model '%s'",
				model->valuestring);
	snprintf(c->camera_model, sizeof(c->camera_model), "%s", model->valuestring);
	return camera_params_from(o, cam, c, err);
}

static int stride_from(const cJSON *parent, struct sq_stride_spec *st, struct sq_err *err)
{
	const cJSON *o = get(parent, "reconstruct", cJSON_IsObject, "an object", err);

	if (!o || get_int(o, "stride", 0, INT_MAX, &st->stride, err) < 0 ||
	    get_ll(o, "bytes_per_frame", 0, LLONG_MAX / 2, &st->bytes_per_frame, err) < 0 ||
	    get_ll(o, "memory_budget_bytes", 0, LLONG_MAX / 2, &st->memory_budget_bytes, err) < 0)
		return -1;
	return 0;
}

/* Parses a backend object; kind must be one of the two allowed for the stage. */
static int backend_from(const cJSON *parent, const char *key, enum sq_backend_kind a,
			enum sq_backend_kind b, struct sq_backend_spec *out, struct sq_err *err)
{
	const cJSON *o = get(parent, key, cJSON_IsObject, "an object", err), *name;
	int kind;

	if (!o)
		return -1;
	name = get(o, "backend", cJSON_IsString, "a string", err);
	if (!name)
		return -1;
	kind = sq_task_backend_parse(name->valuestring);
	if (kind != (int)a && kind != (int)b)
		return sq_error(err, SQ_ERR_INVALID, "invalid spec json: bad %s backend '%s'", key,
				name->valuestring);
	out->kind = (enum sq_backend_kind)kind;
	if (get_ll(o, "min_vram_mib", 0, LLONG_MAX / 2, &out->min_vram_mib, err) < 0 ||
	    get_ll(o, "min_ram_mib", 0, LLONG_MAX / 2, &out->min_ram_mib, err) < 0)
		return -1;
	if (kind == SQ_BACKEND_COMMAND)
		return command_from(o, &out->cmd, err);
	if (kind == SQ_BACKEND_COLMAP)
		return colmap_from(o, &out->colmap, err);
	return 0;
}

static int retry_from(const cJSON *parent, struct sq_retry_spec *r, struct sq_err *err)
{
	const cJSON *o = get(parent, "retry", cJSON_IsObject, "an object", err);

	if (!o)
		return -1;
	if (get_int(o, "max_attempts", 1, 1000, &r->max_attempts, err) < 0 ||
	    get_ll(o, "backoff_ms", 0, LLONG_MAX / 2, &r->backoff_ms, err) < 0)
		return -1;
	return 0;
}

static int extract_from(const cJSON *parent, struct sq_extract_spec *e, struct sq_err *err)
{
	const cJSON *o = get(parent, "extract", cJSON_IsObject, "an object", err), *fps;

	if (!o)
		return -1;
	fps = get(o, "fps", cJSON_IsObject, "an object", err);
	if (!fps)
		return -1;
	if (get_int(fps, "num", 1, INT_MAX, &e->fps_num, err) < 0 ||
	    get_int(fps, "den", 1, INT_MAX, &e->fps_den, err) < 0 ||
	    get_int(o, "width", -1, 1 << 20, &e->width, err) < 0 ||
	    get_int(o, "height", -1, 1 << 20, &e->height, err) < 0 ||
	    get_int(o, "quality", 2, 31, &e->quality, err) < 0)
		return -1;
	return 0;
}

static cJSON *parse_object(const char *json, struct sq_err *err)
{
	cJSON *root = json ? cJSON_ParseWithOpts(json, NULL, 1) : NULL;

	if (!root || !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		sq_error(err, SQ_ERR_INVALID, "invalid spec json: not a json object");
		return NULL;
	}
	return root;
}

static int task_fields(struct sq_task *t, const cJSON *o, struct sq_err *err)
{
	if (get_name(o, "acquisition", &t->acquisition, err) < 0 ||
	    get_name(o, "group", &t->group, err) < 0 || get_name(o, "name", &t->name, err) < 0 ||
	    get_str(o, "output_root", 0, &t->output_root, err) < 0 ||
	    get_strlist(o, "videos", &t->videos, &t->nvideos, err) < 0 ||
	    extract_from(o, &t->extract, err) < 0 ||
	    backend_from(o, "reconstruct", SQ_BACKEND_COLMAP, SQ_BACKEND_COMMAND, &t->reconstruct,
			 err) < 0 ||
	    stride_from(o, &t->reconstruct.stride, err) < 0 ||
	    backend_from(o, "stitch", SQ_BACKEND_BUILTIN, SQ_BACKEND_COMMAND, &t->stitch, err) <
		0 ||
	    retry_from(o, &t->retry, err) < 0)
		return -1;
	if (t->nvideos == 0)
		return sq_error(err, SQ_ERR_INVALID, "invalid spec json: no videos");
	if (until_from(o, t, err) < 0)
		return -1;
	return sq_task_ids_from_json(o, t, err);
}

int sq_task_from_json(struct sq_task *t, const char *json, struct sq_err *err)
{
	cJSON *root = parse_object(json, err);
	int rc = -1;

	if (!root)
		return -1;
	if (task_fields(t, root, err) < 0) {
		sq_task_release(t);
		goto out;
	}
	sq_task_finalize(t);
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

static int stitch_fields(struct sq_stitch_spec *s, const cJSON *o, struct sq_err *err)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(o, "group");

	if (get_name(o, "acquisition", &s->acquisition, err) < 0 ||
	    get_str(o, "outdir", 0, &s->outdir, err) < 0 ||
	    backend_from(o, "backend", SQ_BACKEND_BUILTIN, SQ_BACKEND_COMMAND, &s->backend, err) <
		0 ||
	    retry_from(o, &s->retry, err) < 0)
		return -1;
	if (g && cJSON_IsNull(g))
		return 0;
	return get_name(o, "group", &s->group, err);
}

int sq_stitch_spec_from_json(struct sq_stitch_spec *s, const char *json, struct sq_err *err)
{
	cJSON *root = parse_object(json, err);
	int rc = -1;

	if (!root)
		return -1;
	if (stitch_fields(s, root, err) < 0) {
		sq_stitch_spec_release(s);
		goto out;
	}
	sq_stitch_spec_finalize(s);
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}
