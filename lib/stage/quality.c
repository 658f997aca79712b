/* quality.c - the warnings of a stage's figures (see quality.h for the rules). */
#include "stage/quality.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

static void add(char ***list, size_t *n, char *w)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*list)[i], w) == 0) {
			free(w);
			return;
		}
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = w;
}

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static void explicit_warnings(const cJSON *doc, char ***list, size_t *n)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, get(doc, "warnings"))
	{
		if (cJSON_IsString(e) && e->valuestring[0])
			add(list, n, xstrdup(e->valuestring));
	}
}

static void figure_warnings(const cJSON *doc, char ***list, size_t *n)
{
	const cJSON *q = get(doc, "quality");
	const cJSON *share = get(q, "registered_share");
	const cJSON *reproj = get(q, "mean_reprojection_error_px");
	const cJSON *conf = get(doc, "confidence");

	if (cJSON_IsNumber(share) && share->valuedouble < SQ_QUALITY_MIN_REGISTERED_SHARE)
		add(list, n,
		    xasprintf("only %.0f%% of frames registered (warning below %.0f%%)",
			      100 * share->valuedouble, 100 * SQ_QUALITY_MIN_REGISTERED_SHARE));
	if (cJSON_IsNumber(reproj) && reproj->valuedouble > SQ_QUALITY_MAX_REPROJ_PX)
		add(list, n,
		    xasprintf("mean reprojection error %.2f px (warning above %.2f px)",
			      reproj->valuedouble, SQ_QUALITY_MAX_REPROJ_PX));
	if (cJSON_IsNumber(conf) && conf->valuedouble < SQ_QUALITY_MIN_CONFIDENCE)
		add(list, n,
		    xasprintf("placement confidence %.2f (warning below %.2f)", conf->valuedouble,
			      SQ_QUALITY_MIN_CONFIDENCE));
}

/* "left out 2 inputs: auv2, auv3" from a list of names (or a count). */
static void left_out_warning(const cJSON *doc, char ***list, size_t *n)
{
	const cJSON *l = get(doc, "left_out"), *e;
	struct sq_strbuf sb = SQ_STRBUF_INIT;
	int count;

	if (!cJSON_IsArray(l) && !cJSON_IsNumber(l))
		l = get(doc, "unplaced");
	if (cJSON_IsNumber(l) && l->valuedouble >= 1)
		add(list, n, xasprintf("left out %.0f input(s)", l->valuedouble));
	if (!cJSON_IsArray(l) || !(count = cJSON_GetArraySize(l)))
		return;
	sq_strbuf_addf(&sb, "left out %d input%s:", count, count == 1 ? "" : "s");
	cJSON_ArrayForEach(e, l)
	{
		if (cJSON_IsString(e))
			sq_strbuf_addf(&sb, "%s %s", e == l->child ? "" : ",", e->valuestring);
	}
	add(list, n, sq_strbuf_detach(&sb));
}

size_t sq_quality_warnings(const char *json, char ***list, size_t n)
{
	cJSON *doc = json ? cJSON_Parse(json) : NULL;

	if (cJSON_IsObject(doc)) {
		explicit_warnings(doc, list, &n);
		figure_warnings(doc, list, &n);
		left_out_warning(doc, list, &n);
	}
	cJSON_Delete(doc);
	return n;
}

void sq_quality_free(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* The record's figures the rules read, copied into a summary without them, so
 * that what the queue keeps can be judged without the record. */
static void copy_figures(cJSON *summary, const char *record)
{
	static const char *const keys[] = {"quality", "confidence", "left_out"};
	cJSON *rec = record ? cJSON_Parse(record) : NULL;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const cJSON *v = get(rec, keys[i]);

		if (v && !get(summary, keys[i]))
			cJSON_AddItemToObject(summary, keys[i], cJSON_Duplicate(v, 1));
	}
	cJSON_Delete(rec);
}

char *sq_quality_summary(const char *record, char *summary)
{
	cJSON *doc = summary ? cJSON_Parse(summary) : NULL, *arr = cJSON_CreateArray();
	char **list = NULL, *text;
	size_t n = sq_quality_warnings(summary, &list, 0);

	n = sq_quality_warnings(record, &list, n);
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		doc = cJSON_CreateObject();
	}
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(list[i]));
	copy_figures(doc, record);
	cJSON_DeleteItemFromObjectCaseSensitive(doc, "warnings");
	cJSON_AddItemToObject(doc, "warnings", arr);
	text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	sq_quality_free(list, n);
	free(summary);
	if (!text)
		abort(); /* cJSON fails here only when out of memory */
	return text;
}
