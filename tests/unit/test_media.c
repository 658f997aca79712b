/* test_media.c - frame extraction, checked against the ffmpeg program itself.
 *
 * Real videos are generated at run time into SCANQ_TMP with the `ffmpeg` program;
 * each case then runs `ffmpeg -i in -vf fps=F,scale=W:H -q:v Q ref/frame_%06d.jpg`
 * and sq_media_extract() on the same input and asserts the same frame count and
 * byte-identical JPEGs (on a mismatch the PSNR is printed, to see how close it
 * is). The frame selection model is also driven directly with synthetic
 * timestamps, and the failure paths (not a video, cancel, write errors, a full
 * disk) are exercised for real. */
#include "base/fsutil.h"
#include "base/clock.h"
#include "media/media.h"
#include "media/media_internal.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "t.h"

#include <math.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <unistd.h>
#include "base/banned.h"

/* ---- helpers ---- */

static char *tmp_path(const char *name)
{
	return xasprintf("%s/%s", t_tmpdir(), name);
}

/* Runs a shell command line; returns its exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
	char line[8192];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	rc = system(line);
	if (rc != 0)
		fprintf(stderr, "command failed (%d): %s\n", rc, line);
	return rc;
}

/* Generates name in the temp dir with `ffmpeg <args> <path>` (once). */
static char *gen(const char *name, const char *args)
{
	char *path = tmp_path(name);

	if (!sq_path_exists(path))
		T_EQ_INT(sh("ffmpeg -nostdin -v error -y %s '%s'", args, path), 0);
	return path;
}

static char *frame_path(const char *dir, size_t n)
{
	return xasprintf("%s/frame_%06zu.jpg", dir, n);
}

/* Number of frame_%06d.jpg in dir, counted from 1 up to the first gap. */
static size_t count_frames(const char *dir)
{
	size_t n = 0;

	for (;;) {
		char *p = frame_path(dir, n + 1);
		int there = sq_path_exists(p);

		free(p);
		if (!there)
			return n;
		n++;
	}
}

static int same_bytes(const char *a, const char *b)
{
	size_t la, lb;
	char *da = sq_read_file(a, &la, NULL), *db = sq_read_file(b, &lb, NULL);
	int same = da && db && la == lb && memcmp(da, db, la) == 0;

	free(da);
	free(db);
	return same;
}

/* PSNR of b against a as the ffmpeg program measures it (for the report only). */
static void report_psnr(const char *a, const char *b)
{
	char line[512] = "", *cmd;
	FILE *p;

	cmd = xasprintf("ffmpeg -nostdin -hide_banner -i '%s' -i '%s' -lavfi psnr -f null - 2>&1 "
			"| grep -o 'average:[^ ]*'",
			a, b);
	p = popen(cmd, "r");
	if (p) {
		if (!fgets(line, sizeof(line), p))
			line[0] = '\0';
		pclose(p);
	}
	line[strcspn(line, "\n")] = '\0';
	fprintf(stderr, "  %s differs from %s: psnr %s\n", b, a, line[0] ? line : "unknown");
	free(cmd);
}

static char *fresh_dir(const char *name)
{
	char *d = tmp_path(name);

	sq_rm_rf(d, NULL);
	T_CHECK(sq_mkdir_p(d, NULL) == 0);
	return d;
}

/* ---- extraction compared with the ffmpeg program ---- */

struct ccase {
	const char *name;
	const char *inputs[3]; /* generated files, NULL-terminated */
	const char *fps;       /* as given to -vf fps= */
	int fps_num, fps_den, w, h, q;
	const long long *until_ms; /* per input; NULL: none (the CLI: concat's outpoint) */
};

