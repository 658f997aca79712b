/* test_stitch.c - similarity algebra and fitting, the shared-camera evidence
 * of the builtin stitch read from real record files, and the descriptor
 * evidence (file, matching, RANSAC over the matches). */
#include "base/fsutil.h"
#include "cloud/register.h"
#include "cloud/siftpts.h"
#include "cloud/simil.h"
#include "stitch/stitch_internal.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include "t.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/banned.h"

static unsigned long long rng = 88172645463325252ULL;

static double urand(void) /* [0, 1) */
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

static void random_sim(struct sq_sim *T, double s)
{
	double q[4], n = 0;

	for (int i = 0; i < 4; i++) {
		q[i] = urand() - 0.5;
		n += q[i] * q[i];
	}
	for (int i = 0; i < 4; i++)
		q[i] /= sqrt(n);
	sq_quat_to_rot(q, T->R);
	T->s = s;
	for (int i = 0; i < 3; i++)
		T->t[i] = 100 * (urand() - 0.5);
}

static double sim_diff(const struct sq_sim *a, const struct sq_sim *b)
{
	double d = fabs(a->s - b->s);

	for (int i = 0; i < 9; i++)
		d = fmax(d, fabs(a->R[i] - b->R[i]));
	for (int i = 0; i < 3; i++)
		d = fmax(d, fabs(a->t[i] - b->t[i]) / 100);
	return d;
}

static void test_algebra(void)
{
	struct sq_sim A, B, AB, inv, I;
	double x[3] = {1, -2, 3}, y[3], z[3];

	random_sim(&A, 2.5);
	random_sim(&B, 0.3);
	sq_sim_compose(&A, &B, &AB);
	sq_sim_apply(&B, x, y);
	sq_sim_apply(&A, y, y);
	sq_sim_apply(&AB, x, z);
	for (int k = 0; k < 3; k++)
		T_CHECK(fabs(y[k] - z[k]) < 1e-9);
	sq_sim_invert(&AB, &inv);
	sq_sim_compose(&inv, &AB, &I);
	sq_sim_identity(&A);
	T_CHECK(sim_diff(&I, &A) < 1e-12);
	T_CHECK(fabs(sq_rot_angle_deg(A.R)) < 1e-9);
	A.R[0] = A.R[4] = -1; /* 180 degrees about z */
	T_CHECK(fabs(sq_rot_angle_deg(A.R) - 180) < 1e-9);
}

static void test_fit(void)
{
	enum { N = 40 };
	double src[3 * N], dst[3 * N], w[N];
	struct sq_sim T, F;

	random_sim(&T, 3.7);
	for (int i = 0; i < N; i++) {
		for (int k = 0; k < 3; k++)
			src[3 * i + k] = 10 * (urand() - 0.5);
		sq_sim_apply(&T, &src[3 * i], &dst[3 * i]);
		w[i] = 1;
	}
	T_EQ_INT(sq_sim_fit(src, dst, NULL, N, 1, &F), 0);
	T_CHECK(sim_diff(&T, &F) < 1e-9);
	/* gross outliers with zero weight change nothing */
	for (int i = 0; i < 5; i++) {
		dst[3 * i] += 50;
		w[i] = 0;
	}
	T_EQ_INT(sq_sim_fit(src, dst, w, N, 1, &F), 0);
	T_CHECK(sim_diff(&T, &F) < 1e-9);
	/* rigid fit keeps s = 1 */
	T_EQ_INT(sq_sim_fit(src, dst, w, N, 0, &F), 0);
	T_CHECK(F.s == 1);
	/* degenerate: too few, or one point */
	T_EQ_INT(sq_sim_fit(src, dst, NULL, 2, 1, &F), -1);
	for (int i = 0; i < N; i++)
		memcpy(&src[3 * i], src, 3 * sizeof(double));
	T_EQ_INT(sq_sim_fit(src, dst, NULL, N, 1, &F), -1);
}

