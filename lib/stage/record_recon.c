/* record_recon.c - reconstruct.json, reconstruct's record (see record.h).
 *
 * Besides the header: "backend", "wall_ms", "stride" (k, fixed, frames_total,
 * frames_used, bytes_per_frame, budget_bytes), "warnings"; a command backend
 * adds "done_by_marker"; the colmap backend "colmap" (settings, the camera's
 * intrinsics, steps_ms), "quality" (the figures colmap.h judges) and "frames":
 * one entry per frame it was given (file, pts_s, registered, and for
 * registered frames "centre" and camera-to-world "rotation"). */
#include "stage/record.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

static const char *const step_names[4] = {"features", "matching", "mapping", "export"};

void sq_reconstruct_record_release(struct sq_reconstruct_record *r)
{
	sq_provenance_release(&r->prov);
	free(r->frames);
	for (size_t i = 0; i < r->nwarnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	memset(r, 0, sizeof(*r));
}

static cJSON *stride_json(const struct sq_stride *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "k", s->k);
	cJSON_AddBoolToObject(o, "fixed", s->fixed);
	cJSON_AddNumberToObject(o, "frames_total", (double)s->frames_total);
	cJSON_AddNumberToObject(o, "frames_used", (double)s->frames_used);
	cJSON_AddNumberToObject(o, "bytes_per_frame", (double)s->bytes_per_frame);
	cJSON_AddNumberToObject(o, "budget_bytes", (double)s->budget_bytes);
	return o;
}

static cJSON *colmap_json(const struct sq_colmap_report *c)
{
	cJSON *o = cJSON_CreateObject(), *steps;

	cJSON_AddStringToObject(o, "camera_model", c->camera_model);
	cJSON_AddNumberToObject(o, "threads", c->threads);
	cJSON_AddNumberToObject(o, "max_image_size", c->max_image_size);
	cJSON_AddNumberToObject(o, "max_features", c->max_features);
	cJSON_AddNumberToObject(o, "overlap", c->overlap);
	cJSON_AddNumberToObject(o, "models", c->models);
	cJSON_AddNumberToObject(o, "model", c->model);
	if (c->has_camera) { /* the intrinsics COLMAP used, in its model's order */
		cJSON *cam = cJSON_AddObjectToObject(o, "camera");

		/* given: held fixed from the task's camera_params; else refined */
		cJSON_AddStringToObject(cam, "intrinsics", c->intrinsics_given ? "given" : "estimated");
		cJSON_AddStringToObject(cam, "model", c->cam_model);
		cJSON_AddNumberToObject(cam, "width", c->cam_width);
		cJSON_AddNumberToObject(cam, "height", c->cam_height);
		cJSON_AddItemToObject(cam, "params", sq_json_nums(c->cam_params, (size_t)c->cam_nparams));
	}
	steps = cJSON_AddObjectToObject(o, "steps_ms");
	for (int i = 0; i < 4; i++)
		cJSON_AddNumberToObject(steps, step_names[i], (double)c->steps_ms[i]);
	return o;
}

static cJSON *quality_json(const struct sq_colmap_quality *q)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "frames", (double)q->frames);
	cJSON_AddNumberToObject(o, "registered", (double)q->registered);
	cJSON_AddNumberToObject(o, "registered_share", q->registered_share);
	cJSON_AddNumberToObject(o, "points", (double)q->points);
	cJSON_AddNumberToObject(o, "mean_track_length", q->mean_track);
	cJSON_AddNumberToObject(o, "mean_reprojection_error_px", q->mean_reproj_px);
	cJSON_AddNumberToObject(o, "scene_extent", q->scene_extent);
	cJSON_AddNumberToObject(o, "path_extent", q->path_extent);
	cJSON_AddNumberToObject(o, "median_step", q->median_step);
	cJSON_AddNumberToObject(o, "jump_share", q->jump_share);
	return o;
}

