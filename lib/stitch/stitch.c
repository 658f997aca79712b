/* stitch.c - the builtin stitch: sample, place, chain, merge (see stitch.h).
 *
 * 1. Every input PLY is read once into a uniform sample (reservoir) of bounded
 *    size; an input that is no surface to measure (stitch_sanity.c: NaN, all
 *    at one place, overflowing coordinates, a line) is left out with the reason.
 *    Its point spacing, and when it has cameras its "altitude" (median
 *    camera-to-surface distance) and up side, are measured on the sample.
 * 2. Units: a survey flies at a roughly constant altitude, so the altitude is the
 *    same physical length in every reconstruction; without cameras the point
 *    spacing stands in. The ratio of two inputs' units predicts their relative
 *    scale, and every input is downsampled at the same physical voxel.
 * 3. Pairs (stitch_pair.c): shared cameras where there are any, else matches of
 *    the points' image descriptors, else global registration of the clouds
 *    refined by ICP; every placement is judged by the clouds themselves
 *    (stitch_verify.c) and gets a confidence; placements from 0.5 are graph
 *    edges.
 * 4. A maximum spanning tree from the reference input (the first input of the
 *    largest connected part) chains the transforms; a placement is as sure as
 *    the weakest link of its chain.
 * 5. Each placed input is read again, transformed and merged on the output
 *    voxel grid, which is written as one binary PLY. */
#include "stitch/stitch.h"
#include "base/clock.h"
#include "base/fsutil.h"
#include "cloud/kdtree.h"
#include "cloud/ply.h"
#include "cloud/register.h"
#include "stitch/stitch_run.h"
#include "cloud/voxel.h"
#include "base/xalloc.h"
#include "base/mathutil.h"
#include "base/parallel.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/banned.h"

#define SAMPLE_MAX 150000      /* points kept per input for estimation */
#define SPACING_PROBES 2000    /* sample points whose neighbour distance is measured */
#define TARGET_POINTS 5000     /* downsampled size of the largest input */
#define VOXEL_MIN_SPACINGS 3.0 /* registration voxel: at least this many point spacings */
#define RAW_POINTS 20000       /* raw points a placement's check counts per input */
#define FINE_DIVISOR 2.0       /* ICP ends on a target this many times finer, */
#define FINE_MIN_SPACINGS 3.0  /* but of at least this many point spacings */
#define SURFACE_FLATNESS 0.25  /* least spread below this share of the middle: a surface */
#define SALIENT_RADIUS_VOX 4.0 /* relief: off the plane of this many voxels around */

/* --- 1. sampling ------------------------------------------------------------------ */

/* Reservoir sampling (algorithm R): every point read has the same chance to be
 * in the sample, whatever the file's size or order. */
static int sample_chunk(void *ctx, const struct sq_ply_chunk *c, struct sq_err *err)
{
	struct stitch_part *v = ctx;

	(void)err;
	for (size_t i = 0; i < c->n; i++, v->points++) {
		float p[3] = {(float)c->xyz[3 * i], (float)c->xyz[3 * i + 1],
			      (float)c->xyz[3 * i + 2]};
		size_t slot;

		if (!isfinite(p[0]) || !isfinite(p[1]) || !isfinite(p[2]))
			continue;
		const unsigned char *rgb = c->rgb ? &c->rgb[3 * i] : NULL;

		if (v->sample.n < SAMPLE_MAX) {
			sq_cloud_push(&v->sample, p, rgb, NULL);
			continue;
		}
		slot = (size_t)(sq_xorshift64(&v->rng) % (v->points + 1));
		if (slot >= SAMPLE_MAX)
			continue;
		memcpy(&v->sample.xyz[3 * slot], p, sizeof(p));
		if (rgb && v->sample.rgb)
			memcpy(&v->sample.rgb[3 * slot], rgb, 3);
	}
	return 0;
}

/* Median nearest-neighbour distance of the sample, scaled to the full cloud
 * (a surface: spacing goes with the square root of the density). */
