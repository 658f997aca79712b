/* register.c - preparing clouds and global similarity registration (FPFH +
 * RANSAC) of one onto another (see register.h; ICP is in register_icp.c). */
#include "cloud/register.h"
#include "cloud/register_internal.h"
#include "cloud/fpfh.h"
#include "base/parallel.h"
#include "base/xalloc.h"
#include "base/mathutil.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

#define NORMAL_RADIUS_VOX 2.0 /* as Open3D's tutorial: normals over 2 voxels, */
#define NORMAL_MAX_NN 30
#define FPFH_RADIUS_VOX 5.0 /* FPFH over 5 voxels, up to 100 neighbours */
#define FPFH_MAX_NN 100
#define COLOUR_BINS 11
#define COLOUR_RINGS 3
#define COLOUR_DIM (COLOUR_BINS + COLOUR_RINGS) /* = SQ_REG_DESC_DIM - SQ_FPFH_DIM */
#define COLOUR_SPAN 48.0			/* brightness differences binned over +-this */
#define RANSAC_THR_VOX 1.5    /* an inlier correspondence is this close (target voxels) */
#define RANSAC_MAX_ITER 50000 /* hard cap; early exit at 99.9 % confidence */
#define RANSAC_CONFIDENCE 0.999
#define RANSAC_MIN_ITER 1000 /* draws at least: the runner-up placements matter too */
#define EDGE_SIMILARITY 0.9  /* the three edge-length ratios of a sample agree this well */
#define MUTUAL_MIN 48	     /* fewer mutual matches than this: use one-way matches */
#define POLISH_ROUNDS 4	     /* refits per distance (given matches) */
#define POLISH_MIN 16	     /* matches a refit needs */

/* --- preparation ---------------------------------------------------------------- */

/* The cloud's least-variance axis: the "up" of a surface whose side is unknown.
 * Its sign is a guess: the side the surface's relief sticks out to (rocks and
 * ridges rise from a seabed; a positive third moment along the axis). */
static void normal_axis(const struct sq_cloud *c, double axis[3])
{
	double m[3], ev[3], V[9], m3 = 0;

	sq_cloud_pca(c, m, ev, V);
	for (int k = 0; k < 3; k++)
		axis[k] = V[3 * k];
	for (size_t i = 0; i < c->n; i++) {
		double h = 0;

		for (int k = 0; k < 3; k++)
			h += (c->xyz[3 * i + (size_t)k] - m[k]) * axis[k];
		m3 += h * h * h;
	}
	for (int k = 0; k < 3 && m3 < 0; k++)
		axis[k] = -axis[k];
}

/* The colour part of point i's descriptor, from its neighbours idx[0..k): how
 * brightness varies around it, in terms that survive a change of exposure
 * offset and any turn about the normal. COLOUR_BINS bins of each neighbour's
 * brightness minus the neighbourhood's mean (summing to 100, like an FPFH
 * histogram), then the mean of that difference in COLOUR_RINGS rings out to
 * the radius (a bright spot, a dark patch's edge), centred on 50. A sparse
 * cloud from structure from motion has too few points for its geometry alone
 * to tell one stretch of smooth seabed from another; its colours can. */
static void colour_descriptor(const struct sq_cloud *c, const size_t *idx, const float *d2,
			      size_t k, double radius, float *out)
{
	double mean = 0, ring[COLOUR_RINGS] = {0}, nring[COLOUR_RINGS] = {0};

	memset(out, 0, COLOUR_DIM * sizeof(*out));
	for (size_t j = 0; j < k; j++)
		mean += brightness(&c->rgb[3 * idx[j]]) / (double)k;
	for (size_t j = 0; j < k; j++) {
		double dv = brightness(&c->rgb[3 * idx[j]]) - mean;
		int bin = (int)floor((dv + COLOUR_SPAN) / (2 * COLOUR_SPAN) * COLOUR_BINS);
		int r = (int)(sqrt(d2[j]) / radius * COLOUR_RINGS);

		bin = bin < 0 ? 0 : bin >= COLOUR_BINS ? COLOUR_BINS - 1 : bin;
		out[bin] += (float)(100.0 / (double)k);
		r = r >= COLOUR_RINGS ? COLOUR_RINGS - 1 : r;
		ring[r] += dv, nring[r]++;
	}
	for (int r = 0; r < COLOUR_RINGS; r++) {
		double v = 50 + (nring[r] > 0 ? ring[r] / nring[r] : 0);

		out[COLOUR_BINS + r] = (float)(v < 0 ? 0 : v > 100 ? 100 : v);
	}
}