static cJSON *cameras_json(const struct sq_reconstruct_record *r)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < r->nframes; i++) {
		const struct sq_camera_entry *e = &r->frames[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "file", e->file);
		cJSON_AddNumberToObject(o, "pts_s", e->pts_s);
		cJSON_AddBoolToObject(o, "registered", e->registered);
		if (e->registered) {
			cJSON_AddItemToObject(o, "centre", sq_json_nums(e->centre, 3));
			cJSON_AddItemToObject(o, "rotation", sq_json_nums(e->q, 4));
		}
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

char *sq_reconstruct_record_format(const struct sq_reconstruct_record *r)
{
	cJSON *doc = sq_json_object();
	char *text;

	sq_record_put_head(doc, SQ_STAGE_RECONSTRUCT, r->version, &r->prov);
	cJSON_AddStringToObject(doc, "backend", r->prov.backend ? r->prov.backend : "");
	cJSON_AddNumberToObject(doc, "wall_ms", (double)r->wall_ms);
	if (!r->has_colmap)
		cJSON_AddBoolToObject(doc, "done_by_marker", r->done_by_marker);
	cJSON_AddItemToObject(doc, "stride", stride_json(&r->stride));
	if (r->has_colmap) {
		cJSON_AddItemToObject(doc, "colmap", colmap_json(&r->colmap));
		cJSON_AddItemToObject(doc, "quality", quality_json(&r->colmap.quality));
		cJSON_AddItemToObject(doc, "frames", cameras_json(r));
	}
	cJSON_AddItemToObject(doc, "warnings",
			      sq_json_strs((const char *const *)r->warnings, r->nwarnings));
	text = sq_json_print(doc, 1);
	cJSON_Delete(doc);
	return text;
}

/* --- reading ------------------------------------------------------------------ */

static int stride_from(const cJSON *doc, struct sq_stride *s, struct sq_err *err)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(doc, "stride");
	const char *what = "reconstruct record 'stride'";
	long long k = 1, total = 0, used = 0;

	memset(s, 0, sizeof(*s));
	s->k = 1;
	if (!o) /* records of backends that never stride */
		return 0;
	if (sq_json_get_ll(o, "k", 1, 1 << 30, &k, what, err) < 0 ||
	    sq_json_get_ll(o, "frames_total", 0, 1LL << 40, &total, what, err) < 0 ||
	    sq_json_get_ll(o, "frames_used", 0, 1LL << 40, &used, what, err) < 0)
		return -1;
	s->k = (int)k;
	s->frames_total = (size_t)total;
	s->frames_used = (size_t)used;
	sq_json_get_bool(o, "fixed", &s->fixed, "", NULL);
	sq_json_get_ll(o, "bytes_per_frame", 0, 1LL << 52, &s->bytes_per_frame, "", NULL);
	sq_json_get_ll(o, "budget_bytes", 0, 1LL << 52, &s->budget_bytes, "", NULL);
	return 0;
}

static void copy_str(char *dst, size_t size, const cJSON *o, const char *key)
{
	const char *v = "";

	sq_json_get_str(o, key, &v, "", NULL);
	snprintf(dst, size, "%s", v);
}

static long long ll_or0(const cJSON *o, const char *key)
{
	long long v = 0;

	sq_json_get_ll(o, key, -(1LL << 52), 1LL << 52, &v, "", NULL);
	return v;
}

static double num_or0(const cJSON *o, const char *key)
{
	double v = 0;

	sq_json_get_num(o, key, -1e300, 1e300, &v, "", NULL);
	return v;
}

/* The camera COLMAP used, if the record has it. */
static void camera_from(const cJSON *o, struct sq_colmap_report *c)
{
	const cJSON *cam = cJSON_GetObjectItemCaseSensitive(o, "camera");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(cam, "params");
	const char *intr = "";
	int n = cJSON_GetArraySize(params);

	if (!cJSON_IsObject(cam))
		return;
	c->has_camera = 1;
	sq_json_get_str(cam, "intrinsics", &intr, "", NULL);
	c->intrinsics_given = strcmp(intr, "given") == 0;
	copy_str(c->cam_model, sizeof(c->cam_model), cam, "model");
	c->cam_width = (int)ll_or0(cam, "width");
	c->cam_height = (int)ll_or0(cam, "height");
	if (n > 0 && n <= 16 && sq_json_get_vec(cam, "params", c->cam_params, n, "", NULL) == 0)
		c->cam_nparams = n;
}