static double sample_spacing(const struct stitch_part *v, const struct sq_kdtree *t)
{
	size_t m = v->sample.n < SPACING_PROBES ? v->sample.n : SPACING_PROBES, k = 0;
	double *d = xcalloc(m + 1, sizeof(*d)), s;

	for (size_t i = 0; i < m; i++) {
		size_t idx[2];
		float d2[2];

		if (sq_kdtree_search(t, &v->sample.xyz[3 * i], 2, INFINITY, idx, d2) == 2)
			d[k++] = sqrt(d2[1]);
	}
	s = sq_median(d, k);
	free(d);
	if (v->points > v->sample.n && v->sample.n)
		s *= sqrt((double)v->sample.n / (double)v->points);
	return s;
}

/* Up from the surface's shape: its least-variance axis, turned to the side dir
 * (the cameras' side) points to; dir itself where the points are not spread
 * like a surface (the two smallest spreads alike). The mean direction from the
 * surface to the cameras is a poor up by itself: cameras at the ends of a short
 * chapter see ground its cloud hardly covers, and tilt it by up to 40 degrees,
 * which would turn placements away as upside down. */
static void surface_up(const struct sq_cloud *c, const double dir[3], double up[3])
{
	double m[3], ev[3], V[9], dot = 0;

	memcpy(up, dir, 3 * sizeof(*up));
	if (c->n < 3)
		return;
	sq_cloud_pca(c, m, ev, V);
	if (!(ev[0] < SURFACE_FLATNESS * ev[1]))
		return;
	for (int k = 0; k < 3; k++)
		dot += V[3 * k] * dir[k];
	for (int k = 0; k < 3; k++)
		up[k] = dot < 0 ? -V[3 * k] : V[3 * k];
}

/* Median camera-to-surface distance (the altitude) and the side the surface
 * was seen from (surface_up). */
static void camera_unit(struct stitch_part *v, const struct sq_kdtree *t)
{
	double *d = xcalloc(v->cams.n + 1, sizeof(*d)), up[3] = {0}, len;
	size_t k = 0;

	for (size_t i = 0; i < v->cams.n; i++) {
		const double *c = &v->cams.c[3 * i];
		float q[3] = {(float)c[0], (float)c[1], (float)c[2]}, d2;
		size_t j;

		if (!sq_kdtree_search(t, q, 1, INFINITY, &j, &d2) || !(d2 > 0))
			continue;
		d[k++] = sqrt(d2);
		for (int a = 0; a < 3; a++)
			up[a] += (c[a] - v->sample.xyz[3 * j + (size_t)a]) / sqrt(d2);
	}
	v->unit = sq_median(d, k);
	len = sqrt(up[0] * up[0] + up[1] * up[1] + up[2] * up[2]);
	v->have_up = k >= 3 && len > 0;
	for (int a = 0; a < 3 && v->have_up; a++)
		up[a] /= len;
	if (v->have_up)
		surface_up(&v->sample, up, v->up);
	free(d);
}

static int read_input(struct stitch_part *v, size_t i, struct sq_err *err)
{
	struct sq_kdtree *t;

	if (sq_ply_read_info(v->in->ply, &v->info, err) < 0)
		return -1;
	sq_cloud_init(&v->sample, v->info.has_rgb, 0);
	v->rng = 0x243f6a8885a308d3ULL + i;
	if (sq_ply_stream(v->in->ply, NULL, sample_chunk, v, err) < 0)
		return -1;
	if (stitch_check_sample(v) < 0)
		return 0; /* left out, with the reason */
	stitch_cams_copy(&v->cams, v->in->cams);
	if (stitch_sift_load(&v->sift, v->in->sift, err) < 0)
		return -1;
	t = sq_kdtree_build(v->sample.xyz, v->sample.n, 3);
	v->spacing = sample_spacing(v, t);
	stitch_check_spread(v);
	if (!v->unusable && v->cams.n >= 3)
		camera_unit(v, t);
	sq_kdtree_free(t);
	return 0;
}

/* Inputs are read, and later prepared, side by side (parallel.h): each is
 * independent of the others until units are chosen. */