struct colour_job {
	struct sq_reg_cloud *rc;
	const float *fpfh;
	double radius;
};

static void colour_block(void *ctx, size_t begin, size_t end, void *scratch)
{
	struct colour_job *J = ctx;
	size_t *idx = scratch;
	float *d2 = (float *)(idx + FPFH_MAX_NN);
	const struct sq_reg_cloud *rc = J->rc;

	for (size_t i = begin; i < end; i++) {
		float *desc = rc->fpfh + i * SQ_REG_DESC_DIM;
		size_t k = sq_kdtree_search(rc->tree, &rc->c.xyz[3 * i], FPFH_MAX_NN,
					    (float)(J->radius * J->radius), idx, d2);

		memcpy(desc, J->fpfh + i * SQ_FPFH_DIM, SQ_FPFH_DIM * sizeof(*desc));
		colour_descriptor(&rc->c, idx, d2, k, J->radius, desc + SQ_FPFH_DIM);
	}
}

/* Descriptors: FPFH, then the colour part when rc->colour_desc. A cloud asked
 * for colour that has none gets a neutral colour part, so that it still
 * compares with the others in the same space. */
static void build_features(struct sq_reg_cloud *rc)
{
	struct colour_job J = {.rc = rc, .radius = FPFH_RADIUS_VOX * rc->voxel};
	float *fpfh = sq_fpfh_compute(&rc->c, rc->tree, J.radius, FPFH_MAX_NN);

	free(rc->fpfh);
	sq_kdtree_free(rc->ftree);
	if (!rc->colour_desc) {
		rc->fpfh = fpfh;
	} else if (!rc->c.rgb) {
		rc->fpfh = xcalloc(rc->c.n * SQ_REG_DESC_DIM + 1, sizeof(*rc->fpfh));
		for (size_t i = 0; i < rc->c.n; i++) {
			float *desc = rc->fpfh + i * SQ_REG_DESC_DIM;

			memcpy(desc, fpfh + i * SQ_FPFH_DIM, SQ_FPFH_DIM * sizeof(*desc));
			for (int b = 0; b < COLOUR_DIM; b++)
				desc[SQ_FPFH_DIM + b] = b < COLOUR_BINS ? 100.0f / COLOUR_BINS : 50;
		}
		free(fpfh);
	} else {
		rc->fpfh = xcalloc(rc->c.n * SQ_REG_DESC_DIM + 1, sizeof(*rc->fpfh));
		J.fpfh = fpfh;
		sq_par_for(rc->c.n, PAR_BLOCK, PAR_MIN_POINTS,
			   FPFH_MAX_NN * (sizeof(size_t) + sizeof(float)), colour_block, &J);
		free(fpfh);
	}
	rc->ftree = sq_kdtree_build(rc->fpfh, rc->c.n, (int)sq_reg_desc_dim(rc));
}

void sq_reg_prepare(struct sq_reg_cloud *rc, struct sq_cloud *c, double voxel, const double *up,
		    int features, int colour)
{
	double axis[3];

	memset(rc, 0, sizeof(*rc));
	rc->c = *c;
	memset(c, 0, sizeof(*c));
	rc->voxel = voxel;
	rc->colour_desc = colour;
	rc->tree = sq_kdtree_build(rc->c.xyz, rc->c.n, 3);
	if (!up && rc->c.n >= 3) {
		normal_axis(&rc->c, axis);
		up = axis;
	}
	sq_normals_estimate(&rc->c, rc->tree, NORMAL_RADIUS_VOX * voxel, NORMAL_MAX_NN, up);
	if (features)
		build_features(rc);
}