/* Settings are for people: what a record lacks reads as 0. */
static void colmap_from(const cJSON *doc, struct sq_colmap_report *c)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(doc, "colmap");
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(doc, "quality");
	const cJSON *steps = cJSON_GetObjectItemCaseSensitive(o, "steps_ms");

	copy_str(c->camera_model, sizeof(c->camera_model), o, "camera_model");
	c->threads = (int)ll_or0(o, "threads");
	c->max_image_size = (int)ll_or0(o, "max_image_size");
	c->max_features = (int)ll_or0(o, "max_features");
	c->overlap = (int)ll_or0(o, "overlap");
	c->models = (int)ll_or0(o, "models");
	c->model = (int)ll_or0(o, "model");
	camera_from(o, c);
	for (int i = 0; i < 4; i++)
		c->steps_ms[i] = ll_or0(steps, step_names[i]);
	c->quality.frames = (size_t)ll_or0(q, "frames");
	c->quality.registered = (size_t)ll_or0(q, "registered");
	c->quality.points = (size_t)ll_or0(q, "points");
	c->quality.registered_share = num_or0(q, "registered_share");
	c->quality.mean_track = num_or0(q, "mean_track_length");
	c->quality.mean_reproj_px = num_or0(q, "mean_reprojection_error_px");
	c->quality.scene_extent = num_or0(q, "scene_extent");
	c->quality.path_extent = num_or0(q, "path_extent");
	c->quality.median_step = num_or0(q, "median_step");
	c->quality.jump_share = num_or0(q, "jump_share");
}

static int camera_entry_from(const cJSON *f, struct sq_camera_entry *e, struct sq_err *err)
{
	const char *what = "reconstruct record frame", *file;

	if (sq_json_get_str(f, "file", &file, what, err) < 0 ||
	    sq_json_get_num(f, "pts_s", -1e9, 1e9, &e->pts_s, what, err) < 0 ||
	    sq_json_get_bool(f, "registered", &e->registered, what, err) < 0)
		return -1;
	snprintf(e->file, sizeof(e->file), "%s", file);
	if (e->registered && (sq_json_get_vec(f, "centre", e->centre, 3, what, err) < 0 ||
			      sq_json_get_vec(f, "rotation", e->q, 4, what, err) < 0))
		return -1;
	return 0;
}

static int cameras_from(const cJSON *doc, struct sq_reconstruct_record *r, struct sq_err *err)
{
	const cJSON *frames = cJSON_GetObjectItemCaseSensitive(doc, "frames"), *f;
	size_t i = 0;

	if (!frames)
		return 0;
	if (!cJSON_IsArray(frames))
		return sq_error(err, SQ_ERR_INVALID, "reconstruct record: 'frames' is not a list");
	r->frames = xcalloc((size_t)cJSON_GetArraySize(frames) + 1, sizeof(*r->frames));
	cJSON_ArrayForEach(f, frames)
	{
		if (camera_entry_from(f, &r->frames[i], err) < 0)
			return -1;
		r->nframes = ++i;
	}
	return 0;
}

int sq_reconstruct_record_parse(struct sq_reconstruct_record *r, const char *text,
				struct sq_err *err)
{
	cJSON *doc = sq_json_parse(text, (size_t)-1, "reconstruct record", err);
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (!doc)
		return -1;
	if (sq_record_get_head(doc, SQ_STAGE_RECONSTRUCT, r->version, &r->prov, err) < 0 ||
	    stride_from(doc, &r->stride, err) < 0 || cameras_from(doc, r, err) < 0 ||
	    sq_json_get_strs(doc, "warnings", &r->warnings, &r->nwarnings, "reconstruct record",
			     err) < 0)
		goto out;
	if (!*r->prov.backend) { /* format 1 said it only at the top */
		const char *b = "";

		sq_json_get_str(doc, "backend", &b, "", NULL);
		free(r->prov.backend);
		r->prov.backend = xstrdup(b);
	}
	r->wall_ms = ll_or0(doc, "wall_ms");
	sq_json_get_bool(doc, "done_by_marker", &r->done_by_marker, "", NULL);
	r->has_colmap = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "colmap"));
	if (r->has_colmap)
		colmap_from(doc, &r->colmap);
	rc = 0;
out:
	if (rc < 0)
		sq_reconstruct_record_release(r);
	cJSON_Delete(doc);
	return rc;
}
