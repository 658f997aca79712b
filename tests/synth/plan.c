/* plan.c - lawn-mower flight plan and camera poses (see plan.h). */
#include "plan.h"
#include "noise.h"

#include <math.h>
#include <string.h>
#include "base/banned.h"

/* Fraction of the wobble amplitude given to yaw (vehicles hold heading better
 * than attitude in a swell). */
#define YAW_WOBBLE 0.6
/* The closest legs may be, as a fraction of the footprint: closer than this the
 * vehicles would be filming the same strip. */
#define SPACING_MIN 0.2

int synth_plan_init(struct synth_plan *p, const struct synth_plan_opts *o, struct sq_err *err)
{
	double inset = o->footprint_m / 2.0, span_y = o->area_h_m - 2.0 * inset;
	int n = o->vehicles;

	memset(p, 0, sizeof(*p));
	p->o = *o;
	if (span_y < 0.0)
		return sq_error(err, SQ_ERR_INVALID,
				"survey area height %g m is less than the camera footprint %.1f m",
				o->area_h_m, o->footprint_m);
	p->spacing_m = o->footprint_m * (1.0 - o->sidelap);
	if (n > 1 && (n - 1) * p->spacing_m > span_y)
		p->spacing_m = span_y / (n - 1); /* squeeze the fleet in: more overlap */
	if (n > 1 && p->spacing_m < SPACING_MIN * o->footprint_m)
		return sq_error(err, SQ_ERR_INVALID,
				"survey area height %g m is too small for %d vehicles side by side",
				o->area_h_m, n);
	p->passes = 1;
	if (n * p->spacing_m > 0.0)
		p->passes += (int)floor((span_y - (n - 1) * p->spacing_m) / (n * p->spacing_m));
	/* U-turns stay inside the area; a single pass needs none */
	p->radius_m = p->passes > 1 ? n * p->spacing_m / 2.0 : 0.0;
	p->x_start_m = inset + p->radius_m;
	p->x_end_m = o->area_w_m - inset - p->radius_m;
	if (p->x_end_m - p->x_start_m < o->footprint_m / 4.0)
		return sq_error(
		    err, SQ_ERR_INVALID,
		    "survey area width %g m is too small for legs and turns of %d vehicles",
		    o->area_w_m, n);
	p->y_first_m = inset;
	p->length_m =
	    p->passes * (p->x_end_m - p->x_start_m) + (p->passes - 1) * M_PI * p->radius_m;
	return 0;
}

double synth_plan_sidelap(const struct synth_plan *p)
{
	return 1.0 - p->spacing_m / p->o.footprint_m;
}

/* Position and heading (yaw from +x, counter-clockwise) s metres along the plan. */
static void path_at(const struct synth_plan *p, int vehicle, double s, double xy[2], double *yaw)
{
	double leg = p->x_end_m - p->x_start_m, period = leg + M_PI * p->radius_m;
	double rem, y, a;
	int pass, dir;

	s = s < 0.0 ? 0.0 : s;
	pass = (int)floor(s / period);
	if (pass >= p->passes) { /* hold at the end of the last leg */
		pass = p->passes - 1;
		s = pass * period + leg;
	}
	rem = s - pass * period;
	dir = pass % 2 == 0 ? 1 : -1;
	y = p->y_first_m + (pass * p->o.vehicles + vehicle) * p->spacing_m;
	if (rem <= leg) {
		xy[0] = dir > 0 ? p->x_start_m + rem : p->x_end_m - rem;
		xy[1] = y;
		*yaw = dir > 0 ? 0.0 : M_PI;
		return;
	}
	/* U-turn towards +y: left turn after a +x leg, right turn after a -x leg */
	a = (rem - leg) / p->radius_m;
	xy[0] = (dir > 0 ? p->x_end_m : p->x_start_m) + dir * p->radius_m * sin(a);
	xy[1] = y + p->radius_m * (1.0 - cos(a));
	*yaw = dir > 0 ? a : M_PI - a;
}

/* A smooth wobble in [-1, 1]: two incommensurate sines with seeded phases. */
static double wobble(const struct synth_plan *p, int vehicle, int axis, double t_s)
{
	uint32_t s = p->o.seed;
	double f1 = 0.09 + 0.05 * synth_hash01(s, vehicle, axis, 1);
	double f2 = 0.27 + 0.12 * synth_hash01(s, vehicle, axis, 2);
	double ph1 = 2.0 * M_PI * synth_hash01(s, vehicle, axis, 3);
	double ph2 = 2.0 * M_PI * synth_hash01(s, vehicle, axis, 4);

	return 0.6 * sin(2.0 * M_PI * f1 * t_s + ph1) + 0.4 * sin(2.0 * M_PI * f2 * t_s + ph2);
}

static void mat_mul(const double a[9], const double b[9], double out[9])
{
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			out[i * 3 + j] =
			    a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
}

/* Small attitude offset in the camera frame: yaw about z, pitch about x (the
 * across-track axis), roll about y (the along-track axis). */
static void attitude(double yaw, double pitch, double roll, double out[9])
{
	double cz = cos(yaw), sz = sin(yaw), cx = cos(pitch), sx = sin(pitch);
	double cy = cos(roll), sy = sin(roll);
	const double rz[9] = {cz, -sz, 0, sz, cz, 0, 0, 0, 1};
	const double rx[9] = {1, 0, 0, 0, cx, -sx, 0, sx, cx};
	const double ry[9] = {cy, 0, sy, 0, 1, 0, -sy, 0, cy};
	double t[9];

	mat_mul(rz, rx, t);
	mat_mul(t, ry, out);
}

/* World-from-camera rotation of a level camera heading yaw. Its columns are the
 * camera axes: x right of travel, y backwards (so the image top looks ahead),
 * z straight down. */
static void heading_frame(double yaw, double r[9])
{
	double c = cos(yaw), s = sin(yaw);

	r[0] = s; /* x_c = ( s, -c,  0) */
	r[3] = -c;
	r[6] = 0.0;
	r[1] = -c; /* y_c = (-c, -s,  0) */
	r[4] = -s;
	r[7] = 0.0;
	r[2] = 0.0; /* z_c = ( 0,  0, -1) */
	r[5] = 0.0;
	r[8] = -1.0;
}

void synth_plan_pose(const struct synth_plan *p, int vehicle, double t_s, struct synth_pose *pose)
{
	double xy[2], yaw, amp = p->o.wobble_deg * M_PI / 180.0, w[9], base[9];

	path_at(p, vehicle, p->o.speed_mps * t_s, xy, &yaw);
	heading_frame(yaw, base);
	attitude(YAW_WOBBLE * amp * wobble(p, vehicle, 0, t_s), amp * wobble(p, vehicle, 1, t_s),
		 amp * wobble(p, vehicle, 2, t_s), w);
	mat_mul(base, w, pose->r);
	pose->c[0] = xy[0];
	pose->c[1] = xy[1];
	pose->c[2] = p->o.altitude_m;
	synth_pose_quat(pose);
}
