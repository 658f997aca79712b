/* register_icp.c - local registration: ICP with scale, and how well a placed
 * cloud fits its target (see register.h). */
#include "base/parallel.h"
#include "cloud/register.h"
#include "cloud/register_internal.h"
#include "base/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

#define ICP_ITER 40
#define ICP_CONVERGED 1e-5    /* update size (radians, log scale, voxel/100) that ends ICP */
#define ICP_FINAL_THR_VOX 0.6 /* last pairing distance, target voxels */
/* Weight of the point-to-point residuals against the point-to-plane one: they
 * hold a flat patch from sliding while far off, then nearly leave the finish to
 * the planes, because a sparse target's edge pulls point pairs inward (a scale
 * bias) where planes do not. */
#define ICP_POINT_WEIGHT 0.3
#define ICP_POINT_WEIGHT_LATE 0.0
#define SYMMETRIC_POINTS 8000	/* points each way of sq_reg_icp_symmetric moves */
#define SYMMETRIC_START_VOX 1.5 /* and its first pairing distance, target voxels */

/* --- ICP with scale --------------------------------------------------------------- */

/* Solves the n x n system A x = b (A destroyed) by Gaussian elimination with
 * partial pivoting. Returns -1 when singular. */
static int solve(double *A, double *b, double *x, int n)
{
	for (int c = 0; c < n; c++) {
		int piv = c;

		for (int r = c + 1; r < n; r++)
			if (fabs(A[r * n + c]) > fabs(A[piv * n + c]))
				piv = r;
		if (fabs(A[piv * n + c]) < 1e-300)
			return -1;
		for (int k = 0; k < n; k++) {
			double t = A[c * n + k];

			A[c * n + k] = A[piv * n + k];
			A[piv * n + k] = t;
		}
		double tb = b[c];
		b[c] = b[piv];
		b[piv] = tb;
		for (int r = c + 1; r < n; r++) {
			double f = A[r * n + c] / A[c * n + c];

			for (int k = c; k < n; k++)
				A[r * n + k] -= f * A[c * n + k];
			b[r] -= f * b[c];
		}
	}
	for (int r = n - 1; r >= 0; r--) {
		double s = b[r];

		for (int k = r + 1; k < n; k++)
			s -= A[r * n + k] * x[k];
		x[r] = s / A[r * n + r];
	}
	return 0;
}

/* Adds weight * J^T J and weight * J^T r of one 7-column residual row. */
static void accumulate(double *A, double *b, const double J[7], double r, double weight)
{
	for (int i = 0; i < 7; i++) {
		b[i] -= weight * J[i] * r;
		for (int j = 0; j < 7; j++)
			A[7 * i + j] += weight * J[i] * J[j];
	}
}

/* The residual rows of one correspondence y (moved source) -> q (target point,
 * normal n), for the update y' = (1 + d) (y - c + w x (y - c)) + c + tau with
 * unknowns (w, tau, d): the point-to-plane row and three point-to-point rows. */
static void add_pair(double *A, double *b, const double y[3], const double c[3], const double q[3],
		     const double n[3], double weight, double pw)
{
	double a[3] = {q[0] - c[0], q[1] - c[1], q[2] - c[2]}, e[3], J[7];

	for (int k = 0; k < 3; k++)
		e[k] = y[k] - q[k];
	J[0] = a[1] * n[2] - a[2] * n[1]; /* a x n */
	J[1] = a[2] * n[0] - a[0] * n[2];
	J[2] = a[0] * n[1] - a[1] * n[0];
	J[3] = n[0], J[4] = n[1], J[5] = n[2];
	J[6] = a[0] * n[0] + a[1] * n[1] + a[2] * n[2];
	accumulate(A, b, J, e[0] * n[0] + e[1] * n[1] + e[2] * n[2], weight);
	for (int k = 0; k < 3; k++) { /* d/dw (w x a)_k = -([a]x)_k */
		double Jk[7] = {0};

		Jk[(k + 1) % 3] = a[(k + 2) % 3];
		Jk[(k + 2) % 3] = -a[(k + 1) % 3];
		Jk[3 + k] = 1;
		Jk[6] = a[k];
		accumulate(A, b, Jk, e[k], weight * pw * pw);
	}
}

