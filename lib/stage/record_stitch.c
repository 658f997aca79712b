/* record_stitch.c - stitch.json, the stitch's record (see record.h).
 *
 * Besides the header: "backend" ("builtin" or "command"), "wall_ms",
 * "warnings". The builtin stitch adds "method", "placed", "points",
 * "outliers_removed", "voxel", "unit", "confidence" (the least sure
 * placement), "placements", "left_out", "left_out_reasons", "inputs" (per
 * input: name, ply, points, unit, placed; placed: method, confidence,
 * placed_on, inlier_share, residual, evidence, transform; left out: why and,
 * when ambiguous, the two placements) and "cameras" (placed camera centres,
 * which the acquisition stitch places groups by). A command adds
 * "done_by_marker" and "inputs" (the PLYs it was given). */
#include "stage/record.h"
#include "base/xalloc.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

#define METHOD                                                                                     \
	"similarity per input: shared cameras, else RANSAC over SIFT descriptor matches, else "    \
	"FPFH+RANSAC refined by point-to-plane ICP with scale; placements judged by the clouds "   \
	"(coherence of the overlap, relief, precision, ambiguity) and published from confidence "  \
	"0.5; chained by maximum spanning tree"

static void input_release(struct sq_stitch_record_input *in)
{
	free(in->name);
	free(in->ply);
	free(in->why);
	free(in->placed_on);
	free(in->ambiguous_on);
}

void sq_stitch_record_release(struct sq_stitch_record *r)
{
	sq_provenance_release(&r->prov);
	for (size_t i = 0; i < r->ninputs; i++)
		input_release(&r->inputs[i]);
	free(r->inputs);
	free(r->cams);
	for (size_t i = 0; i < r->ninput_plys; i++)
		free(r->input_plys[i]);
	free(r->input_plys);
	for (size_t i = 0; i < r->nwarnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	memset(r, 0, sizeof(*r));
}

/* --- from the stitch's result ------------------------------------------------- */

static void input_of(struct sq_stitch_record_input *o, const struct sq_stitch_input *in,
		     const struct sq_stitch_result *res, size_t i)
{
	const struct sq_stitch_placement *p = &res->p[i];

	o->name = xstrdup(in[i].name);
	o->ply = xstrdup(in[i].ply);
	o->points = p->points;
	o->unit = p->unit;
	o->placed = p->placed;
	o->confidence = p->confidence;
	o->T = p->T;
	snprintf(o->method, sizeof(o->method), "%s", p->method);
	if (!p->placed) {
		o->why = xstrdup(p->why);
		o->ambiguous = p->ambiguous;
		if (p->ambiguous) {
			o->ambiguous_on = xstrdup(in[p->alt_on].name);
			o->alt[0] = p->alt[0];
			o->alt[1] = p->alt[1];
		}
		return;
	}
	if (p->parent >= 0) {
		o->placed_on = xstrdup(in[p->parent].name);
		o->inlier_share = p->inlier_share;
		o->residual = p->rms;
		o->has_evidence = p->ev.checked;
		o->ev = p->ev;
	}
}

void sq_stitch_record_of_result(struct sq_stitch_record *rec, const struct sq_stitch_input *in,
				const struct sq_stitch_result *res)
{
	rec->builtin = 1;
	rec->wall_ms = res->wall_ms;
	rec->placed = res->placed;
	rec->points = res->points_out;
	rec->outliers = res->outliers;
	rec->voxel = res->voxel;
	rec->unit = res->unit;
	rec->confidence = 1;
	rec->ninputs = res->n;
	rec->inputs = xcalloc(res->n + 1, sizeof(*rec->inputs));
	for (size_t i = 0; i < res->n; i++) {
		input_of(&rec->inputs[i], in, res, i);
		if (res->p[i].placed && res->p[i].parent >= 0 &&
		    res->p[i].confidence < rec->confidence)
			rec->confidence = res->p[i].confidence;
	}
	rec->ncams = res->ncams;
	rec->cams = xcalloc(3 * res->ncams + 1, sizeof(*rec->cams));
	if (res->ncams)
		memcpy(rec->cams, res->cams, 3 * res->ncams * sizeof(*rec->cams));
}

/* --- writing ------------------------------------------------------------------ */

/* A number, or null where it is unknown (JSON has no NaN or infinity). */
static void add_num(cJSON *o, const char *key, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static cJSON *transform_json(const struct sq_sim *T)
{
	cJSON *o = cJSON_CreateObject(), *rows = cJSON_AddArrayToObject(o, "rotation");

	cJSON_AddNumberToObject(o, "scale", T->s);
	for (int i = 0; i < 3; i++)
		cJSON_AddItemToArray(rows, sq_json_nums(&T->R[3 * i], 3));
	cJSON_AddItemToObject(o, "translation", sq_json_nums(T->t, 3));
	cJSON_AddNumberToObject(o, "rotation_deg", sq_rot_angle_deg(T->R));
	return o;
}

static const struct {
	const char *key;
	size_t off;
} evidence_keys[] = {
#define EV(k, f)                                                                                   \
	{                                                                                          \
		k, offsetof(struct sq_stitch_evidence, f)                                          \
	}
    EV("coherence", coherence),
    EV("relief_coherence", relief_coherence),
    EV("overlap", overlap),
    EV("off_above", off_above),
    EV("off_below", off_below),
    EV("overlap_width_voxels", width),
    EV("normal_deg", normal_deg),
    EV("rotation_sd_deg", rot_sd_deg),
    EV("scale_sd", scale_sd),
    EV("shift_sd", shift_sd),
    EV("two_way_rotation_deg", two_way_deg),
    EV("two_way_scale", two_way_scale),
    EV("colour", colour),
    EV("runner_up", runner_up),
#undef EV
};

#define NEV (sizeof(evidence_keys) / sizeof(evidence_keys[0]))

static cJSON *evidence_json(const struct sq_stitch_evidence *ev)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; i < NEV; i++)
		add_num(o, evidence_keys[i].key,
			*(const double *)((const char *)ev + evidence_keys[i].off));
	return o;
}