void sq_reg_set_raw_points(struct sq_reg_cloud *rc, const float *xyz, size_t n, size_t max)
{
	size_t step = n > max ? (n + max - 1) / max : 1;

	free(rc->raw);
	rc->raw = xcalloc(3 * (n / step + 1), sizeof(*rc->raw));
	rc->nraw = 0;
	for (size_t i = 0; i < n; i += step)
		memcpy(&rc->raw[3 * rc->nraw++], &xyz[3 * i], 3 * sizeof(*xyz));
}

void sq_reg_subset(const struct sq_reg_cloud *rc, const unsigned char *keep,
		   struct sq_reg_cloud *out)
{
	size_t dim = sq_reg_desc_dim(rc), m = 0;

	memset(out, 0, sizeof(*out));
	sq_cloud_init(&out->c, rc->c.rgb != NULL, 1);
	out->voxel = rc->voxel;
	out->colour_desc = rc->colour_desc;
	out->fpfh = xcalloc(rc->c.n * dim + 1, sizeof(*out->fpfh));
	for (size_t i = 0; i < rc->c.n; i++) {
		if (!keep[i])
			continue;
		sq_cloud_push(&out->c, &rc->c.xyz[3 * i], rc->c.rgb ? &rc->c.rgb[3 * i] : NULL,
			      &rc->c.nrm[3 * i]);
		memcpy(&out->fpfh[dim * m++], &rc->fpfh[dim * i], dim * sizeof(*out->fpfh));
	}
	out->tree = sq_kdtree_build(out->c.xyz, out->c.n, 3);
	out->ftree = sq_kdtree_build(out->fpfh, out->c.n, (int)dim);
}

void sq_reg_set_colour(struct sq_reg_cloud *rc, int colour)
{
	if (rc->colour_desc == colour || !rc->fpfh)
		return;
	rc->colour_desc = colour;
	build_features(rc);
}

void sq_reg_flip(struct sq_reg_cloud *rc)
{
	for (size_t i = 0; i < 3 * rc->c.n; i++)
		rc->c.nrm[i] = -rc->c.nrm[i];
	build_features(rc);
}

void sq_reg_release(struct sq_reg_cloud *rc)
{
	sq_cloud_release(&rc->c);
	sq_kdtree_free(rc->tree);
	sq_kdtree_free(rc->ftree);
	free(rc->fpfh);
	free(rc->raw);
	memset(rc, 0, sizeof(*rc));
}

/* --- correspondences ------------------------------------------------------------ */

struct corr {
	size_t n;
	size_t *src, *dst;
};

static size_t nearest_feature(const struct sq_reg_cloud *in, const float *f)
{
	size_t idx = 0;

	sq_kdtree_search(in->ftree, f, 1, INFINITY, &idx, NULL);
	return idx;
}

struct nearest_job {
	const struct sq_reg_cloud *from, *in;
	size_t *out; /* per point of from: its nearest in `in` */
};

static void nearest_block(void *ctx, size_t begin, size_t end, void *scratch)
{
	struct nearest_job *J = ctx;

	(void)scratch;
	for (size_t i = begin; i < end; i++)
		J->out[i] = nearest_feature(J->in, J->from->fpfh + i * sq_reg_desc_dim(J->from));
}

/* Each source point's nearest target in feature space, kept when that target's
 * nearest source is the same point; one-way matches when too few are mutual. */
