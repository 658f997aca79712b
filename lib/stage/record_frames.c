/* record_frames.c - frames.json, extract's record (see record.h).
 *
 * Besides the header: acquisition, group, task; count, duration_s, params
 * (fps_num, fps_den, width, height, quality); "sources" (the task's videos)
 * and "until_s" parallel to them (seconds decoded from the start when the task
 * file cut that video with `until`, null for all of it); warnings; and per
 * frame "file", "pts_s" (seconds in the chapters joined), "source" (index into
 * sources) and "source_pts_s" (seconds in that source from its start): frames
 * of one video at the same source_pts_s in two tasks are the same picture. */
#include "stage/record.h"
#include "base/xalloc.h"
#include "task/layout.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "base/banned.h"

void sq_frames_record_release(struct sq_frames_record *r)
{
	sq_provenance_release(&r->prov);
	free(r->acquisition);
	free(r->group);
	free(r->task);
	for (size_t i = 0; i < r->nsources; i++)
		free(r->sources[i]);
	free(r->sources);
	free(r->until_s);
	for (size_t i = 0; i < r->nwarnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	free(r->frames);
	memset(r, 0, sizeof(*r));
}

static cJSON *params_json(const struct sq_frames_record *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "fps_num", r->fps_num);
	cJSON_AddNumberToObject(o, "fps_den", r->fps_den);
	cJSON_AddNumberToObject(o, "width", r->width);
	cJSON_AddNumberToObject(o, "height", r->height);
	cJSON_AddNumberToObject(o, "quality", r->quality);
	return o;
}

static cJSON *frames_json(const struct sq_frames_record *r)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < r->nframes; i++) {
		cJSON *f = cJSON_CreateObject();
		char name[SQ_LAYOUT_FRAME_NAME_MAX];

		sq_layout_frame_name(name, i + 1);
		cJSON_AddStringToObject(f, "file", name);
		cJSON_AddNumberToObject(f, "pts_s", r->frames[i].pts_s);
		cJSON_AddNumberToObject(f, "source", r->frames[i].source);
		cJSON_AddNumberToObject(f, "source_pts_s", r->frames[i].source_pts_s);
		cJSON_AddItemToArray(a, f);
	}
	return a;
}

char *sq_frames_record_format(const struct sq_frames_record *r)
{
	cJSON *doc = sq_json_object(), *until;
	char *text;

	sq_record_put_head(doc, SQ_STAGE_EXTRACT, r->version, &r->prov);
	cJSON_AddStringToObject(doc, "acquisition", r->acquisition);
	cJSON_AddStringToObject(doc, "group", r->group);
	cJSON_AddStringToObject(doc, "task", r->task);
	cJSON_AddNumberToObject(doc, "count", (double)r->nframes);
	cJSON_AddNumberToObject(doc, "duration_s", r->duration_s);
	cJSON_AddItemToObject(doc, "params", params_json(r));
	cJSON_AddItemToObject(doc, "sources",
			      sq_json_strs((const char *const *)r->sources, r->nsources));
	until = cJSON_AddArrayToObject(doc, "until_s");
	for (size_t i = 0; i < r->nsources; i++)
		cJSON_AddItemToArray(until, r->until_s[i] >= 0 ? cJSON_CreateNumber(r->until_s[i])
							       : cJSON_CreateNull());
	cJSON_AddItemToObject(doc, "warnings",
			      sq_json_strs((const char *const *)r->warnings, r->nwarnings));
	cJSON_AddItemToObject(doc, "frames", frames_json(r));
	text = sq_json_print(doc, 1);
	cJSON_Delete(doc);
	return text;
}

static int params_from(const cJSON *doc, struct sq_frames_record *r, struct sq_err *err)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(doc, "params");
	const char *what = "frames record 'params'";
	long long v[5];

	if (sq_json_get_ll(p, "fps_num", 1, 1000000, &v[0], what, err) < 0 ||
	    sq_json_get_ll(p, "fps_den", 1, 1000000, &v[1], what, err) < 0 ||
	    sq_json_get_ll(p, "width", -1, 1 << 16, &v[2], what, err) < 0 ||
	    sq_json_get_ll(p, "height", -1, 1 << 16, &v[3], what, err) < 0 ||
	    sq_json_get_ll(p, "quality", 0, 100, &v[4], what, err) < 0)
		return -1;
	r->fps_num = (int)v[0];
	r->fps_den = (int)v[1];
	r->width = (int)v[2];
	r->height = (int)v[3];
	r->quality = (int)v[4];
	return 0;
}