/* The similarity of one solved step x = (w, tau, d) about centre c. */
static void step_transform(const double x[7], const double c[3], struct sq_sim *D)
{
	double th = sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]), k[3] = {0, 0, 1};
	double s, co, R[9], Rc[3];

	if (th > 0)
		for (int i = 0; i < 3; i++)
			k[i] = x[i] / th;
	s = sin(th), co = cos(th);
	/* Rodrigues: R = I cos + (1 - cos) k k^T + sin [k]x */
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			R[3 * i + j] = (i == j) * co + (1 - co) * k[i] * k[j];
	R[1] -= s * k[2], R[2] += s * k[1], R[3] += s * k[2];
	R[5] -= s * k[0], R[6] -= s * k[1], R[7] += s * k[0];
	memcpy(D->R, R, sizeof(R));
	D->s = exp(x[6]);
	for (int i = 0; i < 3; i++)
		Rc[i] = D->s * (R[3 * i] * c[0] + R[3 * i + 1] * c[1] + R[3 * i + 2] * c[2]);
	for (int i = 0; i < 3; i++)
		D->t[i] = c[i] - Rc[i] + x[3 + i];
}

/* Point i of pts (3 floats each) moved by T. */
static void moved(const float *pts, size_t i, const struct sq_sim *T, double y[3])
{
	for (int k = 0; k < 3; k++)
		y[k] = pts[3 * i + (size_t)k];
	sq_sim_apply(T, y, y);
}

/* Moves point i of pts by T into y and pairs it with its nearest target point
 * *j within thr; *r gets the signed point-to-plane distance. 0: no pair. */
static int pair_on_target(const float *pts, size_t i, const struct sq_sim *T,
			  const struct sq_reg_cloud *dst, double thr, double y[3], size_t *j,
			  double *r)
{
	float yf[3], d2;

	moved(pts, i, T, y);
	for (int k = 0; k < 3; k++)
		yf[k] = (float)y[k];
	if (!sq_kdtree_search(dst->tree, yf, 1, (float)(thr * thr), j, &d2))
		return 0;
	*r = 0;
	for (int k = 0; k < 3; k++)
		*r += (y[k] - dst->c.xyz[3 * *j + (size_t)k]) * dst->c.nrm[3 * *j + (size_t)k];
	return 1;
}

enum { ICP_SUMS = 49 + 7 + 1 }; /* per block: A, b, pairs */

struct icp_job {
	const float *pts;
	const struct sq_reg_cloud *dst;
	const struct sq_sim *T;
	double thr, pw, huber, c[3];
	double *sums; /* per block: 3 (centre) or ICP_SUMS doubles */
};

static void centre_block(void *ctx, size_t begin, size_t end, void *scratch)
{
	struct icp_job *J = ctx;
	double *S = J->sums + 3 * (begin / PAR_BLOCK), y[3];

	(void)scratch;
	for (size_t i = begin; i < end; i++) {
		moved(J->pts, i, J->T, y);
		for (int k = 0; k < 3; k++)
			S[k] += y[k];
	}
}

static void icp_block(void *ctx, size_t begin, size_t end, void *scratch)
{
	struct icp_job *J = ctx;
	double *S = J->sums + ICP_SUMS * (begin / PAR_BLOCK);

	(void)scratch;
	for (size_t i = begin; i < end; i++) {
		size_t j;
		double q[3], nr[3], y[3], r, w;

		if (!pair_on_target(J->pts, i, J->T, J->dst, J->thr, y, &j, &r))
			continue;
		point_d(&J->dst->c, j, q);
		for (int k = 0; k < 3; k++)
			nr[k] = J->dst->c.nrm[3 * j + (size_t)k];
		r = fabs(r);
		w = r <= J->huber ? 1 : J->huber / r;
		add_pair(S, S + 49, y, J->c, q, nr, w, J->pw);
		S[56]++;
	}
}

/* One ICP step at distance thr. Returns the update size (0 when converged or
 * too few pairs). */
static double icp_step(const float *pts, size_t n, const struct sq_reg_cloud *dst, struct sq_sim *T,
		       double thr, double pw)
{
	size_t nb = sq_par_blocks(n, PAR_BLOCK);
	struct icp_job J = {
	    .pts = pts, .dst = dst, .T = T, .thr = thr, .pw = pw, .huber = 0.5 * dst->voxel};
	double A[49] = {0}, b[7] = {0}, x[7] = {0}, m = 0;
	struct sq_sim D;

	J.sums = xcalloc(ICP_SUMS * nb + 1, sizeof(double));
	sq_par_for(n, PAR_BLOCK, PAR_MIN_POINTS, 0, centre_block, &J);
	for (size_t blk = 0; blk < nb; blk++) /* centre of the moved source */
		for (int k = 0; k < 3; k++)
			J.c[k] += J.sums[3 * blk + (size_t)k] / (double)n;
	memset(J.sums, 0, (ICP_SUMS * nb + 1) * sizeof(double));
	sq_par_for(n, PAR_BLOCK, PAR_MIN_POINTS, 0, icp_block, &J);
	for (size_t blk = 0; blk < nb; blk++) {
		const double *S = J.sums + ICP_SUMS * blk;

		for (int k = 0; k < 49; k++)
			A[k] += S[k];
		for (int k = 0; k < 7; k++)
			b[k] += S[49 + k];
		m += S[56];
	}
	free(J.sums);
	if (m < 16 || solve(A, b, x, 7) < 0)
		return 0;
	step_transform(x, J.c, &D);
	sq_sim_compose(&D, T, T);
	return sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2] + x[6] * x[6]) +
	       sqrt(x[3] * x[3] + x[4] * x[4] + x[5] * x[5]) / (dst->voxel * 100);
}

