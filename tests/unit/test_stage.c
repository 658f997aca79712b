/* test_stage.c - stages write atomically, clean up after killed attempts, and
 * never leave a record that does not match the outputs. */
#include "base/fsutil.h"
#include "stage/record.h"
#include "stage/stage.h"
#include "stage/stage_int.h"
#include "stage/store.h"
#include "stage/txn.h"
#include "task/layout.h"
#include "base/xalloc.h"
#include "t.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char video[512], root[512];

static void sh(const char *cmd)
{
	if (system(cmd) != 0) {
		fprintf(stderr, "setup failed: %s\n", cmd);
		exit(1);
	}
}

static size_t count_entries(const char *dir, const char *needle)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	while (d && (e = readdir(d)))
		if (strstr(e->d_name, needle))
			n++;
	if (d)
		closedir(d);
	return n;
}

static void make_task(struct sq_task *t, const char *name, char **recon_argv, size_t argc)
{
	sq_task_init(t);
	t->acquisition = xstrdup("st");
	t->group = xstrdup("g1");
	t->name = xstrdup(name);
	t->output_root = xstrdup(root);
	t->videos = xcalloc(1, sizeof(char *));
	t->videos[0] = xstrdup(video);
	t->nvideos = 1;
	t->extract = (struct sq_extract_spec){
	    .fps_num = 2, .fps_den = 1, .width = 64, .height = -1, .quality = 5};
	t->reconstruct.kind = SQ_BACKEND_COMMAND;
	t->reconstruct.cmd.argv = xcalloc(argc, sizeof(char *));
	for (size_t i = 0; i < argc; i++)
		t->reconstruct.cmd.argv[i] = xstrdup(recon_argv[i]);
	t->reconstruct.cmd.argc = argc;
	t->stitch.kind = SQ_BACKEND_BUILTIN;
	t->retry = (struct sq_retry_spec){.max_attempts = 1, .backoff_ms = 1000};
	sq_task_finalize(t);
}

static void test_extract_and_leftovers(const char *mini)
{
	char *argv[] = {(char *)mini, "{frames}", "{output}"};
	struct sq_stage_ctx ctx = {0};
	struct sq_task t;
	struct sq_err err = {0};
	char *p;

	make_task(&t, "a", argv, 3);
	/* leftovers of a killed attempt, and a stale record of another version */
	p = xasprintf("mkdir -p %s/frames.tmp.99999 && touch %s/frames.json.tmp.99999", t.outdir,
		      t.outdir);
	sh(p);
	free(p);
	T_EQ_INT(sq_stage_run_task(&t, SQ_STAGE_EXTRACT, &ctx, &err), 0);
	T_CHECK(sq_stage_task_done(NULL, &t, SQ_STAGE_EXTRACT));
	T_EQ_INT(count_entries(t.outdir, ".tmp."), 0);
	p = sq_path_join(t.outdir, "frames");
	T_EQ_INT(count_entries(p, "frame_"), 4); /* 2 s at 2 fps */
	free(p);
	T_CONTAINS(ctx.result_json, "\"frames\":4");
	free(ctx.result_json);
	ctx.result_json = NULL;

	T_EQ_INT(sq_stage_run_task(&t, SQ_STAGE_RECONSTRUCT, &ctx, &err), 0);
	T_CHECK(sq_stage_task_done(NULL, &t, SQ_STAGE_RECONSTRUCT));
	T_CONTAINS(ctx.result_json, "\"warnings\":[]");
	free(ctx.result_json);
	ctx.result_json = NULL;
	T_EQ_INT(count_entries(t.outdir, "reconstruct.tmp"), 0);
	p = sq_path_join(t.outdir, "reconstruct.log");
	T_CHECK(sq_path_exists(p));
	free(p);
	/* previews published with the outputs */
	T_EQ_INT(count_entries(t.outdir, "preview.png"), 1);
	T_EQ_INT(count_entries(t.outdir, "preview.ply"), 1);
	sq_task_release(&t);
}

