/* record.c - what every stage record shares: the header that says which stage
 * and version it proves done, and the provenance (see record.h). */
#include "stage/record.h"
#include "base/fsutil.h"
#include "base/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

void sq_provenance_release(struct sq_provenance *p)
{
	free(p->scanq_version);
	free(p->host);
	free(p->worker);
	free(p->backend);
	free(p->backend_version);
	free(p->params_json);
	for (size_t i = 0; i < p->nsources; i++)
		free(p->source_paths[i]);
	free(p->source_paths);
	free(p->source_ids);
	memset(p, 0, sizeof(*p));
}

void sq_record_warn(char ***warnings, size_t *n, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	*warnings = xrealloc(*warnings, (*n + 2) * sizeof(**warnings));
	(*warnings)[(*n)++] = xstrdup(line);
	(*warnings)[*n] = NULL;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

static cJSON *source_json(const char *path, const struct sq_video_id *id)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "path", path);
	if (id && id->size_bytes >= 0) {
		cJSON_AddNumberToObject(o, "size_bytes", (double)id->size_bytes);
		cJSON_AddNumberToObject(o, "mtime_s", (double)id->mtime_s);
		cJSON_AddStringToObject(o, "head_sha256", id->head_sha256);
		cJSON_AddStringToObject(o, "tail_sha256", id->tail_sha256);
	}
	return o;
}

static cJSON *provenance_json(const struct sq_provenance *p)
{
	cJSON *o = cJSON_CreateObject(), *params, *src;

	cJSON_AddNumberToObject(o, "format", SQ_RECORD_FORMAT);
	cJSON_AddStringToObject(o, "scanq_version", or_empty(p->scanq_version));
	cJSON_AddStringToObject(o, "host", or_empty(p->host));
	cJSON_AddStringToObject(o, "worker", or_empty(p->worker));
	cJSON_AddStringToObject(o, "backend", or_empty(p->backend));
	cJSON_AddStringToObject(o, "backend_version", or_empty(p->backend_version));
	params = p->params_json ? sq_json_parse(p->params_json, (size_t)-1, "params", NULL) : NULL;
	cJSON_AddItemToObject(o, "params", params ? params : cJSON_CreateObject());
	src = cJSON_AddArrayToObject(o, "sources");
	for (size_t i = 0; i < p->nsources; i++)
		cJSON_AddItemToArray(
		    src, source_json(p->source_paths[i], p->source_ids ? &p->source_ids[i] : NULL));
	return o;
}

void sq_record_put_head(cJSON *doc, enum sq_stage stage, const char *version,
			const struct sq_provenance *p)
{
	cJSON_AddStringToObject(doc, "stage", sq_stage_name(stage));
	cJSON_AddStringToObject(doc, "version", version);
	cJSON_AddNumberToObject(doc, "created_ms", (double)p->created_ms);
	cJSON_AddStringToObject(doc, "host", or_empty(p->host));
	cJSON_AddItemToObject(doc, "provenance", provenance_json(p));
}

static char *dup_member(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return xstrdup(cJSON_IsString(v) ? v->valuestring : "");
}

static void source_from(const cJSON *s, struct sq_provenance *p, size_t i)
{
	struct sq_video_id *id = &p->source_ids[i];
	const char *head, *tail;

	p->source_paths[i] = dup_member(s, "path");
	id->size_bytes = -1;
	if (sq_json_get_ll(s, "size_bytes", 0, 1LL << 52, &id->size_bytes, "", NULL) < 0 ||
	    sq_json_get_ll(s, "mtime_s", -(1LL << 52), 1LL << 52, &id->mtime_s, "", NULL) < 0 ||
	    sq_json_get_str(s, "head_sha256", &head, "", NULL) < 0 ||
	    sq_json_get_str(s, "tail_sha256", &tail, "", NULL) < 0) {
		id->size_bytes = -1;
		return;
	}
	snprintf(id->head_sha256, sizeof(id->head_sha256), "%s", head);
	snprintf(id->tail_sha256, sizeof(id->tail_sha256), "%s", tail);
}

/* Provenance is for people and for the console: a record whose provenance is
 * absent (format 1) or partial still proves its stage done. */