/* ICP of the n points pts onto dst, pairing distances from start_vox target
 * voxels down to ICP_FINAL_THR_VOX. */
static void icp_run(const float *pts, size_t n, const struct sq_reg_cloud *dst, double start_vox,
		    struct sq_sim *T)
{
	for (int it = 0; it < ICP_ITER; it++) {
		double thr = dst->voxel * fmax(ICP_FINAL_THR_VOX, start_vox * pow(0.85, it));
		double pw = thr > dst->voxel ? ICP_POINT_WEIGHT : ICP_POINT_WEIGHT_LATE;

		if (icp_step(pts, n, dst, T, thr, pw) < ICP_CONVERGED &&
		    thr <= ICP_FINAL_THR_VOX * dst->voxel)
			break;
	}
}

/* Every k-th point of c, at most max of them: new array (free with free()). */
static float *every_kth(const struct sq_cloud *c, size_t max, size_t *n)
{
	size_t step = c->n > max ? (c->n + max - 1) / max : 1;
	float *pts = xcalloc(3 * (c->n / step + 1), sizeof(*pts));

	*n = 0;
	for (size_t i = 0; i < c->n; i += step)
		memcpy(&pts[3 * (*n)++], &c->xyz[3 * i], 3 * sizeof(*pts));
	return pts;
}

void sq_reg_icp(const struct sq_reg_cloud *src, const struct sq_reg_cloud *dst, size_t max_points,
		struct sq_sim *T, struct sq_reg_fit *fit)
{
	size_t n;
	float *pts = every_kth(&src->c, max_points ? max_points : src->c.n, &n);

	/* from 3 voxels down: wide enough to pull in, narrow to finish */
	icp_run(pts, n, dst, 3.0, T);
	free(pts);
	sq_reg_evaluate(src, dst, T, 1.0, fit);
}

/* Centroid of src's points that T pairs with dst within thr, else of all. */
static void paired_centre(const struct sq_reg_cloud *src, const struct sq_reg_cloud *dst,
			  const struct sq_sim *T, double thr, double c[3])
{
	double sum[3] = {0}, all[3] = {0}, m = 0;

	for (size_t i = 0; i < src->c.n; i++) {
		double y[3], x[3], r;
		size_t j;

		point_d(&src->c, i, x);
		for (int k = 0; k < 3; k++)
			all[k] += x[k];
		if (!pair_on_target(src->c.xyz, i, T, dst, thr, y, &j, &r))
			continue;
		for (int k = 0; k < 3; k++)
			sum[k] += x[k];
		m++;
	}
	for (int k = 0; k < 3; k++)
		c[k] = m > 0 ? sum[k] / m : all[k] / (double)(src->c.n ? src->c.n : 1);
}

/* The similarity halfway between A and B: geometric mean scale, rotation
 * halfway along the arc, and c (a source point) mapped to the midpoint of
 * where A and B map it. */
static void midpoint(const struct sq_sim *A, const struct sq_sim *B, const double c[3],
		     struct sq_sim *out)
{
	double M[9], u[3], th, Rh[9], ya[3], yb[3], Rc[3], len;
	struct sq_sim o;

	for (int i = 0; i < 3; i++) /* M = A.R^T B.R */
		for (int j = 0; j < 3; j++)
			M[3 * i + j] = A->R[i] * B->R[j] + A->R[3 + i] * B->R[3 + j] +
				       A->R[6 + i] * B->R[6 + j];
	th = sq_rot_angle_deg(M) * M_PI / 180;
	u[0] = M[7] - M[5], u[1] = M[2] - M[6], u[2] = M[3] - M[1];
	len = sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
	o = *A;
	if (len > 1e-12 && th > 0) {
		for (int k = 0; k < 3; k++)
			u[k] /= len;
		sq_rot_axis_angle(u, th / 2, Rh);
		for (int i = 0; i < 3; i++)
			for (int j = 0; j < 3; j++)
				o.R[3 * i + j] = A->R[3 * i] * Rh[j] + A->R[3 * i + 1] * Rh[3 + j] +
						 A->R[3 * i + 2] * Rh[6 + j];
	}
	o.s = sqrt(A->s * B->s);
	sq_sim_apply(A, c, ya);
	sq_sim_apply(B, c, yb);
	for (int i = 0; i < 3; i++)
		Rc[i] = o.s * (o.R[3 * i] * c[0] + o.R[3 * i + 1] * c[1] + o.R[3 * i + 2] * c[2]);
	for (int i = 0; i < 3; i++)
		o.t[i] = 0.5 * (ya[i] + yb[i]) - Rc[i];
	*out = o;
}

