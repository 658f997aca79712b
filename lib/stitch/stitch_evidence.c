/* stitch_evidence.c - the cameras of a stitch input and the pairs two inputs'
 * cameras make (see stitch_internal.h).
 *
 * The caller hands each input's cameras in (struct sq_stitch_cams: for a task,
 * its registered frames with the source video and time each came from). Two
 * tasks that decoded the same seconds of the same video (a task that also
 * reads the first seconds of the next chapter) hold cameras at the same
 * instants: those pairs fix the similarity between the two reconstructions
 * directly. */
#include "stitch/stitch_internal.h"
#include "base/xalloc.h"
#include "base/mathutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

void sq_stitch_cams_release(struct sq_stitch_cams *c)
{
	free(c->c);
	free(c->q);
	free(c->t);
	free(c->src);
	for (size_t i = 0; i < c->nsources; i++)
		free(c->sources[i]);
	free(c->sources);
	memset(c, 0, sizeof(*c));
}

static void cams_push(struct sq_stitch_cams *cams, size_t *cap, const double c[3], const double *q,
		      double t, int src)
{
	if (cams->n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		cams->c = xrealloc(cams->c, 3 * *cap * sizeof(*cams->c));
		cams->q = xrealloc(cams->q, 4 * *cap * sizeof(*cams->q));
		cams->t = xrealloc(cams->t, *cap * sizeof(*cams->t));
		cams->src = xrealloc(cams->src, *cap * sizeof(*cams->src));
	}
	memcpy(&cams->c[3 * cams->n], c, 3 * sizeof(*c));
	if (q)
		memcpy(&cams->q[4 * cams->n], q, 4 * sizeof(*q));
	else /* one camera without orientation: the input has none */
		cams->has_q = 0;
	cams->t[cams->n] = t;
	cams->src[cams->n++] = src;
}

double stitch_cams_dt(const struct sq_stitch_cams *cams)
{
	double *d = xcalloc(cams->n + 1, sizeof(*d)), med = 0;
	size_t m = 0;

	for (size_t i = 1; i < cams->n; i++)
		if (cams->src[i] >= 0 && cams->src[i] == cams->src[i - 1] &&
		    cams->t[i] > cams->t[i - 1])
			d[m++] = cams->t[i] - cams->t[i - 1];
	med = sq_median(d, m);
	free(d);
	return med;
}

void stitch_cams_copy(struct sq_stitch_cams *cams, const struct sq_stitch_cams *from)
{
	size_t cap = 0;

	memset(cams, 0, sizeof(*cams));
	if (!from || from->n == 0)
		return;
	cams->sources = xcalloc(from->nsources + 1, sizeof(*cams->sources));
	for (size_t i = 0; i < from->nsources; i++)
		cams->sources[i] = xstrdup(from->sources[i]);
	cams->nsources = from->nsources;
	cams->has_q = from->has_q;
	for (size_t i = 0; i < from->n; i++) {
		int src = from->src ? from->src[i] : -1;

		cams_push(cams, &cap, &from->c[3 * i], from->has_q ? &from->q[4 * i] : NULL,
			  from->t ? from->t[i] : 0, src < (int)from->nsources ? src : -1);
	}
}

/* The index of b's source with the same path as a's source sa, or -1. */
static int same_source(const struct sq_stitch_cams *a, int sa, const struct sq_stitch_cams *b)
{
	for (size_t j = 0; sa >= 0 && j < b->nsources; j++)
		if (strcmp(a->sources[sa], b->sources[j]) == 0)
			return (int)j;
	return -1;
}

/* b's pose at time t of its source sb, interpolated between the two cameras
 * around t when they are at most 1.5 frame intervals apart: centre linearly,
 * orientation by normalised quaternion interpolation (nlerp; neighbouring
 * frames turn little). rot may be NULL. */
