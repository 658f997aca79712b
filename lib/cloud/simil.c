/* simil.c - similarity transforms and their least-squares fit (see simil.h). */
#include "cloud/simil.h"

#include <math.h>
#include <string.h>

#include "base/banned.h"

void sq_sim_identity(struct sq_sim *T)
{
	memset(T, 0, sizeof(*T));
	T->s = 1;
	T->R[0] = T->R[4] = T->R[8] = 1;
}

void sq_sim_apply(const struct sq_sim *T, const double x[3], double y[3])
{
	double r[3];

	for (int i = 0; i < 3; i++)
		r[i] =
		    T->s * (T->R[3 * i] * x[0] + T->R[3 * i + 1] * x[1] + T->R[3 * i + 2] * x[2]) +
		    T->t[i];
	memcpy(y, r, sizeof(r));
}

static void mat_mul(const double a[9], const double b[9], double out[9])
{
	double r[9];

	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			r[3 * i + j] =
			    a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
	memcpy(out, r, sizeof(r));
}

void sq_sim_compose(const struct sq_sim *a, const struct sq_sim *b, struct sq_sim *out)
{
	struct sq_sim r;

	/* a(b(x)) = sa Ra (sb Rb x + tb) + ta */
	r.s = a->s * b->s;
	mat_mul(a->R, b->R, r.R);
	sq_sim_apply(a, b->t, r.t);
	*out = r;
}

void sq_sim_invert(const struct sq_sim *T, struct sq_sim *out)
{
	struct sq_sim r;

	/* x = (1/s) R^T (y - t) */
	r.s = 1 / T->s;
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			r.R[3 * i + j] = T->R[3 * j + i];
	for (int i = 0; i < 3; i++)
		r.t[i] = -r.s * (r.R[3 * i] * T->t[0] + r.R[3 * i + 1] * T->t[1] +
				 r.R[3 * i + 2] * T->t[2]);
	*out = r;
}

double sq_rot_angle_deg(const double R[9])
{
	double c = (R[0] + R[4] + R[8] - 1) / 2;

	if (c > 1)
		c = 1;
	if (c < -1)
		c = -1;
	return acos(c) * 180 / M_PI;
}

void sq_quat_to_rot(const double q[4], double r[9])
{
	double w = q[0], x = q[1], y = q[2], z = q[3];

	r[0] = 1 - 2 * (y * y + z * z);
	r[1] = 2 * (x * y - w * z);
	r[2] = 2 * (x * z + w * y);
	r[3] = 2 * (x * y + w * z);
	r[4] = 1 - 2 * (x * x + z * z);
	r[5] = 2 * (y * z - w * x);
	r[6] = 2 * (x * z - w * y);
	r[7] = 2 * (y * z + w * x);
	r[8] = 1 - 2 * (x * x + y * y);
}

/* One Jacobi rotation zeroing a[p][q] of the symmetric n x n a (row-major),
 * accumulated into v. */
static void jacobi_rotate(double *a, double *v, int n, int p, int q)
{
	double theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q]);
	double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
	double c = 1 / sqrt(t * t + 1), s = t * c;

	for (int k = 0; k < n; k++) { /* a = a J */
		double akp = a[k * n + p], akq = a[k * n + q];

		a[k * n + p] = c * akp - s * akq;
		a[k * n + q] = s * akp + c * akq;
	}
	for (int k = 0; k < n; k++) { /* a = J^T a */
		double apk = a[p * n + k], aqk = a[q * n + k];

		a[p * n + k] = c * apk - s * aqk;
		a[q * n + k] = s * apk + c * aqk;
	}
	for (int k = 0; k < n; k++) {
		double vkp = v[k * n + p], vkq = v[k * n + q];

		v[k * n + p] = c * vkp - s * vkq;
		v[k * n + q] = s * vkp + c * vkq;
	}
}

/* Cyclic Jacobi on the symmetric n x n a (n <= 4; destroyed): eigenvalues end on
 * its diagonal, eigenvectors in the columns of v. Slow for big matrices, exact
 * and branch-simple for these. */
static void jacobi(double *a, double *v, int n)
{
	double scale = 0;

	for (int i = 0; i < n * n; i++) {
		v[i] = i % (n + 1) == 0;
		scale += a[i] * a[i];
	}
	for (int sweep = 0; sweep < 60; sweep++) {
		double off = 0;

		for (int p = 0; p < n; p++)
			for (int q = p + 1; q < n; q++)
				off += a[p * n + q] * a[p * n + q];
		if (off <= 1e-30 * scale || off == 0)
			return;
		for (int p = 0; p < n; p++)
			for (int q = p + 1; q < n; q++)
				if (a[p * n + q] != 0)
					jacobi_rotate(a, v, n, p, q);
	}
}

void sq_sym3_eigen(const double A[9], double eval[3], double V[9])
{
	double a[9], v[9];
	int order[3] = {0, 1, 2};

	memcpy(a, A, sizeof(a));
	jacobi(a, v, 3);
	for (int i = 0; i < 3; i++) /* sort three indices by eigenvalue */
		for (int j = i + 1; j < 3; j++)
			if (a[4 * order[j]] < a[4 * order[i]]) {
				int tmp = order[i];

				order[i] = order[j];
				order[j] = tmp;
			}
	for (int k = 0; k < 3; k++) {
		eval[k] = a[4 * order[k]];
		for (int r = 0; r < 3; r++)
			V[3 * r + k] = v[3 * r + order[k]];
	}
}

