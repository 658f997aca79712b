/* stitch_report.c - the stitch record and the stage's summary: what was
 * placed, how, how sure, and what was left out and why. */
#include "stitch/stitch.h"
#include "base/strbuf.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

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

/* A number, or null where it is unknown (JSON has no NaN or infinity). */
static void add_num(cJSON *o, const char *key, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static cJSON *evidence_json(const struct sq_stitch_evidence *ev)
{
	cJSON *o = cJSON_CreateObject();

	add_num(o, "coherence", ev->coherence);
	add_num(o, "relief_coherence", ev->relief_coherence);
	add_num(o, "overlap", ev->overlap);
	add_num(o, "off_above", ev->off_above);
	add_num(o, "off_below", ev->off_below);
	add_num(o, "overlap_width_voxels", ev->width);
	add_num(o, "normal_deg", ev->normal_deg);
	add_num(o, "rotation_sd_deg", ev->rot_sd_deg);
	add_num(o, "scale_sd", ev->scale_sd);
	add_num(o, "shift_sd", ev->shift_sd);
	add_num(o, "two_way_rotation_deg", ev->two_way_deg);
	add_num(o, "two_way_scale", ev->two_way_scale);
	add_num(o, "colour", ev->colour);
	add_num(o, "runner_up", ev->runner_up);
	return o;
}

static void placed_json(cJSON *o, const struct sq_stitch_input *in,
			const struct sq_stitch_placement *p)
{
	cJSON_AddStringToObject(o, "method", p->method);
	add_num(o, "confidence", p->confidence);
	if (p->parent >= 0) {
		cJSON_AddStringToObject(o, "placed_on", in[p->parent].name);
		cJSON_AddNumberToObject(o, "inlier_share", p->inlier_share);
		cJSON_AddNumberToObject(o, "residual", p->rms);
		if (p->ev.checked)
			cJSON_AddItemToObject(o, "evidence", evidence_json(&p->ev));
	}
	cJSON_AddItemToObject(o, "transform", transform_json(&p->T));
}

static cJSON *input_json(const struct sq_stitch_input *in, const struct sq_stitch_result *r,
			 size_t i)
{
	const struct sq_stitch_placement *p = &r->p[i];
	cJSON *o = cJSON_CreateObject(), *amb;

	cJSON_AddStringToObject(o, "name", in[i].name);
	cJSON_AddStringToObject(o, "ply", in[i].ply);
	cJSON_AddNumberToObject(o, "points", (double)p->points);
	cJSON_AddNumberToObject(o, "unit", p->unit);
	cJSON_AddBoolToObject(o, "placed", p->placed);
	if (p->placed) {
		placed_json(o, in, p);
		return o;
	}
	cJSON_AddStringToObject(o, "why", p->why);
	if (p->ambiguous) {
		amb = cJSON_AddObjectToObject(o, "ambiguous");
		cJSON_AddStringToObject(amb, "on", in[p->alt_on].name);
		cJSON_AddItemToObject(amb, "placements", cJSON_CreateArray());
		for (int k = 0; k < 2; k++)
			cJSON_AddItemToArray(cJSON_GetObjectItem(amb, "placements"),
					     transform_json(&p->alt[k]));
	}
	return o;
}

/* One warning per left-out input and per placement below SQ_STITCH_CONFIDENT. */
size_t sq_stitch_warnings(const struct sq_stitch_input *in, const struct sq_stitch_result *r,
			  void (*fn)(void *ctx, const char *line), void *ctx)
{
	struct sq_strbuf sb;
	size_t n = 0;

	sq_strbuf_init(&sb);
	for (size_t i = 0; i < r->n; i++) {
		const struct sq_stitch_placement *p = &r->p[i];

		sq_strbuf_reset(&sb);
		if (!p->placed)
			sq_strbuf_addf(&sb, "'%s' left out: %s", in[i].name, p->why);
		else if (p->parent >= 0 && p->confidence < SQ_STITCH_CONFIDENT)
			sq_strbuf_addf(&sb, "'%s' placed with low confidence %.2f (%s on '%s')",
				       in[i].name, p->confidence, p->method, in[p->parent].name);
		else
			continue;
		n++;
		if (fn)
			fn(ctx, sb.buf);
	}
	sq_strbuf_release(&sb);
	return n;
}

/* The least sure placement (1 when only the reference is placed). */
static double least_confidence(const struct sq_stitch_result *r)
{
	double c = 1;

	for (size_t i = 0; i < r->n; i++)
		if (r->p[i].placed && r->p[i].parent >= 0 && r->p[i].confidence < c)
			c = r->p[i].confidence;
	return c;
}

/* "confidence" (the least sure placement), "placements" (each placed input's
 * confidence), "left_out" (names) and "left_out_reasons" (name: why). */
static void add_verdicts(cJSON *doc, const struct sq_stitch_input *in,
			 const struct sq_stitch_result *r)
{
	cJSON *placements = cJSON_CreateArray(), *left = cJSON_CreateArray();
	cJSON *why = cJSON_CreateObject();

	cJSON_AddNumberToObject(doc, "confidence", least_confidence(r));
	for (size_t i = 0; i < r->n; i++) {
		const struct sq_stitch_placement *p = &r->p[i];
		cJSON *o;

		if (!p->placed) {
			cJSON_AddItemToArray(left, cJSON_CreateString(in[i].name));
			cJSON_AddStringToObject(why, in[i].name, p->why);
			continue;
		}
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", in[i].name);
		add_num(o, "confidence", p->confidence);
		cJSON_AddStringToObject(o, "method", p->method);
		if (p->parent >= 0)
			cJSON_AddStringToObject(o, "placed_on", in[p->parent].name);
		cJSON_AddItemToArray(placements, o);
	}
	cJSON_AddItemToObject(doc, "placements", placements);
	cJSON_AddItemToObject(doc, "left_out", left);
	cJSON_AddItemToObject(doc, "left_out_reasons", why);
}

static void add_warning(void *ctx, const char *line)
{
	cJSON_AddItemToArray(ctx, cJSON_CreateString(line));
}

char *sq_stitch_result_json(const struct sq_stitch_input *in, const struct sq_stitch_result *r)
{
	cJSON *doc = cJSON_CreateObject(), *list = cJSON_CreateArray(), *cams;
	char *text;

	cJSON_AddStringToObject(doc, "backend", "builtin");
	cJSON_AddStringToObject(
	    doc, "method",
	    "similarity per input: shared cameras, else RANSAC over SIFT "
	    "descriptor matches, else FPFH+RANSAC refined by point-to-plane ICP "
	    "with scale; placements judged by the clouds (coherence of the "
	    "overlap, relief, precision, ambiguity) and published from "
	    "confidence 0.5; chained by maximum spanning tree");
	cJSON_AddNumberToObject(doc, "placed", (double)r->placed);
	cJSON_AddNumberToObject(doc, "points", (double)r->points_out);
	cJSON_AddNumberToObject(doc, "outliers_removed", (double)r->outliers);
	cJSON_AddNumberToObject(doc, "voxel", r->voxel);
	cJSON_AddNumberToObject(doc, "unit", r->unit);
	cJSON_AddNumberToObject(doc, "wall_ms", (double)r->wall_ms);
	add_verdicts(doc, in, r);
	sq_stitch_warnings(in, r, add_warning, cJSON_AddArrayToObject(doc, "warnings"));
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

char *sq_stitch_figures_json(const struct sq_stitch_input *in, const struct sq_stitch_result *r)
{
	cJSON *doc = cJSON_CreateObject(), *unplaced;
	char *text;
	size_t len;

	cJSON_AddNumberToObject(doc, "placed", (double)r->placed);
	cJSON_AddNumberToObject(doc, "inputs", (double)r->n);
	cJSON_AddNumberToObject(doc, "points", (double)r->points_out);
	unplaced = cJSON_AddArrayToObject(doc, "unplaced");
	for (size_t i = 0; i < r->n; i++)
		if (!r->p[i].placed)
			cJSON_AddItemToArray(unplaced, cJSON_CreateString(in[i].name));
	add_verdicts(doc, in, r);
	text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	/* the members alone: {"placed":..} -> "placed":.. */
	len = strlen(text);
	memmove(text, text + 1, len - 2);
	text[len - 2] = '\0';
	return text;
}