static int until_from(const cJSON *doc, struct sq_frames_record *r, struct sq_err *err)
{
	const cJSON *until = cJSON_GetObjectItemCaseSensitive(doc, "until_s"), *u;
	size_t i = 0;

	r->until_s = xcalloc(r->nsources + 1, sizeof(*r->until_s));
	for (i = 0; i < r->nsources; i++)
		r->until_s[i] = -1;
	if (!until)
		return 0;
	if (!cJSON_IsArray(until) || (size_t)cJSON_GetArraySize(until) != r->nsources)
		return sq_error(err, SQ_ERR_INVALID,
				"frames record: 'until_s' must have one entry per source");
	i = 0;
	cJSON_ArrayForEach(u, until)
	{
		if (cJSON_IsNumber(u) && isfinite(u->valuedouble) && u->valuedouble >= 0)
			r->until_s[i] = u->valuedouble;
		else if (!cJSON_IsNull(u))
			return sq_error(err, SQ_ERR_INVALID,
					"frames record: 'until_s' entries must be seconds or null");
		i++;
	}
	return 0;
}

/* Frame i must be frame_<i+1>.jpg: the name is a function of the index (the
 * frames folder is joined to it, so it must never be anything else). */
static int frame_from(const cJSON *f, size_t i, struct sq_frames_record *r, struct sq_err *err)
{
	struct sq_frame_entry *e = &r->frames[i];
	char want[SQ_LAYOUT_FRAME_NAME_MAX], what[48];
	const char *file;
	long long src = 0;
	double t = 0;

	sq_layout_frame_name(want, i + 1);
	if (sq_json_get_str(f, "file", &file, "frames record frame", err) < 0 ||
	    sq_json_get_num(f, "pts_s", -1e9, 1e9, &e->pts_s, "frames record frame", err) < 0)
		return -1;
	if (strcmp(file, want) != 0)
		return sq_error(err, SQ_ERR_INVALID,
				"frames record: frame %zu is '%.64s', not '%s'", i + 1, file, want);
	/* source and source_pts_s came later: absent, the frame is of source 0;
	 * present, an index into sources and a time, or the record is refused (a
	 * stitch pairs cameras by them) */
	e->source = 0;
	e->source_pts_s = e->pts_s;
	if (!cJSON_GetObjectItemCaseSensitive(f, "source"))
		return 0;
	snprintf(what, sizeof(what), "frames record: frame %zu", i + 1);
	if (sq_json_get_ll(f, "source", 0, (long long)r->nsources - 1, &src, what, err) < 0 ||
	    sq_json_get_num(f, "source_pts_s", -1e9, 1e9, &t, what, err) < 0)
		return -1;
	e->source = (int)src;
	e->source_pts_s = t;
	return 0;
}

static int frames_from(const cJSON *doc, struct sq_frames_record *r, struct sq_err *err)
{
	const cJSON *frames = cJSON_GetObjectItemCaseSensitive(doc, "frames"), *f;
	size_t i = 0;

	if (!cJSON_IsArray(frames))
		return sq_error(err, SQ_ERR_INVALID, "frames record: no 'frames' list");
	r->nframes = (size_t)cJSON_GetArraySize(frames);
	r->frames = xcalloc(r->nframes + 1, sizeof(*r->frames));
	cJSON_ArrayForEach(f, frames)
	{
		if (frame_from(f, i, r, err) < 0)
			return -1;
		i++;
	}
	return 0;
}

int sq_frames_record_parse(struct sq_frames_record *r, const char *text, struct sq_err *err)
{
	cJSON *doc = sq_json_parse(text, (size_t)-1, "frames record", err);
	const char *what = "frames record";
	const char *acq = "", *group = "", *task = "";
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (!doc)
		return -1;
	if (sq_record_get_head(doc, SQ_STAGE_EXTRACT, r->version, &r->prov, err) < 0 ||
	    sq_json_get_num(doc, "duration_s", 0, 1e9, &r->duration_s, what, err) < 0 ||
	    params_from(doc, r, err) < 0 ||
	    sq_json_get_strs(doc, "sources", &r->sources, &r->nsources, what, err) < 0 ||
	    until_from(doc, r, err) < 0 ||
	    sq_json_get_strs(doc, "warnings", &r->warnings, &r->nwarnings, what, err) < 0 ||
	    frames_from(doc, r, err) < 0)
		goto out;
	sq_json_get_str(doc, "acquisition", &acq, "", NULL);
	sq_json_get_str(doc, "group", &group, "", NULL);
	sq_json_get_str(doc, "task", &task, "", NULL);
	r->acquisition = xstrdup(acq);
	r->group = xstrdup(group);
	r->task = xstrdup(task);
	rc = 0;
out:
	if (rc < 0)
		sq_frames_record_release(r);
	cJSON_Delete(doc);
	return rc;
}