/* name -> ffmpeg arguments that make it */
static const struct {
	const char *name, *args;
} sources[] = {
    {"bframes.mp4", "-f lavfi -i testsrc2=size=320x240:rate=30 -t 4 -c:v libx264 -pix_fmt yuv420p "
		    "-bf 2 -movflags +faststart"},
    {"nobframes.mp4", "-f lavfi -i testsrc2=size=320x240:rate=30 -t 3 -c:v libx264 -pix_fmt "
		      "yuv420p -bf 0"},
    {"ntsc.mp4", "-f lavfi -i testsrc2=size=320x240:rate=30000/1001 -t 3 -c:v libx264 -pix_fmt "
		 "yuv420p"},
    {"offset.mp4", "-f lavfi -i testsrc2=size=320x240:rate=30 -t 3 -c:v libx264 -pix_fmt yuv420p "
		   "-output_ts_offset 1.5"},
    {"chap1.mp4", "-f lavfi -i testsrc2=size=320x240:rate=25 -t 2.5 -c:v libx264 -pix_fmt "
		  "yuv420p"},
    {"chap2.mp4", "-f lavfi -i testsrc=size=320x240:rate=25 -t 2 -c:v libx264 -pix_fmt yuv420p"},
    /* the same without B-frames: decoding order is presentation order, so the
     * concat demuxer's outpoint (on dts) cuts where input_until_ms (on pts) does */
    {"chap1-nb.mp4", "-f lavfi -i testsrc2=size=320x240:rate=25 -t 2.5 -c:v libx264 -pix_fmt "
		     "yuv420p -bf 0"},
    {"chap2-nb.mp4", "-f lavfi -i testsrc=size=320x240:rate=25 -t 2 -c:v libx264 -pix_fmt "
		     "yuv420p -bf 0"},
    /* audio from 0, video from 0.7 s: the CLI repeats the first picture from slot 0 */
    {"late.mkv", "-f lavfi -i sine=d=3 -f lavfi -i testsrc2=size=320x240:rate=30:d=2 "
		 "-filter_complex '[1:v]setpts=PTS+0.7/TB[v]' -map '[v]' -map 0:a -c:v libx264 "
		 "-pix_fmt yuv420p -c:a aac"},
};

static const long long no_cut[] = {0, 0};
static const long long cut_second[] = {0, 1000};
static const long long cut_first[] = {1000, 0};
static const long long cut_beyond[] = {0, 60000};

static const struct ccase cases[] = {
    {"bframes", {"bframes.mp4"}, "3", 3, 1, 160, 90, 4, NULL},
    {"nobframes", {"nobframes.mp4"}, "3", 3, 1, 160, 90, 4, NULL},
    {"ntsc", {"ntsc.mp4"}, "3", 3, 1, 160, 90, 4, NULL},
    {"start-offset", {"offset.mp4"}, "3", 3, 1, 160, 90, 4, NULL},
    {"chapters", {"chap1.mp4", "chap2.mp4"}, "3", 3, 1, 160, 90, 4, NULL},
    {"fps2.5", {"bframes.mp4"}, "2.5", 5, 2, 160, 90, 4, NULL},
    {"width-1", {"bframes.mp4"}, "3", 3, 1, -1, 100, 5, NULL},
    {"late-video", {"late.mkv"}, "3", 3, 1, 160, 90, 4, NULL},
    {"truncated", {"truncated.mp4"}, "3", 3, 1, 160, 90, 4, NULL},
    {"no-cut", {"chap1.mp4", "chap2.mp4"}, "3", 3, 1, 160, 90, 4, no_cut},
    {"cut-second", {"chap1-nb.mp4", "chap2-nb.mp4"}, "3", 3, 1, 160, 90, 4, cut_second},
    {"cut-first", {"chap1-nb.mp4", "chap2-nb.mp4"}, "3", 3, 1, 160, 90, 4, cut_first},
    {"cut-beyond", {"chap1.mp4", "chap2.mp4"}, "3", 3, 1, 160, 90, 4, cut_beyond},
};

static char *source(const char *name)
{
	char *path;

	if (strcmp(name, "truncated.mp4") == 0) {
		char *full = source("bframes.mp4"); /* faststart: the cut lands in mdat */

		path = tmp_path(name);
		if (!sq_path_exists(path))
			T_EQ_INT(sh("head -c $(( $(stat -c %%s '%s') / 2 )) '%s' > '%s'", full,
				    full, path),
				 0);
		free(full);
		return path;
	}
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		if (strcmp(sources[i].name, name) == 0)
			return gen(name, sources[i].args);
	fprintf(stderr, "no source named %s\n", name);
	abort();
}