static void match_features(const struct sq_reg_cloud *src, const struct sq_reg_cloud *dst,
			   int one_way, struct corr *cr)
{
	size_t *fwd = xcalloc(src->c.n + 1, sizeof(*fwd));
	size_t *back = xcalloc(dst->c.n + 1, sizeof(*back));
	size_t nm = 0;

	struct nearest_job jf = {src, dst, fwd}, jb = {dst, src, back};

	sq_par_for(src->c.n, PAR_BLOCK, PAR_MIN_POINTS, 0, nearest_block, &jf);
	sq_par_for(dst->c.n, PAR_BLOCK, PAR_MIN_POINTS, 0, nearest_block, &jb);
	for (size_t i = 0; i < src->c.n; i++)
		nm += back[fwd[i]] == i;
	cr->src = xcalloc(src->c.n + 1, sizeof(*cr->src));
	cr->dst = xcalloc(src->c.n + 1, sizeof(*cr->dst));
	cr->n = 0;
	for (size_t i = 0; i < src->c.n; i++) {
		if (!one_way && nm >= MUTUAL_MIN && back[fwd[i]] != i)
			continue;
		cr->src[cr->n] = i;
		cr->dst[cr->n++] = fwd[i];
	}
	free(fwd);
	free(back);
}

static void corr_release(struct corr *cr)
{
	free(cr->src);
	free(cr->dst);
}

/* --- RANSAC ---------------------------------------------------------------------- */