static void test_failures_drop_record(void)
{
	char *bad_exit[] = {"/bin/sh", "-c", "echo boom >&2; exit 3"};
	char *no_output[] = {"/bin/true"};
	struct sq_stage_ctx ctx = {0};
	struct sq_task t;
	struct sq_err err = {0};
	char *rec, *p;

	make_task(&t, "b", bad_exit, 3);
	T_EQ_INT(sq_stage_run_task(&t, SQ_STAGE_EXTRACT, &ctx, &err), 0);
	free(ctx.result_json);
	rec = sq_layout_path(t.outdir, SQ_LAYOUT_RECON_RECORD);
	p = xasprintf("{\"stage\":\"reconstruct\",\"version\":\"%s\"}", t.version);
	T_EQ_INT(sq_write_file_atomic(rec, p, strlen(p), &err), 0);
	free(p);
	T_CHECK(sq_stage_task_done(NULL, &t, SQ_STAGE_RECONSTRUCT));
	T_EQ_INT(sq_stage_run_task(&t, SQ_STAGE_RECONSTRUCT, &ctx, &err), -1);
	T_CONTAINS(err.msg, "status 3");
	T_CONTAINS(err.msg, "boom");
	T_CHECK(!sq_path_exists(rec)); /* an old record never outlives a new attempt */
	T_EQ_INT(count_entries(t.outdir, ".tmp."), 0);
	sq_task_release(&t);

	make_task(&t, "b", no_output, 1);
	T_EQ_INT(sq_stage_run_task(&t, SQ_STAGE_EXTRACT, &ctx, &err), 0);
	free(ctx.result_json);
	T_EQ_INT(sq_stage_run_task(&t, SQ_STAGE_RECONSTRUCT, &ctx, &err), -1);
	T_EQ_INT(err.code, SQ_ERR_BACKEND);
	T_CONTAINS(err.msg, "no PLY");
	T_CHECK(!sq_path_exists(rec));
	free(rec);
	sq_task_release(&t);
}

static void test_stale_frames_refused(const char *mini)
{
	char *argv[] = {(char *)mini, "{frames}", "{output}"};
	struct sq_stage_ctx ctx = {0};
	struct sq_task t;
	struct sq_err err = {0};

	make_task(&t, "a", argv, 3);
	t.extract.quality = 9; /* new version: the frames on disk are of the old one */
	sq_task_finalize(&t);
	T_EQ_INT(sq_stage_run_task(&t, SQ_STAGE_RECONSTRUCT, &ctx, &err), -1);
	T_CONTAINS(err.msg, "missing or stale");
	sq_task_release(&t);
}

static void test_stitch_passthrough(void)
{
	struct sq_stitch_spec s;
	struct sq_stage_ctx ctx = {0};
	struct sq_err err = {0};
	char *in_dir = xasprintf("%s/g1/a", root), *out_ply, *in_ply, *a, *b;
	const char *inputs[] = {in_dir};

	sq_stitch_spec_init(&s);
	s.acquisition = xstrdup("st");
	s.group = xstrdup("g1");
	s.outdir = xasprintf("%s/g1", root);
	s.backend.kind = SQ_BACKEND_BUILTIN;
	sq_stitch_spec_finalize(&s);
	T_EQ_INT(sq_stage_run_stitch(&s, inputs, 1, &ctx, &err), 0);
	if (err.code)
		fprintf(stderr, "stitch: %s\n", err.msg);
	out_ply = sq_layout_path(s.outdir, SQ_LAYOUT_STITCH_PLY);
	in_ply = sq_layout_path(in_dir, SQ_LAYOUT_RECON_PLY);
	a = sq_read_file(out_ply, NULL, NULL);
	b = sq_read_file(in_ply, NULL, NULL);
	T_CHECK(a && b && strcmp(a, b) == 0); /* a single input passes through unchanged */
	T_CONTAINS(ctx.result_json, "\"placed\":1,\"inputs\":1");
	/* the summary says how sure each placement is and what was left out */
	T_CONTAINS(ctx.result_json, "\"confidence\":1,");
	T_CONTAINS(ctx.result_json, "\"placements\":[{\"name\":\"a\",\"confidence\":1,");
	T_CONTAINS(ctx.result_json, "\"left_out\":[]");
	T_CONTAINS(ctx.result_json, "\"warnings\":[]");
	free(ctx.result_json);
	ctx.result_json = NULL;
	free(a);
	free(b);
	/* an input that is not done is refused, naming it */
	inputs[0] = "/nonexistent/task";
	T_EQ_INT(sq_stage_run_stitch(&s, inputs, 1, &ctx, &err), -1);
	T_CONTAINS(err.msg, "/nonexistent/task");
	free(out_ply);
	free(in_ply);
	free(in_dir);
	sq_stitch_spec_release(&s);
}

