/* register_check.c - judging a placement by the two clouds (see
 * register_check.h). */
#include "cloud/register_check.h"
#include "cloud/register_internal.h"
#include "base/mathutil.h"
#include "base/parallel.h"
#include "base/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

#define CELL_VOX 4.0	    /* footprint cell, in surface voxels */
#define GRID_MAX 2048	    /* footprint cells per side at most */
#define ON_SIGMAS 3.0	    /* on the surface: within this many noise scatters */
#define ON_MIN_VOX 0.05	    /* and never tighter than this share of a voxel */
#define PAIR_RADIUS_VOX 2.0 /* a point's surface neighbour is this near */
#define NOISE_MIN_PAIRS 32
#define CHECK_POINTS 10000 /* raw points of each side a check looks at, at most */
#define SALIENT_MIN 24	   /* points in relief that make a salient coherence */

/* Point-to-plane distance of y from surf's nearest point within radius, 0
 * with none; *j gets the point. */
static int nearest_plane(const struct sq_reg_cloud *surf, const double y[3], double radius,
			 size_t *j, double *r)
{
	float yf[3] = {(float)y[0], (float)y[1], (float)y[2]}, d2;

	if (!sq_kdtree_search(surf->tree, yf, 1, (float)(radius * radius), j, &d2))
		return 0;
	*r = 0;
	for (int k = 0; k < 3; k++)
		*r += (y[k] - surf->c.xyz[3 * *j + (size_t)k]) * surf->c.nrm[3 * *j + (size_t)k];
	return 1;
}

/* --- noise ----------------------------------------------------------------------- */

#define NOISE_NN 12	  /* a raw point's neighbours its noise is measured against */
#define NOISE_PROBES 8000 /* raw points measured, at most */

struct noise_job {
	const float *raw;
	const struct sq_kdtree *t; /* over raw */
	size_t step;
	double *d; /* per probe: distance to its neighbours' plane, or NAN */
};

/* Distance of point i of pts from the plane of its idx[0..k) neighbours but
 * itself. */
static double off_neighbours(const float *pts, size_t i, const size_t *idx, size_t k)
{
	double m[3] = {0}, C[9] = {0}, ev[3], V[9], d = 0, n = 0;

	for (size_t j = 0; j < k; j++)
		if (idx[j] != i)
			for (int a = 0; a < 3; a++)
				m[a] += pts[3 * idx[j] + (size_t)a], n += a == 0;
	if (n < 3)
		return NAN;
	for (int a = 0; a < 3; a++)
		m[a] /= n;
	for (size_t j = 0; j < k; j++)
		for (int a = 0; idx[j] != i && a < 3; a++)
			for (int b = 0; b < 3; b++)
				C[3 * a + b] += (pts[3 * idx[j] + (size_t)a] - m[a]) *
						(pts[3 * idx[j] + (size_t)b] - m[b]);
	sq_sym3_eigen(C, ev, V);
	for (int a = 0; a < 3; a++)
		d += (pts[3 * i + (size_t)a] - m[a]) * V[3 * a];
	return fabs(d);
}

static void noise_block(void *ctx, size_t begin, size_t end, void *scratch)
{
	struct noise_job *J = ctx;
	size_t *idx = scratch;

	for (size_t p = begin; p < end; p++) {
		size_t i = p * J->step, k = sq_kdtree_search(J->t, &J->raw[3 * i], NOISE_NN + 1,
							     INFINITY, idx, NULL);

		J->d[p] = off_neighbours(J->raw, i, idx, k);
	}
}

double sq_reg_noise(const struct sq_reg_cloud *surf, const float *raw, size_t nraw,
		    double *on_share)
{
	size_t step = nraw > NOISE_PROBES ? (nraw + NOISE_PROBES - 1) / NOISE_PROBES : 1;
	size_t m = (nraw + step - 1) / step, k = 0, on = 0;
	struct noise_job J = {.raw = raw, .step = step, .d = xcalloc(m + 1, sizeof(double))};
	double s = 0;

	/* against the plane of a point's raw neighbours, itself left out: a
	 * cell's centroid is no reference where a cell holds a point or two */
	J.t = sq_kdtree_build(raw, nraw, 3);
	sq_par_for(m, PAR_BLOCK, PAR_MIN_POINTS, (NOISE_NN + 1) * sizeof(size_t), noise_block, &J);
	sq_kdtree_free((struct sq_kdtree *)J.t);
	for (size_t i = 0; i < m; i++)
		if (!isnan(J.d[i]))
			J.d[k++] = J.d[i];
	if (k >= NOISE_MIN_PAIRS) {
		s = 1.4826 * sq_median(J.d, k); /* sorts J.d */
		/* two clouds of this scatter: sqrt(2) s apart, as sq_reg_check counts;
		 * an outlier stands off its neighbours' plane and is not on */
		while (on < k && J.d[on] <= fmax(ON_SIGMAS * M_SQRT2 * s, ON_MIN_VOX * surf->voxel))
			on++;
	}
	if (on_share)
		*on_share = m ? (double)on / (double)m : 0;
	free(J.d);
	return s;
}