static double dist2(const double a[3], const double b[3])
{
	return (a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
	       (a[2] - b[2]) * (a[2] - b[2]);
}

/* Number of correspondences T takes within thr of their target; when mark is
 * given, flags them. */
static size_t count_inliers(const struct sq_reg_cloud *src, const struct sq_reg_cloud *dst,
			    const struct corr *cr, const struct sq_sim *T, double thr,
			    unsigned char *mark)
{
	size_t n = 0;
	double p[3], q[3];

	for (size_t k = 0; k < cr->n; k++) {
		int in;

		point_d(&src->c, cr->src[k], p);
		point_d(&dst->c, cr->dst[k], q);
		sq_sim_apply(T, p, p);
		in = dist2(p, q) <= thr * thr;
		n += (size_t)in;
		if (mark)
			mark[k] = (unsigned char)in;
	}
	return n;
}

/* A 3-sample hypothesis, or -1 when its edges disagree on the scale, are too
 * short to say, or imply a scale outside lo..hi. */
static int hypothesis(const struct sq_reg_cloud *src, const struct sq_reg_cloud *dst,
		      const struct corr *cr, const size_t k[3], double lo, double hi,
		      struct sq_sim *T)
{
	double p[9], q[9], rmin = INFINITY, rmax = 0, minp = 2 * src->voxel;

	for (int i = 0; i < 3; i++) {
		point_d(&src->c, cr->src[k[i]], &p[3 * i]);
		point_d(&dst->c, cr->dst[k[i]], &q[3 * i]);
	}
	for (int i = 0; i < 3; i++) {
		int j = (i + 1) % 3;
		double dp = sqrt(dist2(&p[3 * i], &p[3 * j])),
		       dq = sqrt(dist2(&q[3 * i], &q[3 * j]));
		double r;

		if (dp < minp)
			return -1;
		r = dq / dp;
		rmin = fmin(rmin, r);
		rmax = fmax(rmax, r);
	}
	if (rmin < EDGE_SIMILARITY * rmax || rmax < lo || rmin > hi)
		return -1;
	return sq_sim_fit(p, q, NULL, 3, 1, T);
}

/* A refit's scratch: which correspondences agree, and their points. */
struct refit {
	unsigned char *mark;
	double *p, *q;
};

static void refit_init(struct refit *f, const struct corr *cr)
{
	f->mark = xcalloc(cr->n + 1, 1);
	f->p = xcalloc(3 * cr->n + 3, sizeof(*f->p));
	f->q = xcalloc(3 * cr->n + 3, sizeof(*f->q));
}

static void refit_release(struct refit *f)
{
	free(f->mark);
	free(f->p);
	free(f->q);
}

/* The similarity fitted to the correspondences f->mark flags; -1 when they
 * are degenerate. */
static int fit_marked(const struct sq_reg_cloud *src, const struct sq_reg_cloud *dst,
		      const struct corr *cr, struct refit *f, struct sq_sim *U)
{
	size_t m = 0;

	for (size_t k = 0; k < cr->n; k++)
		if (f->mark[k]) {
			point_d(&src->c, cr->src[k], &f->p[3 * m]);
			point_d(&dst->c, cr->dst[k], &f->q[3 * m++]);
		}
	return sq_sim_fit(f->p, f->q, NULL, m, 1, U);
}

/* Refits T to every inlier correspondence, twice (the inlier set moves). */
static size_t refit_inliers(const struct sq_reg_cloud *src, const struct sq_reg_cloud *dst,
			    const struct corr *cr, double thr, struct sq_sim *T)
{
	struct refit f;
	size_t best;

	refit_init(&f, cr);
	best = count_inliers(src, dst, cr, T, thr, f.mark);
	for (int round = 0; round < 2; round++) {
		struct sq_sim U;

		if (fit_marked(src, dst, cr, &f, &U) < 0 ||
		    count_inliers(src, dst, cr, &U, thr, NULL) < best)
			break;
		best = count_inliers(src, dst, cr, &U, thr, f.mark);
		*T = U;
	}
	refit_release(&f);
	return best;
}

static size_t iterations_needed(size_t inliers, size_t n, int sample)
{
	double w = (double)inliers / (double)n, ws = sample == 2 ? w * w : w * w * w;

	if (ws <= 0)
		return RANSAC_MAX_ITER;
	if (ws >= 1)
		return 1;
	return (size_t)fmin(RANSAC_MAX_ITER, ceil(log(1 - RANSAC_CONFIDENCE) / log(1 - ws)));
}

static double dot3(const double a[3], const double b[3])
{
	return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void cross3(const double a[3], const double b[3], double out[3])
{
	out[0] = a[1] * b[2] - a[2] * b[1];
	out[1] = a[2] * b[0] - a[0] * b[2];
	out[2] = a[0] * b[1] - a[1] * b[0];
}

static void mat_vec(const double R[9], const double x[3], double y[3])
{
	for (int i = 0; i < 3; i++)
		y[i] = R[3 * i] * x[0] + R[3 * i + 1] * x[1] + R[3 * i + 2] * x[2];
}

/* A 2-sample hypothesis for two surfaces whose up sides are known: R0 turns the
 * source's up onto the target's, so only the turn about up, the scale and the
 * shift are left, and two matches fix them. -1 when the pair is too short or
 * its scale out of lo..hi. */
static int hypothesis_upright(const struct sq_reg_cloud *src, const struct sq_reg_cloud *dst,
			      const struct corr *cr, const size_t k[2],
			      const struct sq_reg_global_opts *o, const double R0[9],
			      struct sq_sim *T)
{
	double p1[3], p2[3], q1[3], q2[3], a[3], bq[3], ah[3], bh[3], x[3], Ry[9];
	const double *u = o->up_dst;
	double la, lb, av, bv;

	point_d(&src->c, cr->src[k[0]], p1);
	point_d(&src->c, cr->src[k[1]], p2);
	point_d(&dst->c, cr->dst[k[0]], q1);
	point_d(&dst->c, cr->dst[k[1]], q2);
	for (int i = 0; i < 3; i++)
		x[i] = p2[i] - p1[i], bq[i] = q2[i] - q1[i];
	mat_vec(R0, x, a);
	av = dot3(a, u), bv = dot3(bq, u);
	for (int i = 0; i < 3; i++)
		ah[i] = a[i] - av * u[i], bh[i] = bq[i] - bv * u[i];
	la = sqrt(dot3(ah, ah)), lb = sqrt(dot3(bh, bh));
	if (la < 2 * src->voxel || lb / la < o->scale_lo || lb / la > o->scale_hi ||
	    fabs(bv - lb / la * av) > RANSAC_THR_VOX * dst->voxel)
		return -1;
	cross3(ah, bh, x);
	sq_rot_axis_angle(u, atan2(dot3(x, u), dot3(ah, bh)), Ry);
	T->s = lb / la;
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			T->R[3 * i + j] = Ry[3 * i] * R0[j] + Ry[3 * i + 1] * R0[3 + j] +
					  Ry[3 * i + 2] * R0[6 + j];
	mat_vec(T->R, p1, x);
	for (int i = 0; i < 3; i++)
		T->t[i] = q1[i] - T->s * x[i];
	return 0;
}

/* One RANSAC draw: a hypothesis from 2 (upright) or 3 matches, or -1. */
static int draw(const struct sq_reg_cloud *src, const struct sq_reg_cloud *dst,
		const struct corr *cr, const struct sq_reg_global_opts *o, const double *R0,
		uint64_t *rng, struct sq_sim *H)
{
	size_t k[3];
	int m = R0 ? 2 : 3;

	for (int i = 0; i < m; i++)
		k[i] = (size_t)(sq_xorshift64(rng) % cr->n);
	if (k[0] == k[1] || (m == 3 && (k[1] == k[2] || k[0] == k[2])))
		return -1;
	if (R0)
		return hypothesis_upright(src, dst, cr, k, o, R0, H);
	return hypothesis(src, dst, cr, k, o->scale_lo, o->scale_hi, H);
}

/* Two hypotheses are the same placement when they put the source's centre
 * within 2 target voxels and turn it alike within 3 degrees. */
static int same_placement(const struct sq_sim *a, const struct sq_sim *b, const double centre[3],
			  double voxel)
{
	double ya[3], yb[3], M[9];

	sq_sim_apply(a, centre, ya);
	sq_sim_apply(b, centre, yb);
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			M[3 * i + j] = a->R[3 * i] * b->R[3 * j] +
				       a->R[3 * i + 1] * b->R[3 * j + 1] +
				       a->R[3 * i + 2] * b->R[3 * j + 2];
	return dist2(ya, yb) <= 4 * voxel * voxel && sq_rot_angle_deg(M) <= 3;
}

/* Keeps the best distinct hypotheses, most agreeing matches first. */
static void keep_candidate(struct sq_reg_candidates *c, const struct sq_sim *H, size_t got,
			   const double centre[3], double voxel)
{
	size_t at = c->n;

	for (size_t i = 0; i < c->n; i++)
		if (same_placement(&c->T[i], H, centre, voxel)) {
			if (got <= c->inliers[i])
				return;
			memmove(&c->T[i], &c->T[i + 1], (c->n - i - 1) * sizeof(c->T[0]));
			memmove(&c->inliers[i], &c->inliers[i + 1],
				(c->n - i - 1) * sizeof(c->inliers[0]));
			c->n--;
			break;
		}
	while (at > c->n)
		at--;
	for (at = 0; at < c->n && c->inliers[at] >= got; at++)
		;
	if (at >= SQ_REG_CANDIDATES)
		return;
	if (c->n == SQ_REG_CANDIDATES)
		c->n--;
	memmove(&c->T[at + 1], &c->T[at], (c->n - at) * sizeof(c->T[0]));
	memmove(&c->inliers[at + 1], &c->inliers[at], (c->n - at) * sizeof(c->inliers[0]));
	c->T[at] = *H;
	c->inliers[at] = got;
	c->n++;
}

static void centroid_of(const struct sq_cloud *c, double m[3])
{
	m[0] = m[1] = m[2] = 0;
	for (size_t i = 0; i < c->n; i++)
		for (int k = 0; k < 3; k++)
			m[k] += c->xyz[3 * i + (size_t)k] / (double)c->n;
}

/* RANSAC over the correspondences cr of src's points to dst's; see
 * sq_reg_global. */
static int ransac(const struct sq_reg_cloud *src, const struct sq_reg_cloud *dst,
		  const struct corr *cr, const struct sq_reg_global_opts *o,
		  struct sq_reg_candidates *out)
{
	uint64_t rng = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)o->seed * 0x2545f4914f6cdd1dULL);
	double thr = RANSAC_THR_VOX * dst->voxel, R0[9], centre[3];
	size_t raw_best = 0, needed = RANSAC_MAX_ITER;
	int upright = o->up_src && o->up_dst;
	struct sq_sim H;

	if (upright)
		sq_rot_between(o->up_src, o->up_dst, R0);
	centroid_of(&src->c, centre);
	out->corr = cr->n;
	for (size_t it = 0; cr->n >= 3 && it < needed; it++) {
		size_t got;

		if (draw(src, dst, cr, o, upright ? R0 : NULL, &rng, &H) < 0)
			continue;
		got = count_inliers(src, dst, cr, &H, thr, NULL);
		if (got < 3 || (2 * got <= raw_best && out->n == SQ_REG_CANDIDATES))
			continue;
		if (got > raw_best)
			raw_best = got;
		/* locally optimised RANSAC: a promising draw is refitted to all its
		 * inliers before it is compared (a 2-match draw inherits the error
		 * of the up estimates, which the refit removes); the best few
		 * distinct placements are kept for the caller to verify */
		got = refit_inliers(src, dst, cr, thr, &H);
		keep_candidate(out, &H, got, centre, dst->voxel);
		needed = iterations_needed(out->inliers[0], cr->n, upright ? 2 : 3);
		if (needed < RANSAC_MIN_ITER)
			needed = RANSAC_MIN_ITER;
	}
	while (out->n && out->inliers[out->n - 1] < 3)
		out->n--;
	return out->n ? 0 : -1;
}

