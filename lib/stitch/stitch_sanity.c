/* stitch_sanity.c - whether an input is a surface the stitch can measure at
 * all (see stitch_run.h).
 *
 * A backend that fails can still write a cloud: every point at one place (a
 * GPU model writing zeros), coordinates near 1e37 or 1e-40, NaN, a handful of
 * points, points on a line. Such an input is left out of the stitch with the
 * reason, before any distance between its points is squared in single
 * precision (where 1e37 overflows and 1e-40 vanishes), never handed to the
 * geometry. */
#include "stitch/stitch_run.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "base/banned.h"

#define MIN_POINTS 16	  /* finite points an input needs */
#define COORD_MAX 1e15	  /* beyond, squared distances overflow single precision */
#define SPAN_MIN 1e-15	  /* below, they vanish */
#define SPAN_MIN_REL 1e-5 /* a span this small beside the coordinates: rounding */
#define LINE_SPREAD 1e-6  /* second spread under this share of the first: a line */
#define UNUSABLE_RANK 5	  /* stitch_note's ranks: an unusable input says so first */

static void unusable(struct stitch_part *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void unusable(struct stitch_part *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
	v->why_rank = UNUSABLE_RANK;
	v->unusable = 1;
}

int stitch_check_sample(struct stitch_part *v)
{
	double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
	double reach = 0, span = 0;

	if (v->sample.n < MIN_POINTS) {
		unusable(v, "it has %zu finite points of %zu: too few to place", v->sample.n,
			 v->points);
		return -1;
	}
	for (size_t i = 0; i < v->sample.n; i++)
		for (int k = 0; k < 3; k++) {
			double x = v->sample.xyz[3 * i + (size_t)k];

			lo[k] = fmin(lo[k], x), hi[k] = fmax(hi[k], x);
			reach = fmax(reach, fabs(x));
		}
	for (int k = 0; k < 3; k++)
		span = fmax(span, hi[k] - lo[k]);
	if (reach > COORD_MAX)
		unusable(v,
			 "its coordinates reach %.3g: beyond +-%.0g, where single-precision "
			 "positions cannot be measured",
			 reach, COORD_MAX);
	else if (span == 0)
		unusable(v, "all its %zu points are at one place (%g, %g, %g)", v->points, lo[0],
			 lo[1], lo[2]);
	else if (span < fmax(SPAN_MIN, SPAN_MIN_REL * reach))
		unusable(v,
			 "its points span %.3g around %.3g: too little to measure in single "
			 "precision",
			 span, reach);
	return v->unusable ? -1 : 0;
}

void stitch_check_spread(struct stitch_part *v)
{
	double m[3], ev[3], V[9];

	sq_cloud_pca(&v->sample, m, ev, V);
	if (!(v->spacing > 0) || !isfinite(v->spacing))
		unusable(v, "most of its points coincide (spacing %g)", v->spacing);
	else if (!(ev[1] > LINE_SPREAD * ev[2]))
		unusable(v, "its points lie on a line, not a surface");
}
