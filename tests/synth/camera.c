/* camera.c - pinhole with radial distortion; rotation to quaternion (see camera.h). */
#include "camera.h"

#include <math.h>
#include "base/banned.h"

/* Distortion is inverted by fixed-point iteration; these bound it. */
#define UNDISTORT_ITERS 50
#define UNDISTORT_TOL 1e-12

static int undistort(double k1, double xd, double yd, double *xu, double *yu)
{
	double x = xd, y = yd;

	for (int i = 0; i < UNDISTORT_ITERS; i++) {
		double s = 1.0 + k1 * (x * x + y * y);
		double nx = xd / s, ny = yd / s;
		double step = fabs(nx - x) + fabs(ny - y);

		x = nx;
		y = ny;
		if (step < UNDISTORT_TOL)
			break;
	}
	*xu = x;
	*yu = y;
	/* converged to a true inverse? */
	return fabs(x * (1.0 + k1 * (x * x + y * y)) - xd) < 1e-9 ? 0 : -1;
}

int synth_camera_init(struct synth_camera *cam, int width, int height, double hfov_deg, double k1,
		      struct sq_err *err)
{
	double xu, yu, r2;

	cam->width = width;
	cam->height = height;
	cam->fx = cam->fy = (width / 2.0) / tan(hfov_deg * M_PI / 360.0);
	cam->cx = width / 2.0;
	cam->cy = height / 2.0;
	cam->k1 = k1;
	if (undistort(k1, cam->cx / cam->fx, cam->cy / cam->fy, &xu, &yu) < 0)
		goto bad;
	r2 = xu * xu + yu * yu;
	/* radius must grow monotonically out to the corner, or pixels fold over */
	if (1.0 + 3.0 * k1 * r2 <= 0.05)
		goto bad;
	return 0;
bad:
	return sq_error(err, SQ_ERR_INVALID,
			"distortion k1 %g is too strong for a %g degree field of view", k1,
			hfov_deg);
}

void synth_camera_ray(const struct synth_camera *cam, double u, double v, double *xn, double *yn)
{
	undistort(cam->k1, (u - cam->cx) / cam->fx, (v - cam->cy) / cam->fy, xn, yn);
}

int synth_camera_project(const struct synth_camera *cam, const double p_cam[3], double *u,
			 double *v)
{
	double x, y, s;

	if (p_cam[2] <= 1e-9)
		return -1;
	x = p_cam[0] / p_cam[2];
	y = p_cam[1] / p_cam[2];
	s = 1.0 + cam->k1 * (x * x + y * y);
	*u = cam->fx * x * s + cam->cx;
	*v = cam->fy * y * s + cam->cy;
	return 0;
}

void synth_pose_quat(struct synth_pose *pose)
{
	const double *m = pose->r;
	double tr = m[0] + m[4] + m[8], w, x, y, z, s, n;

	/* Shepperd: divide by the largest of the four candidates for stability */
	if (tr > 0.0) {
		s = 2.0 * sqrt(1.0 + tr);
		w = 0.25 * s;
		x = (m[7] - m[5]) / s;
		y = (m[2] - m[6]) / s;
		z = (m[3] - m[1]) / s;
	} else if (m[0] > m[4] && m[0] > m[8]) {
		s = 2.0 * sqrt(1.0 + m[0] - m[4] - m[8]);
		w = (m[7] - m[5]) / s;
		x = 0.25 * s;
		y = (m[1] + m[3]) / s;
		z = (m[2] + m[6]) / s;
	} else if (m[4] > m[8]) {
		s = 2.0 * sqrt(1.0 + m[4] - m[0] - m[8]);
		w = (m[2] - m[6]) / s;
		x = (m[1] + m[3]) / s;
		y = 0.25 * s;
		z = (m[5] + m[7]) / s;
	} else {
		s = 2.0 * sqrt(1.0 + m[8] - m[0] - m[4]);
		w = (m[3] - m[1]) / s;
		x = (m[2] + m[6]) / s;
		y = (m[5] + m[7]) / s;
		z = 0.25 * s;
	}
	n = (w < 0.0 ? -1.0 : 1.0) / sqrt(w * w + x * x + y * y + z * z);
	pose->q[0] = w * n;
	pose->q[1] = x * n;
	pose->q[2] = y * n;
	pose->q[3] = z * n;
}