/* R a == b for the shortest turns, including the parallel and opposite ends. */
static void test_rot_between(void)
{
	double cases[4][6] = {{0, 0, 1, 0, 0, 1},
			      {0, 0, 1, 0, 0, -1},
			      {1, 0, 0, 0, 1, 0},
			      {0.6, 0, 0.8, -0.48, 0.6, 0.64}};

	for (int c = 0; c < 4; c++) {
		double R[9], y[3], det;

		sq_rot_between(cases[c], cases[c] + 3, R);
		for (int k = 0; k < 3; k++)
			y[k] = R[3 * k] * cases[c][0] + R[3 * k + 1] * cases[c][1] +
			       R[3 * k + 2] * cases[c][2];
		for (int k = 0; k < 3; k++)
			T_CHECK(fabs(y[k] - cases[c][3 + k]) < 1e-12);
		det = R[0] * (R[4] * R[8] - R[5] * R[7]) - R[1] * (R[3] * R[8] - R[5] * R[6]) +
		      R[2] * (R[3] * R[7] - R[4] * R[6]);
		T_CHECK(fabs(det - 1) < 1e-12); /* a rotation, never a reflection */
	}
}

static void test_eigen(void)
{
	double A[9] = {4, 1, 0, 1, 3, 0, 0, 0, 1}, ev[3], V[9];

	sq_sym3_eigen(A, ev, V);
	T_CHECK(fabs(ev[0] - 1) < 1e-12);
	T_CHECK(ev[0] <= ev[1] && ev[1] <= ev[2]);
	for (int k = 0; k < 3; k++) { /* A v = lambda v */
		for (int r = 0; r < 3; r++) {
			double av =
			    A[3 * r] * V[k] + A[3 * r + 1] * V[3 + k] + A[3 * r + 2] * V[6 + k];

			T_CHECK(fabs(av - ev[k] * V[3 * r + k]) < 1e-9);
		}
	}
}

/* Rotation matrix to unit quaternion (w, x, y, z), for a matrix with trace > -1
 * (the test's rotations are). */
static void rot_to_quat(const double R[9], double q[4])
{
	double w = sqrt(fmax(0, 1 + R[0] + R[4] + R[8])) / 2;

	q[0] = w;
	q[1] = (R[7] - R[5]) / (4 * w);
	q[2] = (R[2] - R[6]) / (4 * w);
	q[3] = (R[3] - R[1]) / (4 * w);
}

/* Camera-to-world rotation at time t in world: a slow yaw with a small roll. */
static void world_camera(double t, double Rw[9])
{
	double q[4] = {cos(0.02 * t), 0.05 * sin(t), 0, sin(0.02 * t)}, n = 0;

	for (int k = 0; k < 4; k++)
		n += q[k] * q[k];
	for (int k = 0; k < 4; k++)
		q[k] /= sqrt(n);
	sq_quat_to_rot(q, Rw);
}

static int straight_path; /* cameras on a straight line (centres leave the roll open) */

/* A task's cameras as the stage hands them in: frames i = 0..n-1 of `video`
 * at t0 + i * dt, cameras on a curved (or straight) path with orientations,
 * seen through the similarity T (world -> this reconstruction); every 7th
 * frame from the 4th unregistered unless register_all. */
static void task_cams(struct sq_stitch_cams *out, const char *video, double t0, size_t n, double dt,
		      const struct sq_sim *T, int register_all)
{
	struct sq_stitch_cams c = {.has_q = 1, .nsources = 1};
	char *sources[1] = {(char *)video};

	c.c = xcalloc(3 * n, sizeof(*c.c));
	c.q = xcalloc(4 * n, sizeof(*c.q));
	c.t = xcalloc(n, sizeof(*c.t));
	c.src = xcalloc(n, sizeof(*c.src));
	c.sources = sources;
	for (size_t i = 0; i < n; i++) {
		double t = t0 + (double)i * dt, Rw[9], Rc[9];
		double w[3] = {t, straight_path ? 0 : 3 * sin(t / 4), straight_path ? 0 : 0.2 * t};

		if (!register_all && i % 7 == 3)
			continue;
		sq_sim_apply(T, w, &c.c[3 * c.n]);
		world_camera(t, Rw);
		for (int r = 0; r < 3; r++)
			for (int k = 0; k < 3; k++)
				Rc[3 * r + k] = T->R[3 * r] * Rw[k] + T->R[3 * r + 1] * Rw[3 + k] +
						T->R[3 * r + 2] * Rw[6 + k];
		rot_to_quat(Rc, &c.q[4 * c.n]);
		c.t[c.n] = t;
		c.src[c.n++] = 0;
	}
	stitch_cams_copy(out, &c);
	c.sources = NULL;
	c.nsources = 0;
	sq_stitch_cams_release(&c);
}

