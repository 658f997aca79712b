/* synth.c - scanq-synth: renders a synthetic survey for the demo and the tests.
 *
 * A fleet of camera vehicles flies a lawn-mower survey over a seeded seabed with
 * relief; every frame is ray cast and encoded with libav, and the truth is
 * written beside the videos:
 *
 *   DIR/videos/auv<N>-ch<NN>.mp4  one file per vehicle and chapter (like a GoPro:
 *                                 chapter k continues where k-1 stopped)
 *   DIR/truth/auv<N>-poses.csv    true pose and intrinsics of every frame
 *   DIR/truth/terrain.ply         the seabed itself, with colours
 *   DIR/tasks/                    acquisition.yaml and one task per video
 *
 * The same options give byte-identical files. */
#include "camera.h"
#include "encode.h"
#include "files.h"
#include "base/fsutil.h"
#include "options.h"
#include "plan.h"
#include "render.h"
#include "base/strbuf.h"
#include "terrain.h"
#include "base/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <libavutil/log.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "base/banned.h"

#define PROG "scanq-synth"
#define DESIGN_ALTITUDE_M 6.0 /* the world is drawn for this altitude, then scaled */
#define DEPTH_BOUND 0.25      /* deepest seabed below the mean, fraction of altitude */
#define TILT_MAX_DEG 80.0     /* steepest ray allowed (from straight down) */
#define EXTRACT_WIDTH_MAX 480 /* frame width of the generated tasks */
#define PLY_STEP 0.1	      /* terrain.ply spacing in design metres */
#define GRID_MAX 4e7	      /* height samples we are willing to hold (160 MB) */