/* Runs the ffmpeg program on the case; returns the number of frames it wrote. */
static size_t run_cli(const struct ccase *c, char **paths, size_t n, const char *ref)
{
	char *input;

	if (n > 1) {
		struct sq_strbuf list = SQ_STRBUF_INIT;
		char *lp = xasprintf("%s/%s.txt", t_tmpdir(), c->name);

		for (size_t i = 0; i < n; i++) {
			sq_strbuf_addf(&list, "file '%s'\n", paths[i]);
			if (c->until_ms && c->until_ms[i] > 0)
				sq_strbuf_addf(&list, "outpoint %.3f\n", c->until_ms[i] / 1000.0);
		}
		T_CHECK(sq_write_file_atomic(lp, list.buf, list.len, NULL) == 0);
		input = xasprintf("-f concat -safe 0 -i '%s'", lp);
		sq_strbuf_release(&list);
		free(lp);
	} else {
		input = xasprintf("-i '%s'", paths[0]);
	}
	T_EQ_INT(sh("ffmpeg -nostdin -v quiet %s -vf fps=%s,scale=%d:%d -q:v %d "
		    "'%s/frame_%%06d.jpg'",
		    input, c->fps, c->w, c->h, c->q, ref),
		 0);
	free(input);
	return count_frames(ref);
}

/* Frames identical to the reference, reporting PSNR for those that are not. */
static size_t count_identical(const char *ref, const char *out, size_t n)
{
	size_t same = 0;

	for (size_t i = 1; i <= n; i++) {
		char *a = frame_path(ref, i), *b = frame_path(out, i);

		if (same_bytes(a, b))
			same++;
		else if (sq_path_exists(b))
			report_psnr(a, b);
		free(a);
		free(b);
	}
	return same;
}

static void run_case(const struct ccase *c, struct sq_extract_result *res)
{
	struct sq_extract_spec spec = {c->fps_num, c->fps_den, c->w, c->h, c->q};
	char *paths[3] = {NULL}, *rname = xasprintf("ref-%s", c->name);
	char *oname = xasprintf("out-%s", c->name), *ref = fresh_dir(rname),
	     *out = fresh_dir(oname);
	struct sq_extract_opts o = {.spec = &spec, .frames_dir = out};
	struct sq_err err = {0};
	size_t n = 0, nref, same;

	while (n < 3 && c->inputs[n]) {
		paths[n] = source(c->inputs[n]);
		n++;
	}
	o.inputs = (const char *const *)paths;
	o.ninputs = n;
	o.input_until_ms = c->until_ms;
	nref = run_cli(c, paths, n, ref);
	T_CHECK(sq_media_extract(&o, res, &err) == 0);
	T_CHECK(nref > 0);
	T_EQ_INT(res->nframes, nref);
	T_EQ_INT(count_frames(out), nref);
	same = count_identical(ref, out, nref);
	printf("%-13s %2zu frames, %2zu byte-identical to the ffmpeg program (%zu packets "
	       "decoded, %zu skipped)\n",
	       c->name, nref, same, res->npackets_decoded, res->npackets_skipped);
	T_EQ_INT(same, nref);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(ref);
	free(out);
	free(rname);
	free(oname);
}

static int near(double a, double b)
{
	return fabs(a - b) < 1e-3;
}

/* Where each frame came from agrees with pts_s: inputs in order, each starting
 * in the timeline where the one before ends (its duration, or its cut), a
 * frame's time in its input being pts_s less that start, and a cut input giving
 * only frames before its cut. Fills count[i]: frames from input i. */
