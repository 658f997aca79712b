/* simil.h - similarity transforms (scale, rotation, translation) in 3-D.
 *
 * y = s * R * x + t, R row-major. Every reconstruction lives in its own frame
 * (monocular video has no metric scale), so placing one into another is a
 * similarity, not a rigid motion. */
#ifndef SQ_SIMIL_H
#define SQ_SIMIL_H

#include <stddef.h>

struct sq_sim {
	double s;
	double R[9];
	double t[3];
};

void sq_sim_identity(struct sq_sim *T);
void sq_sim_apply(const struct sq_sim *T, const double x[3], double y[3]);
/* out = a after b: out(x) = a(b(x)). out may alias a or b. */
void sq_sim_compose(const struct sq_sim *a, const struct sq_sim *b, struct sq_sim *out);
void sq_sim_invert(const struct sq_sim *T, struct sq_sim *out);
/* Angle of the rotation R, in degrees, 0..180. */
double sq_rot_angle_deg(const double R[9]);
/* Rotation by angle th (radians) about the unit axis u (Rodrigues). */
void sq_rot_axis_angle(const double u[3], double th, double R[9]);
/* The shortest rotation taking unit vector a onto unit vector b (half a turn
 * about some normal of a when they are opposite). */
void sq_rot_between(const double a[3], const double b[3], double R[9]);
/* Unit quaternion (w, x, y, z) to rotation matrix. */
void sq_quat_to_rot(const double q[4], double R[9]);

/* Least-squares similarity taking src[i] onto dst[i] (3n values each), weights w
 * (NULL: all 1). with_scale 0 fixes s = 1 (rigid). Solved with Horn's quaternion
 * method, so never a reflection. Returns -1 when the points are degenerate (fewer
 * than 3, or all on one point), else 0. */
int sq_sim_fit(const double *src, const double *dst, const double *w, size_t n, int with_scale,
	       struct sq_sim *out);

/* Eigen-decomposition of the symmetric 3x3 matrix A (Jacobi): eigenvalues in
 * ascending order, eigenvector k in column k of V. */
void sq_sym3_eigen(const double A[9], double eval[3], double V[9]);

#endif