struct input_job {
	struct stitch_state *r;
	struct sq_err *errs; /* per input */
	int *rc;
};

static void read_block(void *ctx, size_t begin, size_t end, void *scratch)
{
	struct input_job *J = ctx;

	(void)scratch;
	for (size_t i = begin; i < end; i++)
		J->rc[i] = read_input(&J->r->v[i], i, &J->errs[i]);
}

static int read_inputs(struct stitch_state *r, struct sq_err *err)
{
	struct input_job J = {
	    .r = r, .errs = xcalloc(r->n, sizeof(*J.errs)), .rc = xcalloc(r->n, sizeof(*J.rc))};
	int rc = 0;

	sq_par_for(r->n, 1, 2, 0, read_block, &J);
	for (size_t i = 0; i < r->n && rc == 0; i++) {
		struct stitch_part *v = &r->v[i];

		if ((rc = J.rc[i]) < 0) {
			if (err) /* the first failure in input order, whatever ran first */
				*err = J.errs[i];
			break;
		}
		if (v->unusable)
			stitch_say(r, "input '%s' cannot be placed: %s", v->in->name, v->why);
		else
			stitch_say(r,
				   "input '%s': %zu points, spacing %.4g, %zu cameras, %zu with "
				   "descriptors",
				   v->in->name, v->points, v->spacing, v->cams.n, v->sift.n);
	}
	free(J.errs);
	free(J.rc);
	return rc < 0 ? -1 : stitch_cancelled(r, err);
}

/* --- 2. units and downsampling ----------------------------------------------------- */

/* Cells of the given size the sample occupies. */
static size_t occupied_cells(const struct stitch_part *v, double cell)
{
	struct sq_voxel_grid *g = sq_voxel_new(cell, 0, 0);
	size_t n;

	for (size_t i = 0; i < v->sample.n; i++) {
		double p[3] = {v->sample.xyz[3 * i], v->sample.xyz[3 * i + 1],
			       v->sample.xyz[3 * i + 2]};

		sq_voxel_add(g, p, NULL, NULL);
	}
	n = sq_voxel_count(g);
	sq_voxel_free(g);
	return n;
}

/* Area of the sample's surface in its own units: occupied cells of a grid twice
 * as coarse as the sample's spacing, times the cell's area. */
static double sample_area(const struct stitch_part *v)
{
	double cell = 2 * v->spacing * sqrt((double)v->points / (double)v->sample.n);

	return (double)occupied_cells(v, cell) * cell * cell;
}

static void choose_units(struct stitch_state *r)
{
	double area_max = 0, spacing_phys = 0, vox_area;
	size_t largest = 0, cells;

	r->by_cameras = 1;
	for (size_t i = 0; i < r->n; i++)
		r->by_cameras &= r->v[i].unit > 0 || r->v[i].unusable;
	for (size_t i = 0; i < r->n; i++) {
		struct stitch_part *v = &r->v[i];
		double a;

		if (v->unusable)
			continue;
		if (!r->by_cameras)
			v->unit = v->spacing;
		a = sample_area(v) / (v->unit * v->unit);
		if (a > area_max)
			area_max = a, largest = i;
		spacing_phys = fmax(spacing_phys, v->spacing / v->unit);
	}
	/* the same physical voxel for all, coarse enough that the largest input
	 * keeps about TARGET_POINTS, and that a sparse cloud (structure from motion
	 * gives a few thousand points) still has several points per voxel, or its
	 * normals and features are noise */
	vox_area = sqrt(area_max / TARGET_POINTS);
	/* a rough or tilted surface fills more cells of a 3-D grid than its area
	 * says, and more at the voxel's size than at the area's finer cells: one
	 * trial downsampling of the largest input corrects for it */
	cells = occupied_cells(&r->v[largest], vox_area * r->v[largest].unit);
	if (cells > TARGET_POINTS)
		vox_area *= sqrt((double)cells / TARGET_POINTS);
	r->vox_phys = fmax(vox_area, VOXEL_MIN_SPACINGS * spacing_phys);
	/* where every input is coloured, colour goes into the descriptors: at
	 * once for clouds too sparse to fill TARGET_POINTS, where geometry alone
	 * fails; for denser ones when shape alone places nothing (a smooth, flat or
	 * ribbed surface matches itself almost anywhere by shape: swells and sand
	 * ripples, 0 of 4 pairs placed by shape, 4 with colour) */
	r->colour_later = 1;
	for (size_t i = 0; i < r->n; i++)
		r->colour_later &= r->v[i].sample.rgb != NULL || r->v[i].unusable;
	r->colour_desc = r->colour_later && VOXEL_MIN_SPACINGS * spacing_phys > vox_area;
	r->colour_later &= !r->colour_desc;
	stitch_say(r, "units: %s; registration voxel %.4g units%s",
		   r->by_cameras ? "altitude" : "spacing", r->vox_phys,
		   r->colour_desc ? "; sparse: colour in descriptors" : "");
}