static void check_sources(const struct ccase *c, const struct sq_extract_result *r, size_t count[3])
{
	double start[4] = {0};
	size_t n = 0, ok = 0;

	while (n < 3 && c->inputs[n]) {
		char *p = source(c->inputs[n]);
		struct sq_media_info info = {0};
		double len;

		T_EQ_INT(sq_media_probe(p, NULL, &info, NULL), 0);
		len = info.duration_s;
		if (c->until_ms && c->until_ms[n] > 0 && c->until_ms[n] / 1000.0 < len)
			len = c->until_ms[n] / 1000.0;
		start[n + 1] = start[n] + len;
		count[n++] = 0;
		free(p);
	}
	for (size_t i = 0; i < r->nframes; i++) {
		size_t src = r->source[i];
		double cut =
		    c->until_ms && src < n && c->until_ms[src] ? c->until_ms[src] / 1e3 : 1e9;

		if (src >= n)
			continue;
		count[src]++;
		ok += (i == 0 || src >= r->source[i - 1]) && r->source_pts_s[i] > -1e-9 &&
		      r->source_pts_s[i] < cut &&
		      fabs(r->pts_s[i] - r->source_pts_s[i] - start[src]) < 1e-6;
	}
	T_EQ_INT(ok, r->nframes);
	if (n > 1)
		T_CHECK(near(r->duration_s, start[n]));
}

static void check_case_details(const struct ccase *c, const struct sq_extract_result *r)
{
	size_t count[3] = {0};

	check_sources(c, r, count);
	printf("%-13s frames per input: %zu %zu %zu\n", c->name, count[0], count[1], count[2]);
	if (strcmp(c->name, "bframes") == 0) {
		/* the last frame of each 1/3 s slot: source frames 4, 14, 24 */
		T_CHECK(r->nframes == 12 && near(r->pts_s[0], 4 / 30.0) &&
			near(r->pts_s[1], 14 / 30.0) && near(r->pts_s[2], 24 / 30.0));
		T_EQ_INT(r->out_width, 160);
		T_EQ_INT(r->out_height, 90);
		T_CHECK(near(r->duration_s, 4.0));
		T_EQ_INT(r->nwarnings, 0);
		/* non-reference B-frames between the chosen ones never reach the decoder */
		T_CHECK(r->npackets_skipped > 20);
		T_EQ_INT(r->npackets_decoded + r->npackets_skipped, 120);
	} else if (strcmp(c->name, "nobframes") == 0) {
		T_EQ_INT(r->npackets_skipped, 0); /* every P-frame is a reference */
	} else if (strcmp(c->name, "start-offset") == 0) {
		T_CHECK(r->nframes > 0 &&
			near(r->pts_s[0], 4 / 30.0)); /* start time shifted away */
		T_EQ_INT(r->nwarnings, 0);
	} else if (strcmp(c->name, "width-1") == 0) {
		T_EQ_INT(r->out_width, 133); /* 320 * 100 / 240 = 133.3 */
		T_EQ_INT(r->out_height, 100);
	} else if (strcmp(c->name, "chapters") == 0) {
		int monotonic = 1;

		for (size_t i = 1; i < r->nframes; i++)
			monotonic &= r->pts_s[i] > r->pts_s[i - 1];
		T_CHECK(monotonic);
		T_CHECK(r->nframes > 0 && r->pts_s[r->nframes - 1] > 3.0); /* chapter 2 follows */
		T_CHECK(r->duration_s > 4.4);
	} else if (strcmp(c->name, "late-video") == 0) {
		T_CHECK(r->nframes >= 3 && r->pts_s[0] == r->pts_s[2]); /* padded start */
	} else if (strcmp(c->name, "truncated") == 0) {
		T_CHECK(r->nframes > 0 && r->nframes < 12);
		T_CHECK(r->nwarnings > 0);
		T_CONTAINS(r->nwarnings ? r->warnings[0] : NULL, "truncated.mp4");
	} else if (strcmp(c->name, "cut-second") == 0) {
		/* chapter 1 (63 frames at 25 fps) whole, then chapter 2 from 2.52 s up
		 * to its 1 s cut: the last frames of the slots at 8/3, 9/3 and 10/3 s */
		T_CHECK(count[0] == 8 && count[1] == 3 && r->nframes == 11);
		T_CHECK(r->nframes == 11 && r->source[7] == 0 && near(r->source_pts_s[7], 2.48) &&
			r->source[8] == 1 && near(r->source_pts_s[8], 0.28) &&
			near(r->source_pts_s[9], 0.64) && near(r->source_pts_s[10], 0.96) &&
			near(r->pts_s[10], 3.48));
		T_EQ_INT(r->nwarnings, 0); /* a cut is no truncated file */
	} else if (strcmp(c->name, "cut-first") == 0) {
		/* chapter 1 cut at 1 s, chapter 2 following from there: the slot at
		 * 1 s takes chapter 2's fifth frame, after chapter 1's last */
		T_CHECK(count[0] == 3 && count[1] == 6);
		T_CHECK(r->nframes == 9 && near(r->source_pts_s[2], 0.80) && r->source[3] == 1 &&
			near(r->source_pts_s[3], 0.16) && near(r->pts_s[3], 1.16));
		T_CHECK(near(r->duration_s, 3.0));
	} else if (strcmp(c->name, "no-cut") == 0 || strcmp(c->name, "cut-beyond") == 0) {
		T_CHECK(count[0] == 8 && count[1] == 6); /* as "chapters" */
	}
}