struct salient_job {
	const struct sq_reg_cloud *surf;
	const float *raw;
	double radius, thr;
	unsigned char *fine; /* per surface point */
	unsigned char *out;  /* per raw point */
};

#define SALIENT_NN 64
#define SALIENT_NEAR_DIV 3.2  /* relief: the mean of the cells within radius / this, */
#define SALIENT_NEAR_VOX 1.25 /* and at least this many voxels (the next cells), */
#define SALIENT_NEAR_MIN 5    /* at least this many cells */

/* How far the surface around point i (its nearest few cells) stands off the
 * plane of its wider surroundings. Averaging over the few cells keeps a lone
 * outlier's cell, one among them, from counting as relief. */
static double off_plane(const struct sq_reg_cloud *s, size_t i, double radius, size_t *idx)
{
	float near = (float)fmax(radius / SALIENT_NEAR_DIV, SALIENT_NEAR_VOX * s->voxel);
	size_t k = sq_kdtree_search(s->tree, &s->c.xyz[3 * i], SALIENT_NN, (float)(radius * radius),
				    idx, NULL);
	double m[3] = {0}, ms[3] = {0}, C[9] = {0}, ev[3], V[9], d = 0, ns = 0;

	if (k < 6)
		return 0;
	for (size_t j = 0; j < k; j++) {
		const float *p = &s->c.xyz[3 * idx[j]];
		float d2 = 0;

		for (int a = 0; a < 3; a++) {
			m[a] += p[a] / (double)k;
			d2 += (p[a] - s->c.xyz[3 * i + (size_t)a]) *
			      (p[a] - s->c.xyz[3 * i + (size_t)a]);
		}
		if (d2 <= near * near)
			for (int a = 0; a < 3; a++)
				ms[a] += p[a], ns += a == 0;
	}
	if (ns < SALIENT_NEAR_MIN)
		return 0;
	for (size_t j = 0; j < k; j++)
		for (int a = 0; a < 3; a++)
			for (int b = 0; b < 3; b++)
				C[3 * a + b] += (s->c.xyz[3 * idx[j] + (size_t)a] - m[a]) *
						(s->c.xyz[3 * idx[j] + (size_t)b] - m[b]);
	sq_sym3_eigen(C, ev, V);
	for (int a = 0; a < 3; a++)
		d += (ms[a] / ns - m[a]) * V[3 * a];
	return fabs(d);
}

static void salient_fine_block(void *ctx, size_t begin, size_t end, void *scratch)
{
	struct salient_job *J = ctx;

	for (size_t i = begin; i < end; i++)
		J->fine[i] = off_plane(J->surf, i, J->radius, scratch) > J->thr;
}

static void salient_raw_block(void *ctx, size_t begin, size_t end, void *scratch)
{
	struct salient_job *J = ctx;

	(void)scratch;
	for (size_t i = begin; i < end; i++) {
		size_t j;

		J->out[i] = sq_kdtree_search(J->surf->tree, &J->raw[3 * i], 1, INFINITY, &j, NULL)
				? J->fine[j]
				: 0;
	}
}

unsigned char *sq_reg_salient(const struct sq_reg_cloud *surf, const float *raw, size_t nraw,
			      double noise, double radius_vox, unsigned char **surf_flags)
{
	struct salient_job J = {.surf = surf,
				.raw = raw,
				.radius = radius_vox * surf->voxel,
				.thr = fmax(ON_SIGMAS * M_SQRT2 * noise, ON_MIN_VOX * surf->voxel),
				.fine = xcalloc(surf->c.n + 1, 1),
				.out = xcalloc(nraw + 1, 1)};

	if (surf->tree && surf->c.n) {
		sq_par_for(surf->c.n, PAR_BLOCK, PAR_MIN_POINTS, SALIENT_NN * sizeof(size_t),
			   salient_fine_block, &J);
		sq_par_for(nraw, PAR_BLOCK, PAR_MIN_POINTS, 0, salient_raw_block, &J);
	}
	if (surf_flags)
		*surf_flags = J.fine;
	else
		free(J.fine);
	return J.out;
}

