/* surfgen.c - terrain families and random pairs of clouds cut from them (see
 * surfgen.h). */
#include "surfgen.h"
#include "cloud/ply.h"
#include "base/xalloc.h"
#include "noise.h"
#include "terrain.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

#define MARGIN_M 3.0	 /* surface defined this far beyond the boxes */
#define MAX_MOUNDS 256	 /* broad mounds drawn over a surface's domain */
#define BOULDER_CELL 2.5 /* one candidate boulder per cell of this size (m) */
#define GEN_CHUNK 4096	 /* points per PLY chunk */
#define OUTLIER_Z_M 1.5	 /* outliers reach this far beyond the height range */
#define RANGE_STEP_M 0.1 /* height range sampled on this grid */
#define DEFAULT_POINTS 30000

static const char *const family_names[SG_ALL_FAMILIES] = {"seabed", "flat",  "swells", "ripples",
							  "sloped", "rough", "plane",  "sine"};
static const char *const defect_names[SG_DEFECTS] = {
    "none", "identical", "huge", "tiny", "nan", "all-nan", "few", "line", "stranger"};

const char *sg_family_name(int family)
{
	return family >= 0 && family < SG_ALL_FAMILIES ? family_names[family] : NULL;
}

int sg_family_parse(const char *s)
{
	for (int f = 0; f < SG_ALL_FAMILIES; f++)
		if (!strcmp(s, family_names[f]))
			return f;
	return -1;
}

const char *sg_defect_name(int defect)
{
	return defect >= 0 && defect < SG_DEFECTS ? defect_names[defect] : NULL;
}

/* --- surfaces -------------------------------------------------------------------- */

struct mound {
	double x, y, sx, sy, c, s, h; /* centre, spreads, axis (cos, sin), height */
};

struct wave {
	double a, k, dx, dy, ph; /* amplitude, wavenumber, direction, phase */
};

struct sg_surface {
	int family;
	uint32_t seed; /* noise layers */
	struct synth_terrain *seabed;
	struct wave w[2];
	struct mound m[MAX_MOUNDS];
	size_t nm;
	double slope[2];		      /* dh/dx, dh/dy */
	double rip_a, rip_wl, rip_dx, rip_dy; /* ripples */
	double boulder_p;		      /* chance a cell holds a boulder */
	double base_rgb[3], tone;	      /* colour */
};

static double u01(uint64_t *rng)
{
	return cg_uniform(rng);
}

static double lerp(double a, double b, double u)
{
	return a + (b - a) * u;
}

static void draw_wave(uint64_t *rng, struct wave *w, double a, double wl, double dir)
{
	w->a = a;
	w->k = 2 * M_PI / wl;
	w->dx = cos(dir);
	w->dy = sin(dir);
	w->ph = 2 * M_PI * u01(rng);
}

static double wave_at(const struct wave *w, double x, double y)
{
	return w->a * sin(w->k * (w->dx * x + w->dy * y) + w->ph);
}

/* Mounds at the given density (per m^2) over the domain, gaussian, elongated
 * up to 2:1, spreads in [s0, s1] m, heights in [h0, h1] m. */
static void draw_mounds(struct sg_surface *s, uint64_t *rng, const double dom[4], double density,
			double s0, double s1, double h0, double h1)
{
	double area = (dom[2] - dom[0]) * (dom[3] - dom[1]);
	size_t n = (size_t)llround(area * density);

	for (size_t i = 0; i < n && s->nm < MAX_MOUNDS; i++) {
		struct mound *m = &s->m[s->nm++];
		double ang = M_PI * u01(rng), sp = lerp(s0, s1, u01(rng));

		m->x = lerp(dom[0], dom[2], u01(rng));
		m->y = lerp(dom[1], dom[3], u01(rng));
		m->sx = sp;
		m->sy = sp * lerp(0.5, 1.0, u01(rng));
		m->c = cos(ang);
		m->s = sin(ang);
		m->h = lerp(h0, h1, u01(rng));
	}
}

static double mounds_at(const struct sg_surface *s, double x, double y)
{
	double h = 0;

	for (size_t i = 0; i < s->nm; i++) {
		const struct mound *m = &s->m[i];
		double dx = x - m->x, dy = y - m->y, u = (m->c * dx + m->s * dy) / m->sx,
		       v = (-m->s * dx + m->c * dy) / m->sy, q = u * u + v * v;

		if (q < 16)
			h += m->h * exp(-0.5 * q);
	}
	return h;
}

/* Scattered boulders: one candidate per BOULDER_CELL cell; a rounded top with
 * steep sides, elongated up to 3:2. *cover gets how much of (x, y) is rock. */
