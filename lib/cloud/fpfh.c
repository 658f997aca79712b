/* fpfh.c - normals by local PCA and Fast Point Feature Histograms.
 *
 * Conventions follow PCL and Open3D, so that features (and thresholds tuned
 * on them) carry over: the Darboux frame of a pair takes as source the point
 * whose normal is closer to the line joining them, u = n_s, v = (p_t - p_s) x u
 * normalised, w = u x v; the features are theta = atan2(w.n_t, u.n_t) over
 * [-pi, pi], alpha = v.n_t and phi = u.(p_t - p_s)/d over [-1, 1], binned 11
 * ways each in that order. A point's SPFH counts its neighbours' pairs (each
 * pair adds 100 / neighbours); its FPFH is its SPFH plus its neighbours' SPFHs
 * weighted by 1 / squared distance and scaled to 100 per histogram (what
 * Open3D does), and each histogram of that sum is finally scaled to sum 100,
 * so values are Open3D's halved.
 *
 * The per-point loops run on a few threads (parallel.h). */
#include "cloud/fpfh.h"
#include "base/parallel.h"
#include "cloud/simil.h"
#include "base/xalloc.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

enum {
	FPFH_BINS = 11,
	PAR_BLOCK = 64,	      /* points taken from the counter at a time */
	PAR_MIN_POINTS = 512, /* below this a thread costs more than it saves */
};

/* ---- normals ---- */

/* Unit eigenvector of the smallest eigenvalue of the symmetric 3x3 A. */
static void smallest_eigvec(const double A[9], double out[3])
{
	double ev[3], V[9];

	sq_sym3_eigen(A, ev, V);
	for (int r = 0; r < 3; r++)
		out[r] = V[3 * r];
}

struct normals_job {
	struct sq_cloud *c;
	const struct sq_kdtree *t;
	float radius2;
	size_t max_nn;
	float fallback[3]; /* the normal of points with too few neighbours */
	const double *view_dir;
};

/* Covariance (about their centroid) of the points idx[0..k). */
static void covariance(const float *xyz, const size_t *idx, size_t k, double C[9])
{
	double mean[3] = {0, 0, 0};

	for (size_t i = 0; i < k; i++)
		for (int d = 0; d < 3; d++)
			mean[d] += xyz[3 * idx[i] + (size_t)d];
	for (int d = 0; d < 3; d++)
		mean[d] /= (double)k;
	memset(C, 0, 9 * sizeof(double));
	for (size_t i = 0; i < k; i++) {
		const float *p = xyz + 3 * idx[i];
		double e[3] = {p[0] - mean[0], p[1] - mean[1], p[2] - mean[2]};

		for (int r = 0; r < 3; r++)
			for (int s = r; s < 3; s++)
				C[3 * r + s] += e[r] * e[s];
	}
	C[3] = C[1];
	C[6] = C[2];
	C[7] = C[5];
}

static void normals_block(void *ctx, size_t begin, size_t end, void *scratch)
{
	struct normals_job *J = ctx;
	size_t *idx = scratch;

	for (size_t i = begin; i < end; i++) {
		float *nrm = J->c->nrm + 3 * i;
		size_t k =
		    sq_kdtree_search(J->t, J->c->xyz + 3 * i, J->max_nn, J->radius2, idx, NULL);
		double C[9], n[3];

		if (k < 3) {
			memcpy(nrm, J->fallback, sizeof(J->fallback));
			continue;
		}
		covariance(J->c->xyz, idx, k, C);
		smallest_eigvec(C, n);
		if (J->view_dir &&
		    n[0] * J->view_dir[0] + n[1] * J->view_dir[1] + n[2] * J->view_dir[2] < 0.0)
			n[0] = -n[0], n[1] = -n[1], n[2] = -n[2];
		for (int d = 0; d < 3; d++)
			nrm[d] = (float)n[d];
	}
}

static void set_fallback(struct normals_job *J, const double *view_dir)
{
	double len = 0.0;

	J->fallback[0] = J->fallback[1] = 0.0f;
	J->fallback[2] = 1.0f;
	if (view_dir)
		len = sqrt(view_dir[0] * view_dir[0] + view_dir[1] * view_dir[1] +
			   view_dir[2] * view_dir[2]);
	if (len > 0.0)
		for (int d = 0; d < 3; d++)
			J->fallback[d] = (float)(view_dir[d] / len);
}