static double rot_error_deg(const struct sq_sim *a, const struct sq_sim *b)
{
	double M[9];

	for (int r = 0; r < 3; r++) /* a.R * b.R^T */
		for (int k = 0; k < 3; k++)
			M[3 * r + k] = a->R[3 * r] * b->R[3 * k] +
				       a->R[3 * r + 1] * b->R[3 * k + 1] +
				       a->R[3 * r + 2] * b->R[3 * k + 2];
	return sq_rot_angle_deg(M);
}

/* Centres on a straight line fix neither the roll about it nor, alone, the fit:
 * the cameras' orientations must. */
static void test_straight_track(void)
{
	struct sq_stitch_cams a, b;
	struct sq_sim Ta, Tb, want, inv, F;
	struct stitch_pairs sp;
	double rel = 1;

	straight_path = 1;
	random_sim(&Ta, 1.3);
	random_sim(&Tb, 0.2);
	task_cams(&a, "/v/ch02.mp4", 0, 37, 1.0 / 3, &Ta, 1);
	task_cams(&b, "/v/ch02.mp4", 9.1, 64, 1.0 / 3, &Tb, 1);
	straight_path = 0;
	T_CHECK(a.has_q && b.has_q);
	stitch_cams_shared(&a, &b, &sp);
	T_CHECK(sp.ra != NULL && sp.n >= 8);
	T_EQ_INT(stitch_cams_fit(&sp, &F, &rel), 0);
	sq_sim_invert(&Ta, &inv);
	sq_sim_compose(&Tb, &inv, &want);
	T_CHECK(rot_error_deg(&F, &want) < 0.05);
	T_CHECK(fabs(F.s / want.s - 1) < 1e-4);
	stitch_pairs_release(&sp);
	sq_stitch_cams_release(&a);
	sq_stitch_cams_release(&b);
}

static void test_shared_cameras(void)
{
	struct sq_stitch_cams a, b, c;
	struct sq_sim Ta, Tb, want, inv, F;
	struct stitch_pairs sp;
	double rel = 1;

	random_sim(&Ta, 0.4);
	random_sim(&Tb, 7.0);
	/* a: 0..12 s at 3 fps; b: 9..30 s at 3 fps, sampled off a's grid */
	task_cams(&a, "/v/ch02.mp4", 0, 37, 1.0 / 3, &Ta, 0);
	task_cams(&b, "/v/ch02.mp4", 9.1, 64, 1.0 / 3, &Tb, 1);
	task_cams(&c, "/v/other.mp4", 9.1, 64, 1.0 / 3, &Tb, 1);
	T_EQ_INT(a.n, 37 - 5); /* every 7th frame from the 4th is unregistered */
	T_CHECK(fabs(stitch_cams_dt(&b) - 1.0 / 3) < 1e-6);
	stitch_cams_shared(&a, &b, &sp);
	T_CHECK(sp.n >= 7 && sp.n <= 9); /* a's registered frames from 9.1 to 12 s */
	T_EQ_INT(stitch_cams_fit(&sp, &F, &rel), 0);
	sq_sim_invert(&Ta, &inv);
	sq_sim_compose(&Tb, &inv, &want); /* a -> world -> b */
	/* interpolation on a curve leaves a small error, far below 1 % */
	T_CHECK(fabs(F.s / want.s - 1) < 0.01);
	T_CHECK(rel < 0.01);
	T_CHECK(rot_error_deg(&F, &want) < 0.2);
	stitch_pairs_release(&sp);
	stitch_cams_shared(&a, &c, &sp);
	T_EQ_INT(sp.n, 0); /* another video: nothing shared */
	stitch_pairs_release(&sp);
	sq_stitch_cams_release(&a);
	sq_stitch_cams_release(&b);
	sq_stitch_cams_release(&c);
	/* no cameras handed in: none */
	stitch_cams_copy(&a, NULL);
	T_EQ_INT(a.n, 0);
	sq_stitch_cams_release(&a);
}