/* The sample on a voxel grid of the given size. */
static void downsample(const struct stitch_part *v, double voxel, struct sq_cloud *c)
{
	int rgb = v->sample.rgb != NULL;
	struct sq_voxel_grid *g = sq_voxel_new(voxel, rgb, 0);

	for (size_t i = 0; i < v->sample.n; i++) {
		double p[3] = {v->sample.xyz[3 * i], v->sample.xyz[3 * i + 1],
			       v->sample.xyz[3 * i + 2]};

		sq_voxel_add(g, p, rgb ? &v->sample.rgb[3 * i] : NULL, NULL);
	}
	sq_cloud_init(c, rgb, 0);
	sq_voxel_to_cloud(g, c);
	sq_voxel_free(g);
}

/* The registration cloud (features at the common physical voxel), a finer one
 * (at least a few point spacings, so that its cells average the noise) that
 * ICP ends on both ways and placements are judged against, and what the
 * judging needs of the raw points: their noise and which lie in relief. */
static void prepare_input(struct stitch_state *r, struct stitch_part *v)
{
	double voxel = r->vox_phys * v->unit,
	       fine = fmax(voxel / FINE_DIVISOR, FINE_MIN_SPACINGS * v->spacing);
	const double *up = v->have_up ? v->up : NULL;
	struct sq_cloud c;

	downsample(v, voxel, &c);
	sq_reg_prepare(&v->reg, &c, voxel, up, 1, r->colour_desc);
	sq_reg_set_raw_points(&v->reg, v->sample.xyz, v->sample.n, RAW_POINTS);
	downsample(v, fine, &c);
	sq_reg_prepare(&v->fine, &c, fine, up, 0, 0);
	v->noise = sq_reg_noise(&v->fine, v->reg.raw, v->reg.nraw, &v->self_share);
	v->salient = sq_reg_salient(&v->reg, v->reg.raw, v->reg.nraw, v->noise, SALIENT_RADIUS_VOX,
				    &v->relief);
	v->reg_ready = 1;
}

static void prepare_block(void *ctx, size_t begin, size_t end, void *scratch)
{
	struct stitch_state *r = ctx;

	(void)scratch;
	for (size_t i = begin; i < end; i++)
		if (!r->v[i].unusable)
			prepare_input(r, &r->v[i]);
}

/* --- 4. the spanning tree -------------------------------------------------------- */

static int find(int *up, int i)
{
	while (up[i] != i)
		i = up[i] = up[up[i]];
	return i;
}

/* The reference: the first input of the largest set of inputs joined by edges. */
static int pick_reference(const struct stitch_state *r)
{
	int *up = xcalloc(r->n, sizeof(*up)), *size = xcalloc(r->n, sizeof(*size)), ref = 0;

	for (size_t i = 0; i < r->n; i++)
		up[i] = (int)i;
	for (size_t k = 0; k < r->ne; k++)
		up[find(up, r->e[k].a)] = find(up, r->e[k].b);
	for (size_t i = 0; i < r->n; i++)
		size[find(up, (int)i)]++;
	for (size_t i = 0; i < r->n; i++)
		if (size[find(up, (int)i)] > size[find(up, ref)])
			ref = (int)i;
	free(up);
	free(size);
	return ref;
}

