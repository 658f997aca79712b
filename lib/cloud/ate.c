/* ate.c - absolute trajectory error after similarity alignment (see ate.h). */
#include "cloud/ate.h"
#include "cloud/simil.h"
#include "base/xalloc.h"
#include "base/mathutil.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/banned.h"

/* --- alignment ------------------------------------------------------------------ */

static void apply(const struct sq_ate *a, const double p[3], double out[3])
{
	for (int i = 0; i < 3; i++)
		out[i] = a->scale * (a->rot[3 * i] * p[0] + a->rot[3 * i + 1] * p[1] +
				     a->rot[3 * i + 2] * p[2]) +
			 a->trans[i];
}

static double dist3(const double a[3], const double b[3])
{
	return sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
		    (a[2] - b[2]) * (a[2] - b[2]));
}

/* The residuals and the reference path length, once the transform is known. */
static void measure(const double *est, const double *ref, size_t n, struct sq_ate *out)
{
	double sum = 0, p[3];

	out->max = 0;
	out->length = 0;
	for (size_t i = 0; i < n; i++) {
		double d;

		apply(out, &est[3 * i], p);
		d = dist3(p, &ref[3 * i]);
		sum += d * d;
		if (d > out->max)
			out->max = d;
		if (i > 0)
			out->length += dist3(&ref[3 * i], &ref[3 * (i - 1)]);
	}
	out->rmse = sqrt(sum / (double)n);
	out->rel = out->length > 0 ? out->rmse / out->length : 0;
}

int sq_ate_align(const double *est, const double *ref, size_t n, struct sq_ate *out,
		 struct sq_err *err)
{
	struct sq_sim T;

	memset(out, 0, sizeof(*out));
	if (n < 3)
		return sq_error(err, SQ_ERR_INVALID, "trajectory alignment needs 3 points, got %zu",
				n);
	if (sq_sim_fit(est, ref, NULL, n, 1, &T) < 0)
		return sq_error(err, SQ_ERR_INVALID,
				"estimated trajectory is a single point: nothing to align");
	out->n = n;
	out->scale = T.s;
	memcpy(out->rot, T.R, sizeof(out->rot));
	memcpy(out->trans, T.t, sizeof(out->trans));
	measure(est, ref, n, out);
	return 0;
}

/* --- the truth ------------------------------------------------------------------ */

void sq_ate_truth_release(struct sq_ate_truth *t)
{
	free(t->t_s);
	free(t->c);
	memset(t, 0, sizeof(*t));
}

/* chapter,frame,t_s,x,y,z[,...]: returns 0 and fills the fields, -1 if malformed. */
static int csv_row(const char *line, long *chapter, double *t_s, double c[3])
{
	const char *p = line;
	double v[5];
	char *end;
	long frame;

	errno = 0;
	*chapter = strtol(p, &end, 10);
	if (end == p || *end != ',')
		return -1;
	p = end + 1;
	frame = strtol(p, &end, 10);
	if (end == p || *end != ',' || frame < 0)
		return -1;
	for (int i = 0; i < 5; i++) {
		p = end + 1;
		v[i] = strtod(p, &end);
		if (end == p || (*end != ',' && *end != '\0' && *end != '\n' && *end != '\r') ||
		    !isfinite(v[i]))
			return -1;
	}
	*t_s = v[0];
	memcpy(c, &v[1], 3 * sizeof(double));
	return errno == ERANGE ? -1 : 0;
}

int sq_ate_truth_parse(struct sq_ate_truth *t, const char *csv, int chapter, struct sq_err *err)
{
	const char *line = strchr(csv, '\n'); /* past the header */
	size_t alloc = 0;
	double t0 = 0;
	int lineno = 1;

	memset(t, 0, sizeof(*t));
	if (strncmp(csv, "chapter,frame,t_s,x,y,z", 23) != 0)
		return sq_error(
		    err, SQ_ERR_INVALID,
		    "invalid poses csv: expected a 'chapter,frame,t_s,x,y,z,...' header");
	for (; line && line[1]; line = strchr(line + 1, '\n')) {
		long ch;
		double ts, c[3];

		lineno++;
		if (csv_row(line + 1, &ch, &ts, c) < 0) {
			sq_ate_truth_release(t);
			return sq_error(err, SQ_ERR_INVALID, "invalid poses csv: line %d", lineno);
		}
		if (chapter > 0 && ch != chapter)
			continue;
		if (t->n == 0 && chapter > 0)
			t0 = ts; /* a task of this chapter alone starts its clock here */
		xgrow((void **)&t->t_s, &alloc, t->n + 1, sizeof(*t->t_s));
		t->c = xrealloc(t->c, 3 * alloc * sizeof(*t->c));
		t->t_s[t->n] = ts - t0;
		memcpy(&t->c[3 * t->n], c, sizeof(c));
		t->n++;
	}
	if (t->n == 0)
		return sq_error(err, SQ_ERR_INVALID, "poses csv has no rows for chapter %d",
				chapter);
	return 0;
}

/* Index of the truth row nearest time ts (rows sorted by time). */
static size_t nearest(const struct sq_ate_truth *t, double ts)
{
	size_t lo = 0, hi = t->n - 1;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->t_s[mid] < ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && fabs(t->t_s[lo - 1] - ts) <= fabs(t->t_s[lo] - ts))
		lo--;
	return lo;
}

static double half_interval(const struct sq_ate_truth *t)
{
	double *d = xcalloc(t->n + 1, sizeof(*d)), m;
	size_t n = 0;

	for (size_t i = 1; i < t->n; i++)
		d[n++] = t->t_s[i] - t->t_s[i - 1];
	qsort(d, n, sizeof(*d), sq_cmp_double);
	m = n ? d[n / 2] / 2 : 1e-3;
	free(d);
	return m;
}

/* Pairs every registered camera with its true pose. */
static void pair_frames(const struct sq_ate_cam *cams, size_t n, const struct sq_ate_truth *truth,
			struct sq_ate_report *rep, double *est, double *ref)
{
	double tol = half_interval(truth);

	for (size_t f = 0; f < n; f++) {
		size_t k;

		rep->frames++;
		if (!cams[f].registered)
			continue;
		rep->registered++;
		k = nearest(truth, cams[f].pts_s);
		if (fabs(truth->t_s[k] - cams[f].pts_s) > tol)
			continue;
		for (int i = 0; i < 3; i++) {
			est[3 * rep->matched + (size_t)i] = cams[f].centre[i];
			ref[3 * rep->matched + (size_t)i] = truth->c[3 * k + (size_t)i];
		}
		rep->matched++;
	}
}

int sq_ate_check(const struct sq_ate_cam *cams, size_t n, int stride,
		 const struct sq_ate_truth *truth, struct sq_ate_report *rep, struct sq_err *err)
{
	double *est = xcalloc(3 * n + 3, sizeof(*est)), *ref = xcalloc(3 * n + 3, sizeof(*ref));
	int rc = -1;

	memset(rep, 0, sizeof(*rep));
	rep->stride = stride > 0 ? stride : 1;
	if (truth->n == 0) {
		sq_error(err, SQ_ERR_INVALID, "the truth has no poses");
		goto out;
	}
	pair_frames(cams, n, truth, rep, est, ref);
	if (rep->matched < 3) {
		sq_error(err, SQ_ERR_INVALID,
			 "only %zu of %zu registered frames have a true pose at their time",
			 rep->matched, rep->registered);
		goto out;
	}
	rc = sq_ate_align(est, ref, rep->matched, &rep->ate, err);
out:
	free(est);
	free(ref);
	return rc;
}