/* --- footprints ------------------------------------------------------------------ */

/* A surface's footprint: which cells of a grid in its principal plane its
 * points cover. */
struct footprint {
	double m[3], u[3], v[3], n[3]; /* origin, in-plane axes, normal */
	double cell, u0, v0;
	int nu, nv;
	unsigned char *occ; /* nu * nv: 1 occupied, 2 interior (occupied all round) */
};

static void plane_coords(const struct footprint *f, const double y[3], double *pu, double *pv)
{
	double d[3] = {y[0] - f->m[0], y[1] - f->m[1], y[2] - f->m[2]};

	*pu = d[0] * f->u[0] + d[1] * f->u[1] + d[2] * f->u[2];
	*pv = d[0] * f->v[0] + d[1] * f->v[1] + d[2] * f->v[2];
}

/* The cell of y, or -1 outside the grid. */
static long cell_of(const struct footprint *f, const double y[3])
{
	double pu, pv;
	long i, j;

	plane_coords(f, y, &pu, &pv);
	pu = floor((pu - f->u0) / f->cell), pv = floor((pv - f->v0) / f->cell);
	if (!(pu >= 0 && pv >= 0 && pu < f->nu && pv < f->nv))
		return -1;
	i = (long)pu, j = (long)pv;
	return j * f->nu + i;
}

static void footprint_bounds(struct footprint *f, const struct sq_cloud *c)
{
	double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};

	for (size_t i = 0; i < c->n; i++) {
		double y[3], p[2];

		point_d(c, i, y);
		plane_coords(f, y, &p[0], &p[1]);
		for (int k = 0; k < 2; k++)
			lo[k] = fmin(lo[k], p[k]), hi[k] = fmax(hi[k], p[k]);
	}
	/* a huge or degenerate extent gets coarser cells, never a huge grid */
	f->cell = fmax(f->cell, fmax(hi[0] - lo[0], hi[1] - lo[1]) / (GRID_MAX - 2));
	f->u0 = lo[0] - f->cell, f->v0 = lo[1] - f->cell;
	f->nu = (int)((hi[0] - f->u0) / f->cell) + 2;
	f->nv = (int)((hi[1] - f->v0) / f->cell) + 2;
}

static void footprint_build(struct footprint *f, const struct sq_reg_cloud *s)
{
	double ev[3], V[9];

	memset(f, 0, sizeof(*f));
	sq_cloud_pca(&s->c, f->m, ev, V);
	for (int k = 0; k < 3; k++)
		f->n[k] = V[3 * k], f->v[k] = V[3 * k + 1], f->u[k] = V[3 * k + 2];
	f->cell = CELL_VOX * s->voxel;
	footprint_bounds(f, &s->c);
	f->occ = xcalloc((size_t)f->nu * (size_t)f->nv, 1);
	for (size_t i = 0; i < s->c.n; i++) {
		double y[3];
		long c;

		point_d(&s->c, i, y);
		if ((c = cell_of(f, y)) >= 0)
			f->occ[c] = 1;
	}
	/* interior: the cell and its 8 neighbours occupied, so that a point there
	 * lies over the surface and not past its ragged edge */
	for (int j = 1; j + 1 < f->nv; j++)
		for (int i = 1; i + 1 < f->nu; i++) {
			int all = 1;

			for (int dj = -1; dj <= 1 && all; dj++)
				for (int di = -1; di <= 1 && all; di++)
					all = f->occ[(j + dj) * f->nu + i + di] != 0;
			if (all)
				f->occ[j * f->nu + i] = 2;
		}
}

/* --- coherence ------------------------------------------------------------------- */

struct side_sums {
	double over, on, above, below, s_over, s_on;
};

struct side_job {
	const struct sq_reg_side *a, *b;
	const struct sq_sim *T;
	const struct footprint *fb;
	double thr;
	size_t step;	    /* every step-th raw point of a */
	unsigned char *hit; /* cells of fb that a's points reach (bytes: no race) */
	struct side_sums *sums;
};