static int interpolate(const struct sq_stitch_cams *b, double dt, int sb, double t, double c[3],
		       double *rot)
{
	double gap = dt > 0 ? 1.5 * dt : 1.0;

	for (size_t j = 0; j + 1 < b->n; j++) {
		double t0 = b->t[j], t1 = b->t[j + 1], u, q[4], dot = 0, len = 0;

		if (b->src[j] != sb || b->src[j + 1] != sb || t < t0 || t > t1 || t1 - t0 > gap)
			continue;
		u = t1 > t0 ? (t - t0) / (t1 - t0) : 0;
		for (int k = 0; k < 3; k++)
			c[k] =
			    (1 - u) * b->c[3 * j + (size_t)k] + u * b->c[3 * (j + 1) + (size_t)k];
		if (!rot)
			return 0;
		for (int k = 0; k < 4; k++)
			dot += b->q[4 * j + (size_t)k] * b->q[4 * (j + 1) + (size_t)k];
		for (int k = 0; k < 4; k++) {
			q[k] = (1 - u) * b->q[4 * j + (size_t)k] +
			       u * (dot < 0 ? -1 : 1) * b->q[4 * (j + 1) + (size_t)k];
			len += q[k] * q[k];
		}
		for (int k = 0; k < 4; k++)
			q[k] /= sqrt(len);
		sq_quat_to_rot(q, rot);
		return 0;
	}
	return -1;
}

void stitch_pairs_release(struct stitch_pairs *p)
{
	free(p->pa);
	free(p->pb);
	free(p->ra);
	free(p->rb);
	memset(p, 0, sizeof(*p));
}

void stitch_cams_shared(const struct sq_stitch_cams *a, const struct sq_stitch_cams *b,
			struct stitch_pairs *out)
{
	int rot = a->has_q && b->has_q;
	double dt = stitch_cams_dt(b);

	memset(out, 0, sizeof(*out));
	out->pa = xcalloc(3 * a->n + 3, sizeof(double));
	out->pb = xcalloc(3 * a->n + 3, sizeof(double));
	if (rot) {
		out->ra = xcalloc(9 * a->n + 9, sizeof(double));
		out->rb = xcalloc(9 * a->n + 9, sizeof(double));
	}
	for (size_t i = 0; i < a->n; i++) {
		size_t n = out->n;
		int sb = same_source(a, a->src[i], b);

		if (sb < 0 || interpolate(b, dt, sb, a->t[i], &out->pb[3 * n],
					  rot ? &out->rb[9 * n] : NULL) < 0)
			continue;
		memcpy(&out->pa[3 * n], &a->c[3 * i], 3 * sizeof(double));
		if (rot)
			sq_quat_to_rot(&a->q[4 * i], &out->ra[9 * n]);
		out->n++;
	}
}

static double spread(const double *p, size_t n)
{
	double m[3] = {0}, s = 0;

	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 3; k++)
			m[k] += p[3 * i + (size_t)k] / (double)n;
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 3; k++)
			s += (p[3 * i + (size_t)k] - m[k]) * (p[3 * i + (size_t)k] - m[k]);
	return sqrt(s / (double)n);
}

static double residual(const struct sq_sim *T, const double *pa, const double *pb, size_t i)
{
	double y[3];

	sq_sim_apply(T, &pa[3 * i], y);
	return sqrt((y[0] - pb[3 * i]) * (y[0] - pb[3 * i]) +
		    (y[1] - pb[3 * i + 1]) * (y[1] - pb[3 * i + 1]) +
		    (y[2] - pb[3 * i + 2]) * (y[2] - pb[3 * i + 2]));
}

/* The rotation taking a's camera axes onto b's: each pair's three axes (columns
 * of camera-to-world), and their negatives so that the centroid is zero. */
