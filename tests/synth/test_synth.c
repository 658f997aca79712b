/* test_synth.c - scanq-synth end to end: the files it writes, their content and
 * that the truth describes the videos.
 *
 * Runs the built generator on a small survey, probes and decodes its MP4s with
 * libav, and projects the true terrain into a decoded frame with the true pose:
 * the colours must agree far better than with a wrong pose. */
#include "t.h"
#include "base/fsutil.h"
#include "cloud/simil.h"
#include "base/xalloc.h"

#include <errno.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "base/banned.h"

#define FPS 10
#define DURATION "1.5"
#define FRAMES_PER_CHAPTER 15
#define WIDTH 320
#define HEIGHT 180
#define ALTITUDE 6.0
#define SPEED 1.0

static char synth_path[4096];

/* Runs scanq-synth with args (NULL-terminated, argv[0] excluded); returns its
 * exit status, stderr captured into err_out (may be NULL). */
static int run_synth(const char *const *args, char *err_out, size_t err_len)
{
	const char *argv[64];
	int pipefd[2], status;
	size_t n = 0, got = 0;
	pid_t pid;

	argv[n++] = synth_path;
	for (; *args && n < 62; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	if (pipe(pipefd) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		execv(synth_path, (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		char buf[512];
		ssize_t r = read(pipefd[0], buf, sizeof(buf));

		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r && err_out && got + 1 < err_len; i++)
			err_out[got++] = buf[i];
	}
	if (err_out && err_len)
		err_out[got] = '\0';
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int same_file(const char *a, const char *b)
{
	size_t la = 0, lb = 0;
	char *x = sq_read_file(a, &la, NULL), *y = sq_read_file(b, &lb, NULL);
	int same = x && y && la == lb && memcmp(x, y, la) == 0;

	free(x);
	free(y);
	return same;
}

struct probe {
	int width, height, pix_fmt;
	long packets;
	double duration_s;
	AVRational rate;
	char codec[32];
};

/* Container facts of path's first video stream; -1 if it cannot be opened. */
static int probe(const char *path, struct probe *p)
{
	AVFormatContext *fmt = NULL;
	AVPacket *pkt = av_packet_alloc();
	int idx, rc = -1;

	memset(p, 0, sizeof(*p));
	if (avformat_open_input(&fmt, path, NULL, NULL) < 0)
		goto out;
	if (avformat_find_stream_info(fmt, NULL) < 0)
		goto out;
	idx = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
	if (idx < 0)
		goto out;
	p->width = fmt->streams[idx]->codecpar->width;
	p->height = fmt->streams[idx]->codecpar->height;
	p->pix_fmt = fmt->streams[idx]->codecpar->format;
	p->rate = fmt->streams[idx]->avg_frame_rate;
	p->duration_s = fmt->duration / (double)AV_TIME_BASE;
	snprintf(p->codec, sizeof(p->codec), "%s",
		 avcodec_get_name(fmt->streams[idx]->codecpar->codec_id));
	while (av_read_frame(fmt, pkt) >= 0) {
		p->packets += pkt->stream_index == idx;
		av_packet_unref(pkt);
	}
	rc = 0;
out:
	av_packet_free(&pkt);
	avformat_close_input(&fmt);
	return rc;
}

/* Receives one decoded frame into *rgb (new, width * height * 3); 0 when one came. */
static int take_frame(AVCodecContext *cc, AVFrame *frame, unsigned char **rgb)
{
	struct SwsContext *sws;
	uint8_t *dst[1];
	int stride[1];

	if (avcodec_receive_frame(cc, frame) < 0)
		return -1;
	*rgb = xmalloc((size_t)frame->width * frame->height * 3);
	dst[0] = *rgb;
	stride[0] = frame->width * 3;
	sws = sws_getContext(frame->width, frame->height, frame->format, frame->width,
			     frame->height, AV_PIX_FMT_RGB24, SWS_BILINEAR, NULL, NULL, NULL);
	sws_scale(sws, (const uint8_t *const *)frame->data, frame->linesize, 0, frame->height, dst,
		  stride);
	sws_freeContext(sws);
	return 0;
}

/* Decodes the first frame of path to RGB; returns new buffer or NULL. */
static unsigned char *decode_first(const char *path)
{
	AVFormatContext *fmt = NULL;
	AVCodecContext *cc = NULL;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *frame = av_frame_alloc();
	const AVCodec *codec = NULL;
	unsigned char *rgb = NULL;
	int idx;

	if (avformat_open_input(&fmt, path, NULL, NULL) < 0 ||
	    avformat_find_stream_info(fmt, NULL) < 0)
		goto out;
	idx = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
	if (idx < 0 || !(cc = avcodec_alloc_context3(codec)))
		goto out;
	if (avcodec_parameters_to_context(cc, fmt->streams[idx]->codecpar) < 0 ||
	    avcodec_open2(cc, codec, NULL) < 0)
		goto out;
	while (!rgb && av_read_frame(fmt, pkt) >= 0) {
		if (pkt->stream_index == idx && avcodec_send_packet(cc, pkt) >= 0)
			take_frame(cc, frame, &rgb);
		av_packet_unref(pkt);
	}
	if (!rgb && avcodec_send_packet(cc, NULL) >= 0)
		take_frame(cc, frame, &rgb);
out:
	av_frame_free(&frame);
	av_packet_free(&pkt);
	avcodec_free_context(&cc);
	avformat_close_input(&fmt);
	return rgb;
}

struct pose_row {
	int chapter;
	long frame;
	double t_s, c[3], q[4], fx, fy, cx, cy, k1;
};

/* Parses a poses CSV; returns new array of *n rows, or NULL if malformed. */
static struct pose_row *read_poses(const char *path, size_t *n)
{
	char *text = sq_read_file(path, NULL, NULL), *line, *save = NULL;
	struct pose_row *rows = NULL;
	size_t alloc = 0;

	*n = 0;
	if (!text)
		return NULL;
	line = strtok_r(text, "\n", &save);
	T_EQ_STR(line, "chapter,frame,t_s,x,y,z,qw,qx,qy,qz,fx,fy,cx,cy,k1");
	while ((line = strtok_r(NULL, "\n", &save))) {
		struct pose_row r;

		if (sscanf(line, "%d,%ld,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf",
			   &r.chapter, &r.frame, &r.t_s, &r.c[0], &r.c[1], &r.c[2], &r.q[0],
			   &r.q[1], &r.q[2], &r.q[3], &r.fx, &r.fy, &r.cx, &r.cy, &r.k1) != 15) {
			free(rows);
			rows = NULL;
			*n = 0;
			break;
		}
		xgrow((void **)&rows, &alloc, *n + 1, sizeof(*rows));
		rows[(*n)++] = r;
	}
	free(text);
	return rows;
}

struct cloud {
	float *xyz;
	unsigned char *rgb;
	long n;
};

/* Reads the binary PLY scanq-synth writes (x y z float, red green blue uchar). */
static int read_ply(const char *path, struct cloud *c)
{
	size_t len = 0;
	char *data = sq_read_file(path, &len, NULL), *end, *v;

	memset(c, 0, sizeof(*c));
	if (!data)
		return -1;
	end = strstr(data, "end_header\n");
	v = strstr(data, "element vertex ");
	if (!end || !v || strncmp(data, "ply\nformat binary_little_endian 1.0\n", 36) != 0) {
		free(data);
		return -1;
	}
	c->n = strtol(v + 15, NULL, 10);
	end += strlen("end_header\n");
	T_EQ_INT((long)(len - (size_t)(end - data)), c->n * 15);
	c->xyz = xmalloc((size_t)c->n * 3 * sizeof(float));
	c->rgb = xmalloc((size_t)c->n * 3);
	for (long i = 0; i < c->n && (size_t)(end - data) + (size_t)(i + 1) * 15 <= len; i++) {
		memcpy(c->xyz + i * 3, end + i * 15, 12); /* little-endian host assumed */
		memcpy(c->rgb + i * 3, end + i * 15 + 12, 3);
	}
	free(data);
	return 0;
}

/* Mean absolute colour difference between terrain points and the frame pixels
 * they project to under pose p shifted by dx metres; *used counts the points. */
static double colour_error(const struct cloud *c, const unsigned char *frame,
			   const struct pose_row *p, double dx, long *used)
{
	double r[9], sum = 0.0;

	sq_quat_to_rot(p->q, r);
	*used = 0;
	for (long i = 0; i < c->n; i++) {
		double w[3] = {c->xyz[i * 3] - (p->c[0] + dx), c->xyz[i * 3 + 1] - p->c[1],
			       c->xyz[i * 3 + 2] - p->c[2]};
		double pc[3], x, y, s, u, v;
		long pix;

		for (int k = 0; k < 3; k++) /* camera = R^T (world - c) */
			pc[k] = r[k] * w[0] + r[3 + k] * w[1] + r[6 + k] * w[2];
		if (pc[2] <= 0)
			continue;
		x = pc[0] / pc[2];
		y = pc[1] / pc[2];
		if (p->k1 < 0 && 3 * -p->k1 * (x * x + y * y) >= 1)
			continue; /* past the fold of barrel distortion: not in view */
		s = 1 + p->k1 * (x * x + y * y);
		u = p->fx * x * s + p->cx;
		v = p->fy * y * s + p->cy;
		if (u < 2 || v < 2 || u >= WIDTH - 2 || v >= HEIGHT - 2)
			continue;
		pix = ((long)v * WIDTH + (long)u) * 3;
		for (int k = 0; k < 3; k++)
			sum += fabs((double)c->rgb[i * 3 + k] - frame[pix + k]);
		(*used)++;
	}
	return *used ? sum / (3.0 * *used) : 1e9;
}

/* The small survey every check runs on (after "--out DIR"). */
#define SMALL                                                                                      \
	"--vehicles", "2", "--chapters", "2", "--duration", DURATION, "--width", "320",            \
	    "--height", "180", "--fps", "10", "--seed", "7", "--quiet"

static void check_files(const char *dir)
{
	static const char *const files[] = {
	    "videos/auv1-ch01.mp4", "videos/auv1-ch02.mp4",   "videos/auv2-ch01.mp4",
	    "videos/auv2-ch02.mp4", "truth/auv1-poses.csv",   "truth/auv2-poses.csv",
	    "truth/terrain.ply",    "tasks/acquisition.yaml", "tasks/auv1-ch01.yaml",
	    "tasks/auv1-ch02.yaml", "tasks/auv2-ch01.yaml",   "tasks/auv2-ch02.yaml",
	};
	char *acq = sq_path_join(dir, "tasks/acquisition.yaml");
	char *task = sq_path_join(dir, "tasks/auv2-ch02.yaml"), *text;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *p = sq_path_join(dir, files[i]);

		if (!sq_path_exists(p))
			fprintf(stderr, "missing %s\n", files[i]);
		T_CHECK(sq_path_exists(p));
		free(p);
	}
	text = sq_read_file(acq, NULL, NULL);
	T_CONTAINS(text, "acquisition: synth\n");
	T_CONTAINS(text, "output_root: ../out\n");
	T_CONTAINS(text, "extract: { fps: 3, width: 320, height: -1 }\n");
	T_CONTAINS(text, "reconstruct: { backend: colmap }\n");
	T_CONTAINS(text, "stitch: { backend: builtin }\n");
	free(text);
	text = sq_read_file(task, NULL, NULL);
	T_EQ_STR(text, "group: auv2\nname: auv2-ch02\nvideos:\n  - ../videos/auv2-ch02.mp4\n");
	free(text);
	free(acq);
	free(task);
}

static void check_videos(const char *dir)
{
	static const char *const videos[] = {"videos/auv1-ch01.mp4", "videos/auv1-ch02.mp4",
					     "videos/auv2-ch01.mp4", "videos/auv2-ch02.mp4"};

	for (size_t i = 0; i < sizeof(videos) / sizeof(videos[0]); i++) {
		char *p = sq_path_join(dir, videos[i]);
		struct probe pr;

		T_EQ_INT(probe(p, &pr), 0);
		T_EQ_STR(pr.codec, "h264");
		T_EQ_INT(pr.width, WIDTH);
		T_EQ_INT(pr.height, HEIGHT);
		T_EQ_INT(pr.pix_fmt, AV_PIX_FMT_YUV420P);
		T_EQ_INT(pr.packets, FRAMES_PER_CHAPTER);
		T_EQ_INT(pr.rate.num * 1000 / (pr.rate.den ? pr.rate.den : 1), FPS * 1000);
		T_CHECK(fabs(pr.duration_s - 1.5) < 0.01);
		free(p);
	}
}

static void check_vehicle_poses(const struct pose_row *r, size_t n)
{
	double tilt_max = 0.0;

	T_EQ_INT(n, 2 * FRAMES_PER_CHAPTER);
	for (size_t k = 0; k < n; k++) {
		double rot[9], norm = 0.0, step;

		T_EQ_INT(r[k].chapter, (long)k / FRAMES_PER_CHAPTER + 1);
		T_EQ_INT(r[k].frame, (long)k % FRAMES_PER_CHAPTER);
		T_CHECK(fabs(r[k].t_s - (double)k / FPS) < 1e-6);
		T_CHECK(fabs(r[k].c[2] - ALTITUDE) < 1e-6);
		for (int i = 0; i < 4; i++)
			norm += r[k].q[i] * r[k].q[i];
		T_CHECK(fabs(norm - 1.0) < 1e-6);
		T_CHECK(r[k].fx == 160.0 && r[k].fy == 160.0 && r[k].cx == 160.0 &&
			r[k].cy == 90.0 && r[k].k1 == 0.0);
		sq_quat_to_rot(r[k].q, rot);
		/* the optical axis (third column) points down, tilted a little */
		T_CHECK(rot[8] < -0.99);
		tilt_max = fmax(tilt_max, acos(-rot[8]) * 180.0 / M_PI);
		if (k == 0)
			continue;
		step = hypot(r[k].c[0] - r[k - 1].c[0], r[k].c[1] - r[k - 1].c[1]);
		T_CHECK(fabs(step - SPEED / FPS) < 1e-4); /* straight leg at constant speed */
	}
	T_CHECK(tilt_max > 0.1 && tilt_max < 3.0); /* wobble is there, and mild */
}

static void check_poses(const char *dir)
{
	char *p1 = sq_path_join(dir, "truth/auv1-poses.csv");
	char *p2 = sq_path_join(dir, "truth/auv2-poses.csv");
	size_t n1 = 0, n2 = 0;
	struct pose_row *r1 = read_poses(p1, &n1), *r2 = read_poses(p2, &n2);

	T_CHECK(r1 && r2);
	check_vehicle_poses(r1, n1);
	check_vehicle_poses(r2, n2);
	for (size_t k = 0; r1 && r2 && k < n1 && k < n2; k++) {
		/* side by side: same x, the nadir footprints (2 * z * cx / fx wide)
		 * overlapping by at least 30% */
		double footprint = 2.0 * ALTITUDE * r1[k].cx / r1[k].fx;
		double overlap = 1.0 - fabs(r2[k].c[1] - r1[k].c[1]) / footprint;

		T_CHECK(fabs(r1[k].c[0] - r2[k].c[0]) < 1e-9);
		T_CHECK(overlap >= 0.3 && overlap < 0.9);
	}
	free(r1);
	free(r2);
	free(p1);
	free(p2);
}

/* The truth describes the video: terrain points projected with the true pose
 * land on pixels of their colour; with the pose shifted by 0.3 m they do not. */
static void check_truth_matches_video(const char *dir, double k1)
{
	char *video = sq_path_join(dir, "videos/auv1-ch01.mp4");
	char *poses = sq_path_join(dir, "truth/auv1-poses.csv");
	char *ply = sq_path_join(dir, "truth/terrain.ply");
	unsigned char *frame = decode_first(video);
	size_t n = 0;
	struct pose_row *rows = read_poses(poses, &n);
	struct cloud cloud;
	long used = 0, used_off = 0;

	T_CHECK(frame && rows && n > 0);
	T_EQ_INT(read_ply(ply, &cloud), 0);
	if (rows && n > 0)
		T_CHECK(rows[0].k1 == k1);
	if (frame && rows && n > 0 && cloud.n > 0) {
		double good = colour_error(&cloud, frame, &rows[0], 0.0, &used);
		double off = colour_error(&cloud, frame, &rows[0], 0.3, &used_off);

		printf("terrain vs frame (k1 %g): mean colour error %.1f with the true pose, "
		       "%.1f shifted (%ld points)\n",
		       k1, good, off, used);
		T_CHECK(used > 1000);
		T_CHECK(good < 10.0);
		T_CHECK(good < 0.5 * off);
	}
	free(cloud.xyz);
	free(cloud.rgb);
	free(frame);
	free(rows);
	free(video);
	free(poses);
	free(ply);
}

static const char *const compared[] = {
    "videos/auv1-ch01.mp4", "videos/auv1-ch02.mp4",   "videos/auv2-ch01.mp4",
    "videos/auv2-ch02.mp4", "truth/auv1-poses.csv",   "truth/auv2-poses.csv",
    "truth/terrain.ply",    "tasks/acquisition.yaml", "tasks/auv1-ch01.yaml",
};

/* 1 if every compared file of a and b is identical, 0 if any differs. */
static int same_outputs(const char *a, const char *b, const char *must_differ)
{
	int same = 1;

	for (size_t i = 0; i < sizeof(compared) / sizeof(compared[0]); i++) {
		char *pa = sq_path_join(a, compared[i]), *pb = sq_path_join(b, compared[i]);
		int s = same_file(pa, pb);

		if (must_differ && !strcmp(compared[i], must_differ))
			T_CHECK(!s);
		same &= s;
		free(pa);
		free(pb);
	}
	return same;
}

/* A wide lens with barrel distortion: the truth still matches the video. */
static void check_distortion(const char *tmp)
{
	char *out = sq_path_join(tmp, "k1"), err[4096];
	const char *const args[] = {"--out",	out,	      "--vehicles", "1",       "--chapters",
				    "1",	"--duration", "0.2",	    "--width", "320",
				    "--height", "180",	      "--fps",	    "10",      "--fov",
				    "80",	"--k1",	      "-0.1",	    "--quiet", NULL};

	T_EQ_INT(run_synth(args, err, sizeof(err)), 0);
	check_truth_matches_video(out, -0.1);
	free(out);
}

/* Same options, same bytes; --force replaces a previous run; another seed is
 * another world. */
static void check_deterministic(const char *a, const char *tmp)
{
	char *b = sq_path_join(tmp, "b"), err[4096];
	const char *const again[] = {"--out", b, SMALL, NULL};
	const char *const other[] = {"--out", b, SMALL, "--seed", "8", "--force", NULL};
	const char *const refused[] = {"--out", b, SMALL, NULL};

	T_EQ_INT(run_synth(again, err, sizeof(err)), 0);
	T_CHECK(same_outputs(a, b, NULL));
	T_EQ_INT(run_synth(refused, err, sizeof(err)), 1);
	T_CONTAINS(err, "is not empty");
	T_EQ_INT(run_synth(other, err, sizeof(err)), 0);
	same_outputs(a, b, "videos/auv1-ch01.mp4");
	same_outputs(a, b, "truth/terrain.ply");
	free(b);
}

/* --chapter-overlap: each chapter's task also takes the start of the next one;
 * the last chapter's task, the videos and the truth stay as they were. */
static void check_chapter_overlap(const char *a, const char *tmp)
{
	static const char *const unchanged[] = {
	    "videos/auv1-ch02.mp4", "videos/auv2-ch01.mp4",   "truth/auv1-poses.csv",
	    "truth/auv2-poses.csv", "tasks/acquisition.yaml", "tasks/auv1-ch02.yaml",
	};
	char *c = sq_path_join(tmp, "overlap"), *p, *text, err[4096];
	const char *const args[] = {"--out", c, SMALL, "--chapter-overlap", "0.5", NULL};
	const char *const per_vehicle[] = {
	    "--out", c, "--force", "--chapter-overlap", "2", "--task-per-vehicle", NULL};
	const char *const tiny[] = {"--out", c, "--force", "--chapter-overlap", "0.0001", NULL};

	T_EQ_INT(run_synth(args, err, sizeof(err)), 0);
	p = sq_path_join(c, "tasks/auv1-ch01.yaml");
	text = sq_read_file(p, NULL, NULL);
	T_EQ_STR(text, "group: auv1\nname: auv1-ch01\nvideos:\n  - ../videos/auv1-ch01.mp4\n"
		       "  - { path: ../videos/auv1-ch02.mp4, until: 0.5s }\n");
	free(text);
	free(p);
	p = sq_path_join(c, "tasks/auv2-ch01.yaml");
	text = sq_read_file(p, NULL, NULL);
	T_CONTAINS(text, "  - { path: ../videos/auv2-ch02.mp4, until: 0.5s }\n");
	free(text);
	free(p);
	for (size_t i = 0; i < sizeof(unchanged) / sizeof(unchanged[0]); i++) {
		char *pa = sq_path_join(a, unchanged[i]), *pc = sq_path_join(c, unchanged[i]);

		if (!same_file(pa, pc))
			fprintf(stderr, "--chapter-overlap changed %s\n", unchanged[i]);
		T_CHECK(same_file(pa, pc));
		free(pa);
		free(pc);
	}
	T_EQ_INT(run_synth(per_vehicle, err, sizeof(err)), 2);
	T_CONTAINS(err, "--chapter-overlap needs one task per chapter");
	T_EQ_INT(run_synth(tiny, err, sizeof(err)), 2);
	T_CONTAINS(err, "--chapter-overlap must be 0 or at least 0.001 seconds");
	free(c);
}

static void check_errors(const char *tmp)
{
	char *out = sq_path_join(tmp, "bad"), err[4096];
	const char *const bad_width[] = {"--out", out, "--width", "abc", NULL};
	const char *const odd[] = {"--out", out, "--width", "321", NULL};
	const char *const codec[] = {"--out", out, "--codec", "nope", NULL};
	const char *const too_long[] = {"--out", out, "--duration", "3000", NULL};
	const char *const no_out[] = {"--quiet", NULL};

	T_EQ_INT(run_synth(bad_width, err, sizeof(err)), 2);
	T_CONTAINS(err, "bad value 'abc' for --width");
	T_EQ_INT(run_synth(odd, err, sizeof(err)), 2);
	T_CONTAINS(err, "must be even");
	T_EQ_INT(run_synth(codec, err, sizeof(err)), 1);
	T_CONTAINS(err, "unknown codec 'nope'");
	T_EQ_INT(run_synth(too_long, err, sizeof(err)), 1);
	T_CONTAINS(err, "flight plan");
	T_EQ_INT(run_synth(no_out, err, sizeof(err)), 2);
	T_CONTAINS(err, "--out DIR is required");
	T_CHECK(!sq_path_exists(out)); /* nothing created on a usage error */
	free(out);
}

static void check_command_yaml(const char *acq)
{
	char *text = sq_read_file(acq, NULL, NULL);

	T_CONTAINS(text, "acquisition: demo-1\n");
	T_CONTAINS(text, "extract: { fps: 1/2, width: 64, height: -1 }\n");
	T_CONTAINS(text,
		   "reconstruct:\n  backend: command\n"
		   "  command: [\"tool\", \"--in\", \"{frames}\", \"--out\", \"{output}\"]\n");
	T_CONTAINS(text, "stitch:\n  backend: command\n"
			 "  command: [\"merge\", \"{inputs}\", \"\\\"{output}\\\"\"]\n");
	free(text);
}

/* Command backends, rates and one task per vehicle end up in the task files. */
#define TASK_OPTS                                                                                  \
	"--vehicles", "1", "--chapters", "2", "--duration", "0.5", "--fps", "4", "--width", "64",  \
	    "--height", "36", "--name", "demo-1", "--task-fps", "1/2", "--task-per-vehicle",       \
	    "--reconstruct-cmd", "tool --in {frames}  --out {output}", "--stitch-cmd",             \
	    "merge {inputs} \"{output}\"", "--quiet"

static void check_task_options(const char *tmp)
{
	char *out = sq_path_join(tmp, "cmd"), *acq = sq_path_join(out, "tasks/acquisition.yaml");
	char *task = sq_path_join(out, "tasks/auv1-all.yaml"), *text, err[4096];
	const char *const args[] = {"--out", out, TASK_OPTS, NULL};

	T_EQ_INT(run_synth(args, err, sizeof(err)), 0);
	check_command_yaml(acq);
	text = sq_read_file(task, NULL, NULL);
	T_EQ_STR(text, "group: auv1\nname: auv1-all\nvideos:\n  - ../videos/auv1-ch01.mp4\n"
		       "  - ../videos/auv1-ch02.mp4\n");
	free(text);
	free(task);
	free(acq);
	free(out);
}

int main(void)
{
	const char *build = getenv("SCANQ_BUILD"), *tmp = t_tmpdir();
	char *a = sq_path_join(tmp, "a"), err[4096];
	const char *const args[] = {"--out", a, SMALL, NULL};
	int rc;

	snprintf(synth_path, sizeof(synth_path), "%s/tests/synth/scanq-synth", build ? build : ".");
	rc = run_synth(args, err, sizeof(err));
	T_EQ_INT(rc, 0);
	if (rc != 0) {
		fprintf(stderr, "scanq-synth failed: %s\n", err);
		free(a);
		return t_done();
	}
	check_files(a);
	check_videos(a);
	check_poses(a);
	check_truth_matches_video(a, 0.0);
	check_distortion(tmp);
	check_deterministic(a, tmp);
	check_chapter_overlap(a, tmp);
	check_errors(tmp);
	check_task_options(tmp);
	free(a);
	return t_done();
}