/* A SIFT-like byte vector: unit length scaled by 512, clipped at 255. */
static void random_desc(uint8_t d[SQ_SIFT_DIM], const uint8_t *near, double noise)
{
	double v[SQ_SIFT_DIM], len = 0;

	for (int k = 0; k < SQ_SIFT_DIM; k++) {
		v[k] = near ? near[k] + noise * (urand() - 0.5) : urand() * urand() * 100;
		v[k] = v[k] < 0 ? 0 : v[k];
		len += v[k] * v[k];
	}
	for (int k = 0; k < SQ_SIFT_DIM; k++) {
		double x = 512 * v[k] / sqrt(len);

		d[k] = (uint8_t)(x > 255 ? 255 : x);
	}
}

/* The file: what is written is read back bit for bit; a missing file is no
 * error, a truncated or foreign one is, naming the file. */
static void test_sift_file(const char *tmp)
{
	struct sq_siftpts s = {0}, r;
	char *path = xasprintf("%s/t.sift", tmp), *bad = xasprintf("%s/bad.sift", tmp);
	struct sq_err err = {0};
	char *text;
	size_t len;

	for (int i = 0; i < 100; i++) {
		float p[3] = {(float)urand(), -1e-30f * i, 3e30f};
		uint8_t d[SQ_SIFT_DIM];

		random_desc(d, NULL, 0);
		sq_siftpts_push(&s, p, d);
	}
	T_EQ_INT(sq_siftpts_write(&s, path, &err), 0);
	T_EQ_INT(sq_siftpts_read(&r, path, &err), 1);
	T_EQ_INT(r.n, 100);
	T_CHECK(memcmp(r.xyz, s.xyz, 300 * sizeof(float)) == 0);
	T_CHECK(memcmp(r.desc, s.desc, 100 * SQ_SIFT_DIM) == 0);
	sq_siftpts_release(&r);
	T_EQ_INT(sq_siftpts_read(&r, bad, &err), 0);
	T_EQ_INT(r.n, 0);
	text = sq_read_file(path, &len, &err);
	T_CHECK(text != NULL);
	T_EQ_INT(sq_write_file_atomic(bad, text, len - 5, &err), 0);
	T_EQ_INT(sq_siftpts_read(&r, bad, &err), -1);
	T_CONTAINS(err.msg, "bad.sift");
	T_CONTAINS(err.msg, "truncated at point 99 of 100");
	T_EQ_INT(sq_write_file_atomic(bad, "ply\nformat ascii 1.0\n", 21, &err), 0);
	T_EQ_INT(sq_siftpts_read(&r, bad, &err), -1);
	T_CONTAINS(err.msg, "not a scanq descriptor file");
	free(text);
	sq_siftpts_release(&s);
	free(path);
	free(bad);
}

/* Two inputs that saw 300 of the same points (descriptors with noise, the
 * second in its own frame), each with 700 of its own: the matches are mostly
 * the shared points, and RANSAC over them recovers the similarity. */
static void test_sift_match(void)
{
	struct sq_siftpts a = {0}, b = {0};
	struct sq_sim T;
	struct stitch_matches m;
	struct sq_reg_candidates c;
	struct sq_reg_global_opts go = {.scale_lo = 0.1, .scale_hi = 10, .seed = 1};
	size_t right = 0;

	random_sim(&T, 2.5);
	for (int i = 0; i < 1000; i++) { /* a: 300 shared first, then its own */
		float p[3] = {(float)(20 * urand()), (float)(20 * urand()), (float)urand()};
		uint8_t d[SQ_SIFT_DIM], e[SQ_SIFT_DIM];

		random_desc(d, NULL, 0);
		sq_siftpts_push(&a, p, d);
		if (i < 300) { /* b sees it too, in its own frame, in another order */
			double q[3] = {p[0], p[1], p[2]};
			float f[3];

			sq_sim_apply(&T, q, q);
			for (int k = 0; k < 3; k++)
				f[k] = (float)(q[k] + 0.02 * (urand() - 0.5));
			random_desc(e, d, 12);
			sq_siftpts_push(&b, f, e);
		}
	}
	for (int i = 0; i < 700; i++) {
		float p[3] = {(float)(100 * urand()), (float)(100 * urand()), (float)urand()};
		uint8_t d[SQ_SIFT_DIM];

		random_desc(d, NULL, 0);
		sq_siftpts_push(&b, p, d);
	}
	stitch_sift_match(&a, &b, &m);
	for (size_t k = 0; k < m.n; k++)
		right += m.a[k] == m.b[k];
	T_CHECK(m.n >= 250 && right >= m.n * 95 / 100);
	{
		struct sq_cloud ca = {.n = a.n, .xyz = a.xyz}, cb = {.n = b.n, .xyz = b.xyz};

		T_EQ_INT(sq_reg_global_matched(&ca, 0.05, &cb, 0.125, m.a, m.b, m.n, &go, &c), 0);
		T_CHECK(c.n >= 1 && c.inliers[0] >= right * 9 / 10);
		T_CHECK(c.n >= 1 && sim_diff(&c.T[0], &T) < 2e-3);
	}
	stitch_matches_release(&m);
	/* an input beyond the matching cap is matched by every k-th point, and
	 * the matches still name its own points */
	for (int i = 0; i < 19000; i++) {
		float p[3] = {(float)(20 * urand()), (float)(20 * urand()), (float)urand()};
		uint8_t d[SQ_SIFT_DIM];

		random_desc(d, NULL, 0);
		sq_siftpts_push(&a, p, d);
	}
	stitch_sift_match(&a, &b, &m);
	right = 0;
	for (size_t k = 0; k < m.n; k++)
		right += m.a[k] == m.b[k] && m.a[k] % 2 == 0;
	T_CHECK(m.n >= 120 && m.n <= 160 && right >= m.n * 95 / 100);
	stitch_matches_release(&m);
	sq_siftpts_release(&a);
	sq_siftpts_release(&b);
}