/* Prim's algorithm on the edge weights: each step adds the strongest edge from
 * a placed input to an unplaced one. */
static void chain(struct stitch_state *r, struct sq_stitch_result *res, int ref)
{
	struct sq_stitch_placement *p = res->p;

	p[ref].placed = 1;
	p[ref].parent = -1;
	p[ref].confidence = 1;
	sq_sim_identity(&p[ref].T);
	snprintf(p[ref].method, sizeof(p[ref].method), "reference");
	for (;;) {
		const struct stitch_edge *best = NULL;
		int child = -1, parent = -1;

		for (size_t k = 0; k < r->ne; k++) {
			const struct stitch_edge *e = &r->e[k];

			if (p[e->a].placed == p[e->b].placed || (best && e->weight <= best->weight))
				continue;
			best = e;
			child = p[e->a].placed ? e->b : e->a;
			parent = p[e->a].placed ? e->a : e->b;
		}
		if (!best)
			return;
		if (child == best->a) { /* T: child -> parent */
			sq_sim_compose(&p[parent].T, &best->T, &p[child].T);
		} else {
			struct sq_sim inv;

			sq_sim_invert(&best->T, &inv);
			sq_sim_compose(&p[parent].T, &inv, &p[child].T);
		}
		p[child].placed = 1;
		p[child].parent = parent;
		/* a placement is as sure as the weakest link of its chain */
		p[child].confidence = fmin(best->confidence, p[parent].confidence);
		p[child].ev = best->ev;
		p[child].inlier_share = best->fit.fitness;
		p[child].rms = best->fit.rms;
		snprintf(p[child].method, sizeof(p[child].method), "%s", best->method);
	}
}

/* --- 5. the merge (stitch_merge.c) ---------------------------------------------- */

static int merge(struct stitch_state *r, struct sq_stitch_result *res, int ref, const char *out_ply,
		 struct sq_err *err)
{
	double rel = r->o->out_voxel_rel > 0 ? r->o->out_voxel_rel : 1.0;
	const char **plys = xcalloc(r->n, sizeof(*plys));
	struct sq_sim *T = xcalloc(r->n, sizeof(*T));
	struct stitch_merge_opts mo = {.plys = plys,
				       .T = T,
				       .out_ply = out_ply,
				       .hooks = &r->o->hooks,
				       .in_memory_max = r->o->merge_in_memory_max};
	int rc;

	res->voxel = mo.voxel = rel * r->v[ref].spacing;
	for (size_t i = 0; i < r->n; i++) /* the output carries what any placed input has */
		if (res->p[i].placed) {
			plys[mo.n] = r->v[i].in->ply;
			T[mo.n++] = res->p[i].T;
			mo.points += r->v[i].info.count;
			mo.rgb |= r->v[i].info.has_rgb;
			mo.nrm |= r->v[i].info.has_nrm;
		}
	rc = stitch_merge(&mo, &res->points_out, &res->outliers, err);
	free(plys);
	free(T);
	return rc;
}

/* Camera centres of the placed inputs in the common frame, at most about 2000,
 * for the stitch that takes this one as input. */
static void placed_cameras(const struct stitch_state *r, struct sq_stitch_result *res)
{
	size_t total = 0, step;

	for (size_t i = 0; i < r->n; i++)
		total += res->p[i].placed ? r->v[i].cams.n : 0;
	step = total / 2000 + 1;
	res->cams = xcalloc(3 * (total / step + r->n + 1), sizeof(*res->cams));
	for (size_t i = 0; i < r->n; i++)
		for (size_t k = 0; res->p[i].placed && k < r->v[i].cams.n; k += step)
			sq_sim_apply(&res->p[i].T, &r->v[i].cams.c[3 * k],
				     &res->cams[3 * res->ncams++]);
}

/* The placed inputs' descriptor points, moved, for the stitch after this one. */
static int placed_features(const struct stitch_state *r, const struct sq_stitch_result *res,
			   struct sq_err *err)
{
	struct sq_siftpts out = {0};
	int rc = 0;

