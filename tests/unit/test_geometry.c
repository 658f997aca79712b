/* test_geometry.c - k-d tree search against brute force, PCA normals, FPFH
 * (values by hand and from Open3D, invariance under rigid motion and scale),
 * and printed (not asserted) CPU timings of the three; SQ_GEOMETRY_NO_TIMINGS
 * in the environment skips the timings. */
#include "cloud/cloud.h"
#include "cloud/fpfh.h"
#include "cloud/kdtree.h"
#include "base/xalloc.h"
#include "t.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- helpers ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

/* Uniform in [0, 1): xorshift64*, so runs are reproducible. */
static double rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* CPU seconds of this thread (or, with process set, of all threads): the
 * machine is shared, so wall time would measure the neighbours too. */
static double cpu_s(int process)
{
	struct timespec ts;

	clock_gettime(process ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now_s(void)
{
	return cpu_s(0);
}

/* A cloud of n points owning xyz (filled by the caller), no colour, no normals. */
static void cloud_alloc(struct sq_cloud *c, size_t n)
{
	memset(c, 0, sizeof(*c));
	c->n = c->cap = n;
	c->xyz = xcalloc(3 * n + 1, sizeof(float));
}

static void cloud_free(struct sq_cloud *c)
{
	free(c->xyz);
	free(c->rgb);
	free(c->nrm);
	memset(c, 0, sizeof(*c));
}

/* n points on the bumpy surface z = 0.15 sin(3x) cos(2y) + 0.05 x y over
 * [0, 2]^2, jittered off a grid so no two neighbourhoods are alike, plus
 * noise in z of up to +-noise/2. */
static void bumpy_surface(struct sq_cloud *c, size_t n, double noise)
{
	size_t side = (size_t)ceil(sqrt((double)n));

	cloud_alloc(c, n);
	for (size_t i = 0; i < n; i++) {
		double x = 2.0 * ((double)(i % side) + 0.8 * rnd()) / (double)side;
		double y = 2.0 * ((double)(i / side) + 0.8 * rnd()) / (double)side;

		c->xyz[3 * i] = (float)x;
		c->xyz[3 * i + 1] = (float)y;
		c->xyz[3 * i + 2] =
		    (float)(0.15 * sin(3 * x) * cos(2 * y) + 0.05 * x * y + noise * (rnd() - 0.5));
	}
}

/* ---- k-d tree ---- */

struct bf_hit {
	float d2;
	size_t idx;
};

static int bf_cmp(const void *a, const void *b)
{
	const struct bf_hit *x = a, *y = b;

	if (x->d2 != y->d2)
		return x->d2 < y->d2 ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static float dist2(const float *p, const float *q, int dim)
{
	float s = 0.0f;

	if (dim == 3) {
		float dx = q[0] - p[0], dy = q[1] - p[1], dz = q[2] - p[2];

		return dx * dx + dy * dy + dz * dz;
	}
	for (int d = 0; d < dim; d++) {
		float diff = q[d] - p[d];

		s += diff * diff;
	}
	return s;
}

/* Brute force with the tree's arithmetic (same summation order), sorted by
 * distance; returns how many of them a search for k must return. */
static size_t brute(const float *pts, size_t n, int dim, const float *q, size_t k, float r2,
		    struct bf_hit *all)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		float s = dist2(pts + i * (size_t)dim, q, dim);

		if (s <= r2)
			all[m++] = (struct bf_hit){s, i};
	}
	qsort(all, m, sizeof(*all), bf_cmp);
	return m < k ? m : k;
}

/* Runs one query both ways; returns 1 when the tree's answer is a right one:
 * the same distances as brute force, each true of the index it comes with,
 * no index twice (which of several points tied with the k-th is free). */
static int same_as_brute(const struct sq_kdtree *t, const float *pts, size_t n, int dim,
			 const float *q, size_t k, float r2)
{
	struct bf_hit *all = xmalloc((n + 1) * sizeof(*all));
	size_t *idx = xmalloc((k + 1) * sizeof(*idx));
	float *d2 = xmalloc((k + 1) * sizeof(*d2));
	unsigned char *seen = xcalloc(n + 1, 1);
	size_t want = brute(pts, n, dim, q, k, r2, all);
	size_t got = sq_kdtree_search(t, q, k, r2, idx, d2);
	int ok = got == want;

	for (size_t i = 0; ok && i < got; i++) {
		ok = d2[i] == all[i].d2 && idx[i] < n && !seen[idx[i]] &&
		     dist2(pts + idx[i] * (size_t)dim, q, dim) == d2[i];
		if (ok)
			seen[idx[i]] = 1;
	}
	free(all);
	free(idx);
	free(d2);
	free(seen);
	return ok;
}

/* n random points in [0, 1)^dim; an eighth of them copies of the first (a
 * leaf of equal points) and the last fifth copies of random earlier ones. */
static float *random_points(size_t n, int dim)
{
	size_t ud = (size_t)dim;
	float *pts = xmalloc((n * ud + 1) * sizeof(float));

	for (size_t i = 0; i < n; i++) {
		if (i >= n / 2 && i < n / 2 + n / 8)
			memcpy(pts + i * ud, pts, ud * sizeof(float));
		else if (i > n * 4 / 5)
			memcpy(pts + i * ud, pts + (size_t)(rnd() * (double)(n / 2)) * ud,
			       ud * sizeof(float));
		else
			for (size_t d = 0; d < ud; d++)
				pts[i * ud + d] = (float)rnd();
	}
	return pts;
}

static void check_against_brute(size_t n, int dim, int queries)
{
	static const size_t ks[] = {1, 2, 5, 16, 30, 200};
	float *pts = random_points(n, dim);
	struct sq_kdtree *t = sq_kdtree_build(pts, n, dim);
	float *q = xmalloc((size_t)dim * sizeof(float));
	float r2 = dim == 3 ? 0.01f : 2.5f; /* ~ a few dozen points inside */
	int bad = 0;

	for (int i = 0; i < queries; i++) {
		/* Half the queries are data points (distance-0 ties with duplicates),
		 * the first of them the much-copied point 0. */
		if (i == 1)
			memcpy(q, pts, (size_t)dim * sizeof(float));
		else if (i % 2)
			memcpy(q, pts + (size_t)(rnd() * (double)n) * (size_t)dim,
			       (size_t)dim * sizeof(float));
		else
			for (int d = 0; d < dim; d++)
				q[d] = (float)(1.2 * rnd() - 0.1);
		for (size_t j = 0; j < sizeof(ks) / sizeof(ks[0]); j++) {
			bad += !same_as_brute(t, pts, n, dim, q, ks[j], INFINITY);
			bad += !same_as_brute(t, pts, n, dim, q, ks[j], r2);
		}
		bad += !same_as_brute(t, pts, n, dim, q, n + 3, r2); /* pure radius search */
	}
	T_EQ_INT(bad, 0);
	sq_kdtree_free(t);
	free(pts);
	free(q);
}

static void test_kdtree_edges(void)
{
	float one[3] = {1, 2, 3}, q[3] = {0, 0, 0}, same[300], d2[20];
	struct sq_kdtree *t = sq_kdtree_build(NULL, 0, 3);
	size_t idx[20];

	T_EQ_INT(sq_kdtree_search(t, q, 5, INFINITY, idx, d2), 0);
	sq_kdtree_free(t);
	t = sq_kdtree_build(one, 1, 3);
	T_EQ_INT(sq_kdtree_search(t, q, 5, INFINITY, idx, d2), 1);
	T_EQ_INT(idx[0], 0);
	T_CHECK(d2[0] == 14.0f);
	T_EQ_INT(sq_kdtree_search(t, q, 5, 13.9f, idx, d2), 0);
	T_EQ_INT(sq_kdtree_search(t, q, 0, INFINITY, idx, d2), 0);
	T_EQ_INT(sq_kdtree_search(t, q, 1, INFINITY, NULL, NULL), 1);
	sq_kdtree_free(t);
	/* 100 copies of one point: 10 different ones of them come back. */
	for (int i = 0; i < 300; i++)
		same[i] = (float)(i % 3);
	t = sq_kdtree_build(same, 100, 3);
	T_EQ_INT(sq_kdtree_search(t, q, 10, INFINITY, idx, d2), 10);
	for (int i = 0; i < 10; i++)
		for (int j = 0; j < i; j++)
			T_CHECK(idx[i] != idx[j] && idx[i] < 100);
	T_CHECK(d2[0] == 5.0f && d2[9] == 5.0f);
	T_EQ_INT(sq_kdtree_search(t, same, 200, INFINITY, NULL, NULL), 100);
	sq_kdtree_free(t);
	sq_kdtree_free(NULL);
}

static void test_kdtree(void)
{
	test_kdtree_edges();
	check_against_brute(3000, 3, 200);
	check_against_brute(50, 3, 50);
	check_against_brute(1500, 33, 60);
	check_against_brute(300, 70, 20); /* beyond the stack-sized bound array */
}

/* ---- normals ---- */

static double angle_deg(const float *n, const double *want)
{
	double c = (n[0] * want[0] + n[1] * want[1] + n[2] * want[2]) /
		   sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);

	return acos(c > 1.0 ? 1.0 : c) * 180.0 / M_PI;
}

