/* preview.c - preview.png and preview.ply from a stage's cloud (see preview.h).
 *
 * One pass over the PLY keeps a uniform reservoir sample of at most max_points
 * (a fixed seed: the same cloud gives the same preview). The render is made from
 * the sample: its principal axes give "top-down" (the least spread is the
 * normal), the 0.5-99.5 percentiles of the projected points (and the cameras)
 * the extent, so a few stray points cannot shrink the picture to a dot; a
 * depth buffer keeps, per pixel, the point nearest the viewer. */
#include "stage/preview.h"
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "cloud/cloud.h"
#include "cloud/ply.h"
#include "media/media.h"

#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "task/layout.h"

#include "base/banned.h"

#define MARGIN_PX 12
#define MIN_SIDE_PX 64
#define LOW_PCT 0.005 /* extent: percentiles of the projected points */
#define HIGH_PCT 0.995
#define FLAT_SHARE 1e-3 /* relief below this share of the width is not coloured */

static const unsigned char background[3] = {28, 30, 34};
static const unsigned char path_rgb[3] = {255, 60, 60};
static const unsigned char first_rgb[3] = {60, 230, 90};
static const unsigned char last_rgb[3] = {255, 255, 255};

/* ---- the sample ---- */

struct sample {
	struct sq_cloud c;
	size_t seen, max;
	unsigned long long rng;
};

/* xorshift64*: enough for sampling, and the same on every host. */
static unsigned long long next_rand(struct sample *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 2685821657736338717ULL;
}

static void put_point(struct sample *s, size_t slot, const double *xyz, const unsigned char *rgb)
{
	float p[3] = {(float)xyz[0], (float)xyz[1], (float)xyz[2]};

	if (slot == s->c.n) {
		sq_cloud_push(&s->c, p, rgb, NULL);
		return;
	}
	memcpy(s->c.xyz + 3 * slot, p, sizeof(p));
	if (s->c.rgb && rgb)
		memcpy(s->c.rgb + 3 * slot, rgb, 3);
}

/* Algorithm R: point i replaces a kept one with probability max / (i + 1). */
static int on_chunk(void *ctx, const struct sq_ply_chunk *ch, struct sq_err *err)
{
	struct sample *s = ctx;

	(void)err;
	for (size_t i = 0; i < ch->n; i++, s->seen++) {
		const double *xyz = ch->xyz + 3 * i;
		const unsigned char *rgb = ch->rgb ? ch->rgb + 3 * i : NULL;
		size_t slot = s->seen;

		if (!isfinite(xyz[0]) || !isfinite(xyz[1]) || !isfinite(xyz[2]))
			continue;
		if (s->seen >= s->max && (slot = (size_t)(next_rand(s) % (s->seen + 1))) >= s->max)
			continue;
		put_point(s, slot < s->c.n ? slot : s->c.n, xyz, rgb);
	}
	return 0;
}

static int read_sample(const char *ply, size_t max, struct sample *s, struct sq_err *err)
{
	struct sq_ply_info info;

	if (sq_ply_read_info(ply, &info, err) < 0)
		return -1;
	sq_cloud_init(&s->c, info.has_rgb, 0);
	s->max = max;
	s->rng = 0x9e3779b97f4a7c15ULL;
	if (sq_ply_stream(ply, NULL, on_chunk, s, err) < 0)
		return -1;
	if (s->c.n == 0)
		return sq_error(err, SQ_ERR_INVALID, "cannot preview '%s': it holds no point", ply);
	return 0;
}

/* ---- cameras ---- */

static int centre_of(const cJSON *a, double *out)
{
	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) < 3)
		return 0;
	for (int k = 0; k < 3; k++) {
		const cJSON *v = cJSON_GetArrayItem(a, k);

		if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
			return 0;
		out[k] = v->valuedouble;
	}
	return 1;
}

/* Returns new array of 3 * *n doubles (NULL when none): the camera centres of a
 * record body, "cameras" first, else "frames"[].centre. */