/* A cut through a chapter with B-frames is made on presentation times: a
 * picture after the cut that comes first in decoding order is decoded only as
 * a reference. Frame for frame, the same timeline as the same chapters without
 * B-frames, while skipping still works in the chapter before the cut. */
static void test_cut_bframes(void)
{
	const char *b[] = {"chap1.mp4", "chap2.mp4"}, *nb[] = {"chap1-nb.mp4", "chap2-nb.mp4"};
	struct sq_extract_result rb = {0}, rnb = {0};
	struct sq_extract_spec spec = {3, 1, 160, 90, 4};
	struct sq_extract_opts o = {.spec = &spec, .ninputs = 2, .input_until_ms = cut_second};
	struct sq_err err = {0};
	char *paths[2], *dir = fresh_dir("out-cut-bframes");
	size_t same = 0;

	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < 2; i++)
			paths[i] = source(k ? nb[i] : b[i]);
		o.inputs = (const char *const *)paths;
		o.frames_dir = dir;
		T_EQ_INT(sq_media_extract(&o, k ? &rnb : &rb, &err), 0);
		for (int i = 0; i < 2; i++)
			free(paths[i]);
	}
	T_EQ_INT(rb.nframes, 11);
	T_EQ_INT(rb.nframes, rnb.nframes);
	for (size_t i = 0; i < rb.nframes && i < rnb.nframes; i++)
		same += rb.source[i] == rnb.source[i] && near(rb.pts_s[i], rnb.pts_s[i]) &&
			near(rb.source_pts_s[i], rnb.source_pts_s[i]);
	T_EQ_INT(same, rb.nframes);
	T_CHECK(rb.npackets_skipped > 0);
	T_EQ_INT(rb.nwarnings, 0);
	sq_extract_result_release(&rb);
	sq_extract_result_release(&rnb);
	/* a negative cut is refused before anything is opened */
	o.inputs = b;
	o.input_until_ms = (const long long[]){0, -5};
	T_EQ_INT(sq_media_extract(&o, &rb, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_INVALID);
	T_EQ_STR(err.msg, "bad cut -5 ms for 'chap2.mp4'");
	sq_extract_result_release(&rb);
	free(dir);
}

static void test_against_cli(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sq_extract_result res = {0};

		run_case(&cases[i], &res);
		check_case_details(&cases[i], &res);
		sq_extract_result_release(&res);
	}
}

/* ---- failures, progress, cancel ---- */

static struct sq_extract_spec spec3 = {3, 1, 160, 90, 4};

static int extract_one(const char *in, const char *dir, struct sq_extract_opts *o,
		       struct sq_extract_result *res, struct sq_err *err)
{
	const char *inputs[1] = {in};