static void side_block(void *ctx, size_t begin, size_t end, void *scratch)
{
	struct side_job *J = ctx;
	struct side_sums *S = &J->sums[begin / PAR_BLOCK];
	double radius = PAIR_RADIUS_VOX * J->b->surf->voxel;

	(void)scratch;
	for (size_t k = begin; k < end; k++) {
		size_t i = k * J->step, j;
		double x[3] = {J->a->raw[3 * i], J->a->raw[3 * i + 1], J->a->raw[3 * i + 2]}, y[3],
		       r;
		long c;
		int sal;

		sq_sim_apply(J->T, x, y);
		if ((c = cell_of(J->fb, y)) < 0 || J->fb->occ[c] != 2)
			continue;
		S->over++;
		J->hit[c] = 1;
		sal = J->a->salient && J->a->salient[i];
		S->s_over += sal;
		if (nearest_plane(J->b->surf, y, radius, &j, &r) && fabs(r) <= J->thr) {
			S->on++;
			S->s_on += sal;
			continue;
		}
		if (!nearest_plane(J->b->surf, y, INFINITY, &j, &r))
			continue;
		if (r > 0)
			S->above++;
		else
			S->below++;
	}
}

/* Width, area and axes of the cells a's points reached. */
static void overlap_shape(const struct footprint *f, const unsigned char *hit, double voxel,
			  struct sq_reg_check *out)
{
	double n = 0, su = 0, sv = 0, suu = 0, svv = 0, suv = 0, a, b, c, lmin, mu, mv, th;

	for (int j = 0; j < f->nv; j++)
		for (int i = 0; i < f->nu; i++)
			if (hit[j * f->nu + i]) {
				n++, su += i, sv += j, suu += (double)i * i, svv += (double)j * j;
				suv += (double)i * j;
			}
	out->area_vox2 = n * (f->cell / voxel) * (f->cell / voxel);
	memcpy(out->normal, f->n, sizeof(out->normal));
	memcpy(out->axis_long, f->u, sizeof(out->axis_long));
	memcpy(out->axis_short, f->v, sizeof(out->axis_short));
	memcpy(out->centre, f->m, sizeof(out->centre));
	if (n < 2) {
		out->width_vox = n * f->cell / voxel;
		return;
	}
	mu = su / n, mv = sv / n;
	a = suu / n - mu * mu, b = suv / n - mu * mv, c = svv / n - mv * mv;
	lmin = 0.5 * (a + c) - sqrt(0.25 * (a - c) * (a - c) + b * b);
	/* a uniform strip of width w has variance w^2 / 12 across it; + one cell */
	out->width_vox = (sqrt(12 * fmax(lmin, 0)) + 1) * f->cell / voxel;
	th = 0.5 * atan2(2 * b, a - c); /* the longer axis, in grid terms */
	mu = f->u0 + (mu + 0.5) * f->cell, mv = f->v0 + (mv + 0.5) * f->cell;
	for (int k = 0; k < 3; k++) {
		out->centre[k] = f->m[k] + mu * f->u[k] + mv * f->v[k];
		out->axis_long[k] = cos(th) * f->u[k] + sin(th) * f->v[k];
		out->axis_short[k] = -sin(th) * f->u[k] + cos(th) * f->v[k];
	}
}

/* a's raw points over b's footprint: how many, and how many on b's surface. */
static void coherence_one(const struct sq_reg_side *a, const struct sq_reg_side *b,
			  const struct sq_sim *T, double thr, size_t max_points,
			  struct side_sums *tot, struct sq_reg_check *shape)
{
	size_t step = a->nraw > max_points ? (a->nraw + max_points - 1) / max_points : 1;
	size_t m = (a->nraw + step - 1) / step, nb = sq_par_blocks(m, PAR_BLOCK);
	struct footprint fb;
	struct side_job J = {.a = a, .b = b, .T = T, .fb = &fb, .thr = thr, .step = step};

	footprint_build(&fb, b->surf);
	J.hit = xcalloc((size_t)fb.nu * (size_t)fb.nv, 1);
	J.sums = xcalloc(nb + 1, sizeof(*J.sums));
	sq_par_for(m, PAR_BLOCK, PAR_MIN_POINTS, 0, side_block, &J);
	memset(tot, 0, sizeof(*tot));
	for (size_t k = 0; k < nb; k++) {
		tot->over += J.sums[k].over, tot->on += J.sums[k].on;
		tot->above += J.sums[k].above, tot->below += J.sums[k].below;
		tot->s_over += J.sums[k].s_over, tot->s_on += J.sums[k].s_on;
	}
	if (shape)
		overlap_shape(&fb, J.hit, b->surf->voxel, shape);
	free(J.hit);
	free(J.sums);
	free(fb.occ);
}

