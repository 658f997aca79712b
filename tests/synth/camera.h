/* camera.h - the pinhole camera of the synthetic survey and its poses.
 *
 * Conventions (those of COLMAP and OpenCV, written to truth/<vehicle>-poses.csv):
 * camera frame x right, y down, z forward (the viewing direction); pixel (i, j)
 * covers [i, i+1) x [j, j+1), so the centre of the top-left pixel is (0.5, 0.5);
 * distortion is COLMAP's SIMPLE_RADIAL: distorted = undistorted * (1 + k1 r^2)
 * on normalised coordinates. World frame: x east, y north, z up, metres. */
#ifndef SYNTH_CAMERA_H
#define SYNTH_CAMERA_H

#include "base/err.h"

struct synth_camera {
	int width, height;
	double fx, fy, cx, cy; /* pixels */
	double k1;
};

/* A camera pose: world = r * camera + c. */
struct synth_pose {
	double c[3]; /* camera centre in the world, metres */
	double r[9]; /* world-from-camera rotation, row-major */
	double q[4]; /* the same rotation as a unit quaternion qw, qx, qy, qz (qw >= 0) */
};

/* Square pixels, principal point at the image centre, focal length from the
 * horizontal field of view (degrees). Fails when k1 folds the image over
 * (the distortion must stay invertible out to the corners). */
int synth_camera_init(struct synth_camera *cam, int width, int height, double hfov_deg, double k1,
		      struct sq_err *err);

/* Undistorted normalised coordinates (x/z, y/z) of the ray through pixel
 * position (u, v) (continuous, pixel centres at +0.5). */
void synth_camera_ray(const struct synth_camera *cam, double u, double v, double *xn, double *yn);

/* Projects a point given in the camera frame; returns 0 and sets (u, v), or -1
 * when the point is behind the camera. */
int synth_camera_project(const struct synth_camera *cam, const double p_cam[3], double *u,
			 double *v);

/* Fills pose->q from pose->r. */
void synth_pose_quat(struct synth_pose *pose);

#endif