/* Sets c->nrm (allocated when missing) to PCA normals; see fpfh.h. */
void sq_normals_estimate(struct sq_cloud *c, const struct sq_kdtree *t, double radius, int max_nn,
			 const double *view_dir)
{
	struct normals_job J = {.c = c, .t = t, .view_dir = view_dir};

	J.radius2 = (float)(radius * radius);
	J.max_nn = max_nn > 0 ? (size_t)max_nn : 0;
	if (J.max_nn > c->n)
		J.max_nn = c->n;
	set_fallback(&J, view_dir);
	/* Sized like the cloud's other arrays (cap) so that later pushes fit. */
	if (!c->nrm)
		c->nrm = xcalloc(3 * (c->cap > c->n ? c->cap : c->n), sizeof(float));
	sq_par_for(c->n, PAR_BLOCK, PAR_MIN_POINTS, J.max_nn * sizeof(size_t), normals_block, &J);
}

/* ---- FPFH ---- */

/* Neighbour lists are kept from the SPFH pass for the FPFH pass (saving its
 * search) unless they would take more than this many entries (4 bytes each:
 * clouds for registration are downsampled far below 2^32 points). */
#define FPFH_KEEP_MAX ((size_t)1 << 26)

struct fpfh_job {
	const struct sq_cloud *c;
	const struct sq_kdtree *t;
	float radius2;
	size_t max_nn;
	float *spfh; /* n * 33 */
	float *out;  /* n * 33 */
	/* Point i's neighbours, when kept: nb_idx[i * max_nn, + nb_count[i]). */
	uint32_t *nb_idx, *nb_count;
};

static int bin_of(double x, double lo, double hi)
{
	int b = (int)floor(FPFH_BINS * (x - lo) / (hi - lo));

	return b < 0 ? 0 : b >= FPFH_BINS ? FPFH_BINS - 1 : b;
}

static void cross(const double a[3], const double b[3], double out[3])
{
	out[0] = a[1] * b[2] - a[2] * b[1];
	out[1] = a[2] * b[0] - a[0] * b[2];
	out[2] = a[0] * b[1] - a[1] * b[0];
}