/* --- normals and precision --------------------------------------------------------- */

struct pair_job {
	const struct sq_reg_side *a, *b;
	const struct sq_sim *T;
	double thr;
	double *y;	 /* 3 per point of a's surface: moved */
	double *nb;	 /* 3 per point: b's normal where paired, else NAN */
	double *r, *ang; /* point-to-plane distance, angle between normals (deg) */
};

static void pair_block(void *ctx, size_t begin, size_t end, void *scratch)
{
	struct pair_job *J = ctx;
	const struct sq_cloud *ca = &J->a->surf->c, *cb = &J->b->surf->c;
	double radius = PAIR_RADIUS_VOX * J->b->surf->voxel;

	(void)scratch;
	for (size_t i = begin; i < end; i++) {
		double x[3], *y = &J->y[3 * i], na = 0, dot = 0;
		size_t j;

		point_d(ca, i, x);
		sq_sim_apply(J->T, x, y);
		J->nb[3 * i] = NAN;
		if (!nearest_plane(J->b->surf, y, radius, &j, &J->r[i]) || fabs(J->r[i]) > J->thr)
			continue;
		for (int k = 0; k < 3; k++) {
			double rn = J->T->R[3 * k] * ca->nrm[3 * i] +
				    J->T->R[3 * k + 1] * ca->nrm[3 * i + 1] +
				    J->T->R[3 * k + 2] * ca->nrm[3 * i + 2];

			J->nb[3 * i + (size_t)k] = cb->nrm[3 * j + (size_t)k];
			dot += rn * cb->nrm[3 * j + (size_t)k], na += rn * rn;
		}
		J->ang[i] = acos(fmin(1.0, fabs(dot) / sqrt(na > 0 ? na : 1))) * 180 / M_PI;
	}
}

/* Inverts the n x n matrix A (n <= 7) in place by Gauss-Jordan elimination
 * with partial pivoting; -1 when it is singular to working precision. */
static int invert(double *A, int n)
{
	double inv[49] = {0}, scale = 0;

	for (int i = 0; i < n; i++)
		inv[i * n + i] = 1, scale = fmax(scale, fabs(A[i * n + i]));
	for (int c = 0; c < n; c++) {
		int p = c;

		for (int r = c + 1; r < n; r++)
			if (fabs(A[r * n + c]) > fabs(A[p * n + c]))
				p = r;
		if (!(fabs(A[p * n + c]) > 1e-12 * scale))
			return -1;
		for (int k = 0; k < n; k++) {
			double t = A[c * n + k], u = inv[c * n + k];

			A[c * n + k] = A[p * n + k], inv[c * n + k] = inv[p * n + k];
			A[p * n + k] = t, inv[p * n + k] = u;
		}
		for (int r = 0; r < n; r++) {
			double f = A[r * n + c] / A[c * n + c];

			for (int k = 0; r != c && k < n; k++)
				A[r * n + k] -= f * A[c * n + k],
				    inv[r * n + k] -= f * inv[c * n + k];
		}
	}
	for (int r = 0; r < n; r++)
		for (int k = 0; k < n; k++)
			inv[r * n + k] /= A[r * n + r];
	memcpy(A, inv, (size_t)(n * n) * sizeof(*A));
	return 0;
}

/* Largest eigenvalue of the 3 x 3 block of the 7 x 7 C starting at o. */
static double block_max_eig(const double *C, int o)
{
	double B[9], ev[3], V[9];

	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			B[3 * i + j] = C[7 * (o + i) + o + j];
	sq_sym3_eigen(B, ev, V);
	return ev[2];
}

/* The covariance of the point-to-plane fit at the m paired points: residual
 * variance times the inverse of sum J J^T, J the derivative of a residual by
 * (rotation, shift, log scale) about the pairs' centre, as ICP solves it. */
