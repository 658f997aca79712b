/* cloudgen.c - test point clouds cut from the synthetic seabed (see cloudgen.h). */
#include "cloudgen.h"
#include "cloud/ply.h"
#include "base/xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

#define GEN_CHUNK 4096
#define CELL_M 0.05	/* terrain height grid: finer than any rock's curvature */
#define MARGIN_M 2.0	/* terrain domain beyond the patches (noise, outliers) */
#define OUTLIER_Z_M 2.0 /* outliers' heights reach this far beyond the terrain */
#define JITTER 0.03	/* lateral wobble of the path, share of the patch side */
#define SIM_TOL 1e-4	/* a read matrix's rotation part must be this orthonormal */

uint64_t cg_rng_seed(uint32_t seed, uint32_t stream)
{
	return ((uint64_t)seed << 32 ^ (uint64_t)stream * 0x9e3779b97f4a7c15ULL) +
	       0x632be59bd9b4e019ULL;
}

/* splitmix64 (Steele, Lea, Flood 2014): small, fast, good enough for sampling */
static uint64_t next_u64(uint64_t *rng)
{
	uint64_t z = (*rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double cg_uniform(uint64_t *rng)
{
	return (double)(next_u64(rng) >> 11) * 0x1.0p-53;
}

double cg_normal(uint64_t *rng)
{
	/* Box-Muller; 1 - u keeps the log finite */
	double u = 1.0 - cg_uniform(rng), v = cg_uniform(rng);

	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

void cg_opts_default(struct cg_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->terrain_seed = 1;
	o->patches = 3;
	o->patch_w_m = 20.0;
	o->patch_h_m = 14.0;
	o->overlap_min = 0.3;
	o->overlap_max = 0.6;
	o->points = 30000;
	o->noise_rel = 0.2;
	o->scale_min = o->scale_max = 1.0;
	o->shift_m = 50.0;
	o->colour = 1;
	o->seed = 1;
}

void cg_sim_apply(const struct sq_sim *T, const double x[3], double y[3])
{
	double r[3];

	for (int i = 0; i < 3; i++)
		r[i] = T->R[3 * i] * x[0] + T->R[3 * i + 1] * x[1] + T->R[3 * i + 2] * x[2];
	for (int i = 0; i < 3; i++)
		y[i] = T->s * r[i] + T->t[i];
}

void cg_sim_compose(const struct sq_sim *a, const struct sq_sim *b, struct sq_sim *out)
{
	struct sq_sim o;

	/* a(b(x)) = sa Ra (sb Rb x + tb) + ta */
	o.s = a->s * b->s;
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			o.R[3 * i + j] = a->R[3 * i] * b->R[j] + a->R[3 * i + 1] * b->R[3 + j] +
					 a->R[3 * i + 2] * b->R[6 + j];
	cg_sim_apply(a, b->t, o.t);
	*out = o;
}

void cg_sim_invert(const struct sq_sim *T, struct sq_sim *out)
{
	struct sq_sim o;

	/* x = (1/s) R^T (y - t) */
	o.s = 1.0 / T->s;
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			o.R[3 * i + j] = T->R[3 * j + i];
	for (int i = 0; i < 3; i++)
		o.t[i] = -o.s * (o.R[3 * i] * T->t[0] + o.R[3 * i + 1] * T->t[1] +
				 o.R[3 * i + 2] * T->t[2]);
	*out = o;
}

double cg_rot_between_deg(const double Ra[9], const double Rb[9])
{
	double tr = 0.0, c;

	/* trace(Ra Rb^T) = sum of the element-wise products */
	for (int k = 0; k < 9; k++)
		tr += Ra[k] * Rb[k];
	c = (tr - 1.0) / 2.0;
	c = c > 1.0 ? 1.0 : (c < -1.0 ? -1.0 : c);
	return acos(c) * 180.0 / M_PI;
}

static void quat_rot(const double q[4], double R[9])
{
	double w = q[0], x = q[1], y = q[2], z = q[3];

	R[0] = 1 - 2 * (y * y + z * z);
	R[1] = 2 * (x * y - w * z);
	R[2] = 2 * (x * z + w * y);
	R[3] = 2 * (x * y + w * z);
	R[4] = 1 - 2 * (x * x + z * z);
	R[5] = 2 * (y * z - w * x);
	R[6] = 2 * (x * z - w * y);
	R[7] = 2 * (y * z + w * x);
	R[8] = 1 - 2 * (x * x + y * y);
}

void cg_random_sim(uint64_t *rng, double smin, double smax, double shift, struct sq_sim *G)
{
	/* Shoemake's uniform unit quaternion */
	double u1 = cg_uniform(rng), u2 = cg_uniform(rng), u3 = cg_uniform(rng);
	double a = sqrt(1.0 - u1), b = sqrt(u1);
	double q[4] = {a * sin(2 * M_PI * u2), a * cos(2 * M_PI * u2), b * sin(2 * M_PI * u3),
		       b * cos(2 * M_PI * u3)};

	quat_rot(q, G->R);
	G->s = smin * exp(log(smax / smin) * cg_uniform(rng));
	for (int k = 0; k < 3; k++)
		G->t[k] = (2.0 * cg_uniform(rng) - 1.0) * shift * G->s;
}

static double box_overlap(const double a[4], const double b[4])
{
	double w = fmin(a[2], b[2]) - fmax(a[0], b[0]), h = fmin(a[3], b[3]) - fmax(a[1], b[1]);

	if (w <= 0.0 || h <= 0.0)
		return 0.0;
	return w * h / ((a[2] - a[0]) * (a[3] - a[1]));
}

/* Boustrophedon: along x within a row (direction alternating), then up in y to
 * the next row at the same x; each step keeps a drawn share of the area. */
static void layout(const struct cg_opts *o, uint64_t *rng, struct cg_patch *p, size_t n)
{
	int cols = o->cols > 0 ? o->cols : (int)n;
	double x = 0.0, y = 0.0, dir = 1.0;

	for (size_t k = 0; k < n; k++) {
		if (k > 0) {
			double ov =
			    o->overlap_min + (o->overlap_max - o->overlap_min) * cg_uniform(rng);
			double wob = JITTER * (2.0 * cg_uniform(rng) - 1.0);

			if (k % (size_t)cols == 0) {
				y += o->patch_h_m * (1.0 - ov);
				x += o->patch_w_m * wob;
				dir = -dir;
			} else {
				x += dir * o->patch_w_m * (1.0 - ov);
				y += o->patch_h_m * wob;
			}
		}
		p[k].box[0] = x;
		p[k].box[1] = y;
		p[k].box[2] = x + o->patch_w_m;
		p[k].box[3] = y + o->patch_h_m;
	}
}

struct synth_terrain *cg_terrain_new(uint32_t seed, const double box[4])
{
	struct synth_terrain_opts to;

	memset(&to, 0, sizeof(to));
	/* the survey area (whose mean height is 0) starts at the world origin */
	to.area_w_m = box[2];
	to.area_h_m = box[3];
	to.x0_m = box[0] - MARGIN_M;
	to.y0_m = box[1] - MARGIN_M;
	to.x1_m = box[2] + MARGIN_M;
	to.y1_m = box[3] + MARGIN_M;
	to.scale = 1.0;
	to.cell_m = CELL_M;
	to.texel_m = CELL_M; /* colour is evaluated directly, never through tiles */
	to.seed = seed;
	return synth_terrain_new(&to);
}

/* Moves the layout so the union box starts at the origin and records it. */
static void place_union(struct cg_scene *sc)
{
	double b[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};

	for (size_t k = 0; k < sc->n; k++)
		for (int c = 0; c < 2; c++) {
			b[c] = fmin(b[c], sc->p[k].box[c]);
			b[c + 2] = fmax(b[c + 2], sc->p[k].box[c + 2]);
		}
	for (size_t k = 0; k < sc->n; k++)
		for (int c = 0; c < 4; c++)
			sc->p[k].box[c] -= b[c % 2];
	sc->box[0] = sc->box[1] = 0.0;
	sc->box[2] = b[2] - b[0];
	sc->box[3] = b[3] - b[1];
}

void cg_scene_plan(const struct cg_opts *o, struct cg_scene *sc)
{
	uint64_t rng = cg_rng_seed(o->seed, 0);
	size_t nout = (size_t)llround(o->outlier_share * (double)o->points);
	double w, h, dz;

	memset(sc, 0, sizeof(*sc));
	sc->o = *o;
	sc->n = (size_t)(o->patches > 0 ? o->patches : 1);
	sc->p = xcalloc(sc->n, sizeof(*sc->p));
	layout(o, &rng, sc->p, sc->n);
	place_union(sc);
	sc->terrain = cg_terrain_new(o->terrain_seed, sc->box);
	sc->zmin_m = sc->terrain->zmin_m;
	sc->zmax_m = sc->terrain->zmax_m;
	w = sc->box[2] - sc->box[0];
	h = sc->box[3] - sc->box[1];
	dz = sc->zmax_m - sc->zmin_m;
	sc->diag_m = sqrt(w * w + h * h + dz * dz);
	for (size_t k = 0; k < sc->n; k++) {
		struct cg_patch *p = &sc->p[k];

		cg_random_sim(&rng, o->scale_min, o->scale_max, o->shift_m, &p->G);
		p->spacing_m = sqrt(o->patch_w_m * o->patch_h_m / (double)o->points);
		p->overlap_prev = k ? box_overlap(p->box, sc->p[k - 1].box) : 0.0;
		p->points = o->points + nout;
	}
}

void cg_scene_release(struct cg_scene *sc)
{
	synth_terrain_free(sc->terrain);
	free(sc->p);
	memset(sc, 0, sizeof(*sc));
}

/* One patch being generated: its sampling state and the chunk being filled. */
struct gen {
	const struct cg_scene *sc;
	const struct synth_terrain *t;
	const double *box;
	const struct sq_sim *G;
	uint64_t rng;
	double spacing_m, sigma_m;
	double *xyz;
	unsigned char *rgb;
	size_t fill;
	struct sq_ply_writer *w;
};

static void gen_surface(struct gen *g, double wp[3], unsigned char rgb[3])
{
	wp[0] = g->box[0] + (g->box[2] - g->box[0]) * cg_uniform(&g->rng);
	wp[1] = g->box[1] + (g->box[3] - g->box[1]) * cg_uniform(&g->rng);
	wp[2] = synth_terrain_height(g->t, (float)wp[0], (float)wp[1]);
	if (g->sc->o.colour)
		synth_terrain_colour_at(g->t, wp[0], wp[1], g->spacing_m, rgb);
	else
		rgb[0] = rgb[1] = rgb[2] = 128;
	for (int k = 0; k < 3; k++)
		wp[k] += g->sigma_m * cg_normal(&g->rng);
}

static void gen_outlier(struct gen *g, double wp[3], unsigned char rgb[3])
{
	double z0 = g->t->zmin_m - OUTLIER_Z_M, z1 = g->t->zmax_m + OUTLIER_Z_M;

	wp[0] = g->box[0] + (g->box[2] - g->box[0]) * cg_uniform(&g->rng);
	wp[1] = g->box[1] + (g->box[3] - g->box[1]) * cg_uniform(&g->rng);
	wp[2] = z0 + (z1 - z0) * cg_uniform(&g->rng);
	for (int k = 0; k < 3; k++)
		rgb[k] = (unsigned char)(256.0 * cg_uniform(&g->rng));
}

static int gen_flush(struct gen *g, struct sq_err *err)
{
	struct sq_ply_chunk c = {.n = g->fill, .xyz = g->xyz, .rgb = g->rgb, .nrm = NULL};

	g->fill = 0;
	return c.n ? sq_ply_writer_add(g->w, &c, err) : 0;
}

/* Writes total points, nout of them outliers at random positions in the file
 * (selection sampling: each is an outlier with the share still owed). */
static int gen_run(struct gen *g, size_t total, size_t nout, struct sq_err *err)
{
	for (size_t k = 0; k < total; k++) {
		double wp[3];
		unsigned char *rgb = g->rgb + 3 * g->fill;

		if (cg_uniform(&g->rng) * (double)(total - k) < (double)nout) {
			gen_outlier(g, wp, rgb);
			nout--;
		} else {
			gen_surface(g, wp, rgb);
		}
		cg_sim_apply(g->G, wp, g->xyz + 3 * g->fill);
		if (++g->fill == GEN_CHUNK && gen_flush(g, err) < 0)
			return -1;
	}
	return gen_flush(g, err);
}

int cg_patch_write_from(const struct cg_scene *sc, const struct synth_terrain *t,
			const double box[4], const struct sq_sim *G, uint32_t stream,
			const char *path, size_t *points, struct sq_err *err)
{
	const struct cg_opts *o = &sc->o;
	size_t nout = (size_t)llround(o->outlier_share * (double)o->points);
	struct gen g = {.sc = sc, .t = t, .box = box, .G = G};
	int rc = -1;

	g.rng = cg_rng_seed(o->seed, stream);
	g.spacing_m = sqrt((box[2] - box[0]) * (box[3] - box[1]) / (double)o->points);
	g.sigma_m = o->noise_rel * g.spacing_m;
	g.xyz = xmalloc(3 * GEN_CHUNK * sizeof(*g.xyz));
	g.rgb = xmalloc(3 * GEN_CHUNK);
	g.w = sq_ply_writer_open(path, 1, 0, err);
	if (!g.w)
		goto out;
	if (gen_run(&g, o->points + nout, nout, err) < 0) {
		sq_ply_writer_abort(g.w);
		goto out;
	}
	rc = sq_ply_writer_close(g.w, err);
	if (points)
		*points = o->points + nout;
out:
	free(g.xyz);
	free(g.rgb);
	return rc;
}

int cg_patch_write(const struct cg_scene *sc, size_t i, const char *path, struct sq_err *err)
{
	return cg_patch_write_from(sc, sc->terrain, sc->p[i].box, &sc->p[i].G, (uint32_t)i + 1,
				   path, NULL, err);
}

double cg_surface_dist(const struct synth_terrain *t, const double w[3])
{
	float e = (float)t->o.cell_m, x = (float)w[0], y = (float)w[1];
	double gx =
	    (synth_terrain_height(t, x + e, y) - synth_terrain_height(t, x - e, y)) / (2 * e);
	double gy =
	    (synth_terrain_height(t, x, y + e) - synth_terrain_height(t, x, y - e)) / (2 * e);

	/* vertical offset times the cosine of the slope: the distance to the
	 * tangent plane, exact on planar facets */
	return fabs(w[2] - synth_terrain_height(t, x, y)) / sqrt(1.0 + gx * gx + gy * gy);
}

struct fit_ctx {
	const struct sq_sim *to_world;
	const struct synth_terrain *t;
	double far_m, sum2;
	struct cg_fit *fit;
};

static int fit_chunk(void *ctx, const struct sq_ply_chunk *c, struct sq_err *err)
{
	struct fit_ctx *f = ctx;

	(void)err;
	for (size_t k = 0; k < c->n; k++) {
		double w[3], d;

		cg_sim_apply(f->to_world, c->xyz + 3 * k, w);
		d = cg_surface_dist(f->t, w);
		f->fit->n++;
		if (d > f->far_m)
			f->fit->far++;
		else
			f->sum2 += d * d;
	}
	return 0;
}

int cg_ply_fit(const char *ply, const struct sq_sim *to_world, const struct synth_terrain *t,
	       double far_m, struct cg_fit *fit, struct sq_err *err)
{
	struct fit_ctx f = {.to_world = to_world, .t = t, .far_m = far_m, .fit = fit};
	size_t near;

	memset(fit, 0, sizeof(*fit));
	if (sq_ply_stream(ply, NULL, fit_chunk, &f, err) < 0)
		return -1;
	near = fit->n - fit->far;
	fit->rms_m = near ? sqrt(f.sum2 / (double)near) : 0.0;
	return 0;
}

void cg_truth(const struct cg_scene *sc, size_t ref, size_t i, struct sq_sim *truth)
{
	struct sq_sim inv;

	cg_sim_invert(&sc->p[i].G, &inv);
	cg_sim_compose(&sc->p[ref].G, &inv, truth);
}

void cg_compare_pts(const double *pts, size_t n, const struct sq_sim *est,
		    const struct sq_sim *truth, double diag, struct cg_err *e)
{
	double worst = 0.0;

	for (size_t c = 0; c < n; c++) {
		double a[3], b[3], d2 = 0.0;

		cg_sim_apply(est, pts + 3 * c, a);
		cg_sim_apply(truth, pts + 3 * c, b);
		for (int k = 0; k < 3; k++)
			d2 += (a[k] - b[k]) * (a[k] - b[k]);
		worst = fmax(worst, sqrt(d2));
	}
	e->pos_rel = worst / diag;
	e->rot_deg = cg_rot_between_deg(est->R, truth->R);
	e->scale_rel = fabs(est->s / truth->s - 1.0);
}

void cg_compare(const struct cg_scene *sc, const struct cg_patch *patch, const struct sq_sim *est,
		const struct sq_sim *truth, double diag, struct cg_err *e)
{
	double pts[24];

	/* the difference of two similarities is affine, so its largest length
	 * over the patch's box is at a corner */
	for (int c = 0; c < 8; c++) {
		double w[3] = {patch->box[c & 1 ? 2 : 0], patch->box[c & 2 ? 3 : 1],
			       c & 4 ? sc->zmax_m : sc->zmin_m};

		cg_sim_apply(&patch->G, w, pts + 3 * c);
	}
	cg_compare_pts(pts, 8, est, truth, diag, e);
}

int cg_sim_write(const char *path, const struct sq_sim *T, struct sq_err *err)
{
	FILE *f = fopen(path, "w");
	int bad;

	if (!f)
		return sq_error_errno(err, errno, "cannot create '%s'", path);
	for (int i = 0; i < 3; i++)
		fprintf(f, "%.17g %.17g %.17g %.17g\n", T->s * T->R[3 * i], T->s * T->R[3 * i + 1],
			T->s * T->R[3 * i + 2], T->t[i]);
	fprintf(f, "0 0 0 1\n");
	bad = ferror(f);
	if (fclose(f) != 0 || bad)
		return sq_error_errno(err, errno ? errno : EIO, "cannot write '%s'", path);
	return 0;
}

int cg_sim_from_mat(const double m[16], struct sq_sim *T)
{
	const double *a = m;
	double det = a[0] * (a[5] * a[10] - a[6] * a[9]) - a[1] * (a[4] * a[10] - a[6] * a[8]) +
		     a[2] * (a[4] * a[9] - a[5] * a[8]);

	if (!(det > 0.0) || fabs(m[12]) + fabs(m[13]) + fabs(m[14]) > SIM_TOL ||
	    fabs(m[15] - 1.0) > SIM_TOL)
		return -1;
	T->s = cbrt(det);
	for (int i = 0; i < 3; i++) {
		for (int j = 0; j < 3; j++)
			T->R[3 * i + j] = m[4 * i + j] / T->s;
		T->t[i] = m[4 * i + 3];
	}
	/* R R^T must be the identity */
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++) {
			double d = T->R[3 * i] * T->R[3 * j] + T->R[3 * i + 1] * T->R[3 * j + 1] +
				   T->R[3 * i + 2] * T->R[3 * j + 2];

			if (fabs(d - (i == j)) > SIM_TOL)
				return -1;
		}
	return 0;
}

int cg_sim_read(const char *path, struct sq_sim *T, struct sq_err *err)
{
	FILE *f = fopen(path, "r");
	double m[16];
	int k = 0;

	if (!f)
		return sq_error_errno(err, errno, "cannot open '%s'", path);
	while (k < 16 && fscanf(f, "%lf", &m[k]) == 1)
		k++;
	fclose(f);
	if (k < 16)
		return sq_error(err, SQ_ERR_INVALID, "'%s': expected 16 numbers (a 4x4 matrix)",
				path);
	if (cg_sim_from_mat(m, T) < 0)
		return sq_error(err, SQ_ERR_INVALID, "'%s': not a similarity transform", path);
	return 0;
}