/* Records are typed: what a stage wrote parses back, with its provenance. */
static void test_records_typed(void)
{
	char *path = xasprintf("%s/g1/a/%s", root, SQ_LAYOUT_FRAMES_RECORD);
	char *text = sq_read_file(path, NULL, NULL), *again;
	struct sq_frames_record fr, fr2;
	struct sq_reconstruct_record rr;
	struct sq_err err = {0};

	T_CHECK(text != NULL);
	T_EQ_INT(sq_frames_record_parse(&fr, text, &err), 0);
	T_EQ_INT(fr.nframes, 4);
	T_EQ_INT(fr.nsources, 1);
	T_EQ_STR(fr.sources[0], video);
	T_EQ_STR(fr.prov.worker, "local");
	T_EQ_STR(fr.prov.backend, "libav");
	T_CONTAINS(fr.prov.backend_version, "libavcodec");
	T_CHECK(fr.prov.scanq_version && *fr.prov.scanq_version);
	T_CONTAINS(fr.prov.params_json, "\"quality\":5");
	T_EQ_INT(fr.prov.nsources, 1);
	again = sq_frames_record_format(&fr);
	T_EQ_INT(sq_frames_record_parse(&fr2, again, &err), 0);
	T_EQ_INT(fr2.nframes, fr.nframes);
	T_CHECK(fr2.frames[3].pts_s == fr.frames[3].pts_s);
	T_EQ_STR(fr2.version, fr.version);
	sq_frames_record_release(&fr2);
	sq_frames_record_release(&fr);
	free(again);
	free(text);
	free(path);
	/* a frame whose name is not its index is refused (it is joined to a path) */
	T_EQ_INT(sq_frames_record_parse(&fr,
					"{\"stage\":\"extract\",\"version\":\"x\","
					"\"duration_s\":1,\"params\":{\"fps_num\":1,"
					"\"fps_den\":1,\"width\":1,\"height\":1,\"quality\":2},"
					"\"sources\":[\"v\"],\"frames\":[{\"file\":\"../x\","
					"\"pts_s\":0}]}",
					&err),
		 -1);
	T_CONTAINS(err.msg, "frame 1");
	/* a frame's source is an index into sources: not negative, fractional or
	 * past the end (found by tests/fuzz/fuzz_evidence: -21474836491 was read
	 * as source -2147483648, 0.5 as source 0) */
	{
		static const char *const bad[] = {"-21474836491", "0.5", "1", "\"0\"", "null"};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char *rec = xasprintf(
			    "{\"stage\":\"extract\",\"version\":\"x\",\"duration_s\":1,"
			    "\"params\":{\"fps_num\":1,\"fps_den\":1,\"width\":1,\"height\":1,"
			    "\"quality\":2},\"sources\":[\"v\"],\"frames\":[{\"file\":"
			    "\"frame_000001.jpg\",\"pts_s\":0,\"source\":%s,\"source_pts_s\":0}]}",
			    bad[i]);

			T_EQ_INT(sq_frames_record_parse(&fr, rec, &err), -1);
			T_CONTAINS(err.msg, "frame 1: 'source'");
			free(rec);
		}
	}
	path = xasprintf("%s/g1/a/%s", root, SQ_LAYOUT_RECON_RECORD);
	text = sq_read_file(path, NULL, NULL);
	T_EQ_INT(sq_reconstruct_record_parse(&rr, text, &err), 0);
	T_EQ_STR(rr.prov.backend, "command");
	T_EQ_INT(rr.has_colmap, 0);
	T_EQ_INT(rr.stride.k, 1);
	sq_reconstruct_record_release(&rr);
	/* a version too long is no version, for the typed readers as for the
	 * header's (found by tests/fuzz/fuzz_record: it was cut to 16 chars) */
	T_EQ_INT(sq_reconstruct_record_parse(&rr,
					     "{\"stage\":\"reconstruct\",\"version\":"
					     "\"0123456789abcdef0\",\"backend\":\"colmap\"}",
					     &err),
		 -1);
	T_CONTAINS(err.msg, "too long");
	T_EQ_INT(sq_record_text_is_current("{\"stage\":\"reconstruct\",\"version\":"
					   "\"0123456789abcdef0\"}",
					   SQ_STAGE_RECONSTRUCT, NULL),
		 0);
	/* a record of format 1 (before provenance) still reads */
	T_EQ_INT(sq_reconstruct_record_parse(&rr,
					     "{\"stage\":\"reconstruct\",\"version\":\"v\","
					     "\"backend\":\"colmap\",\"wall_ms\":5}",
					     &err),
		 0);
	T_EQ_STR(rr.prov.backend, "colmap");
	T_EQ_INT(rr.prov.format, 1);
	sq_reconstruct_record_release(&rr);
	free(text);
	free(path);
}