/* Angle errors of the normals against want (per point, or the radial
 * direction when want is NULL, up to sign): all within 6 degrees, fewer than
 * 1% beyond 2 (edge points see a one-sided neighbourhood). */
static int normals_close(const struct sq_cloud *c, size_t n, const double *want)
{
	size_t beyond = 0;
	double worst = 0;

	for (size_t i = 0; i < n; i++) {
		const float *p = c->xyz + 3 * i;
		double radial[3] = {p[0], p[1], p[2]};
		double a = angle_deg(c->nrm + 3 * i, want ? want : radial);

		if (!want && a > 90.0)
			a = 180.0 - a;
		worst = fmax(worst, a);
		beyond += a > 2.0;
	}
	return worst < 6.0 && beyond * 100 < n;
}

static void test_normals_plane(void)
{
	double g = sqrt(0.3 * 0.3 + 0.2 * 0.2 + 1.0), want[3] = {-0.3 / g, 0.2 / g, 1.0 / g};
	double down[3] = {0, 0, -1}, flipped[3] = {-want[0], -want[1], -want[2]};
	struct sq_cloud c;
	struct sq_kdtree *t;

	cloud_alloc(&c, 2000);
	for (size_t i = 0; i < c.n; i++) {
		double x = rnd(), y = rnd();

		c.xyz[3 * i] = (float)x;
		c.xyz[3 * i + 1] = (float)y;
		c.xyz[3 * i + 2] = (float)(0.3 * x - 0.2 * y + 0.004 * (rnd() - 0.5));
	}
	t = sq_kdtree_build(c.xyz, c.n, 3);
	sq_normals_estimate(&c, t, 0.08, 30, want);
	T_CHECK(normals_close(&c, c.n, want));
	sq_normals_estimate(&c, t, 0.08, 30, down); /* now every one points down */
	T_CHECK(normals_close(&c, c.n, flipped));
	sq_kdtree_free(t);
	cloud_free(&c);
}