static cJSON *input_json(const struct sq_stitch_record_input *in)
{
	cJSON *o = cJSON_CreateObject(), *amb, *alts;

	cJSON_AddStringToObject(o, "name", in->name);
	cJSON_AddStringToObject(o, "ply", in->ply);
	cJSON_AddNumberToObject(o, "points", (double)in->points);
	cJSON_AddNumberToObject(o, "unit", in->unit);
	cJSON_AddBoolToObject(o, "placed", in->placed);
	if (!in->placed) {
		cJSON_AddStringToObject(o, "why", in->why ? in->why : "");
		if (in->ambiguous) {
			amb = cJSON_AddObjectToObject(o, "ambiguous");
			cJSON_AddStringToObject(amb, "on", in->ambiguous_on);
			alts = cJSON_AddArrayToObject(amb, "placements");
			for (int k = 0; k < 2; k++)
				cJSON_AddItemToArray(alts, transform_json(&in->alt[k]));
		}
		return o;
	}
	cJSON_AddStringToObject(o, "method", in->method);
	add_num(o, "confidence", in->confidence);
	if (in->placed_on) {
		cJSON_AddStringToObject(o, "placed_on", in->placed_on);
		cJSON_AddNumberToObject(o, "inlier_share", in->inlier_share);
		cJSON_AddNumberToObject(o, "residual", in->residual);
		if (in->has_evidence)
			cJSON_AddItemToObject(o, "evidence", evidence_json(&in->ev));
	}
	cJSON_AddItemToObject(o, "transform", transform_json(&in->T));
	return o;
}

/* "placements", "left_out", "left_out_reasons": the verdicts, which the
 * stage's figures for the queue repeat. */
static void add_verdicts(cJSON *doc, const struct sq_stitch_record *r)
{
	cJSON *placements = cJSON_AddArrayToObject(doc, "placements");
	cJSON *left = cJSON_AddArrayToObject(doc, "left_out");
	cJSON *why = cJSON_AddObjectToObject(doc, "left_out_reasons");

	add_num(doc, "confidence", r->confidence);
	for (size_t i = 0; i < r->ninputs; i++) {
		const struct sq_stitch_record_input *in = &r->inputs[i];
		cJSON *o;

		if (!in->placed) {
			cJSON_AddItemToArray(left, cJSON_CreateString(in->name));
			cJSON_AddStringToObject(why, in->name, in->why ? in->why : "");
			continue;
		}
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", in->name);
		add_num(o, "confidence", in->confidence);
		cJSON_AddStringToObject(o, "method", in->method);
		if (in->placed_on)
			cJSON_AddStringToObject(o, "placed_on", in->placed_on);
		cJSON_AddItemToArray(placements, o);
	}
}

static void builtin_json(cJSON *doc, const struct sq_stitch_record *r)
{
	cJSON *list = cJSON_AddArrayToObject(doc, "inputs"), *cams;

	cJSON_AddStringToObject(doc, "method", METHOD);
	cJSON_AddNumberToObject(doc, "placed", (double)r->placed);
	cJSON_AddNumberToObject(doc, "points", (double)r->points);
	cJSON_AddNumberToObject(doc, "outliers_removed", (double)r->outliers);
	cJSON_AddNumberToObject(doc, "voxel", r->voxel);
	cJSON_AddNumberToObject(doc, "unit", r->unit);
	add_verdicts(doc, r);
	for (size_t i = 0; i < r->ninputs; i++)
		cJSON_AddItemToArray(list, input_json(&r->inputs[i]));
	cams = cJSON_AddArrayToObject(doc, "cameras");
	for (size_t i = 0; i < r->ncams; i++)
		cJSON_AddItemToArray(cams, sq_json_nums(&r->cams[3 * i], 3));
}