static void provenance_from(const cJSON *o, struct sq_provenance *p)
{
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(o, "params");
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "sources"), *s;
	long long format = 1;
	size_t n = cJSON_IsArray(src) ? (size_t)cJSON_GetArraySize(src) : 0, i = 0;

	sq_json_get_ll(o, "format", 1, 1000, &format, "", NULL);
	p->format = (int)format;
	p->scanq_version = dup_member(o, "scanq_version");
	p->host = dup_member(o, "host");
	p->worker = dup_member(o, "worker");
	p->backend = dup_member(o, "backend");
	p->backend_version = dup_member(o, "backend_version");
	p->params_json = cJSON_IsObject(params) ? sq_json_print(params, 0) : xstrdup("{}");
	p->source_paths = xcalloc(n + 1, sizeof(*p->source_paths));
	p->source_ids = xcalloc(n + 1, sizeof(*p->source_ids));
	cJSON_ArrayForEach(s, src)
	{
		source_from(s, p, i++);
	}
	p->nsources = n;
}

int sq_record_get_head(const cJSON *doc, enum sq_stage stage, char version[SQ_VERSION_LEN + 1],
		       struct sq_provenance *p, struct sq_err *err)
{
	const char *st, *ver;
	const char *what = sq_stage_name(stage);

	if (sq_json_get_str(doc, "stage", &st, what, err) < 0 ||
	    sq_json_get_str(doc, "version", &ver, what, err) < 0)
		return -1;
	if (strcmp(st, sq_stage_name(stage)) != 0)
		return sq_error(err, SQ_ERR_INVALID, "record of stage '%s' where '%s' was expected",
				st, sq_stage_name(stage));
	/* as sq_record_head_parse: cut short, it would read as another version */
	if (strlen(ver) > SQ_VERSION_LEN)
		return sq_error(err, SQ_ERR_INVALID, "%s record: version '%.20s' is too long", what,
				ver);
	snprintf(version, SQ_VERSION_LEN + 1, "%s", ver);
	provenance_from(cJSON_GetObjectItemCaseSensitive(doc, "provenance"), p);
	if (!*p->host) {
		free(p->host);
		p->host = dup_member(doc, "host");
	}
	sq_json_get_ll(doc, "created_ms", 0, 1LL << 52, &p->created_ms, "", NULL);
	return 0;
}

int sq_record_head_parse(const char *text, struct sq_record_head *h, struct sq_err *err)
{
	cJSON *doc = sq_json_parse(text, (size_t)-1, "record", err);
	const char *st = NULL, *ver = NULL, *host = "";
	int stage, rc = -1;

	memset(h, 0, sizeof(*h));
	if (!doc)
		return -1;
	if (sq_json_get_str(doc, "stage", &st, "record", err) < 0 ||
	    sq_json_get_str(doc, "version", &ver, "record", err) < 0)
		goto out;
	if ((stage = sq_stage_parse(st)) < 0) {
		sq_error(err, SQ_ERR_INVALID, "record: unknown stage '%s'", st);
		goto out;
	}
	if (strlen(ver) > SQ_VERSION_LEN) {
		sq_error(err, SQ_ERR_INVALID, "record: version '%.20s' is too long", ver);
		goto out;
	}
	h->stage = (enum sq_stage)stage;
	snprintf(h->version, sizeof(h->version), "%s", ver);
	sq_json_get_ll(doc, "created_ms", 0, 1LL << 52, &h->created_ms, "", NULL);
	sq_json_get_str(doc, "host", &host, "", NULL);
	snprintf(h->host, sizeof(h->host), "%s", host);
	rc = 0;
out:
	cJSON_Delete(doc);
	return rc;
}

int sq_record_text_is_current(const char *text, enum sq_stage stage, const char *version)
{
	struct sq_record_head h;

	return text && sq_record_head_parse(text, &h, NULL) == 0 && h.stage == stage &&
	       (!version || strcmp(h.version, version) == 0);
}

int sq_record_is_current(const char *path, enum sq_stage stage, const char *version)
{
	char *text = sq_read_file(path, NULL, NULL);
	int ok = sq_record_text_is_current(text, stage, version);

	free(text);
	return ok;
}