static void test_normals_sphere(void)
{
	double view[3] = {0, 0, 2};
	struct sq_cloud c;
	struct sq_kdtree *t;
	int sign_ok = 1;

	cloud_alloc(&c, 4001);
	/* A Fibonacci lattice: even spacing, so that each neighbourhood's
	 * centroid (where PCA measures the normal) is close to its point. */
	for (size_t i = 0; i + 1 < c.n; i++) {
		double z = 1.0 - (2.0 * (double)i + 1.0) / (double)(c.n - 1);
		double a = (double)i * M_PI * (3.0 - sqrt(5.0)), r = sqrt(1.0 - z * z);

		c.xyz[3 * i] = (float)(r * cos(a));
		c.xyz[3 * i + 1] = (float)(r * sin(a));
		c.xyz[3 * i + 2] = (float)z;
	}
	c.xyz[3 * (c.n - 1)] = 10.0f; /* an isolated point: gets view_dir */
	t = sq_kdtree_build(c.xyz, c.n, 3);
	sq_normals_estimate(&c, t, 0.15, 30, view);
	for (size_t i = 0; i + 1 < c.n; i++)
		sign_ok &= c.nrm[3 * i + 2] >= 0.0f;
	T_CHECK(normals_close(&c, c.n - 1, NULL));
	T_CHECK(sign_ok);
	T_CHECK(c.nrm[3 * (c.n - 1) + 2] == 1.0f && c.nrm[3 * (c.n - 1)] == 0.0f);
	sq_kdtree_free(t);
	cloud_free(&c);
}