struct synth {
	struct synth_opts *o;
	struct synth_camera cam;
	struct synth_plan plan;
	struct synth_terrain *terrain;
	struct synth_renderer *renderer;
	unsigned char *rgb;
	long frames_per_chapter;
	char *videos_dir, *truth_dir, *tasks_dir;
	double render_s, encode_s;
	long long frames;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void say(const struct synth *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(const struct synth *s, const char *fmt, ...)
{
	va_list ap;

	if (s->o->quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/* 1 if dir holds anything, 0 if empty or missing, -1 on error. */
static int dir_has_entries(const char *dir, struct sq_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;

	if (!d)
		return errno == ENOENT ? 0 : sq_error_errno(err, errno, "cannot open '%s'", dir);
	while (!found && (e = readdir(d)))
		found = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return found;
}

/* A non-empty DIR needs --force (checked before any work is done). */
static int check_out_dir(const struct synth *s, struct sq_err *err)
{
	int full = dir_has_entries(s->o->out, err);

	if (full < 0)
		return -1;
	if (full && !s->o->force)
		return sq_error(err, SQ_ERR_INVALID,
				"output directory '%s' is not empty (--force replaces its videos/, "
				"truth/ and tasks/)",
				s->o->out);
	return 0;
}

/* Creates DIR/{videos,truth,tasks} afresh; nothing else in DIR is touched. */
static int make_dirs(struct synth *s, struct sq_err *err)
{
	const char *out = s->o->out;

	s->videos_dir = sq_path_join(out, "videos");
	s->truth_dir = sq_path_join(out, "truth");
	s->tasks_dir = sq_path_join(out, "tasks");
	if (sq_rm_rf(s->videos_dir, err) < 0 || sq_rm_rf(s->truth_dir, err) < 0 ||
	    sq_rm_rf(s->tasks_dir, err) < 0)
		return -1;
	if (sq_mkdir_p(s->videos_dir, err) < 0 || sq_mkdir_p(s->truth_dir, err) < 0 ||
	    sq_mkdir_p(s->tasks_dir, err) < 0)
		return -1;
	return 0;
}

/* The camera; every ray must look down, even with the wobble. Sets *reach_tan
 * to the tangent of the steepest ray. */
static int setup_camera(struct synth *s, double *reach_tan, struct sq_err *err)
{
	const struct synth_opts *o = s->o;
	double xn, yn, corner_deg, tilt_deg = o->wobble_deg * sqrt(2.0);

	if (synth_camera_init(&s->cam, o->width, o->height, o->fov_deg, o->k1, err) < 0)
		return -1;
	synth_camera_ray(&s->cam, 0.0, 0.0, &xn, &yn);
	corner_deg = atan(sqrt(xn * xn + yn * yn)) * 180.0 / M_PI;
	if (corner_deg + tilt_deg > TILT_MAX_DEG)
		return sq_error(
		    err, SQ_ERR_INVALID,
		    "field of view %g degrees is too wide: the image corners would look "
		    "%.0f degrees from straight down (at most %g)",
		    o->fov_deg, corner_deg + tilt_deg, TILT_MAX_DEG);
	*reach_tan = tan((corner_deg + tilt_deg) * M_PI / 180.0);
	return 0;
}

/* The flight plan, which must be long enough for the recording. */
static int setup_plan(struct synth *s, struct sq_err *err)
{
	const struct synth_opts *o = s->o;
	struct synth_plan_opts po;
	double xn, yn, need_m;

	synth_camera_ray(&s->cam, 0.0, s->cam.cy, &xn, &yn); /* left edge, mid height */
	memset(&po, 0, sizeof(po));
	po.area_w_m = o->area_w_m;
	po.area_h_m = o->area_h_m;
	po.vehicles = o->vehicles;
	po.altitude_m = o->altitude_m;
	po.speed_mps = o->speed_mps;
	po.footprint_m = 2.0 * o->altitude_m * fabs(xn);
	po.sidelap = o->sidelap;
	po.wobble_deg = o->wobble_deg;
	po.seed = o->seed;
	if (synth_plan_init(&s->plan, &po, err) < 0)
		return -1;
	need_m = o->speed_mps * o->chapters * s->frames_per_chapter * o->fps_den / o->fps_num;
	if (need_m > s->plan.length_m + 1e-6)
		return sq_error(
		    err, SQ_ERR_INVALID,
		    "the flight plan over %gx%g m is %.0f m long but %d chapters of %g s "
		    "at %g m/s need %.0f m: enlarge --area or record less",
		    o->area_w_m, o->area_h_m, s->plan.length_m, o->chapters, o->duration_s,
		    o->speed_mps, need_m);
	return 0;
}

/* The part of the world the cameras can see: the box around every camera
 * centre of the recording, widened by the farthest any ray reaches. */
static void view_domain(const struct synth *s, double reach_m, double box[4])
{
	long frames = s->o->chapters * s->frames_per_chapter;

	box[0] = box[1] = INFINITY;
	box[2] = box[3] = -INFINITY;
	for (int v = 0; v < s->o->vehicles; v++)
		for (long k = 0; k < frames; k++) {
			struct synth_pose pose;

			synth_plan_pose(&s->plan, v, (double)k * s->o->fps_den / s->o->fps_num,
					&pose);
			box[0] = fmin(box[0], pose.c[0]);
			box[1] = fmin(box[1], pose.c[1]);
			box[2] = fmax(box[2], pose.c[0]);
			box[3] = fmax(box[3], pose.c[1]);
		}
	box[0] -= reach_m;
	box[1] -= reach_m;
	box[2] += reach_m;
	box[3] += reach_m;
}

static int setup_world(struct synth *s, double reach_tan, struct sq_err *err)
{
	const struct synth_opts *o = s->o;
	struct synth_terrain_opts to;
	double scale = o->altitude_m / DESIGN_ALTITUDE_M, gsd = o->altitude_m / s->cam.fx, box[4];

	memset(&to, 0, sizeof(to));
	to.area_w_m = o->area_w_m;
	to.area_h_m = o->area_h_m;
	view_domain(s, o->altitude_m * (1.0 + DEPTH_BOUND) * reach_tan + 0.5 * scale, box);
	to.x0_m = box[0];
	to.y0_m = box[1];
	to.x1_m = box[2];
	to.y1_m = box[3];
	to.scale = scale;
	to.texel_m = gsd / 1.5; /* a little finer than a pixel: no blur at nadir */
	to.cell_m = scale * fmin(0.08, fmax(0.03, 2.0 * gsd / scale));
	to.seed = o->seed;
	if ((box[2] - box[0]) * (box[3] - box[1]) / (to.cell_m * to.cell_m) > GRID_MAX)
		return sq_error(err, SQ_ERR_INVALID,
				"the cameras see %.0fx%.0f m at %.3f m resolution: too large to "
				"render; record less or fly higher",
				box[2] - box[0], box[3] - box[1], to.cell_m);
	s->terrain = synth_terrain_new(&to);
	s->renderer = synth_renderer_new(&s->cam);
	s->rgb = xmalloc((size_t)o->width * (size_t)o->height * 3);
	return 0;
}

static int render_chapter(struct synth *s, int v, int c, struct sq_strbuf *poses,
			  struct sq_err *err)
{
	const struct synth_opts *o = s->o;
	struct synth_encode_opts eo = {o->codec,   o->width, o->height, o->fps_num,
				       o->fps_den, o->gop,   o->bframes};
	char *name = synth_video_name(v, c), *path = sq_path_join(s->videos_dir, name);
	struct synth_encoder *enc = synth_encoder_open(path, &eo, err);
	int rc = -1;

	for (long f = 0; enc && f < s->frames_per_chapter; f++) {
		double t_s = (double)(c * s->frames_per_chapter + f) * o->fps_den / o->fps_num;
		double t0 = now_s(), t1;
		struct synth_pose pose;

		synth_plan_pose(&s->plan, v, t_s, &pose);
		synth_render(s->renderer, s->terrain, &pose, s->rgb);
		t1 = now_s();
		s->render_s += t1 - t0;
		if (synth_encoder_write(enc, s->rgb, err) < 0) {
			synth_encoder_abort(enc);
			goto out;
		}
		s->encode_s += now_s() - t1;
		synth_poses_row(poses, c + 1, f, t_s, &pose, &s->cam);
		s->frames++;
	}
	if (!enc || synth_encoder_close(enc, err) < 0)
		goto out;
	say(s, "videos/%s: %ld frames, %.2f s\n", name, s->frames_per_chapter,
	    (double)s->frames_per_chapter * o->fps_den / o->fps_num);
	rc = 0;
out:
	free(name);
	free(path);
	return rc;
}

/* Every chapter of vehicle v, then its poses file. */
static int render_vehicle(struct synth *s, int v, struct sq_err *err)
{
	struct sq_strbuf poses = SQ_STRBUF_INIT;
	char *vehicle = synth_vehicle_name(v), *file = xasprintf("%s-poses.csv", vehicle);
	char *path = sq_path_join(s->truth_dir, file);
	int rc = -1;

	synth_poses_header(&poses);
	for (int c = 0; c < s->o->chapters; c++)
		if (render_chapter(s, v, c, &poses, err) < 0)
			goto out;
	rc = sq_write_file_atomic(path, poses.buf, poses.len, err);
out:
	sq_strbuf_release(&poses);
	free(vehicle);
	free(file);
	free(path);
	return rc;
}

static int write_tasks(struct synth *s, struct sq_err *err)
{
	const struct synth_opts *o = s->o;
	struct synth_tasks_opts t;

	memset(&t, 0, sizeof(t));
	t.dir = s->tasks_dir;
	t.acquisition = o->name;
	t.extract_fps = o->task_fps;
	t.extract_width = o->width < EXTRACT_WIDTH_MAX ? o->width : EXTRACT_WIDTH_MAX;
	t.reconstruct_argv = o->reconstruct_argv;
	t.reconstruct_argc = o->reconstruct_argc;
	t.stitch_argv = o->stitch_argv;
	t.stitch_argc = o->stitch_argc;
	t.vehicles = o->vehicles;
	t.chapters = o->chapters;
	t.per_vehicle = o->task_per_vehicle;
	t.chapter_overlap_s = o->chapter_overlap_s;
	return synth_tasks_write(&t, err);
}

static void describe(const struct synth *s)
{
	const struct synth_plan *p = &s->plan;
	double mean, std;

	synth_terrain_stats(s->terrain, &mean, &std);
	say(s,
	    "survey %gx%g m: %d vehicle(s) %.2f m apart (%.0f%% sidelap), %d pass(es), "
	    "altitude %g m, footprint %.2f m\n",
	    s->o->area_w_m, s->o->area_h_m, s->o->vehicles, p->spacing_m,
	    100.0 * synth_plan_sidelap(p), p->passes, s->o->altitude_m, p->o.footprint_m);
	say(s, "seabed relief: %.2f..%.2f m, std %.2f m, max slope %.2f\n", s->terrain->zmin_m,
	    s->terrain->zmax_m, std, s->terrain->slope_max);
}

static void summarise(const struct synth *s, double total_s)
{
	const struct synth_renderer *r = s->renderer;

	say(s,
	    "rendered %lld frames of %dx%d in %.2f s (%.1f frames/s, %.1f look-ups/pixel, "
	    "%lld texels), encoded in %.2f s; total %.2f s\n",
	    s->frames, s->o->width, s->o->height, s->render_s,
	    s->render_s > 0 ? (double)s->frames / s->render_s : 0.0,
	    r->pixels ? (double)r->steps / (double)r->pixels : 0.0, s->terrain->texels_made,
	    s->encode_s, total_s);
}

static int run(struct synth *s, struct sq_err *err)
{
	double start = now_s(), reach_tan = 0.0;
	char *ply;
	int rc;

	s->frames_per_chapter = lround(s->o->duration_s * s->o->fps_num / s->o->fps_den);
	if (s->frames_per_chapter < 1)
		return sq_error(err, SQ_ERR_INVALID, "--duration %g s holds no frame at %d/%d fps",
				s->o->duration_s, s->o->fps_num, s->o->fps_den);
	if (synth_encode_check(s->o->codec, err) < 0 || setup_camera(s, &reach_tan, err) < 0 ||
	    setup_plan(s, err) < 0 || check_out_dir(s, err) < 0 ||
	    setup_world(s, reach_tan, err) < 0 || make_dirs(s, err) < 0)
		return -1;
	describe(s);
	for (int v = 0; v < s->o->vehicles; v++)
		if (render_vehicle(s, v, err) < 0)
			return -1;
	ply = sq_path_join(s->truth_dir, "terrain.ply");
	rc = synth_terrain_write_ply(s->terrain, ply, PLY_STEP * s->terrain->o.scale, err);
	free(ply);
	if (rc < 0 || write_tasks(s, err) < 0)
		return -1;
	summarise(s, now_s() - start);
	return 0;
}

static void release(struct synth *s)
{
	synth_terrain_free(s->terrain);
	synth_renderer_free(s->renderer);
	free(s->rgb);
	free(s->videos_dir);
	free(s->truth_dir);
	free(s->tasks_dir);
}

int main(int argc, char **argv)
{
	struct synth_opts o;
	struct synth s;
	struct sq_err err = {SQ_OK, ""};
	enum synth_opts_result r = synth_opts_parse(&o, argc, argv);
	int status;

	if (r != SYNTH_OPTS_OK) {
		synth_opts_release(&o);
		return r == SYNTH_OPTS_HELP ? 0 : 2;
	}
	av_log_set_level(o.quiet ? AV_LOG_ERROR : AV_LOG_WARNING);
	memset(&s, 0, sizeof(s));
	s.o = &o;
	status = run(&s, &err) < 0 ? 1 : 0;
	if (status)
		fprintf(stderr, PROG ": %s\n", err.msg);
	release(&s);
	synth_opts_release(&o);
	return status;
}