	o->spec = &spec3;
	o->inputs = inputs;
	o->ninputs = 1;
	o->frames_dir = dir;
	return sq_media_extract(o, res, err);
}

static void test_not_a_video(void)
{
	char *txt = tmp_path("notes.mp4"), *dir = fresh_dir("out-notes");
	char *empty = tmp_path("empty.mp4");
	char *audio = gen("audio.m4a", "-f lavfi -i sine=d=1 -c:a aac");
	struct sq_extract_opts o = {0};
	struct sq_extract_result res = {0};
	struct sq_err err = {0};

	T_CHECK(sq_write_file_atomic(txt, "just text\n", 10, NULL) == 0);
	T_EQ_INT(extract_one(txt, dir, &o, &res, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_MEDIA);
	T_CONTAINS(err.msg, "cannot open '");
	T_CONTAINS(err.msg, "notes.mp4'");
	T_EQ_INT(count_frames(dir), 0);
	sq_extract_result_release(&res);
	T_EQ_INT(extract_one(audio, dir, &o, &res, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_MEDIA);
	T_CONTAINS(err.msg, "audio.m4a' has no video stream");
	sq_extract_result_release(&res);
	T_CHECK(sq_write_file_atomic(empty, "", 0, NULL) == 0);
	T_EQ_INT(extract_one(empty, dir, &o, &res, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_MEDIA);
	T_CONTAINS(err.msg, "empty.mp4': empty file");
	T_EQ_INT(sq_media_probe(empty, NULL, NULL, &err), -1);
	T_CONTAINS(err.msg, "empty.mp4': empty file");
	T_EQ_INT(sq_media_probe(txt, NULL, NULL, &err), -1);
	T_CONTAINS(err.msg, "notes.mp4': not a video");
	sq_extract_result_release(&res);
	free(empty);
	free(txt);
	free(dir);
	free(audio);
}

struct prog {
	int calls, sane;
	long long last_done, last_expected;
};

static void on_progress(void *ctx, long long done, long long expected)
{
	struct prog *p = ctx;

	p->sane &= done >= p->last_done && expected == 12 && done <= expected;
	p->calls++;
	p->last_done = done;
	p->last_expected = expected;
}

static void test_progress(void)
{
	char *in = source("bframes.mp4"), *dir = fresh_dir("out-progress");
	struct prog p = {.sane = 1};
	struct sq_extract_opts o = {.hooks = {.progress = on_progress, .ctx = &p}};
	struct sq_extract_result res = {0};
	struct sq_err err = {0};
	long long t0 = sq_mono_ms(), ms;

	T_EQ_INT(extract_one(in, dir, &o, &res, &err), 0);
	ms = sq_mono_ms() - t0;
	T_CHECK(p.calls >= 1);
	T_CHECK(p.calls <= 2 + ms / 250); /* at most ~4 a second, plus first and last */
	T_CHECK(p.sane);
	T_EQ_INT(p.last_done, (long long)res.nframes); /* the last call says "all done" */
	T_EQ_INT(p.last_expected, 12);		       /* 4 s at 3 fps */
	sq_extract_result_release(&res);
	free(in);
	free(dir);
}

struct stopper {
	const char *dir;
	int always;
};

/* Stops once the third frame is on disk (or at once). */
static int stop_after_three(void *ctx)
{
	struct stopper *s = ctx;
	char *p;
	int there;

	if (s->always)
		return 1;
	p = frame_path(s->dir, 3);
	there = sq_path_exists(p);
	free(p);
	return there;
}

static void test_cancel(void)
{
	char *in = source("bframes.mp4"), *dir = fresh_dir("out-cancel");
	struct stopper s = {.dir = dir};
	struct sq_extract_opts o = {.hooks = {.cancelled = stop_after_three, .ctx = &s}};
	struct sq_extract_result res = {0};
	struct sq_err err = {0};

	T_EQ_INT(extract_one(in, dir, &o, &res, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_CANCEL);
	/* polled between frames; what the writer thread had queued is dropped */
	T_CHECK(count_frames(dir) >= 3 && count_frames(dir) <= 3 + SQ_MEDIA_WRITE_QUEUE);
	sq_extract_result_release(&res);
	s.always = 1;
	T_EQ_INT(extract_one(in, dir, &o, &res, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_CANCEL);
	sq_extract_result_release(&res);
	free(in);
	free(dir);
}

static void test_write_errors(void)
{
	char *in = source("bframes.mp4"), *missing = tmp_path("no/such/dir");
	char *dir = fresh_dir("out-full");
	struct sq_extract_opts o = {0};
	struct sq_extract_result res = {0};
	struct sq_err err = {0};
	struct rlimit old, small = {.rlim_cur = 1000, .rlim_max = RLIM_INFINITY};

	T_EQ_INT(extract_one(in, missing, &o, &res, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_IO);
	T_CONTAINS(err.msg, "frame_000001.jpg");
	sq_extract_result_release(&res);

	/* a file size limit makes write() fail like a full disk (EFBIG, reported as
	 * nospc); extraction must stop at the first failed frame */
	signal(SIGXFSZ, SIG_IGN);
	T_CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
	small.rlim_max = old.rlim_max;
	T_CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0);
	T_EQ_INT(extract_one(in, dir, &o, &res, &err), -1);
	setrlimit(RLIMIT_FSIZE, &old);
	T_EQ_INT(err.code, SQ_ERR_NOSPC);
	T_CONTAINS(err.msg, "cannot write '");
	T_EQ_INT(count_frames(dir), 1); /* the partial first one, nothing after */
	sq_extract_result_release(&res);
	free(in);
	free(missing);
	free(dir);
}

/* A FIFO that delivers the start of a video and then nothing: extraction must
 * give up after the stall timeout with SQ_ERR_TIMEOUT, not hang. */
static void test_stall(void)
{
	char *in = source("bframes.mp4"), *fifo = tmp_path("stall.mp4");
	char *dir = fresh_dir("out-stall"), *data;
	struct sq_media_read_opts read = {.stall_ms = 700};
	struct sq_extract_opts o = {.read = &read};
	struct sq_extract_result res = {0};
	struct sq_err err = {0};
	size_t len;
	long long t0;
	int fd;

	data = sq_read_file(in, &len, NULL);
	T_CHECK(data && len > 40000);
	unlink(fifo);
	T_EQ_INT(mkfifo(fifo, 0600), 0);
	/* held open for writing: readers block instead of seeing the end */
	fd = open(fifo, O_RDWR | O_NONBLOCK);
	T_CHECK(fd >= 0);
	T_EQ_INT(write(fd, data, 40000), 40000); /* fits in the pipe */
	t0 = sq_mono_ms();
	T_EQ_INT(extract_one(fifo, dir, &o, &res, &err), -1);
	T_CHECK(sq_mono_ms() - t0 < 5000);
	T_EQ_INT(err.code, SQ_ERR_TIMEOUT);
	T_CONTAINS(err.msg, "stall.mp4': no data for 700 ms (stalled)");
	close(fd);
	sq_extract_result_release(&res);
	free(data);
	free(in);
	free(fifo);
	free(dir);
}

static void on_log(void *ctx, const char *line)
{
	struct sq_strbuf *sb = ctx;

	sq_strbuf_addf(sb, "%s\n", line);
}

/* No GPU here: hwaccel must fall back with one line and give the same frames. */
static void test_hwaccel_fallback(void)
{
	char *in = source("bframes.mp4"), *dir = fresh_dir("out-hw");
	struct sq_strbuf log = SQ_STRBUF_INIT;
	struct sq_extract_opts o = {.hwaccel = 1, .hooks = {.log = on_log, .ctx = &log}};
	struct sq_extract_result res = {0};
	struct sq_err err = {0};

	T_EQ_INT(extract_one(in, dir, &o, &res, &err), 0);
	T_EQ_INT(res.nframes, 12);
	if (log.len) { /* a machine with a usable GPU logs nothing */
		T_CONTAINS(log.buf, "hwaccel unavailable: ");
		T_CONTAINS(log.buf, "decoding in software");
		T_CHECK(strchr(log.buf, '\n') == log.buf + log.len - 1); /* one line */
	}
	sq_extract_result_release(&res);
	sq_strbuf_release(&log);
	free(in);
	free(dir);
}

/* ---- the selection model, with synthetic timestamps ---- */

struct rec {
	long long seq[64];
	int n;
};

static int rec_emit(void *ctx, const AVFrame *f, long long seq, double src_s, struct sq_err *err)
{
	struct rec *r = ctx;

	(void)f;
	(void)src_s;
	(void)err;
	if (r->n < 64)
		r->seq[r->n++] = seq;
	return 0;
}

/* Pushes frames with the given pts (INT64_MIN: none) and returns the emitted seqs. */
static void select_run(struct rec *r, AVRational in, AVRational out, int vscfr, const int64_t *pts,
		       int n, int64_t eof)
{
	struct sq_media_sel s;

	memset(r, 0, sizeof(*r));
	sq_media_sel_init(&s, in, out, vscfr, rec_emit, r);
	for (int i = 0; i < n; i++) {
		AVFrame *f = av_frame_alloc();

		f->width = f->height = 2;
		f->format = AV_PIX_FMT_GRAY8;
		T_CHECK(av_frame_get_buffer(f, 0) == 0);
		T_CHECK(sq_media_sel_push(&s, f, pts[i], NULL) == 0);
	}
	T_CHECK(sq_media_sel_eof(&s, eof, NULL) == 0);
	sq_media_sel_release(&s);
}

static void test_select_model(void)
{
	int64_t pts[30], gap[] = {0, 1, 2, 20}, lead[] = {INT64_MIN, 0, 5, 10};
	int64_t late[] = {7, 10, 13};
	struct rec r;

	for (int i = 0; i < 30; i++)
		pts[i] = i;
	select_run(&r, av_make_q(1, 30), av_make_q(1, 3), 1, pts, 30, 30);
	T_CHECK(r.n == 3 && r.seq[0] == 4 && r.seq[1] == 14 && r.seq[2] == 24);
	/* a gap repeats the previous frame */
	select_run(&r, av_make_q(1, 10), av_make_q(1, 1), 1, gap, 4, 30);
	T_CHECK(r.n == 3 && r.seq[0] == 2 && r.seq[1] == 2 && r.seq[2] == 3);
	/* a leading frame without timestamp is dropped */
	select_run(&r, av_make_q(1, 10), av_make_q(1, 1), 1, lead, 4, 15);
	T_CHECK(r.n == 2 && r.seq[0] == 1 && r.seq[1] == 3);
	/* a late first slot: CFR pads from slot 0, VSCFR does not */
	select_run(&r, av_make_q(1, 10), av_make_q(1, 3), 0, late, 3, 16);
	T_CHECK(r.n == 5 && r.seq[0] == 0 && r.seq[2] == 0 && r.seq[3] == 1 && r.seq[4] == 2);
	select_run(&r, av_make_q(1, 10), av_make_q(1, 3), 1, late, 3, 16);
	T_CHECK(r.n == 3 && r.seq[0] == 0 && r.seq[2] == 2);
}

static void test_out_size(void)
{
	int w, h;

	sq_media_out_size(-1, 294, 1920, 1080, &w, &h);
	T_CHECK(w == 523 && h == 294); /* 522.67 rounds up */
	sq_media_out_size(518, -1, 1920, 1080, &w, &h);
	T_CHECK(w == 518 && h == 291); /* 291.375 */
	sq_media_out_size(-1, -1, 1920, 1080, &w, &h);
	T_CHECK(w == 1920 && h == 1080);
}

int main(void)
{
	test_select_model();
	test_out_size();
	test_against_cli();
	test_cut_bframes();
	test_not_a_video();
	test_progress();
	test_cancel();
	test_write_errors();
	test_stall();
	test_hwaccel_fallback();
	return t_done();
}
