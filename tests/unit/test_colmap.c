/* test_colmap.c - the colmap backend's model parsers and judge, the RAM-aware
 * stride, and trajectory error (ate.h), on small hand-written inputs. The real
 * colmap program runs in tests/cli/colmap.sh. */
#include "cloud/ate.h"
#include "stage/colmap.h"
#include "stage/record.h"
#include "base/fsutil.h"
#include "base/strbuf.h"
#include "stage/stride.h"
#include "base/xalloc.h"
#include "t.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEAR(a, b, tol) T_CHECK(fabs((double)(a) - (double)(b)) <= (tol))

/* --- parsers ---------------------------------------------------------------------- */

static const char cameras_txt[] =
    "# Camera list with one line of data per camera:\n"
    "#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]\n"
    "# Number of cameras: 1\n"
    "1 OPENCV 480 270 239.2 239.5 240 135 -0.0021 -0.0002 -0.0006 -0.0003\n";

/* Two images; the second has no keypoints at all (an empty line). */
static const char images_txt[] =
    "# Image list with two lines of data per image:\n"
    "#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME\n"
    "#   POINTS2D[] as (X, Y, POINT3D_ID)\n"
    "# Number of images: 2, mean observations per image: 1\n"
    "7 0.70710678118654757 0 0 0.70710678118654746 1 2 3 1 frame_000002.jpg\n"
    "10.5 20.25 4 11 12 -1 13.5 14 5\n"
    "3 1 0 0 0 -0.5 0 0 1 frame 10.jpg\n"
    "\n";

static const char points_txt[] =
    "# 3D point list with one line of data per point:\n"
    "#   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)\n"
    "4 1.5 -2 3.25 120 130 112 0.25 7 0 3 5 9 1\n"
    "5 0 0 1 1 2 3 0.75 7 2 3 6\n";

static void test_parse(void)
{
	struct sq_colmap_model m = {0};
	struct sq_err err = {SQ_OK, ""};

	T_EQ_INT(sq_colmap_parse_cameras(&m, cameras_txt, &err), 0);
	T_EQ_INT(sq_colmap_parse_images(&m, images_txt, &err), 0);
	T_EQ_INT(sq_colmap_parse_points(&m, points_txt, &err), 0);
	T_EQ_INT(m.ncameras, 1);
	T_EQ_STR(m.cameras[0].model, "OPENCV");
	T_EQ_INT(m.cameras[0].width, 480);
	T_EQ_INT(m.cameras[0].nparams, 8);
	NEAR(m.cameras[0].params[1], 239.5, 1e-12);
	T_EQ_INT(m.nimages, 2);
	if (m.nimages == 2) {
		T_EQ_INT(m.images[0].id, 7);
		T_EQ_STR(m.images[0].name, "frame_000002.jpg");
		T_EQ_INT(m.images[0].observations, 2); /* the -1 keypoint has no 3D point */
		NEAR(m.images[0].t[2], 3, 0);
		T_EQ_STR(m.images[1].name, "frame 10.jpg"); /* names may hold blanks */
		T_EQ_INT(m.images[1].observations, 0);
	}
	T_EQ_INT(m.npoints, 2);
	if (m.npoints == 2) {
		T_EQ_INT(m.points[0].track, 3);
		NEAR(m.points[0].xyz[2], 3.25, 0);
		NEAR(m.points[1].error_px, 0.75, 0);
		T_EQ_INT(m.points[1].track, 2);
	}
	sq_colmap_model_release(&m);
}