	for (size_t i = 0; i < r->n; i++)
		for (size_t k = 0; res->p[i].placed && k < r->v[i].sift.n; k++) {
			double p[3];
			float f[3];

			for (int d = 0; d < 3; d++)
				p[d] = r->v[i].sift.xyz[3 * k + (size_t)d];
			sq_sim_apply(&res->p[i].T, p, p);
			for (int d = 0; d < 3; d++)
				f[d] = (float)p[d];
			sq_siftpts_push(&out, f, &r->v[i].sift.desc[SQ_SIFT_DIM * k]);
		}
	if (out.n && r->o->sift_out)
		rc = sq_siftpts_write(&out, r->o->sift_out, err);
	sq_siftpts_release(&out);
	return rc;
}

/* --- the whole ------------------------------------------------------------------- */

void sq_stitch_result_release(struct sq_stitch_result *r)
{
	free(r->p);
	free(r->cams);
	memset(r, 0, sizeof(*r));
}

static void release_run(struct stitch_state *r)
{
	for (size_t i = 0; i < r->n; i++) {
		sq_cloud_release(&r->v[i].sample);
		sq_stitch_cams_release(&r->v[i].cams);
		sq_siftpts_release(&r->v[i].sift);
		if (r->v[i].reg_ready) {
			sq_reg_release(&r->v[i].reg);
			sq_reg_release(&r->v[i].fine);
		}
		free(r->v[i].salient);
		free(r->v[i].relief);
	}
	free(r->v);
	free(r->e);
}

static void report_unplaced(const struct stitch_state *r, struct sq_stitch_result *res)
{
	for (size_t i = 0; i < r->n; i++) {
		struct sq_stitch_placement *p = &res->p[i];

		p->unit = r->v[i].unit;
		p->points = r->v[i].points;
		if (p->placed) {
			res->placed++;
			continue;
		}
		p->ambiguous = r->v[i].ambiguous;
		p->alt_on = r->v[i].alt_on;
		memcpy(p->alt, r->v[i].alt, sizeof(p->alt));
		if (r->v[i].why_rank)
			snprintf(p->why, sizeof(p->why), "%s", r->v[i].why);
		else
			snprintf(p->why, sizeof(p->why),
				 "no overlap found with the other inputs (no shared cameras, no "
				 "feature match that fits)");
		stitch_say(r, "cannot place '%s': %s; left out of the merge", r->v[i].in->name,
			   p->why);
	}
}

/* The error of a stitch that placed fewer than two inputs, with the first
 * reason it has. */
static int none_placed(const struct stitch_state *r, struct sq_err *err)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].why_rank)
			return sq_error(err, SQ_ERR_BACKEND,
					"cannot stitch: no two of the %zu inputs could be placed "
					"together ('%s': %s)",
					r->n, r->v[i].in->name, r->v[i].why);
	return sq_error(err, SQ_ERR_BACKEND,
			"cannot stitch: none of the %zu inputs overlaps another", r->n);
}

static size_t usable_inputs(const struct stitch_state *r)
{
	size_t k = 0;

	for (size_t i = 0; i < r->n; i++)
		k += !r->v[i].unusable;
	return k;
}

static int place_all(struct stitch_state *r, struct sq_stitch_result *res, int *ref,
		     struct sq_err *err)
{
	long long t0 = sq_now_ms(), t1, t2;

	if (read_inputs(r, err) < 0)
		return -1;
	if (usable_inputs(r) < (r->n >= 2 ? 2 : 1)) {
		report_unplaced(r, res);
		return none_placed(r, err);
	}
	choose_units(r);
	t1 = sq_now_ms();
	sq_par_for(r->n, 1, 2, 0, prepare_block, r);
	t2 = sq_now_ms();
	if (stitch_register_pairs(r, err) < 0)
		return -1;
	stitch_say(r, "time: reading %lld ms, features %lld ms, pairs %lld ms", t1 - t0, t2 - t1,
		   sq_now_ms() - t2);
	*ref = pick_reference(r);
	chain(r, res, *ref);
	res->unit = r->v[*ref].unit;
	report_unplaced(r, res);
	if (r->n >= 2 && res->placed < 2)
		return none_placed(r, err);
	return 0;
}