static double boulders_at(const struct sg_surface *s, double x, double y, double *cover)
{
	int ci = (int)floor(x / BOULDER_CELL), cj = (int)floor(y / BOULDER_CELL);
	double h = 0;

	*cover = 0;
	for (int j = cj - 1; j <= cj + 1; j++)
		for (int i = ci - 1; i <= ci + 1; i++) {
			uint32_t sd = s->seed + 17;
			double px, py, r, a, ang, dx, dy, u, v, q, b;

			if (synth_hash01(sd, i, j, 1) > s->boulder_p)
				continue;
			px = (i + 0.2 + 0.6 * synth_hash01(sd, i, j, 2)) * BOULDER_CELL;
			py = (j + 0.2 + 0.6 * synth_hash01(sd, i, j, 3)) * BOULDER_CELL;
			r = 0.2 + 0.5 * synth_hash01(sd, i, j, 4);
			a = 0.65 + 0.35 * synth_hash01(sd, i, j, 5);
			ang = M_PI * synth_hash01(sd, i, j, 6);
			dx = x - px, dy = y - py;
			u = (cos(ang) * dx + sin(ang) * dy) / r;
			v = (-sin(ang) * dx + cos(ang) * dy) / (r * a);
			q = u * u + v * v;
			if (q >= 1)
				continue;
			b = r * (0.4 + 0.5 * synth_hash01(sd, i, j, 7)) * pow(1 - q, 0.6);
			h = fmax(h, b);
			*cover = 1;
		}
	return h;
}

/* Ripples whose crests wander (a warped phase) and fade in and out. */
static double ripples_at(const struct sg_surface *s, double x, double y)
{
	double wx = x + 0.8 * synth_noise(s->seed + 5, (float)(x / 5), (float)(y / 5));
	double wy = y + 0.8 * synth_noise(s->seed + 6, (float)(x / 5), (float)(y / 5));
	double ph = 2 * M_PI * (s->rip_dx * wx + s->rip_dy * wy) / s->rip_wl +
		    2.0 * synth_noise(s->seed + 7, (float)(x / 3), (float)(y / 3));
	double env = 0.65 + 0.35 * synth_noise(s->seed + 8, (float)(x / 4), (float)(y / 4));

	/* sharp crests, flat troughs */
	return s->rip_a * env * (2 * pow(0.5 + 0.5 * sin(ph), 2) - 0.5);
}

static float fbm(const struct sg_surface *s, uint32_t layer, double x, double y, double wl_max,
		 double wl_min, double gain)
{
	return synth_fbm(s->seed + layer, (float)x, (float)y, (float)wl_max, (float)wl_min,
			 (float)gain);
}

static double height_of(const struct sg_surface *s, double x, double y)
{
	double cover, ridge;

	switch (s->family) {
	case SG_SEABED:
		return synth_terrain_height(s->seabed, (float)x, (float)y);
	case SG_FLAT:
		return 0.01 * fbm(s, 1, x, y, 3.0, 0.15, 0.5) + boulders_at(s, x, y, &cover);
	case SG_SWELLS:
		return wave_at(&s->w[0], x, y) + wave_at(&s->w[1], x, y) + mounds_at(s, x, y) +
		       0.003 * fbm(s, 1, x, y, 1.0, 0.1, 0.5);
	case SG_RIPPLES:
		return ripples_at(s, x, y) + 0.15 * fbm(s, 2, x, y, 14.0, 3.0, 0.5);
	case SG_SLOPED:
		return s->slope[0] * x + s->slope[1] * y + ripples_at(s, x, y) +
		       mounds_at(s, x, y) + 0.02 * fbm(s, 3, x, y, 2.0, 0.2, 0.5);
	case SG_ROUGH:
		ridge = 1 - fabs(synth_noise(s->seed + 4, (float)(x / 4), (float)(y / 4)));
		return 0.6 * fbm(s, 3, x, y, 10.0, 0.1, 0.62) + 0.5 * ridge * ridge * ridge;
	case SG_SINE:
		return wave_at(&s->w[0], x, y);
	}
	return 0; /* SG_PLANE */
}