/* The stitch is told each task's registered cameras joined with the video and
 * instant each frame came from; a broken record is an error naming the task. */
static void test_stitch_evidence(void)
{
	char *dir = xasprintf("%s/ev/t1", root), *path, *text, *sift = NULL;
	struct sq_frame_entry fe[3] = {{0.0, 0, 0.0}, {0.5, 1, 0.25}, {1.0, 1, 0.75}};
	char *srcs[2] = {"a.mp4", "b.mp4"};
	double until[2] = {-1, -1};
	struct sq_frames_record fr = {.frames = fe,
				      .nframes = 3,
				      .sources = srcs,
				      .until_s = until,
				      .nsources = 2,
				      .fps_num = 2,
				      .fps_den = 1,
				      .width = 64,
				      .height = 48,
				      .quality = 2};
	struct sq_camera_entry ce[3] = {{.registered = 1, .centre = {1, 2, 3}, .q = {1, 0, 0, 0}},
					{.registered = 0},
					{.registered = 1, .centre = {4, 5, 6}, .q = {0, 1, 0, 0}}};
	struct sq_reconstruct_record rr = {.frames = ce, .nframes = 3};
	struct sq_stitch_cams cams;
	struct sq_err err = {0};

	snprintf(ce[0].file, sizeof(ce[0].file), "frame_000001.jpg");
	snprintf(ce[1].file, sizeof(ce[1].file), "frame_000002.jpg");
	snprintf(ce[2].file, sizeof(ce[2].file), "frame_000003.jpg");
	snprintf(fr.version, sizeof(fr.version), "v1");
	snprintf(rr.version, sizeof(rr.version), "v1");
	fr.prov.backend = "libav";
	rr.prov.backend = "colmap";
	rr.stride.k = 1;
	rr.has_colmap = 1;
	T_EQ_INT(sq_mkdir_p(dir, NULL), 0);
	path = sq_layout_path(dir, SQ_LAYOUT_FRAMES_RECORD);
	text = sq_frames_record_format(&fr);
	T_EQ_INT(sq_write_file_atomic(path, text, strlen(text), NULL), 0);
	free(text);
	free(path);
	path = sq_layout_path(dir, SQ_LAYOUT_RECON_RECORD);
	text = sq_reconstruct_record_format(&rr);
	T_EQ_INT(sq_write_file_atomic(path, text, strlen(text), NULL), 0);
	T_EQ_INT(sq_stage_stitch_evidence(sq_store_local(), dir, 1, text, t_tmpdir(), &cams, &sift,
					  &err),
		 0);
	free(text);
	T_EQ_STR(err.msg, "");
	T_EQ_INT(cams.n, 2);
	T_EQ_INT(cams.has_q, 1);
	T_EQ_INT(cams.nsources, 2);
	T_EQ_STR(cams.sources[1], "b.mp4");
	T_CHECK(cams.c[3] == 4 && cams.c[5] == 6 && cams.q[5] == 1);
	T_EQ_INT(cams.src[0], 0);
	T_EQ_INT(cams.src[1], 1);
	T_CHECK(cams.t[1] == 0.75);
	T_CHECK(sift == NULL);
	sq_stitch_cams_release(&cams);
	/* a reconstruct record cut short */
	T_EQ_INT(sq_stage_stitch_evidence(sq_store_local(), dir, 1, "{\"stage\":", t_tmpdir(),
					  &cams, &sift, &err),
		 -1);
	T_CONTAINS(err.msg, "stitch input");
	T_CONTAINS(err.msg, "ev/t1");
	T_EQ_INT(cams.n, 0);
	free(path);
	free(dir);
}