static int axes_rotation(const struct stitch_pairs *p, const double *w, double R[9])
{
	double *src = xcalloc(18 * p->n + 1, sizeof(double)),
	       *dst = xcalloc(18 * p->n + 1, sizeof(double));
	double *ww = xcalloc(6 * p->n + 1, sizeof(double));
	struct sq_sim Q;
	int rc;

	for (size_t i = 0; i < p->n; i++)
		for (int k = 0; k < 6; k++) {
			double sg = k < 3 ? 1 : -1;

			for (int r = 0; r < 3; r++) {
				src[18 * i + 3 * (size_t)k + (size_t)r] =
				    sg * p->ra[9 * i + 3 * (size_t)r + (size_t)(k % 3)];
				dst[18 * i + 3 * (size_t)k + (size_t)r] =
				    sg * p->rb[9 * i + 3 * (size_t)r + (size_t)(k % 3)];
			}
			ww[6 * i + (size_t)k] = w[i];
		}
	rc = sq_sim_fit(src, dst, ww, 6 * p->n, 0, &Q);
	memcpy(R, Q.R, sizeof(Q.R));
	free(src);
	free(dst);
	free(ww);
	return rc;
}

/* Scale and translation of a -> b with the rotation R fixed (least squares). */
static int centres_scale(const struct stitch_pairs *p, const double *w, const double R[9],
			 struct sq_sim *T)
{
	double ca[3] = {0}, cb[3] = {0}, sw = 0, num = 0, den = 0;

	for (size_t i = 0; i < p->n; i++) {
		sw += w[i];
		for (int k = 0; k < 3; k++) {
			ca[k] += w[i] * p->pa[3 * i + (size_t)k];
			cb[k] += w[i] * p->pb[3 * i + (size_t)k];
		}
	}
	if (!(sw > 0))
		return -1;
	for (int k = 0; k < 3; k++)
		ca[k] /= sw, cb[k] /= sw;
	memcpy(T->R, R, 9 * sizeof(double));
	for (size_t i = 0; i < p->n; i++) {
		double a[3], ra[3];

		for (int k = 0; k < 3; k++)
			a[k] = p->pa[3 * i + (size_t)k] - ca[k];
		for (int k = 0; k < 3; k++)
			ra[k] = R[3 * k] * a[0] + R[3 * k + 1] * a[1] + R[3 * k + 2] * a[2];
		for (int k = 0; k < 3; k++) {
			num += w[i] * ra[k] * (p->pb[3 * i + (size_t)k] - cb[k]);
			den += w[i] * a[k] * a[k];
		}
	}
	if (!(den > 0) || !(num > 0))
		return -1;
	T->s = num / den;
	for (int k = 0; k < 3; k++)
		T->t[k] =
		    cb[k] - T->s * (R[3 * k] * ca[0] + R[3 * k + 1] * ca[1] + R[3 * k + 2] * ca[2]);
	return 0;
}

static int fit_weighted(const struct stitch_pairs *p, const double *w, struct sq_sim *T)
{
	double R[9];

	if (!p->ra)
		return sq_sim_fit(p->pa, p->pb, w, p->n, 1, T);
	if (axes_rotation(p, w, R) < 0)
		return -1;
	return centres_scale(p, w, R, T);
}

int stitch_cams_fit(const struct stitch_pairs *p, struct sq_sim *T, double *rel_rms)
{
	size_t n = p->n, kept = 0;
	double *r = xcalloc(n + 1, sizeof(*r)), *w = xcalloc(n + 1, sizeof(*w)), med, sum = 0;
	double sp = n ? spread(p->pb, n) : 0;
	int rc = -1;

	for (size_t i = 0; i < n; i++)
		w[i] = 1;
	if (n < 3 || !(sp > 0) || fit_weighted(p, w, T) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		r[i] = residual(T, p->pa, p->pb, i);
	memcpy(w, r, n * sizeof(*w));
	med = sq_median(w, n);
	for (size_t i = 0; i < n; i++) {
		w[i] = r[i] <= 3 * med + 1e-12 * sp;
		kept += w[i] > 0;
	}
	if (kept < 3 || fit_weighted(p, w, T) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (w[i] > 0)
			sum += residual(T, p->pa, p->pb, i) * residual(T, p->pa, p->pb, i);
	*rel_rms = sqrt(sum / (double)kept) / sp;
	rc = 0;
out:
	free(r);
	free(w);
	return rc;
}