/* Matches across a long, narrow strip (30 x 3 m) where a fifth are wrong in
 * one way: on one side of the strip, 0.3 m above their true targets, inside
 * RANSAC's 1.5-voxel distance. A least-squares fit over everything RANSAC
 * keeps tilts about the strip's axis (a 2-vehicle survey showed 1.4 degrees);
 * the placement must come out within 0.05 degree. */
static void test_polish(void)
{
	struct sq_cloud a = {0}, b = {0};
	size_t n = 1250, *ia = xcalloc(n, sizeof(*ia)), *ib = xcalloc(n, sizeof(*ib));
	struct sq_sim T, E;
	struct sq_reg_candidates c;
	struct sq_reg_global_opts go = {.scale_lo = 0.5, .scale_hi = 2, .seed = 3};
	double M[9];

	random_sim(&T, 1.3);
	sq_cloud_init(&a, 0, 0);
	sq_cloud_init(&b, 0, 0);
	for (size_t i = 0; i < n; i++) {
		double p[3] = {30 * urand(), 3 * urand(), 0.2 * urand()}, q[3];
		float pf[3], qf[3];

		sq_sim_apply(&T, p, q);
		if (i % 5 == 0 && p[1] > 1.5) /* a wrong match, biased */
			for (int k = 0; k < 3; k++)
				q[k] += 0.3 * T.s * T.R[3 * k + 2];
		for (int k = 0; k < 3; k++) {
			pf[k] = (float)p[k];
			qf[k] = (float)(q[k] + 0.01 * (urand() - 0.5));
		}
		sq_cloud_push(&a, pf, NULL, NULL);
		sq_cloud_push(&b, qf, NULL, NULL);
		ia[i] = ib[i] = i;
	}
	T_EQ_INT(sq_reg_global_matched(&a, 0.3, &b, 0.3 * T.s, ia, ib, n, &go, &c), 0);
	if (c.n > 0) {
		sq_sim_invert(&T, &E);
		sq_sim_compose(&E, &c.T[0], &E);
		memcpy(M, E.R, sizeof(M));
		T_CHECK(sq_rot_angle_deg(M) < 0.05);
		if (!(sq_rot_angle_deg(M) < 0.05))
			fprintf(stderr, "polish: %.3f deg off\n", sq_rot_angle_deg(M));
	}
	sq_cloud_release(&a);
	sq_cloud_release(&b);
	free(ia);
	free(ib);
}

int main(void)
{
	const char *tmp = getenv("SCANQ_TMP");

	if (!tmp) {
		fprintf(stderr, "SCANQ_TMP is not set (run through tests/run-test)\n");
		return 1;
	}
	test_algebra();
	test_fit();
	test_eigen();
	test_rot_between();
	test_shared_cameras();
	test_straight_track();
	test_sift_file(tmp);
	test_sift_match();
	test_polish();
	return t_done();
}