/* ---- FPFH ---- */

static float *fpfh_of(struct sq_cloud *c, double r_normal, double r_feature, int max_nn,
		      const double *view)
{
	struct sq_kdtree *t = sq_kdtree_build(c->xyz, c->n, 3);
	float *f;

	if (r_normal > 0)
		sq_normals_estimate(c, t, r_normal, 30, view);
	f = sq_fpfh_compute(c, t, r_feature, max_nn);
	sq_kdtree_free(t);
	return f;
}

/* Two points, normals 0.5 rad apart about y: every feature is known by hand,
 * in PCL/Open3D's conventions (theta = +0.5 -> bin 6, alpha = 0 -> bin 5 + 11,
 * phi = -sin 0.5 -> bin 2 + 22), for both points. */
static void test_fpfh_by_hand(void)
{
	struct sq_cloud c;
	float *f;
	int ok = 1;

	cloud_alloc(&c, 2);
	c.xyz[3] = 1.0f;
	c.nrm = xcalloc(6, sizeof(float));
	c.nrm[2] = 1.0f;
	c.nrm[3] = (float)sin(0.5);
	c.nrm[5] = (float)cos(0.5);
	f = fpfh_of(&c, 0, 1.5, 100, NULL);
	for (int p = 0; p < 2; p++)
		for (int b = 0; b < SQ_FPFH_DIM; b++) {
			int hot = b == 6 || b == 16 || b == 24;

			ok &= fabsf(f[p * SQ_FPFH_DIM + b] - (hot ? 100.0f : 0.0f)) < 1e-4f;
		}
	T_CHECK(ok);
	free(f);
	cloud_free(&c);
}

/* A flat grid with equal normals: every pair is (0, 0, 0), bins 5, 16, 27;
 * a far-off point has no neighbour and an all-zero feature. */
static void test_fpfh_plane(void)
{
	struct sq_cloud c;
	float *f;
	int ok = 1;

	cloud_alloc(&c, 401);
	c.nrm = xcalloc(3 * c.n, sizeof(float));
	for (size_t i = 0; i < c.n; i++) {
		c.xyz[3 * i] = (float)(i % 20) * 0.1f;
		c.xyz[3 * i + 1] = (float)(i / 20) * 0.1f;
		c.nrm[3 * i + 2] = 1.0f;
	}
	c.xyz[3 * 400] = 50.0f;
	f = fpfh_of(&c, 0, 0.25, 100, NULL);
	for (size_t i = 0; i < c.n; i++)
		for (int b = 0; b < SQ_FPFH_DIM; b++) {
			int hot = i < 400 && (b == 5 || b == 16 || b == 27);

			ok &= fabsf(f[i * SQ_FPFH_DIM + b] - (hot ? 100.0f : 0.0f)) < 1e-3f;
		}
	T_CHECK(ok);
	free(f);
	cloud_free(&c);
}

/* Six points with arbitrary normals, all neighbours of each other, and the
 * FPFH that Open3D 0.16 computes for them (compute_fpfh_feature, radius 2,
 * max_nn 6), halved: Open3D's histograms sum to 200, ours to 100. Every pair
 * feature is at least 0.03 bin widths from a bin edge, so float and double
 * agree on the bins. */
static const float o3d_cloud[6][6] = {
    {-0.496265769f, 0.330047727f, -0.345538914f, -0.265278041f, 0.959630549f, -0.093470633f},
    {-0.2324007f, 0.380332142f, 0.00979080983f, 0.387105525f, 0.834562898f, -0.391987354f},
    {0.347150236f, 0.139717162f, 0.241770953f, 0.389417142f, -0.8881616f, 0.243973821f},
    {-0.408504397f, 0.0411438197f, 0.00777223613f, -0.888962865f, -0.433776945f, -0.146910161f},
    {0.371339381f, -0.138735935f, 0.098184064f, 0.456806213f, 0.582071185f, -0.672696948f},
    {-0.440748364f, -0.112368196f, -0.176963657f, -0.354677647f, 0.288736403f, -0.889289081f},
};