/* Horn 1987: the rotation taking centred src onto centred dst is the unit
 * quaternion of the largest eigenvalue of this 4x4 built from their weighted
 * cross-covariance s[a][b] = sum w src_a dst_b. */
static void best_rotation(const double s[9], double R[9])
{
	double n[16] = {
	    s[0] + s[4] + s[8], s[5] - s[7],	    s[6] - s[2],	 s[1] - s[3],
	    s[5] - s[7],	s[0] - s[4] - s[8], s[1] + s[3],	 s[6] + s[2],
	    s[6] - s[2],	s[1] + s[3],	    -s[0] + s[4] - s[8], s[5] + s[7],
	    s[1] - s[3],	s[6] + s[2],	    s[5] + s[7],	 -s[0] - s[4] + s[8],
	};
	double v[16], q[4], norm = 0;
	int best = 0;

	jacobi(n, v, 4);
	for (int i = 1; i < 4; i++)
		if (n[5 * i] > n[5 * best])
			best = i;
	for (int i = 0; i < 4; i++) {
		q[i] = v[4 * i + best];
		norm += q[i] * q[i];
	}
	for (int i = 0; i < 4; i++)
		q[i] /= sqrt(norm);
	sq_quat_to_rot(q, R);
}

static void weighted_centroid(const double *p, const double *w, size_t n, double c[3], double *wsum)
{
	double sw = 0;

	c[0] = c[1] = c[2] = 0;
	for (size_t i = 0; i < n; i++) {
		double wi = w ? w[i] : 1;

		sw += wi;
		for (int k = 0; k < 3; k++)
			c[k] += wi * p[3 * i + (size_t)k];
	}
	for (int k = 0; k < 3 && sw > 0; k++)
		c[k] /= sw;
	*wsum = sw;
}

int sq_sim_fit(const double *src, const double *dst, const double *w, size_t n, int with_scale,
	       struct sq_sim *out)
{
	double cs[3], cd[3], s[9] = {0}, var = 0, dot = 0, sw, mag = 0;

	sq_sim_identity(out);
	if (n < 3)
		return -1;
	weighted_centroid(src, w, n, cs, &sw);
	weighted_centroid(dst, w, n, cd, &sw);
	if (!(sw > 0))
		return -1;
	for (size_t i = 0; i < n; i++) {
		double wi = w ? w[i] : 1;

		for (int a = 0; a < 3; a++) {
			double ea = src[3 * i + (size_t)a] - cs[a];

			var += wi * ea * ea;
			mag += wi * src[3 * i + (size_t)a] * src[3 * i + (size_t)a];
			for (int b = 0; b < 3; b++)
				s[3 * a + b] += wi * ea * (dst[3 * i + (size_t)b] - cd[b]);
		}
	}
	if (!(var > 1e-20 * mag) || !(var > 1e-300)) /* all on one point, to rounding */
		return -1;
	best_rotation(s, out->R);
	for (int a = 0; a < 3; a++) /* sum w dst' . (R src') = sum_ab R[b][a] s[a][b] */
		for (int b = 0; b < 3; b++)
			dot += out->R[3 * b + a] * s[3 * a + b];
	out->s = with_scale ? dot / var : 1;
	if (!(out->s > 0))
		return -1;
	for (int i = 0; i < 3; i++)
		out->t[i] = cd[i] - out->s * (out->R[3 * i] * cs[0] + out->R[3 * i + 1] * cs[1] +
					      out->R[3 * i + 2] * cs[2]);
	return 0;
}

void sq_rot_axis_angle(const double u[3], double th, double R[9])
{
	double c = cos(th), s = sin(th);

	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			R[3 * i + j] = (i == j) * c + (1 - c) * u[i] * u[j];
	R[1] -= s * u[2], R[2] += s * u[1], R[3] += s * u[2];
	R[5] -= s * u[0], R[6] -= s * u[1], R[7] += s * u[0];
}

void sq_rot_between(const double a[3], const double b[3], double R[9])
{
	double axis[3] = {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2],
			  a[0] * b[1] - a[1] * b[0]};
	double c = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
	double len = sqrt(axis[0] * axis[0] + axis[1] * axis[1] + axis[2] * axis[2]);
	double th = atan2(len, c);

	if (len < 1e-12) { /* parallel, or opposite: half a turn about any normal */
		double e[3] = {fabs(a[0]) < 0.9, fabs(a[0]) >= 0.9, 0};

		axis[0] = a[1] * e[2] - a[2] * e[1];
		axis[1] = a[2] * e[0] - a[0] * e[2];
		axis[2] = a[0] * e[1] - a[1] * e[0];
		len = sqrt(axis[0] * axis[0] + axis[1] * axis[1] + axis[2] * axis[2]);
		th = c > 0 ? 0 : M_PI;
	}
	for (int k = 0; k < 3; k++)
		axis[k] /= len;
	sq_rot_axis_angle(axis, th, R);
}