int sq_stitch_run(const struct sq_stitch_input *in, size_t n, const char *out_ply,
		  const struct sq_stitch_opts *o, struct sq_stitch_result *res, struct sq_err *err)
{
	static const struct sq_stitch_opts defaults;
	struct stitch_state r = {.o = o ? o : &defaults, .n = n};
	long long t0 = sq_now_ms();
	int ref = 0, rc = -1;

	memset(res, 0, sizeof(*res));
	if (n == 0)
		return sq_error(err, SQ_ERR_INVALID, "stitch has no inputs");
	res->n = n;
	res->p = xcalloc(n, sizeof(*res->p));
	r.v = xcalloc(n, sizeof(*r.v));
	for (size_t i = 0; i < n; i++) {
		r.v[i].in = &in[i];
		res->p[i].parent = -1;
	}
	if (place_all(&r, res, &ref, err) < 0)
		goto out;
	placed_cameras(&r, res);
	if (merge(&r, res, ref, out_ply, err) < 0 || placed_features(&r, res, err) < 0)
		goto out;
	stitch_say(&r, "stitched %zu of %zu inputs: %zu points (cell %.4g), %zu outliers left out",
		   res->placed, n, res->points_out, res->voxel, res->outliers);
	rc = 0;
out:
	res->wall_ms = sq_now_ms() - t0;
	release_run(&r);
	return rc;
}

/* Copies from to to in bounded memory (an input may be gigabytes). */
static int copy_stream(const char *from, const char *to, struct sq_err *err)
{
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
	char *buf = xmalloc(1 << 20);
	ssize_t got = 0;

	if (in < 0) {
		sq_error(err, SQ_ERR_IO, "cannot read '%s': %s", from, strerror(errno));
		goto out;
	}
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		sq_error(err, SQ_ERR_IO, "cannot create '%s': %s", to, strerror(errno));
		goto out;
	}
	while ((got = read(in, buf, 1 << 20)) > 0)
		for (ssize_t done = 0, w; done < got; done += w)
			if ((w = write(out, buf + done, (size_t)(got - done))) < 0)
				goto fail;
	if (got == 0 && fsync(out) == 0) {
		rc = 0;
		goto out;
	}
fail:
	sq_error(err, SQ_ERR_IO, "cannot copy '%s' to '%s': %s", from, to, strerror(errno));
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	free(buf);
	return rc;
}

int sq_stitch_passthrough(const struct sq_stitch_input *in, const char *out_ply,
			  const char *sift_out, struct sq_stitch_result *res, struct sq_err *err)
{
	struct sq_stitch_cams cams = {0};
	struct sq_siftpts sift = {0};
	struct sq_ply_info info;
	long long t0 = sq_now_ms();
	int rc = -1;

	memset(res, 0, sizeof(*res));
	res->n = 1;
	res->p = xcalloc(1, sizeof(*res->p));
	stitch_cams_copy(&cams, in->cams);
	if (sq_ply_read_info(in->ply, &info, err) < 0 || copy_stream(in->ply, out_ply, err) < 0 ||
	    (sift_out && stitch_sift_load(&sift, in->sift, err) < 0) ||
	    (sift.n && sq_siftpts_write(&sift, sift_out, err) < 0))
		goto out;
	res->placed = 1;
	res->points_out = res->p[0].points = info.count;
	res->p[0].placed = 1;
	res->p[0].parent = -1;
	res->p[0].confidence = 1;
	sq_sim_identity(&res->p[0].T);
	snprintf(res->p[0].method, sizeof(res->p[0].method), "single input, unchanged");
	res->cams = cams.c; /* every camera: there are no others */
	res->ncams = cams.n;
	cams.c = NULL;
	rc = 0;
out:
	sq_stitch_cams_release(&cams);
	sq_siftpts_release(&sift);
	res->wall_ms = sq_now_ms() - t0;
	return rc;
}