static void plan_family(struct sg_surface *s, uint64_t *rng, const double dom[4])
{
	double dir = 2 * M_PI * u01(rng), slope, sdir;

	switch (s->family) {
	case SG_FLAT:
		s->boulder_p = lerp(0.35, 0.55, u01(rng));
		break;
	case SG_SWELLS:
		draw_wave(rng, &s->w[0], lerp(0.25, 0.5, u01(rng)), lerp(6, 12, u01(rng)), dir);
		draw_wave(rng, &s->w[1], s->w[0].a * lerp(0.3, 0.6, u01(rng)),
			  2 * M_PI / s->w[0].k * lerp(0.5, 0.8, u01(rng)),
			  dir + (u01(rng) < 0.5 ? -1 : 1) * lerp(0.17, 0.7, u01(rng)));
		draw_mounds(s, rng, dom, 1.0 / 50, 1.2, 2.5, 0.2, 0.5);
		break;
	case SG_RIPPLES:
	case SG_SLOPED:
		s->rip_a = s->family == SG_RIPPLES ? lerp(0.03, 0.07, u01(rng))
						   : lerp(0.015, 0.04, u01(rng));
		s->rip_wl = lerp(0.5, 1.3, u01(rng));
		s->rip_dx = cos(dir), s->rip_dy = sin(dir);
		if (s->family == SG_RIPPLES)
			break;
		slope = tan(lerp(5, 25, u01(rng)) * M_PI / 180), sdir = 2 * M_PI * u01(rng);
		s->slope[0] = slope * cos(sdir), s->slope[1] = slope * sin(sdir);
		draw_mounds(s, rng, dom, 1.0 / 25, 0.4, 1.2, 0.1, 0.4);
		break;
	case SG_SINE:
		draw_wave(rng, &s->w[0], 0.3, 3.0, dir);
		break;
	}
}

static void plan_colour(struct sg_surface *s, uint64_t *rng)
{
	static const double sand[3] = {196, 178, 132}, silt[3] = {150, 140, 110},
			    rock[3] = {128, 118, 104};
	const double *base = s->family == SG_ROUGH ? rock : s->family == SG_SWELLS ? silt : sand;

	for (int k = 0; k < 3; k++)
		s->base_rgb[k] = base[k] * lerp(0.85, 1.15, u01(rng));
	s->tone = lerp(0.12, 0.25, u01(rng));
}

struct sg_surface *sg_surface_new(int family, uint32_t seed, const double box[4])
{
	struct sg_surface *s = xcalloc(1, sizeof(*s));
	uint64_t rng = cg_rng_seed(seed, 0x5eed);
	double dom[4] = {box[0] - MARGIN_M, box[1] - MARGIN_M, box[2] + MARGIN_M,
			 box[3] + MARGIN_M};

	s->family = family;
	s->seed = (uint32_t)(cg_uniform(&rng) * 4294967295.0);
	if (family == SG_SEABED)
		s->seabed = cg_terrain_new(seed, box);
	plan_family(s, &rng, dom);
	plan_colour(s, &rng);
	return s;
}

void sg_surface_free(struct sg_surface *s)
{
	if (!s)
		return;
	synth_terrain_free(s->seabed);
	free(s);
}

double sg_height(const struct sg_surface *s, double x, double y)
{
	return height_of(s, x, y);
}

static unsigned char clamp_byte(double v)
{
	return (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : lrint(v));
}

void sg_colour(const struct sg_surface *s, double x, double y, unsigned char rgb[3])
{
	double tone, patch, cover = 0, grain;

	if (s->family == SG_SEABED) {
		synth_terrain_colour_at(s->seabed, x, y, 0.05, rgb);
		return;
	}
	/* broad tone, patches of darker silt or weed, fine grain, darker rock */
	tone = 1 + s->tone * fbm(s, 11, x, y, 4.0, 0.3, 0.55);
	patch = fbm(s, 12, x, y, 6.0, 0.5, 0.5);
	patch = patch > 0.25 ? 0.75 : 1.0;
	grain =
	    1 + 0.05 * (synth_hash01(s->seed + 13, (int)floor(x / 0.03), (int)floor(y / 0.03), 0) -
			0.5);
	if (s->family == SG_FLAT)
		boulders_at(s, x, y, &cover);
	for (int k = 0; k < 3; k++) {
		double v = s->base_rgb[k] * tone * patch * grain;

		if (cover > 0)
			v = 0.55 * v * (0.8 + 0.4 * (k == 2));
		rgb[k] = clamp_byte(v);
	}
}

double sg_surface_dist(const struct sg_surface *s, const double w[3])
{
	double e = 0.02,
	       gx = (height_of(s, w[0] + e, w[1]) - height_of(s, w[0] - e, w[1])) / (2 * e),
	       gy = (height_of(s, w[0], w[1] + e) - height_of(s, w[0], w[1] - e)) / (2 * e);

	return fabs(w[2] - height_of(s, w[0], w[1])) / sqrt(1 + gx * gx + gy * gy);
}

/* --- pairs ----------------------------------------------------------------------- */