void sq_reg_icp_symmetric(const struct sq_reg_cloud *src, const struct sq_reg_cloud *dst,
			  struct sq_sim *T, struct sq_reg_fit *fit)
{
	struct sq_sim fwd = *T, back, other, D;
	size_t ns, nd;
	float *ps = every_kth(&src->c, SYMMETRIC_POINTS, &ns);
	float *pd = every_kth(&dst->c, SYMMETRIC_POINTS, &nd);
	double c[3];

	/* T is a refinement's start (a coarser ICP's result): pairing starts
	 * nearer than sq_reg_icp's */
	icp_run(ps, ns, dst, SYMMETRIC_START_VOX, &fwd);
	sq_sim_invert(&fwd, &back);
	icp_run(pd, nd, src, SYMMETRIC_START_VOX, &back);
	sq_sim_invert(&back, &other);
	free(ps);
	free(pd);
	paired_centre(src, dst, &fwd, ICP_FINAL_THR_VOX * dst->voxel, c);
	midpoint(&fwd, &other, c, T);
	sq_reg_evaluate(src, dst, T, 1.0, fit);
	sq_sim_compose(&fwd, &back, &D); /* identity when both ways agree */
	fit->two_way_deg = sq_rot_angle_deg(D.R);
	fit->two_way_scale = fabs(log(D.s));
}

/* Running sums for a Pearson correlation. */
struct corr_sums {
	double n, x, y, xx, yy, xy;
};

static void corr_add(struct corr_sums *c, double x, double y)
{
	c->n++, c->x += x, c->y += y, c->xx += x * x, c->yy += y * y, c->xy += x * y;
}

static double corr_value(const struct corr_sums *c)
{
	double vx = c->xx - c->x * c->x / c->n, vy = c->yy - c->y * c->y / c->n;

	if (c->n < 16 || !(vx > 0) || !(vy > 0))
		return NAN;
	return (c->xy - c->x * c->y / c->n) / sqrt(vx * vy);
}

struct eval_sums {	/* one block's */
	double in, sum; /* pairs, sum of r^2 */
	struct corr_sums cs;
};

struct eval_job {
	const struct sq_reg_cloud *src, *dst;
	const struct sq_sim *T;
	double thr;
	int colour;
	struct eval_sums *sums;
};

static void eval_block(void *ctx, size_t begin, size_t end, void *scratch)
{
	struct eval_job *J = ctx;
	struct eval_sums *S = &J->sums[begin / PAR_BLOCK];
	double y[3];

	(void)scratch;
	for (size_t i = begin; i < end; i++) {
		size_t j;
		double r;

		if (!pair_on_target(J->src->c.xyz, i, J->T, J->dst, J->thr, y, &j, &r))
			continue;
		S->in++;
		S->sum += r * r;
		if (J->colour)
			corr_add(&S->cs, brightness(&J->src->c.rgb[3 * i]),
				 brightness(&J->dst->c.rgb[3 * j]));
	}
}

void sq_reg_evaluate(const struct sq_reg_cloud *src, const struct sq_reg_cloud *dst,
		     const struct sq_sim *T, double thr_vox, struct sq_reg_fit *fit)
{
	size_t nb = sq_par_blocks(src->c.n, PAR_BLOCK);
	struct eval_job J = {.src = src,
			     .dst = dst,
			     .T = T,
			     .thr = thr_vox * dst->voxel,
			     .colour = src->c.rgb && dst->c.rgb};
	struct eval_sums t = {0};

	J.sums = xcalloc(nb + 1, sizeof(*J.sums));
	sq_par_for(src->c.n, PAR_BLOCK, PAR_MIN_POINTS, 0, eval_block, &J);
	for (size_t blk = 0; blk < nb; blk++) {
		const struct eval_sums *S = &J.sums[blk];

		t.in += S->in, t.sum += S->sum;
		t.cs.n += S->cs.n, t.cs.x += S->cs.x, t.cs.y += S->cs.y;
		t.cs.xx += S->cs.xx, t.cs.yy += S->cs.yy, t.cs.xy += S->cs.xy;
	}
	free(J.sums);
	fit->inliers = (size_t)t.in;
	fit->fitness = src->c.n ? t.in / (double)src->c.n : 0;
	fit->rms = t.in > 0 ? sqrt(t.sum / t.in) : 0;
	fit->colour = J.colour ? corr_value(&t.cs) : NAN;
	fit->two_way_deg = fit->two_way_scale = 0; /* sq_reg_icp_symmetric's */
}