char *sq_stitch_record_format(const struct sq_stitch_record *r)
{
	cJSON *doc = sq_json_object();
	char *text;

	sq_record_put_head(doc, SQ_STAGE_STITCH, r->version, &r->prov);
	cJSON_AddStringToObject(doc, "backend", r->builtin ? "builtin" : "command");
	cJSON_AddNumberToObject(doc, "wall_ms", (double)r->wall_ms);
	if (r->builtin) {
		builtin_json(doc, r);
	} else {
		cJSON_AddBoolToObject(doc, "done_by_marker", r->done_by_marker);
		cJSON_AddItemToObject(
		    doc, "inputs",
		    sq_json_strs((const char *const *)r->input_plys, r->ninput_plys));
	}
	cJSON_AddItemToObject(doc, "warnings",
			      sq_json_strs((const char *const *)r->warnings, r->nwarnings));
	text = sq_json_print(doc, 1);
	cJSON_Delete(doc);
	return text;
}

char *sq_stitch_record_figures(const struct sq_stitch_record *r)
{
	cJSON *doc = sq_json_object(), *unplaced;
	char *text;
	size_t len;

	cJSON_AddNumberToObject(doc, "placed", (double)r->placed);
	cJSON_AddNumberToObject(doc, "inputs", (double)r->ninputs);
	cJSON_AddNumberToObject(doc, "points", (double)r->points);
	unplaced = cJSON_AddArrayToObject(doc, "unplaced");
	for (size_t i = 0; i < r->ninputs; i++)
		if (!r->inputs[i].placed)
			cJSON_AddItemToArray(unplaced, cJSON_CreateString(r->inputs[i].name));
	add_verdicts(doc, r);
	text = sq_json_print(doc, 0);
	cJSON_Delete(doc);
	/* the members alone: {"placed":..} -> "placed":.. */
	len = strlen(text);
	memmove(text, text + 1, len - 2);
	text[len - 2] = '\0';
	return text;
}

/* --- reading ------------------------------------------------------------------ */

static double num_or(const cJSON *o, const char *key, double dflt)
{
	double v = dflt;

	sq_json_get_num(o, key, -1e300, 1e300, &v, "", NULL);
	return v;
}

static char *str_or_null(const cJSON *o, const char *key)
{
	const char *v;

	return sq_json_get_str(o, key, &v, "", NULL) == 0 ? xstrdup(v) : NULL;
}

static int transform_from(const cJSON *o, struct sq_sim *T, struct sq_err *err)
{
	const cJSON *rows = cJSON_GetObjectItemCaseSensitive(o, "rotation");
	const char *what = "stitch record transform";

	if (sq_json_get_num(o, "scale", 1e-300, 1e300, &T->s, what, err) < 0 ||
	    sq_json_get_vec(o, "translation", T->t, 3, what, err) < 0)
		return -1;
	if (!cJSON_IsArray(rows) || cJSON_GetArraySize(rows) != 3)
		return sq_error(err, SQ_ERR_INVALID, "%s: 'rotation' must be 3 rows", what);
	for (int i = 0; i < 3; i++) {
		const cJSON *row = cJSON_GetArrayItem(rows, i);

		for (int k = 0; k < 3; k++) {
			const cJSON *x = cJSON_GetArrayItem(row, k);

			if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
				return sq_error(err, SQ_ERR_INVALID, "%s: bad rotation", what);
			T->R[3 * i + k] = x->valuedouble;
		}
	}
	return 0;
}

static void evidence_from(const cJSON *o, struct sq_stitch_evidence *ev)
{
	ev->checked = cJSON_IsObject(o);
	for (size_t i = 0; i < NEV; i++)
		*(double *)((char *)ev + evidence_keys[i].off) =
		    num_or(o, evidence_keys[i].key, NAN);
}

static int ambiguous_from(const cJSON *o, struct sq_stitch_record_input *in, struct sq_err *err)
{
	const cJSON *amb = cJSON_GetObjectItemCaseSensitive(o, "ambiguous");
	const cJSON *alts = cJSON_GetObjectItemCaseSensitive(amb, "placements");

	if (!cJSON_IsObject(amb))
		return 0;
	in->ambiguous = 1;
	in->ambiguous_on = str_or_null(amb, "on");
	for (int k = 0; k < 2; k++)
		if (transform_from(cJSON_GetArrayItem(alts, k), &in->alt[k], err) < 0)
			return -1;
	return 0;
}