void sg_pair_opts_default(struct sg_pair_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->seed = 1;
	o->points = DEFAULT_POINTS;
	o->overlap_min = 0.25;
	o->overlap_max = 0.60;
	o->scale_min = 0.3;
	o->scale_max = 3.0;
	o->noise_min_m = 0.005;
	o->noise_max_m = 0.02;
	o->outliers_max = 0.02;
	o->colour = -1;
}

static double box_share(const double a[4], const double b[4])
{
	double w = fmin(a[2], b[2]) - fmax(a[0], b[0]), h = fmin(a[3], b[3]) - fmax(a[1], b[1]);

	return w <= 0 || h <= 0 ? 0 : w * h / ((a[2] - a[0]) * (a[3] - a[1]));
}

/* Box 1 is box 0 moved along dir until they share `share` of box 0's area. */
static void place_second(const double b0[4], double dir, double share, double b1[4])
{
	double lo = 0, hi = 2 * (b0[2] - b0[0] + b0[3] - b0[1]);

	for (int it = 0; it < 60; it++) {
		double t = 0.5 * (lo + hi);

		for (int k = 0; k < 4; k++)
			b1[k] = b0[k] + t * (k % 2 ? sin(dir) : cos(dir));
		if (box_share(b0, b1) > share)
			lo = t;
		else
			hi = t;
	}
}

static void height_range(struct sg_pair *p)
{
	double x0 = fmin(p->box[0][0], p->box[1][0]), y0 = fmin(p->box[0][1], p->box[1][1]),
	       x1 = fmax(p->box[0][2], p->box[1][2]), y1 = fmax(p->box[0][3], p->box[1][3]);

	p->zmin_m = INFINITY, p->zmax_m = -INFINITY;
	for (double y = y0; y <= y1; y += RANGE_STEP_M)
		for (double x = x0; x <= x1; x += RANGE_STEP_M) {
			double z = sg_height(p->surf, x, y);

			p->zmin_m = fmin(p->zmin_m, z), p->zmax_m = fmax(p->zmax_m, z);
		}
	p->diag_m = sqrt((x1 - x0) * (x1 - x0) + (y1 - y0) * (y1 - y0) +
			 (p->zmax_m - p->zmin_m) * (p->zmax_m - p->zmin_m));
}

void sg_pair_plan(const struct sg_pair_opts *o, struct sg_pair *p)
{
	uint64_t rng = cg_rng_seed(o->seed, 1);
	double w = lerp(10, 16, u01(&rng)), h = w * lerp(0.7, 1.0, u01(&rng)), sx, sy;
	double share = lerp(o->overlap_min, o->overlap_max, u01(&rng));

	memset(p, 0, sizeof(*p));
	p->o = *o;
	if (!p->o.points)
		p->o.points = DEFAULT_POINTS;
	p->box[0][2] = w, p->box[0][3] = h;
	place_second(p->box[0], 2 * M_PI * u01(&rng), share, p->box[1]);
	/* the union starts at the origin (the seabed's survey area does) */
	sx = fmin(p->box[0][0], p->box[1][0]), sy = fmin(p->box[0][1], p->box[1][1]);
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 4; k++)
			p->box[i][k] -= k % 2 ? sy : sx;
	p->overlap = box_share(p->box[0], p->box[1]);
	for (int i = 0; i < 2; i++)
		cg_random_sim(&rng, o->scale_min, o->scale_max, 50.0, &p->G[i]);
	p->noise_m = lerp(o->noise_min_m, o->noise_max_m, u01(&rng));
	for (int i = 0; i < 2; i++)
		p->outliers[i] = o->outliers_max * u01(&rng);
	p->colour = o->colour >= 0 ? o->colour : u01(&rng) < 0.5;
	{
		double un[4] = {0, 0, fmax(p->box[0][2], p->box[1][2]),
				fmax(p->box[0][3], p->box[1][3])};

		p->surf = sg_surface_new(o->family, o->seed * 7919u + 13, un);
	}
	height_range(p);
}

void sg_pair_release(struct sg_pair *p)
{
	sg_surface_free(p->surf);
	memset(p, 0, sizeof(*p));
}

void sg_pair_truth(const struct sg_pair *p, struct sq_sim *T)
{
	struct sq_sim inv;

	cg_sim_invert(&p->G[1], &inv);
	cg_sim_compose(&p->G[0], &inv, T);
}

void sg_pair_compare(const struct sg_pair *p, const struct sq_sim *est, struct cg_err *e)
{
	struct sq_sim truth;
	double pts[24];

	sg_pair_truth(p, &truth);
	for (int c = 0; c < 8; c++) {
		double w[3] = {p->box[1][c & 1 ? 2 : 0], p->box[1][c & 2 ? 3 : 1],
			       c & 4 ? p->zmax_m : p->zmin_m};

		cg_sim_apply(&p->G[1], w, pts + 3 * c);
	}
	cg_compare_pts(pts, 8, est, &truth, p->diag_m * p->G[0].s, e);
}