static const float o3d_fpfh[6][SQ_FPFH_DIM] = {
    {17.3962, 16.6821, 0.0000,	18.4788, 0.0000,  16.9031, 10.5398, 9.2777,  3.5004,
     6.1042,  1.1177,  11.6575, 16.5376, 12.0640, 7.4809,  0.0000,  10.5778, 3.5004,
     3.3179,  12.7781, 3.4624,	18.6233, 22.3828, 36.6441, 22.9524, 3.7215,  13.1816,
     0.0000,  0.0000,  0.0000,	0.0000,	 1.1177,  0.0000},
    {11.1888, 17.5134, 0.0000, 9.6395,	0.0000,	 23.5109, 3.5109,  14.1440, 4.8317,
     13.6429, 2.0179,  5.5289, 15.5280, 25.3003, 22.0179, 0.0000,  3.8706,  4.8317,
     2.4866,  4.3392,  4.4720, 11.6249, 22.8137, 37.1538, 14.5036, 10.8291, 12.6818,
     0.0000,  0.0000,  0.0000, 0.0000,	2.0179,	 0.0000},
    {28.6049, 12.9493, 0.0000,	3.0070,	 0.0000,  9.6861,  6.8958,  9.1722,  10.9826,
     2.3778,  16.3243, 23.2201, 12.6931, 4.4993,  19.1145, 0.0000,  10.5716, 10.9826,
     7.0507,  1.2980,  7.3069,	3.2632,	 14.6584, 29.2736, 30.0576, 7.7194,  1.9667,
     0.0000,  0.0000,  0.0000,	0.0000,	 16.3243, 0.0000},
    {18.3324, 14.1273, 0.0000,	22.2345, 0.0000,  6.2826,  1.9519,  13.4231, 10.4977,
     12.1653, 0.9853,  2.9371,	9.5124,	 19.7158, 5.3160,  0.0000,  1.9620,  10.4977,
     5.8727,  6.8494,  10.4876, 26.8494, 29.5124, 34.1172, 29.1025, 2.6529,  3.6296,
     0.0000,  0.0000,  0.0000,	0.0000,	 0.9853,  0.0000},
    {25.5496, 9.1200,  0.0000,	3.3122, 0.0000,	 12.5720, 10.5538, 12.7692, 7.5571,
     2.0074,  16.5587, 27.1125, 9.0017, 3.8966,	 18.5770, 0.0000,  7.1125,  7.5571,
     10.8800, 1.4338,  10.9983, 3.4305, 10.9983, 32.5612, 27.3097, 11.0091, 1.5629,
     0.0000,  0.0000,  0.0000,	0.0000, 16.5587, 0.0000},
    {19.2789, 9.4979,  0.0000,	27.9172, 0.0000, 4.4300, 2.1282, 21.6530, 6.7209,  7.4420, 0.9319,
     3.0601,  13.2068, 18.5929, 3.2338,	 0.0000, 2.0559, 6.7209, 10.5021, 11.6261, 6.7932, 24.2082,
     25.7890, 29.5702, 39.2789, 1.6530,	 2.7770, 0.0000, 0.0000, 0.0000,  0.0000,  0.9319, 0.0000},
};

static void test_fpfh_open3d(void)
{
	struct sq_cloud c;
	double worst = 0;
	float *f;

	cloud_alloc(&c, 6);
	c.nrm = xcalloc(3 * 6, sizeof(float));
	for (size_t i = 0; i < 6; i++) {
		memcpy(c.xyz + 3 * i, o3d_cloud[i], 3 * sizeof(float));
		memcpy(c.nrm + 3 * i, o3d_cloud[i] + 3, 3 * sizeof(float));
	}
	f = fpfh_of(&c, 0, 2.0, 6, NULL);
	for (size_t i = 0; i < 6; i++)
		for (int b = 0; b < SQ_FPFH_DIM; b++)
			worst = fmax(worst, fabs(f[i * SQ_FPFH_DIM + (size_t)b] - o3d_fpfh[i][b]));
	T_CHECK(worst < 1e-3);
	free(f);
	cloud_free(&c);
}

/* Each point's three histograms sum to 100. */
static int sums_ok(const float *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (int g = 0; g < 3; g++) {
			double s = 0;

			for (int b = 0; b < 11; b++)
				s += f[i * SQ_FPFH_DIM + (size_t)(g * 11 + b)];
			if (fabs(s - 100.0) > 1e-3)
				return 0;
		}
	return 1;
}