static void precision(const struct pair_job *J, size_t n, struct sq_reg_check *out)
{
	double c[3] = {0}, H[49] = {0}, s2 = 0, m = 0;

	out->rot_sd_deg = out->scale_sd = out->shift_sd = INFINITY;
	for (size_t i = 0; i < n; i++)
		if (!isnan(J->nb[3 * i]))
			for (int k = 0; k < 3; k++)
				c[k] += J->y[3 * i + (size_t)k], m += k == 0;
	if (m < 8)
		return;
	for (int k = 0; k < 3; k++)
		c[k] /= m;
	for (size_t i = 0; i < n; i++) {
		const double *y = &J->y[3 * i], *nr = &J->nb[3 * i];
		double a[3] = {y[0] - c[0], y[1] - c[1], y[2] - c[2]}, Jr[7];

		if (isnan(nr[0]))
			continue;
		Jr[0] = a[1] * nr[2] - a[2] * nr[1], Jr[1] = a[2] * nr[0] - a[0] * nr[2];
		Jr[2] = a[0] * nr[1] - a[1] * nr[0];
		Jr[3] = nr[0], Jr[4] = nr[1], Jr[5] = nr[2];
		Jr[6] = a[0] * nr[0] + a[1] * nr[1] + a[2] * nr[2];
		for (int p = 0; p < 7; p++)
			for (int q = 0; q < 7; q++)
				H[7 * p + q] += Jr[p] * Jr[q];
		s2 += J->r[i] * J->r[i];
	}
	s2 /= m - 7;
	if (invert(H, 7) < 0)
		return;
	out->rot_sd_deg = sqrt(s2 * fmax(block_max_eig(H, 0), 0)) * 180 / M_PI;
	out->shift_sd = sqrt(s2 * fmax(block_max_eig(H, 3), 0));
	out->scale_sd = sqrt(s2 * fmax(H[48], 0));
}

/* Normals, residual and precision from a's surface points paired on b. */
static void pairs_one(const struct sq_reg_side *a, const struct sq_reg_side *b,
		      const struct sq_sim *T, double thr, struct sq_reg_check *out)
{
	size_t n = a->surf->c.n, m = 0;
	struct pair_job J = {.a = a, .b = b, .T = T, .thr = thr};
	double sum2 = 0;

	J.y = xcalloc(3 * n + 3, sizeof(double));
	J.nb = xcalloc(3 * n + 3, sizeof(double));
	J.r = xcalloc(n + 1, sizeof(double));
	J.ang = xcalloc(n + 1, sizeof(double));
	sq_par_for(n, PAR_BLOCK, PAR_MIN_POINTS, 0, pair_block, &J);
	for (size_t i = 0; i < n; i++)
		if (!isnan(J.nb[3 * i])) {
			J.ang[m++] = J.ang[i];
			sum2 += J.r[i] * J.r[i];
		}
	out->pairs = m;
	out->rms = m ? sqrt(sum2 / (double)m) : NAN;
	out->normal_deg = m ? sq_median(J.ang, m) : NAN;
	precision(&J, n, out);
	free(J.y);
	free(J.nb);
	free(J.r);
	free(J.ang);
}

/* On the surface: within a few of the two clouds' scatters together. */
static double on_threshold(const struct sq_reg_side *a, const struct sq_reg_side *b,
			   const struct sq_sim *T)
{
	double na = a->noise * T->s;

	return fmax(ON_SIGMAS * sqrt(na * na + b->noise * b->noise), ON_MIN_VOX * b->surf->voxel);
}

double sq_reg_coherence(const struct sq_reg_side *a, const struct sq_reg_side *b,
			const struct sq_sim *T, size_t max_points)
{
	struct side_sums s;

	coherence_one(a, b, T, on_threshold(a, b, T), max_points, &s, NULL);
	return s.over > 0 ? s.on / s.over : NAN;
}

void sq_reg_check(const struct sq_reg_side *a, const struct sq_reg_side *b, const struct sq_sim *T,
		  struct sq_reg_check *out)
{
	struct side_sums s[2];
	struct sq_sim inv;
	double thr = on_threshold(a, b, T);

	memset(out, 0, sizeof(*out));
	out->on_thr = thr;
	sq_sim_invert(T, &inv);
	coherence_one(a, b, T, thr, CHECK_POINTS, &s[0], out);
	coherence_one(b, a, &inv, thr / T->s, CHECK_POINTS, &s[1], NULL);
	for (int k = 0; k < 2; k++) {
		out->over[k] = (size_t)s[k].over;
		out->coherence[k] = s[k].over > 0 ? s[k].on / s[k].over : NAN;
		out->salient_over[k] = (size_t)s[k].s_over;
		out->salient_coherence[k] =
		    s[k].s_over >= SALIENT_MIN ? s[k].s_on / s[k].s_over : NAN;
	}
	out->above = s[0].over > 0 ? s[0].above / s[0].over : 0;
	out->below = s[0].over > 0 ? s[0].below / s[0].over : 0;
	pairs_one(a, b, T, thr, out);
}