/* Nothing a stage writes leaves the output root: by "..", or by a link. */
static void test_confinement(const char *mini)
{
	char *argv[] = {(char *)mini, "{frames}", "{output}"};
	char *link = xasprintf("%s/escape", root), *p;
	struct sq_stage_ctx ctx = {0};
	struct sq_task t;
	struct sq_err err = {0};

	T_EQ_INT(sq_txn_check_confined("/r", "/r/a/b", &err), 0);
	T_EQ_INT(sq_txn_check_confined("/r", "/r/../x", &err), -1);
	T_EQ_INT(sq_txn_check_confined("/r", "/rx/a", &err), -1);
	T_CHECK(symlink(t_tmpdir(), link) == 0);
	p = xasprintf("%s/g", link);
	T_EQ_INT(sq_txn_check_confined(root, p, &err), -1);
	T_CONTAINS(err.msg, "symbolic link");
	free(p);
	make_task(&t, "x", argv, 3);
	free(t.group);
	t.group = xstrdup("..");
	sq_task_finalize(&t);
	T_EQ_INT(sq_stage_run_task(&t, SQ_STAGE_EXTRACT, &ctx, &err), -1);
	T_CONTAINS(err.msg, "outside the output root");
	p = xasprintf("%s/x", t_tmpdir());
	T_CHECK(!sq_path_exists(p));
	free(p);
	sq_task_release(&t);
	free(link);
}

/* An optional output an attempt does not make is removed with the old ones:
 * descriptors of an earlier colmap run never outlive its cloud. */
static void test_optional_output_removed(const char *mini)
{
	char *argv[] = {(char *)mini, "{frames}", "{output}"};
	struct sq_stage_ctx ctx = {0};
	struct sq_task t;
	struct sq_err err = {0};
	char *sift, *left;

	make_task(&t, "a", argv, 3);
	sift = sq_layout_path(t.outdir, SQ_LAYOUT_RECON_SIFT);
	left = xasprintf("%s/reconstruct.tmp.otherhost-4242", t.outdir);
	T_EQ_INT(sq_write_file_atomic(sift, "x", 1, &err), 0);
	T_EQ_INT(sq_mkdir_p(left, &err), 0);
	T_EQ_INT(sq_stage_run_task(&t, SQ_STAGE_RECONSTRUCT, &ctx, &err), 0);
	free(ctx.result_json);
	T_CHECK(!sq_path_exists(sift));
	T_CHECK(!sq_path_exists(left));
	free(left);
	free(sift);
	sq_task_release(&t);
}

/* A disk that fills mid-extraction fails cleanly: no record, no temporaries. */
static void test_disk_full(const char *mini)
{
	char *argv[] = {(char *)mini, "{frames}", "{output}"};
	struct sq_stage_ctx ctx = {0};
	struct sq_task t;
	struct sq_err err = {0};
	struct rlimit old, lim = {.rlim_cur = 3000, .rlim_max = RLIM_INFINITY};
	char *rec;

	make_task(&t, "full", argv, 3);
	t.extract.width = 320;
	sq_task_finalize(&t);
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim.rlim_max = old.rlim_max;
	setrlimit(RLIMIT_FSIZE, &lim);
	T_EQ_INT(sq_stage_run_task(&t, SQ_STAGE_EXTRACT, &ctx, &err), -1);
	setrlimit(RLIMIT_FSIZE, &old);
	T_EQ_INT(err.code, SQ_ERR_NOSPC);
	rec = sq_layout_path(t.outdir, SQ_LAYOUT_FRAMES_RECORD);
	T_CHECK(!sq_path_exists(rec));
	T_EQ_INT(count_entries(t.outdir, ".tmp."), 0);
	free(rec);
	sq_task_release(&t);
}

int main(void)
{
	const char *src = getenv("SCANQ_SRC");
	char *mini = xasprintf("%s/tests/cli/bin/mini-reconstruct", src ? src : ".");
	char *cmd;

	snprintf(root, sizeof(root), "%s/out", t_tmpdir());
	snprintf(video, sizeof(video), "%s/v.mp4", t_tmpdir());
	cmd = xasprintf("ffmpeg -v error -y -f lavfi -i testsrc2=size=320x240:rate=10 -t 2 "
			"-pix_fmt yuv420p %s",
			video);
	sh(cmd);
	free(cmd);
	test_extract_and_leftovers(mini);
	test_records_typed();
	test_stitch_evidence();
	test_optional_output_removed(mini);
	test_confinement(mini);
	test_failures_drop_record();
	test_stale_frames_refused(mini);
	test_stitch_passthrough();
	test_disk_full(mini);
	free(mini);
	return t_done();
}