/* Sum of |a - b| over sum of |a|: 0 when the features agree. */
static double rel_l1(const float *a, const float *b, size_t n)
{
	double diff = 0, norm = 0;

	for (size_t i = 0; i < n * SQ_FPFH_DIM; i++) {
		diff += fabs((double)a[i] - b[i]);
		norm += fabs((double)a[i]);
	}
	return diff / norm;
}

/* Applies y = s R x + t to the positions and R to the normals (if any). */
static void transform(struct sq_cloud *c, const double R[9], double s, const double t[3])
{
	for (size_t i = 0; i < c->n; i++) {
		float *p = c->xyz + 3 * i;
		double x[3] = {p[0], p[1], p[2]};

		for (int r = 0; r < 3; r++)
			p[r] = (float)(s * (R[3 * r] * x[0] + R[3 * r + 1] * x[1] +
					    R[3 * r + 2] * x[2]) +
				       t[r]);
	}
}

static void test_fpfh_invariance(void)
{
	/* Rotation by 40 degrees about the unit axis (2, -1, 2) / 3. */
	double ax[3] = {2.0 / 3, -1.0 / 3, 2.0 / 3}, a = 40 * M_PI / 180, R[9], view[3] = {0, 0, 1};
	double Rview[3], tr[3] = {5, -3, 12}, zero[3] = {0, 0, 0};
	struct sq_cloud c, m;
	float *f0, *f1, *f2;

	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			R[3 * i + j] = (i == j ? cos(a) : 0) + (1 - cos(a)) * ax[i] * ax[j] +
				       sin(a) * (i == (j + 1) % 3   ? ax[3 - i - j]
						 : j == (i + 1) % 3 ? -ax[3 - i - j]
								    : 0);
	for (int r = 0; r < 3; r++)
		Rview[r] = R[3 * r] * view[0] + R[3 * r + 1] * view[1] + R[3 * r + 2] * view[2];
	bumpy_surface(&c, 3000, 0.0);
	f0 = fpfh_of(&c, 0.1, 0.25, 100, view);
	T_CHECK(sums_ok(f0, c.n));
	cloud_alloc(&m, c.n);
	memcpy(m.xyz, c.xyz, 3 * c.n * sizeof(float));
	transform(&m, R, 1.0, tr);
	f1 = fpfh_of(&m, 0.1, 0.25, 100, Rview);
	free(m.nrm);
	m.nrm = NULL;
	transform(&m, (double[9]){1, 0, 0, 0, 1, 0, 0, 0, 1}, 3.7, zero);
	f2 = fpfh_of(&m, 0.37, 0.925, 100, Rview);
	printf("fpfh invariance: rigid rel L1 %.2e, scaled rel L1 %.2e\n", rel_l1(f0, f1, c.n),
	       rel_l1(f0, f2, c.n));
	T_CHECK(rel_l1(f0, f1, c.n) < 1e-3);
	T_CHECK(rel_l1(f0, f2, c.n) < 1e-3);
	/* and the feature does depend on the shape: not all points alike */
	T_CHECK(rel_l1(f0, f0 + SQ_FPFH_DIM * 1500, 1000) > 0.05);
	free(f0);
	free(f1);
	free(f2);
	cloud_free(&c);
	cloud_free(&m);
}

/* ---- timings (printed, not asserted) ---- */

static void time_kdtree(void)
{
	struct sq_cloud c;
	size_t idx[30], nq = 100000, total = 0;
	float d2[30];
	struct sq_kdtree *t;
	double t0, t1, t2;

	bumpy_surface(&c, 100000, 0.0);
	t0 = now_s();
	t = sq_kdtree_build(c.xyz, c.n, 3);
	t1 = now_s();
	for (size_t i = 0; i < nq; i++) {
		const float *p = c.xyz + 3 * ((i * 7919) % c.n);
		float q[3] = {p[0] + 0.001f, p[1] - 0.002f, p[2]};

		total += sq_kdtree_search(t, q, 30, INFINITY, idx, d2);
	}
	t2 = now_s();
	T_EQ_INT(total, 30 * nq);
	printf("kdtree 3-D, 100k points on a surface: build %.1f ms, 100k kNN(k=30) in "
	       "scattered order %.1f ms = %.0f queries/s (one thread)\n",
	       (t1 - t0) * 1e3, (t2 - t1) * 1e3, (double)nq / (t2 - t1));
	sq_kdtree_free(t);
	cloud_free(&c);
}