/* Refits T to the matches it agrees with under ever tighter distances, each
 * until the set stops changing. RANSAC's distance is loose (1.5 voxels) for
 * matches of triangulated points, which agree to a few centimetres: wrong
 * matches that fall within it pull the least-squares fit, and where the
 * overlap is a narrow strip a placement tilted by a degree gathers nearly as
 * many as the right one. Stops at the last distance that keeps enough. */
static void polish(const struct sq_reg_cloud *src, const struct sq_reg_cloud *dst,
		   const struct corr *cr, struct sq_sim *T)
{
	static const double thr_vox[] = {1.0, 0.6, 0.35};
	struct refit f;

	refit_init(&f, cr);
	for (size_t t = 0; t < sizeof(thr_vox) / sizeof(thr_vox[0]); t++)
		for (int round = 0; round < POLISH_ROUNDS; round++) {
			struct sq_sim U;

			if (count_inliers(src, dst, cr, T, thr_vox[t] * dst->voxel, f.mark) <
				POLISH_MIN ||
			    fit_marked(src, dst, cr, &f, &U) < 0)
				goto out;
			*T = U;
		}
out:
	refit_release(&f);
}

int sq_reg_global(const struct sq_reg_cloud *src, const struct sq_reg_cloud *dst,
		  const struct sq_reg_global_opts *o, struct sq_reg_candidates *out)
{
	struct corr cr = {0};
	int rc;

	memset(out, 0, sizeof(*out));
	if (src->c.n < 3 || dst->c.n < 3 || src->colour_desc != dst->colour_desc)
		return -1; /* or descriptors of different kinds */
	match_features(src, dst, o->one_way, &cr);
	rc = ransac(src, dst, &cr, o, out);
	corr_release(&cr);
	return rc;
}

int sq_reg_global_matched(const struct sq_cloud *src, double src_voxel, const struct sq_cloud *dst,
			  double dst_voxel, const size_t *si, const size_t *di, size_t n,
			  const struct sq_reg_global_opts *o, struct sq_reg_candidates *out)
{
	struct sq_reg_cloud s = {.c = *src, .voxel = src_voxel},
			    d = {.c = *dst, .voxel = dst_voxel};
	struct corr cr = {.n = n, .src = (size_t *)si, .dst = (size_t *)di};

	memset(out, 0, sizeof(*out));
	if (src->n < 3 || dst->n < 3 || ransac(&s, &d, &cr, o, out) < 0)
		return -1;
	for (size_t k = 0; k < out->n; k++)
		polish(&s, &d, &cr, &out->T[k]);
	return 0;
}