static int input_from(const cJSON *o, struct sq_stitch_record_input *in, struct sq_err *err)
{
	const char *what = "stitch record input";
	const char *method = "";
	long long points = 0;

	memset(in, 0, sizeof(*in));
	if (!(in->name = str_or_null(o, "name")))
		return sq_error(err, SQ_ERR_INVALID, "%s: no 'name'", what);
	if (sq_json_get_bool(o, "placed", &in->placed, what, err) < 0)
		return -1;
	in->ply = str_or_null(o, "ply");
	sq_json_get_ll(o, "points", 0, 1LL << 52, &points, "", NULL);
	in->points = (size_t)points;
	in->unit = num_or(o, "unit", 0);
	in->confidence = num_or(o, "confidence", NAN);
	if (!in->placed) {
		in->why = str_or_null(o, "why");
		return ambiguous_from(o, in, err);
	}
	sq_json_get_str(o, "method", &method, "", NULL);
	snprintf(in->method, sizeof(in->method), "%s", method);
	in->placed_on = str_or_null(o, "placed_on");
	in->inlier_share = num_or(o, "inlier_share", 0);
	in->residual = num_or(o, "residual", 0);
	evidence_from(cJSON_GetObjectItemCaseSensitive(o, "evidence"), &in->ev);
	in->has_evidence = in->ev.checked;
	return transform_from(cJSON_GetObjectItemCaseSensitive(o, "transform"), &in->T, err);
}

static int cams_from(const cJSON *doc, struct sq_stitch_record *r, struct sq_err *err)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "cameras"), *c;

	r->cams = xcalloc(3 * (size_t)cJSON_GetArraySize(list) + 1, sizeof(*r->cams));
	cJSON_ArrayForEach(c, list)
	{
		for (int k = 0; k < 3; k++) {
			const cJSON *x = cJSON_GetArrayItem(c, k);

			if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
				return sq_error(err, SQ_ERR_INVALID,
						"stitch record: camera %zu is not 3 numbers",
						r->ncams + 1);
			r->cams[3 * r->ncams + (size_t)k] = x->valuedouble;
		}
		r->ncams++;
	}
	return 0;
}

static int builtin_from(const cJSON *doc, struct sq_stitch_record *r, struct sq_err *err)
{
	const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(doc, "inputs"), *o;
	long long v = 0;

	if (!cJSON_IsArray(inputs))
		return sq_error(err, SQ_ERR_INVALID, "stitch record: no 'inputs' list");
	r->inputs = xcalloc((size_t)cJSON_GetArraySize(inputs) + 1, sizeof(*r->inputs));
	cJSON_ArrayForEach(o, inputs)
	{
		if (input_from(o, &r->inputs[r->ninputs++], err) < 0)
			return -1;
	}
	sq_json_get_ll(doc, "placed", 0, 1LL << 40, &v, "", NULL);
	r->placed = (size_t)v;
	v = 0;
	sq_json_get_ll(doc, "points", 0, 1LL << 52, &v, "", NULL);
	r->points = (size_t)v;
	v = 0;
	sq_json_get_ll(doc, "outliers_removed", 0, 1LL << 52, &v, "", NULL);
	r->outliers = (size_t)v;
	r->voxel = num_or(doc, "voxel", 0);
	r->unit = num_or(doc, "unit", 0);
	r->confidence = num_or(doc, "confidence", 1);
	return cams_from(doc, r, err);
}

int sq_stitch_record_parse(struct sq_stitch_record *r, const char *text, struct sq_err *err)
{
	cJSON *doc = sq_json_parse(text, (size_t)-1, "stitch record", err);
	const char *backend = "";
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (!doc)
		return -1;
	if (sq_record_get_head(doc, SQ_STAGE_STITCH, r->version, &r->prov, err) < 0 ||
	    sq_json_get_strs(doc, "warnings", &r->warnings, &r->nwarnings, "stitch record", err) <
		0)
		goto out;
	sq_json_get_str(doc, "backend", &backend, "", NULL);
	r->builtin = strcmp(backend, "command") != 0;
	sq_json_get_ll(doc, "wall_ms", 0, 1LL << 52, &r->wall_ms, "", NULL);
	if (r->builtin ? builtin_from(doc, r, err) < 0
		       : sq_json_get_strs(doc, "inputs", &r->input_plys, &r->ninput_plys,
					  "stitch record", err) < 0)
		goto out;
	sq_json_get_bool(doc, "done_by_marker", &r->done_by_marker, "", NULL);
	rc = 0;
out:
	if (rc < 0)
		sq_stitch_record_release(r);
	cJSON_Delete(doc);
	return rc;
}