/* Index of the nearest of n points to q (lowest index among ties): the plain
 * scan that a tree has to beat. */
static size_t brute_nearest(const float *pts, size_t n, int dim, const float *q)
{
	float best = INFINITY;
	size_t best_i = 0;

	for (size_t i = 0; i < n; i++) {
		const float *p = pts + i * (size_t)dim;
		float s = 0.0f;

		for (int d = 0; d < dim; d++)
			s += (q[d] - p[d]) * (q[d] - p[d]);
		if (s < best) {
			best = s;
			best_i = i;
		}
	}
	return best_i;
}

/* Nearest feature of each of n queries among n features: tree against brute
 * force (which must find the same distances: ties may pick other points). */
static void time_feature_match(const float *fa, const float *fb, size_t n)
{
	size_t *tree_idx = xmalloc(n * sizeof(*tree_idx)), agree = 0;
	struct sq_kdtree *t;
	double t0, t1, t2;

	t0 = now_s();
	t = sq_kdtree_build(fb, n, SQ_FPFH_DIM);
	for (size_t i = 0; i < n; i++)
		sq_kdtree_search(t, fa + i * SQ_FPFH_DIM, 1, INFINITY, &tree_idx[i], NULL);
	t1 = now_s();
	for (size_t i = 0; i < n; i++) {
		const float *q = fa + i * SQ_FPFH_DIM;
		size_t j = brute_nearest(fb, n, SQ_FPFH_DIM, q);

		agree += dist2(fb + j * SQ_FPFH_DIM, q, SQ_FPFH_DIM) ==
			 dist2(fb + tree_idx[i] * SQ_FPFH_DIM, q, SQ_FPFH_DIM);
	}
	t2 = now_s();
	T_EQ_INT(agree, n);
	printf("fpfh matching 33-D, %zu x %zu nearest (one thread): tree (build + search) "
	       "%.1f ms, brute force %.1f ms\n",
	       n, n, (t1 - t0) * 1e3, (t2 - t1) * 1e3);
	sq_kdtree_free(t);
	free(tree_idx);
}

/* Normals and FPFH of 20k points (voxel 0.014), then matching the FPFH of two
 * 10k samplings of the surface (voxel 0.02), with noise of half a voxel. */
static void time_fpfh(void)
{
	struct sq_cloud a, b;
	double view[3] = {0, 0, 1}, t0, t1, t2;
	struct sq_kdtree *t;
	float *fa, *fb;

	bumpy_surface(&a, 20000, 0.007);
	t0 = cpu_s(1);
	t = sq_kdtree_build(a.xyz, a.n, 3);
	sq_normals_estimate(&a, t, 0.03, 30, view);
	t1 = cpu_s(1);
	fa = sq_fpfh_compute(&a, t, 0.075, 100);
	t2 = cpu_s(1);
	printf("20k points, CPU time of all threads: tree + normals (r 2 voxels, max_nn 30) "
	       "%.1f ms, fpfh (r 5 voxels, max_nn 100) %.1f ms\n",
	       (t1 - t0) * 1e3, (t2 - t1) * 1e3);
	sq_kdtree_free(t);
	free(fa);
	cloud_free(&a);
	bumpy_surface(&a, 10000, 0.01);
	bumpy_surface(&b, 10000, 0.01);
	fa = fpfh_of(&a, 0.04, 0.1, 100, view);
	fb = fpfh_of(&b, 0.04, 0.1, 100, view);
	time_feature_match(fa, fb, 10000);
	free(fa);
	free(fb);
	cloud_free(&a);
	cloud_free(&b);
}

int main(void)
{
	test_kdtree();
	test_normals_plane();
	test_normals_sphere();
	test_fpfh_by_hand();
	test_fpfh_plane();
	test_fpfh_open3d();
	test_fpfh_invariance();
	if (!getenv("SQ_GEOMETRY_NO_TIMINGS")) {
		time_kdtree();
		time_fpfh();
	}
	return t_done();
}
