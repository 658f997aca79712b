/* stitch_report.c - the stitch record: what was placed, how, and how well. */
#include "stitch/stitch.h"

#include <cjson/cJSON.h>

#include "base/banned.h"

static cJSON *numbers(const double *v, int n)
{
	cJSON *a = cJSON_CreateArray();

	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
	return a;
}

static cJSON *transform_json(const struct sq_sim *T)
{
	cJSON *o = cJSON_CreateObject(), *rows = cJSON_CreateArray();

	cJSON_AddNumberToObject(o, "scale", T->s);
	for (int i = 0; i < 3; i++)
		cJSON_AddItemToArray(rows, numbers(&T->R[3 * i], 3));
	cJSON_AddItemToObject(o, "rotation", rows);
	cJSON_AddItemToObject(o, "translation", numbers(T->t, 3));
	cJSON_AddNumberToObject(o, "rotation_deg", sq_rot_angle_deg(T->R));
	return o;
}

static cJSON *input_json(const struct sq_stitch_input *in, const struct sq_stitch_result *r,
			 size_t i)
{
	const struct sq_stitch_placement *p = &r->p[i];
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", in[i].name);
	cJSON_AddStringToObject(o, "ply", in[i].ply);
	cJSON_AddNumberToObject(o, "points", (double)p->points);
	cJSON_AddNumberToObject(o, "unit", p->unit);
	cJSON_AddBoolToObject(o, "placed", p->placed);
	if (!p->placed) {
		cJSON_AddStringToObject(o, "why", p->why);
		return o;
	}
	cJSON_AddStringToObject(o, "method", p->method);
	if (p->parent >= 0) {
		cJSON_AddStringToObject(o, "placed_on", in[p->parent].name);
		cJSON_AddNumberToObject(o, "inlier_share", p->inlier_share);
		cJSON_AddNumberToObject(o, "residual", p->rms);
	}
	cJSON_AddItemToObject(o, "transform", transform_json(&p->T));
	return o;
}

char *sq_stitch_result_json(const struct sq_stitch_input *in, const struct sq_stitch_result *r)
{
	cJSON *doc = cJSON_CreateObject(), *list = cJSON_CreateArray(), *cams;
	char *text;

	cJSON_AddStringToObject(doc, "backend", "builtin");
	cJSON_AddStringToObject(doc, "method",
				"similarity per input: shared cameras, else RANSAC over SIFT "
				"descriptor matches, else FPFH+RANSAC refined by point-to-plane ICP "
				"with scale; chained by maximum spanning tree");
	cJSON_AddNumberToObject(doc, "placed", (double)r->placed);
	cJSON_AddNumberToObject(doc, "points", (double)r->points_out);
	cJSON_AddNumberToObject(doc, "outliers_removed", (double)r->outliers);
	cJSON_AddNumberToObject(doc, "voxel", r->voxel);
	cJSON_AddNumberToObject(doc, "unit", r->unit);
	cJSON_AddNumberToObject(doc, "wall_ms", (double)r->wall_ms);
	for (size_t i = 0; i < r->n; i++)
		cJSON_AddItemToArray(list, input_json(in, r, i));
	cJSON_AddItemToObject(doc, "inputs", list);
	cams = cJSON_AddArrayToObject(doc, "cameras");
	for (size_t i = 0; i < r->ncams; i++)
		cJSON_AddItemToArray(cams, numbers(&r->cams[3 * i], 3));
	text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	return text;
}