/* --- writing --------------------------------------------------------------------- */

struct writer {
	const struct sg_pair *p;
	int i;
	uint64_t rng;
	double xyz[3 * GEN_CHUNK];
	unsigned char rgb[3 * GEN_CHUNK];
	size_t fill;
	struct sq_ply_writer *w;
};

static int flush(struct writer *g, struct sq_err *err)
{
	struct sq_ply_chunk c = {.n = g->fill, .xyz = g->xyz, .rgb = g->rgb, .nrm = NULL};

	g->fill = 0;
	return c.n ? sq_ply_writer_add(g->w, &c, err) : 0;
}

/* A world point of cloud i: on the surface with noise, or an outlier. */
static void world_point(struct writer *g, int outlier, double wp[3], unsigned char rgb[3])
{
	const struct sg_pair *p = g->p;
	const double *b = p->box[g->i];
	const struct sg_surface *s = p->surf;

	wp[0] = lerp(b[0], b[2], u01(&g->rng));
	wp[1] = lerp(b[1], b[3], u01(&g->rng));
	if (outlier) {
		wp[2] = lerp(p->zmin_m - OUTLIER_Z_M, p->zmax_m + OUTLIER_Z_M, u01(&g->rng));
		for (int k = 0; k < 3; k++)
			rgb[k] = (unsigned char)(256 * u01(&g->rng));
		return;
	}
	wp[2] = sg_height(s, wp[0], wp[1]);
	sg_colour(s, wp[0], wp[1], rgb);
	for (int k = 0; k < 3; k++)
		wp[k] += p->noise_m * cg_normal(&g->rng);
}

/* What a defect does to point k of n (in the cloud's frame). */
static void apply_defect(int defect, size_t k, double y[3])
{
	static const double first[3] = {1.25, -3.5, 7.0};

	switch (defect) {
	case SG_IDENTICAL:
		memcpy(y, first, sizeof(first));
		break;
	case SG_HUGE:
		for (int d = 0; d < 3; d++)
			y[d] = 1e37 + 1e35 * y[d];
		break;
	case SG_TINY:
		for (int d = 0; d < 3; d++)
			y[d] *= 1e-41;
		break;
	case SG_NAN:
		if (k % 4 == 1)
			y[k % 3] = k % 8 == 1 ? NAN : INFINITY;
		break;
	case SG_ALL_NAN:
		y[0] = y[1] = y[2] = NAN;
		break;
	case SG_LINE:
		y[1] = 2 * y[0] + 1, y[2] = -y[0];
		break;
	}
}

int sg_pair_write(const struct sg_pair *p, int i, const char *path, struct sq_err *err)
{
	struct writer *g = xcalloc(1, sizeof(*g));
	int defect = i == 1 ? p->o.defect : SG_OK;
	size_t total = defect == SG_FEW ? 5 : p->o.points, nout;
	struct sg_pair q; /* SG_STRANGER: the same footprint on another surface */
	int rc = -1, bad = 0;

	nout = (size_t)llround(p->outliers[i] * (double)total);
	total += nout;
	g->p = p, g->i = i;
	g->rng = cg_rng_seed(p->o.seed, 100 + (uint32_t)i);
	if (defect == SG_STRANGER) {
		q = *p;
		q.surf = sg_surface_new(p->o.family, p->o.seed * 7919u + 1013, p->box[1]);
		g->p = &q;
	}
	g->w = sq_ply_writer_open(path, p->colour, 0, err);
	if (!g->w)
		goto out;
	for (size_t k = 0; k < total && !bad; k++) {
		double wp[3];
		int outl = u01(&g->rng) * (double)(total - k) < (double)nout;

		nout -= (size_t)outl;
		world_point(g, outl, wp, &g->rgb[3 * g->fill]);
		cg_sim_apply(&p->G[i], wp, &g->xyz[3 * g->fill]);
		apply_defect(defect, k, &g->xyz[3 * g->fill]);
		if (++g->fill == GEN_CHUNK && flush(g, err) < 0)
			bad = 1;
	}
	if (bad || flush(g, err) < 0) {
		sq_ply_writer_abort(g->w);
		rc = -1;
		goto out;
	}
	rc = sq_ply_writer_close(g->w, err);
out:
	if (defect == SG_STRANGER)
		sg_surface_free(q.surf);
	free(g);
	return rc;
}