static double dot(const double a[3], const double b[3])
{
	return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/* The three angle features (theta, alpha, phi) of the pair (i, j); all zero
 * when the points coincide or a normal lies along the line joining them. */
static void pair_features(const struct sq_cloud *c, size_t i, size_t j, double f[3])
{
	const float *pi = c->xyz + 3 * i, *pj = c->xyz + 3 * j;
	const float *ni = c->nrm + 3 * i, *nj = c->nrm + 3 * j;
	double dp[3] = {pj[0] - pi[0], pj[1] - pi[1], pj[2] - pi[2]};
	double u[3] = {ni[0], ni[1], ni[2]}, nt[3] = {nj[0], nj[1], nj[2]};
	double v[3], w[3], dist = sqrt(dot(dp, dp)), a_i, a_j, vn;

	f[0] = f[1] = f[2] = 0.0;
	if (dist == 0.0)
		return;
	a_i = dot(u, dp) / dist;
	a_j = dot(nt, dp) / dist;
	f[2] = a_i;
	if (fabs(a_i) < fabs(a_j)) { /* j's normal is closer to the line: j is the source */
		for (int d = 0; d < 3; d++) {
			u[d] = nj[d];
			nt[d] = ni[d];
			dp[d] = -dp[d];
		}
		f[2] = -a_j;
	}
	cross(dp, u, v);
	vn = sqrt(dot(v, v));
	if (vn == 0.0) {
		f[2] = 0.0;
		return;
	}
	for (int d = 0; d < 3; d++)
		v[d] /= vn;
	cross(u, v, w);
	f[1] = dot(v, nt);
	f[0] = atan2(dot(w, nt), dot(u, nt));
}

static void keep_neighbours(struct fpfh_job *J, size_t i, const size_t *idx, size_t k)
{
	uint32_t *row = J->nb_idx + i * J->max_nn;

	for (size_t m = 0; m < k; m++)
		row[m] = (uint32_t)idx[m];
	J->nb_count[i] = (uint32_t)k;
}

/* Squared distance between points i and j, as the tree computes it. */
static float dist2(const float *xyz, size_t i, size_t j)
{
	const float *q = xyz + 3 * i, *p = xyz + 3 * j;
	float dx = q[0] - p[0], dy = q[1] - p[1], dz = q[2] - p[2];

	return dx * dx + dy * dy + dz * dz;
}

static void spfh_block(void *ctx, size_t begin, size_t end, void *scratch)
{
	struct fpfh_job *J = ctx;
	size_t *idx = scratch;

	for (size_t i = begin; i < end; i++) {
		float *h = J->spfh + i * SQ_FPFH_DIM;
		size_t k =
		    sq_kdtree_search(J->t, J->c->xyz + 3 * i, J->max_nn, J->radius2, idx, NULL);
		float incr;

		if (J->nb_idx)
			keep_neighbours(J, i, idx, k);
		memset(h, 0, SQ_FPFH_DIM * sizeof(float));
		if (k < 2)
			continue;
		incr = 100.0f / (float)(k - 1);
		/* idx[0] is the point itself, or a duplicate of it: same features. */
		for (size_t m = 1; m < k; m++) {
			double f[3];

			pair_features(J->c, i, idx[m], f);
			h[bin_of(f[0], -M_PI, M_PI)] += incr;
			h[FPFH_BINS + bin_of(f[1], -1.0, 1.0)] += incr;
			h[2 * FPFH_BINS + bin_of(f[2], -1.0, 1.0)] += incr;
		}
	}
}

/* Scales each 11-bin histogram of h to sum 100 (an empty one stays zero). */
static void normalise3(float h[SQ_FPFH_DIM])
{
	for (int g = 0; g < 3; g++) {
		float sum = 0.0f;

		for (int b = 0; b < FPFH_BINS; b++)
			sum += h[g * FPFH_BINS + b];
		if (sum > 0.0f)
			for (int b = 0; b < FPFH_BINS; b++)
				h[g * FPFH_BINS + b] *= 100.0f / sum;
	}
}

/* Point i's FPFH from its k neighbours (idx[0] being itself). Float sums are
 * plenty for at most a few hundred terms of like sign, and vectorise. */
static void fpfh_point(struct fpfh_job *J, size_t i, const uint32_t *idx, size_t k)
{
	float acc[SQ_FPFH_DIM] = {0};
	const float *self = J->spfh + i * SQ_FPFH_DIM;
	float *out = J->out + i * SQ_FPFH_DIM;

	for (size_t m = 1; m < k; m++) {
		const float *s = J->spfh + (size_t)idx[m] * SQ_FPFH_DIM;
		float d2 = dist2(J->c->xyz, i, idx[m]), w;

		if (d2 == 0.0f)
			continue; /* a duplicate: weight 1/0 */
		w = 1.0f / d2;
		for (int b = 0; b < SQ_FPFH_DIM; b++)
			acc[b] += s[b] * w;
	}
	normalise3(acc);
	for (int b = 0; b < SQ_FPFH_DIM; b++)
		out[b] = acc[b] + self[b];
	normalise3(out);
}

static void fpfh_block(void *ctx, size_t begin, size_t end, void *scratch)
{
	struct fpfh_job *J = ctx;
	size_t *idx = scratch;
	uint32_t *idx32 = (uint32_t *)(idx + J->max_nn);

	for (size_t i = begin; i < end; i++) {
		const uint32_t *nb = idx32;
		size_t k;

		if (J->nb_idx) {
			k = J->nb_count[i];
			nb = J->nb_idx + i * J->max_nn;
		} else {
			k = sq_kdtree_search(J->t, J->c->xyz + 3 * i, J->max_nn, J->radius2, idx,
					     NULL);
			for (size_t m = 0; m < k; m++)
				idx32[m] = (uint32_t)idx[m];
		}
		if (k < 2)
			memset(J->out + i * SQ_FPFH_DIM, 0, SQ_FPFH_DIM * sizeof(float));
		else
			fpfh_point(J, i, nb, k);
	}
}

/* FPFH of every point; returns c->n * 33 floats (free with free()); see
 * fpfh.h. A point with no neighbour but itself gets all zeros, as in Open3D. */
float *sq_fpfh_compute(const struct sq_cloud *c, const struct sq_kdtree *t, double radius,
		       int max_nn)
{
	struct fpfh_job J = {.c = c, .t = t};
	size_t n = c->n, scratch;

	J.radius2 = (float)(radius * radius);
	J.max_nn = max_nn > 0 ? (size_t)max_nn : 0;
	if (J.max_nn > n)
		J.max_nn = n;
	J.out = xcalloc(n * SQ_FPFH_DIM, sizeof(float));
	if (!c->nrm) /* no normals, no feature: all zero rather than a crash */
		return J.out;
	J.spfh = xmalloc((n ? n : 1) * SQ_FPFH_DIM * sizeof(float));
	if (n * J.max_nn <= FPFH_KEEP_MAX) {
		J.nb_idx = xmalloc((n * J.max_nn + 1) * sizeof(*J.nb_idx));
		J.nb_count = xmalloc((n + 1) * sizeof(*J.nb_count));
	}
	scratch = J.max_nn * (sizeof(size_t) + sizeof(uint32_t));
	sq_par_for(n, PAR_BLOCK, PAR_MIN_POINTS, scratch, spfh_block, &J);
	sq_par_for(n, PAR_BLOCK, PAR_MIN_POINTS, scratch, fpfh_block, &J);
	free(J.nb_idx);
	free(J.nb_count);
	free(J.spfh);
	return J.out;
}