static void expect_parse_error(int (*parse)(struct sq_colmap_model *, const char *,
					    struct sq_err *),
			       const char *text, const char *needle)
{
	struct sq_colmap_model m = {0};
	struct sq_err err = {SQ_OK, ""};

	T_EQ_INT(parse(&m, text, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_BACKEND);
	T_CONTAINS(err.msg, needle);
	sq_colmap_model_release(&m);
}

static void test_parse_errors(void)
{
	expect_parse_error(sq_colmap_parse_cameras, "# c\n1 OPENCV 480\n", "cameras.txt: line 2");
	expect_parse_error(sq_colmap_parse_images, "1 1 0 0 0 0 0 0 1\n\n", "images.txt: line 1");
	expect_parse_error(sq_colmap_parse_images, "#\n1 1 0 0 0 0 0 0 1 a.jpg\n1.0 2.0\n",
			   "images.txt: line 3: expected keypoints");
	expect_parse_error(sq_colmap_parse_points, "1 0 0 0 1 2 3 0.5 7 1\n2 0 0 x 1 2 3 0.5 7 1\n",
			   "points3D.txt: line 2");
	expect_parse_error(sq_colmap_parse_points, "1 0 0 0 1 2 3 0.5 7 1 8\n",
			   "points3D.txt: line 1"); /* a track entry is a pair */
}

/* images.txt stores world-to-camera: the centre is -R^T t and the recorded
 * rotation is the inverse. q here: 90 degrees about z. */
static void test_image_pose(void)
{
	struct sq_colmap_image im = {.q = {M_SQRT1_2, 0, 0, M_SQRT1_2}, .t = {1, 2, 3}};
	double c[3], q[4];

	sq_colmap_image_pose(&im, c, q);
	NEAR(c[0], -2, 1e-12);
	NEAR(c[1], 1, 1e-12);
	NEAR(c[2], -3, 1e-12);
	NEAR(q[0], M_SQRT1_2, 1e-12);
	NEAR(q[3], -M_SQRT1_2, 1e-12);
	im.q[0] = -M_SQRT1_2; /* -q is the same rotation: qw >= 0 either way */
	im.q[3] = -M_SQRT1_2;
	sq_colmap_image_pose(&im, c, q);
	NEAR(q[0], M_SQRT1_2, 1e-12);
	NEAR(q[3], -M_SQRT1_2, 1e-12);
	NEAR(c[0], -2, 1e-12);
}

/* --- judging ---------------------------------------------------------------------- */

#define NFRAMES 40

static double lcg(unsigned *s) /* deterministic noise in [-1, 1] */
{
	*s = *s * 1103515245u + 12345u;
	return ((double)((*s >> 8) & 0xffff) / 32767.5) - 1;
}

/* A model as COLMAP writes it: cameras at centres[i] (identity rotation, so
 * t = -c) named frame_%06d.jpg for the frames in `present`, and a 20 x 15 grid
 * of points on a 12 m x 8 m patch seen by `track` images with `error` px. */
static void make_model(struct sq_colmap_model *m, const double (*centres)[3], const int *present,
		       int track, double error)
{
	struct sq_strbuf im = SQ_STRBUF_INIT, pt = SQ_STRBUF_INIT;
	struct sq_err err = {SQ_OK, ""};

	memset(m, 0, sizeof(*m));
	for (int i = 0; i < NFRAMES; i++)
		if (present[i])
			sq_strbuf_addf(&im, "%d 1 0 0 0 %.6f %.6f %.6f 1 frame_%06d.jpg\n\n", i + 1,
				       -centres[i][0], -centres[i][1], -centres[i][2], i + 1);
	for (int y = 0; y < 15; y++)
		for (int x = 0; x < 20; x++) {
			sq_strbuf_addf(&pt, "%d %.3f %.3f %.3f 9 9 9 %.3f", y * 20 + x, x * 0.6,
				       y * 0.55 - 2, 0.1 * ((x * y) % 3), error);
			for (int k = 0; k < track; k++)
				sq_strbuf_addf(&pt, " %d %d", k + 1, y * 20 + x);
			sq_strbuf_addch(&pt, '\n');
		}
	T_EQ_INT(sq_colmap_parse_cameras(m, cameras_txt, &err), 0);
	T_EQ_INT(sq_colmap_parse_images(m, im.buf, &err), 0);
	T_EQ_INT(sq_colmap_parse_points(m, pt.buf, &err), 0);
	sq_strbuf_release(&im);
	sq_strbuf_release(&pt);
}

/* A vehicle flying along x at 0.25 m per frame, 6 m above the patch. */
static void smooth_path(double (*c)[3])
{
	unsigned s = 7;

	for (int i = 0; i < NFRAMES; i++) {
		c[i][0] = 1 + 0.25 * i + 0.01 * lcg(&s);
		c[i][1] = 2 + 0.01 * lcg(&s);
		c[i][2] = 6 + 0.01 * lcg(&s);
	}
}

struct judged {
	struct sq_colmap_quality q;
	struct sq_err err;
	int rc;
};

static struct judged judge(const double (*centres)[3], const int *present, int track, double error,
			   int min_pct)
{
	char *names[NFRAMES];
	struct sq_colmap_pose poses[NFRAMES];
	struct sq_colmap_model m;
	struct judged j = {.err = {SQ_OK, ""}};

	for (int i = 0; i < NFRAMES; i++)
		names[i] = xasprintf("frame_%06d.jpg", i + 1);
	make_model(&m, centres, present, track, error);
	sq_colmap_assess(&m, (const char *const *)names, NFRAMES, poses, &j.q);
	j.rc = sq_colmap_judge(&j.q, min_pct, &j.err);
	if (present[3]) {
		T_EQ_INT(poses[3].registered, 1);
		NEAR(poses[3].centre[0], centres[3][0], 1e-5);
		NEAR(poses[3].q[0], 1, 1e-12);
	}
	for (int i = 0; i < NFRAMES; i++)
		free(names[i]);
	sq_colmap_model_release(&m);
	return j;
}

static void all_present(int *present)
{
	for (int i = 0; i < NFRAMES; i++)
		present[i] = 1;
}

static void test_judge_good(void)
{
	double c[NFRAMES][3];
	int present[NFRAMES];
	struct judged j;

	smooth_path(c);
	all_present(present);
	present[17] = 0; /* a frame COLMAP could not place */
	j = judge((const double(*)[3])c, present, 6, 0.4, 90);
	if (j.rc)
		fprintf(stderr, "good model judged bad: %s\n", j.err.msg);
	T_EQ_INT(j.rc, 0);
	T_EQ_INT(j.q.frames, NFRAMES);
	T_EQ_INT(j.q.registered, NFRAMES - 1);
	T_EQ_INT(j.q.points, 300);
	NEAR(j.q.mean_track, 6, 1e-12);
	NEAR(j.q.mean_reproj_px, 0.4, 1e-9);
	NEAR(j.q.median_step, 0.25, 0.02); /* per frame, across the gap too */
	NEAR(j.q.jump_share, 0, 0);
	T_CHECK(j.q.scene_extent > 11 && j.q.scene_extent < 15);
	T_CHECK(j.q.path_extent > 8 && j.q.path_extent < 10);
}

/* The flat-test-pattern failure: every frame "registered", cameras anywhere. */
static void test_judge_scattered(void)
{
	double c[NFRAMES][3];
	int present[NFRAMES];
	unsigned s = 99;
	struct judged j;

	for (int i = 0; i < NFRAMES; i++)
		for (int k = 0; k < 3; k++)
			c[i][k] = 60 * lcg(&s);
	all_present(present);
	j = judge((const double(*)[3])c, present, 6, 0.4, 90);
	T_EQ_INT(j.rc, -1);
	T_EQ_INT(j.err.code, SQ_ERR_BACKEND);
	T_CONTAINS(j.err.msg, "colmap reconstruction rejected: camera path spans");
	T_CONTAINS(j.err.msg, "of the scene per frame (limit 25%)");
	T_CONTAINS(j.err.msg, "[registered 40/40 frames, 300 points, track 6.0, reprojection "
			      "0.40 px");
}

/* A smooth path with every fifth camera thrown far away. */
static void test_judge_jumps(void)
{
	double c[NFRAMES][3];
	int present[NFRAMES];
	struct judged j;

	smooth_path(c);
	for (int i = 2; i < NFRAMES; i += 5)
		c[i][2] += 40;
	all_present(present);
	j = judge((const double(*)[3])c, present, 6, 0.4, 50);
	T_EQ_INT(j.rc, -1);
	T_CONTAINS(j.err.msg, "of camera moves are jumps (limit 10%)");
	NEAR(j.q.jump_share, 16.0 / 39, 1e-9);
}

static void test_judge_weak(void)
{
	double c[NFRAMES][3];
	int present[NFRAMES];
	struct judged j;

	smooth_path(c);
	all_present(present);
	for (int i = 0; i < NFRAMES; i += 2)
		present[i] = 0;
	j = judge((const double(*)[3])c, present, 2, 3.5, 60);
	T_EQ_INT(j.rc, -1);
	T_CONTAINS(j.err.msg, "50% of frames registered (need 60%)");
	T_CONTAINS(j.err.msg, "points seen by 2.0 frames on average (need 2.5)");
	T_CONTAINS(j.err.msg, "reprojection error 3.50 px (limit 2.0)");
	/* the same model passes a lower bar on registration, not on the rest */
	j = judge((const double(*)[3])c, present, 6, 0.5, 40);
	T_EQ_INT(j.rc, 0);
}

static void test_judge_empty(void)
{
	struct sq_colmap_model m = {0};
	const char *names[] = {"frame_000001.jpg", "frame_000002.jpg"};
	struct sq_colmap_quality q;
	struct sq_err err = {SQ_OK, ""};

	sq_colmap_assess(&m, names, 2, NULL, &q);
	T_EQ_INT(q.registered, 0);
	T_EQ_INT(sq_colmap_judge(&q, 0, &err), -1);
	T_CONTAINS(err.msg, "0% of frames registered");
	T_CONTAINS(err.msg, "model too small to judge");
}

/* --- frames and stride ------------------------------------------------------------ */

static struct sq_stride pick(int stride, long long bpf, long long budget, long long dflt, size_t n,
			     long long host)
{
	struct sq_stride_spec spec = {stride, bpf, budget};
	struct sq_stride st;

	T_EQ_INT(sq_stride_pick(&spec, dflt, n, host, &st, NULL), 0);
	return st;
}

static void test_stride(void)
{
	struct sq_stride_spec tiny = {0, 10 << 20, 15 << 20};
	struct sq_stride st;
	struct sq_err err = {SQ_OK, ""};
	struct sq_reconstruct_record rec = {.version = "0123456789abcdef"}, back;
	char *json;

	st = pick(0, 0, 0, 0, 100, 1LL << 30); /* no figure per frame: all frames */
	T_EQ_INT(st.k, 1);
	T_EQ_INT(st.frames_used, 100);
	st = pick(3, 0, 0, 0, 10, 0); /* fixed: 0 3 6 9 */
	T_EQ_INT(st.k, 3);
	T_EQ_INT(st.fixed, 1);
	T_EQ_INT(st.frames_used, 4);
	st = pick(0, 1 << 20, 3 << 20, 0, 10, 1LL << 30); /* 3 frames fit: every 4th */
	T_EQ_INT(st.k, 4);
	T_EQ_INT(st.frames_used, 3);
	T_EQ_INT(st.budget_bytes, 3 << 20);
	st = pick(0, 0, 0, 1 << 20, 10, 5 << 20); /* the backend's default, the host's memory */
	T_EQ_INT(st.k, 2);
	T_EQ_INT(st.frames_used, 5);
	T_EQ_INT(st.bytes_per_frame, 1 << 20);
	st = pick(0, 1 << 20, 8 << 20, 0, 10, 4 << 20); /* the host caps the task's budget */
	T_EQ_INT(st.budget_bytes, 4 << 20);
	T_EQ_INT(st.k, 3);
	st = pick(0, 1 << 20, 0, 0, 10, 64 << 20); /* everything fits */
	T_EQ_INT(st.k, 1);
	T_EQ_INT(sq_stride_pick(&tiny, 0, 10, 0, &st, &err), -1);
	T_CONTAINS(err.msg, "memory budget of 15 MiB holds less than 2 frames of 10 MiB");
	st = pick(0, 1 << 20, 3 << 20, 0, 10, 0);
	rec.stride = st;
	json = sq_reconstruct_record_format(&rec);
	T_EQ_INT(sq_reconstruct_record_parse(&back, json, &err), 0);
	T_EQ_INT(back.stride.k, 4);
	T_EQ_INT(back.stride.frames_total, 10);
	T_EQ_INT(back.stride.frames_used, 3);
	T_EQ_INT(back.stride.bytes_per_frame, 1 << 20);
	T_EQ_INT(back.stride.budget_bytes, 3 << 20);
	sq_reconstruct_record_release(&back);
	free(json);
	T_CHECK(sq_stride_host_memory() > 0);
}

/* The colmap backend fails cleanly before or at its first step. */
static void test_run_errors(void)
{
	struct sq_colmap_spec spec = {0, 3200, 8192, 10, 50, "OPENCV", {0}, 0};
	struct sq_stride_spec stride = {0, 0, 0};
	char *work = sq_path_join(t_tmpdir(), "colmap-work");
	char *log = sq_path_join(t_tmpdir(), "colmap.log");
	struct sq_frame_entry two[2] = {{.pts_s = 0}, {.pts_s = 1}};
	struct sq_frames_record frames = {.frames = two, .nframes = 1};
	struct sq_reconstruct_record rec = {0};
	struct sq_colmap_run r = {.spec = &spec,
				  .stride = &stride,
				  .frames_dir = "/nonexistent",
				  .workdir = work,
				  .output = "/nonexistent/out.ply",
				  .log_path = log,
				  .program = "/nonexistent/colmap"};
	struct sq_err err = {SQ_OK, ""};

	T_EQ_INT(sq_mkdir_p(work, &err), 0);
	r.frames = &frames;
	T_EQ_INT(sq_colmap_run(&r, &rec, &err), -1);
	T_CONTAINS(err.msg, "colmap needs at least 2 frames, got 1");
	frames.nframes = 2;
	T_EQ_INT(sq_colmap_run(&r, &rec, &err), -1);
	T_CONTAINS(err.msg, "/nonexistent/colmap");
	T_EQ_INT(rec.nframes, 0);
	free(work);
	free(log);
}

/* --- trajectory error ------------------------------------------------------------- */

/* Rotation by angle a about the unit axis (x, y, z), row-major. */
static void axis_angle(double x, double y, double z, double a, double r[9])
{
	double c = cos(a), s = sin(a), t = 1 - c;

	r[0] = t * x * x + c, r[1] = t * x * y - s * z, r[2] = t * x * z + s * y;
	r[3] = t * x * y + s * z, r[4] = t * y * y + c, r[5] = t * y * z - s * x;
	r[6] = t * x * z - s * y, r[7] = t * y * z + s * x, r[8] = t * z * z + c;
}

/* A lawn-mower path (two legs and a turn) as truth, and the estimate: the truth
 * mapped by the inverse of a known similarity, plus `noise` metres of jitter. */
#define NPATH 60
static void path_pair(double *ref, double *est, double noise, const double r[9], double scale,
		      const double t[3])
{
	unsigned s = 5;

	for (int i = 0; i < NPATH; i++) {
		double *p = &ref[3 * i], d[3];

		p[0] = i < 25 ? i : i < 35 ? 25 + 3 * sin((i - 25) * M_PI / 10) : 60 - i;
		p[1] = i < 25 ? 0 : i < 35 ? 3 - 3 * cos((i - 25) * M_PI / 10) : 6;
		p[2] = 6 + 0.1 * sin(i * 0.3);
		for (int k = 0; k < 3; k++)
			d[k] = p[k] - t[k];
		for (int k = 0; k < 3; k++) /* est = R^T (ref - t) / scale + jitter */
			est[3 * i + k] = (r[k] * d[0] + r[3 + k] * d[1] + r[6 + k] * d[2]) / scale +
					 noise * lcg(&s);
	}
}

static void test_ate_known(void)
{
	const double t[3] = {100, -40, 3}, n = sqrt(14);
	double r[9], ref[3 * NPATH], est[3 * NPATH];
	struct sq_ate a;
	struct sq_err err = {SQ_OK, ""};

	axis_angle(1 / n, 2 / n, 3 / n, 2.2, r);
	path_pair(ref, est, 0, r, 2.5, t);
	T_EQ_INT(sq_ate_align(est, ref, NPATH, &a, &err), 0);
	NEAR(a.scale, 2.5, 1e-9);
	for (int i = 0; i < 9; i++)
		NEAR(a.rot[i], r[i], 1e-9);
	for (int i = 0; i < 3; i++)
		NEAR(a.trans[i], t[i], 1e-7);
	NEAR(a.rmse, 0, 1e-8);
	T_CHECK(a.length > 55 && a.length < 70);
	/* jitter uniform in +-0.02 per axis at scale 2.5: an rms of 0.05 / sqrt(3) m per
	 * axis, 5 cm in 3D, a little less once the fit has absorbed its share */
	path_pair(ref, est, 0.02, r, 2.5, t);
	T_EQ_INT(sq_ate_align(est, ref, NPATH, &a, &err), 0);
	NEAR(a.scale, 2.5, 0.01);
	T_CHECK(a.rmse > 0.04 && a.rmse < 0.055);
	NEAR(a.rel, a.rmse / a.length, 1e-15);
	T_CHECK(a.max >= a.rmse);
}

static void test_ate_degenerate(void)
{
	double line_ref[3 * 5], line_est[3 * 5], same[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
	struct sq_ate a;
	struct sq_err err = {SQ_OK, ""};

	for (int i = 0; i < 5; i++) { /* one straight leg: the roll about it is free */
		line_ref[3 * i] = i, line_ref[3 * i + 1] = 0, line_ref[3 * i + 2] = 6;
		line_est[3 * i] = 0, line_est[3 * i + 1] = 0.5 * i, line_est[3 * i + 2] = 0;
	}
	T_EQ_INT(sq_ate_align(line_est, line_ref, 5, &a, &err), 0);
	NEAR(a.scale, 2, 1e-9);
	NEAR(a.rmse, 0, 1e-9);
	NEAR(a.length, 4, 1e-12);
	T_EQ_INT(sq_ate_align(line_est, line_ref, 2, &a, &err), -1);
	T_CONTAINS(err.msg, "needs 3 points, got 2");
	T_EQ_INT(sq_ate_align(same, line_ref, 3, &a, &err), -1);
	T_CONTAINS(err.msg, "single point");
}

static const char poses_csv[] = "chapter,frame,t_s,x,y,z,qw,qx,qy,qz,fx,fy,cx,cy,k1\n"
				"1,0,0.000000,0,0,6,1,0,0,0,240,240,240,135,0\n"
				"1,1,0.500000,1,0,6,1,0,0,0,240,240,240,135,0\n"
				"2,0,1.000000,2,0,6,1,0,0,0,240,240,240,135,0\n"
				"2,1,1.500000,3,0,6,1,0,0,0,240,240,240,135,0\n"
				"2,2,2.000000,3,1,6,1,0,0,0,240,240,240,135,0\n"
				"2,3,2.500000,3,2,6,1,0,0,0,240,240,240,135,0\n";

static void test_ate_truth(void)
{
	struct sq_ate_truth t;
	struct sq_err err = {SQ_OK, ""};

	T_EQ_INT(sq_ate_truth_parse(&t, poses_csv, 0, &err), 0);
	T_EQ_INT(t.n, 6);
	NEAR(t.t_s[5], 2.5, 0);
	sq_ate_truth_release(&t);
	T_EQ_INT(sq_ate_truth_parse(&t, poses_csv, 2, &err), 0);
	T_EQ_INT(t.n, 4);
	NEAR(t.t_s[0], 0, 0); /* chapter 2 alone starts its clock at its first frame */
	NEAR(t.t_s[3], 1.5, 0);
	NEAR(t.c[3 * 3 + 1], 2, 0);
	sq_ate_truth_release(&t);
	T_EQ_INT(sq_ate_truth_parse(&t, poses_csv, 3, &err), -1);
	T_CONTAINS(err.msg, "no rows for chapter 3");
	T_EQ_INT(sq_ate_truth_parse(&t, "x,y\n1,2\n", 0, &err), -1);
	T_CONTAINS(err.msg, "header");
	T_EQ_INT(sq_ate_truth_parse(&t, "chapter,frame,t_s,x,y,z\n1,0,0,1,2\n", 0, &err), -1);
	T_CONTAINS(err.msg, "line 2");
}

/* A reconstruct.json of chapter 2: one frame unregistered, one at a time with no
 * truth, the others at half scale and shifted. */
static void test_ate_check(void)
{
	const struct sq_ate_cam cams[] = {
	    {.pts_s = 0.0, .registered = 1, .centre = {11, 5, 3}},
	    {.pts_s = 0.5, .registered = 1, .centre = {11.5, 5, 3}},
	    {.pts_s = 1.0, .registered = 0},
	    {.pts_s = 1.5, .registered = 1, .centre = {11.5, 6, 3}},
	    {.pts_s = 9.0, .registered = 1, .centre = {0, 0, 0}},
	};
	struct sq_ate_truth t;
	struct sq_ate_report rep;
	struct sq_err err = {SQ_OK, ""};

	T_EQ_INT(sq_ate_truth_parse(&t, poses_csv, 2, &err), 0);
	T_EQ_INT(sq_ate_check(cams, 5, 2, &t, &rep, &err), 0);
	T_EQ_INT(rep.frames, 5);
	T_EQ_INT(rep.registered, 4);
	T_EQ_INT(rep.matched, 3);
	T_EQ_INT(rep.stride, 2);
	NEAR(rep.ate.scale, 2, 1e-9);
	NEAR(rep.ate.rmse, 0, 1e-9);
	NEAR(rep.ate.length, 3, 1e-12); /* (2,0)->(3,0)->(3,2) */
	T_EQ_INT(sq_ate_check(cams, 0, 1, &t, &rep, &err), -1);
	T_CONTAINS(err.msg, "only 0 of 0 registered frames");
	sq_ate_truth_release(&t);
}

int main(void)
{
	test_parse();
	test_parse_errors();
	test_image_pose();
	test_judge_good();
	test_judge_scattered();
	test_judge_jumps();
	test_judge_weak();
	test_judge_empty();
	test_stride();
	test_run_errors();
	test_ate_known();
	test_ate_degenerate();
	test_ate_truth();
	test_ate_check();
	return t_done();
}