double *sq_preview_cameras(const char *json, size_t *n)
{
	cJSON *doc = json ? cJSON_Parse(json) : NULL;
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "cameras"), *e;
	int frames = 0;
	double *xyz = NULL;

	*n = 0;
	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0) {
		list = cJSON_GetObjectItemCaseSensitive(doc, "frames");
		frames = 1;
	}
	if (cJSON_IsArray(list) && cJSON_GetArraySize(list) > 0) {
		xyz = xcalloc((size_t)cJSON_GetArraySize(list) * 3, sizeof(*xyz));
		cJSON_ArrayForEach(e, list)
		{
			const cJSON *c = frames ? cJSON_GetObjectItemCaseSensitive(e, "centre") : e;

			*n += (size_t)centre_of(c, xyz + 3 * *n);
		}
	}
	cJSON_Delete(doc);
	if (!*n) {
		free(xyz);
		xyz = NULL;
	}
	return xyz;
}

/* ---- the view ---- */

struct view {
	double mean[3], u[3], v[3], nrm[3]; /* image right, image up, towards the viewer */
	double umin, vmax, px_per_unit;
	double dmin, dmax; /* depth range, for colouring by height */
	int w, h;
	unsigned char *rgb;
	float *depth;
};

static double dot3(const double *a, const double *b)
{
	return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void project(const struct view *vw, const double p[3], double *u, double *v, double *d)
{
	double q[3] = {p[0] - vw->mean[0], p[1] - vw->mean[1], p[2] - vw->mean[2]};

	*u = dot3(q, vw->u);
	*v = dot3(q, vw->v);
	*d = dot3(q, vw->nrm);
}

static void point_of(const struct sq_cloud *c, size_t i, double p[3])
{
	for (int k = 0; k < 3; k++)
		p[k] = c->xyz[3 * i + (size_t)k];
}

/* Principal axes: the widest is image right, the normal points to the cameras'
 * side (their mean above the cloud's), image up completes a right-handed frame
 * so the picture is never mirrored. */
static void choose_axes(const struct sq_cloud *c, const double *cams, size_t ncams, struct view *vw)
{
	double ev[3], V[9], side = 0;

	sq_cloud_pca(c, vw->mean, ev, V);
	for (int k = 0; k < 3; k++) {
		vw->nrm[k] = V[3 * k + 0];
		vw->u[k] = V[3 * k + 2];
	}
	for (size_t i = 0; i < ncams; i++) {
		double q[3] = {cams[3 * i] - vw->mean[0], cams[3 * i + 1] - vw->mean[1],
			       cams[3 * i + 2] - vw->mean[2]};

		side += dot3(q, vw->nrm);
	}
	if (side < 0)
		for (int k = 0; k < 3; k++)
			vw->nrm[k] = -vw->nrm[k];
	vw->v[0] = vw->nrm[1] * vw->u[2] - vw->nrm[2] * vw->u[1];
	vw->v[1] = vw->nrm[2] * vw->u[0] - vw->nrm[0] * vw->u[2];
	vw->v[2] = vw->nrm[0] * vw->u[1] - vw->nrm[1] * vw->u[0];
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The low and high percentiles of v[0..n) (sorted in place). */
static void percentiles(double *v, size_t n, double *lo, double *hi)
{
	qsort(v, n, sizeof(*v), cmp_double);
	*lo = v[(size_t)((double)(n - 1) * LOW_PCT)];
	*hi = v[(size_t)((double)(n - 1) * HIGH_PCT)];
}

/* Pixels along one side for a span of px, margins included, within the limits. */
static int side_px(double px, int side)
{
	return (int)fmin(side, fmax(MIN_SIDE_PX, round(px) + 2 * MARGIN_PX));
}

/* The picture's extent: the points' percentiles, widened to hold every camera. */
static void fit_extent(const struct sq_cloud *c, const double *cams, size_t ncams, int side,
		       struct view *vw)
{
	double *us = xmalloc(c->n * sizeof(*us)), *vs = xmalloc(c->n * sizeof(*vs));
	double *ds = xmalloc(c->n * sizeof(*ds));
	double umin, umax, vmin, vmax, span, p[3], u, v, d;

	for (size_t i = 0; i < c->n; i++) {
		point_of(c, i, p);
		project(vw, p, &us[i], &vs[i], &ds[i]);
	}
	percentiles(us, c->n, &umin, &umax);
	percentiles(vs, c->n, &vmin, &vmax);
	percentiles(ds, c->n, &vw->dmin, &vw->dmax);
	for (size_t i = 0; i < ncams; i++) {
		project(vw, cams + 3 * i, &u, &v, &d);
		umin = fmin(umin, u), umax = fmax(umax, u);
		vmin = fmin(vmin, v), vmax = fmax(vmax, v);
	}
	span = fmax(umax - umin, vmax - vmin);
	if (!(span > 1e-12))
		span = 1; /* a single point, or all on one spot */
	if (vw->dmax - vw->dmin < span * FLAT_SHARE)
		vw->dmin = vw->dmax = 0; /* flat: rounding noise is no relief to colour */
	vw->px_per_unit = (side - 2 * MARGIN_PX) / span;
	vw->w = side_px((umax - umin) * vw->px_per_unit, side);
	vw->h = side_px((vmax - vmin) * vw->px_per_unit, side);
	vw->umin = umin - (vw->w - (umax - umin) * vw->px_per_unit) / 2 / vw->px_per_unit;
	vw->vmax = vmax + (vw->h - (vmax - vmin) * vw->px_per_unit) / 2 / vw->px_per_unit;
	free(us);
	free(vs);
	free(ds);
}

static void to_pixel(const struct view *vw, double u, double v, double *x, double *y)
{
	*x = (u - vw->umin) * vw->px_per_unit;
	*y = (vw->vmax - v) * vw->px_per_unit;
}

/* ---- drawing ---- */

/* A colour for a point without one: low blue, middle green, high yellow. */
static void height_colour(const struct view *vw, double d, unsigned char *out)
{
	double t = vw->dmax > vw->dmin ? (d - vw->dmin) / (vw->dmax - vw->dmin) : 0.5;

	t = fmin(1, fmax(0, t));
	out[0] = (unsigned char)(40 + 215 * fmax(0, 2 * t - 1));
	out[1] = (unsigned char)(80 + 175 * fmin(1, 2 * t));
	out[2] = (unsigned char)(200 * (1 - t));
}

static void plot(struct view *vw, int x, int y, const unsigned char *rgb)
{
	if (x < 0 || y < 0 || x >= vw->w || y >= vw->h)
		return;
	memcpy(vw->rgb + 3 * ((size_t)y * (size_t)vw->w + (size_t)x), rgb, 3);
}

/* Splats every sampled point, about as wide as the points are apart (at most 4
 * pixels), so a sparse cloud still reads as a surface; the nearest wins. */
static void draw_points(struct view *vw, const struct sq_cloud *c)
{
	double cover = (double)vw->w * vw->h / (double)c->n;
	int splat = (int)fmin(4, fmax(1, round(sqrt(cover))));

	for (size_t i = 0; i < c->n; i++) {
		double p[3], u, v, d, fx, fy;
		unsigned char col[3];

		point_of(c, i, p);
		project(vw, p, &u, &v, &d);
		to_pixel(vw, u, v, &fx, &fy);
		if (c->rgb)
			memcpy(col, c->rgb + 3 * i, 3);
		else
			height_colour(vw, d, col);
		for (int dy = 0; dy < splat; dy++)
			for (int dx = 0; dx < splat; dx++) {
				int x = (int)fx + dx - splat / 2, y = (int)fy + dy - splat / 2;
				size_t at = (size_t)y * (size_t)vw->w + (size_t)x;

				if (x < 0 || y < 0 || x >= vw->w || y >= vw->h ||
				    vw->depth[at] >= (float)d)
					continue;
				vw->depth[at] = (float)d;
				plot(vw, x, y, col);
			}
	}
}

static void dot(struct view *vw, double fx, double fy, int r, const unsigned char *rgb)
{
	for (int dy = -r; dy <= r; dy++)
		for (int dx = -r; dx <= r; dx++)
			if (dx * dx + dy * dy <= r * r)
				plot(vw, (int)fx + dx, (int)fy + dy, rgb);
}

static void line(struct view *vw, double x0, double y0, double x1, double y1)
{
	double len = fmax(fabs(x1 - x0), fabs(y1 - y0));
	int steps = (int)fmin(1e5, ceil(len));

	for (int i = 0; i <= steps; i++) {
		double t = steps ? (double)i / steps : 0;

		dot(vw, x0 + t * (x1 - x0), y0 + t * (y1 - y0), 1, path_rgb);
	}
}

static void draw_path(struct view *vw, const double *cams, size_t n)
{
	double x0 = 0, y0 = 0, x, y, u, v, d;

	for (size_t i = 0; i < n; i++) {
		project(vw, cams + 3 * i, &u, &v, &d);
		to_pixel(vw, u, v, &x, &y);
		if (i)
			line(vw, x0, y0, x, y);
		x0 = x, y0 = y;
	}
	project(vw, cams, &u, &v, &d);
	to_pixel(vw, u, v, &x, &y);
	dot(vw, x, y, 5, first_rgb);
	dot(vw, x0, y0, 4, last_rgb);
}

/* ---- files ---- */

static int write_png(const struct sq_cloud *c, const double *cams, size_t ncams, int side,
		     const char *path, struct sq_err *err)
{
	struct view vw = {0};
	size_t npx;
	int rc;

	choose_axes(c, cams, ncams, &vw);
	fit_extent(c, cams, ncams, side, &vw);
	npx = (size_t)vw.w * (size_t)vw.h;
	vw.rgb = xmalloc(npx * 3);
	vw.depth = xmalloc(npx * sizeof(*vw.depth));
	for (size_t i = 0; i < npx; i++) {
		memcpy(vw.rgb + 3 * i, background, 3);
		vw.depth[i] = -FLT_MAX;
	}
	draw_points(&vw, c);
	if (ncams)
		draw_path(&vw, cams, ncams);
	rc = sq_media_write_png(path, vw.rgb, vw.w, vw.h, err);
	free(vw.rgb);
	free(vw.depth);
	return rc;
}

static int write_ply(const struct sq_cloud *c, const char *path, struct sq_err *err)
{
	struct sq_ply_writer *w = sq_ply_writer_open(path, c->rgb != NULL, 0, err);
	double *xyz;
	int rc = 0;

	if (!w)
		return -1;
	xyz = xmalloc(SQ_PLY_CHUNK * 3 * sizeof(*xyz));
	for (size_t at = 0; at < c->n && rc == 0; at += SQ_PLY_CHUNK) {
		size_t n = c->n - at < SQ_PLY_CHUNK ? c->n - at : SQ_PLY_CHUNK;
		struct sq_ply_chunk ch = {
		    .n = n, .xyz = xyz, .rgb = c->rgb ? c->rgb + 3 * at : NULL};

		for (size_t i = 0; i < 3 * n; i++)
			xyz[i] = c->xyz[3 * at + i];
		rc = sq_ply_writer_add(w, &ch, err);
	}
	free(xyz);
	if (rc < 0) {
		sq_ply_writer_abort(w);
		return -1;
	}
	return sq_ply_writer_close(w, err);
}

int sq_preview_render(const struct sq_preview_opts *o, struct sq_err *err)
{
	struct sample s = {0};
	char *png = sq_path_join(o->outdir, SQ_LAYOUT_PREVIEW_PNG);
	char *ply = sq_path_join(o->outdir, SQ_LAYOUT_PREVIEW_PLY);
	double *cams = NULL;
	size_t ncams = 0;
	int rc = -1;

	if (read_sample(o->ply, o->max_points ? o->max_points : SQ_PREVIEW_MAX_POINTS, &s, err) < 0)
		goto out;
	cams = sq_preview_cameras(o->cameras_json, &ncams);
	if (write_png(&s.c, cams, ncams, o->side_px > 0 ? o->side_px : SQ_PREVIEW_SIDE_PX, png,
		      err) < 0 ||
	    write_ply(&s.c, ply, err) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0) {
		unlink(png);
		unlink(ply);
	}
	sq_cloud_release(&s.c);
	free(cams);
	free(png);
	free(ply);
	return rc;
}

int sq_preview_write(const char *ply, const char *cameras_json, const char *outdir,
		     struct sq_err *err)
{
	struct sq_preview_opts o = {.ply = ply, .cameras_json = cameras_json, .outdir = outdir};

	return sq_preview_render(&o, err);
}
